"""The GitHub workflows: actionlint-clean, every action pinned to a commit, every `atlasgen` command line valid
for the CLI it will run, ci.yml running what .ci/run runs, and pages.yml's triggers, permissions and
concurrency as publishing needs them."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from atlasgen.cli import cli

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
NAMES = ("ci.yml", "pages.yml")
EXPR = "${{expr}}"  # what a `${{ ... }}` expression stands for: a value not known before the run
PINNED = re.compile(r"[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?:\s+#\s*(?P<comment>\S.*?))?\s*$")
SEPARATORS = {";", "&&", "||", "|", "&", "(", ")", ";;", "|&"}
REDIRECTS = {">", ">>", "<", ">&", "<&", "&>", ">|", "<<<"}
KEYWORDS = {"if", "then", "else", "elif", "do", "while", "until", "!", "time", "exec", "command", "{", "}"}


def load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{name} is not a YAML mapping"
    if True in data:  # YAML 1.1 reads the key `on` as the boolean true
        data["on"] = data.pop(True)
    return data


def steps(workflow: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, step


# -- atlasgen command lines in `run:` scripts ---------------------------------------------------------------


@dataclass(frozen=True)
class Invocation:
    where: str
    args: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.where}: atlasgen {shlex.join(self.args)}"


def is_placeholder(word: str) -> bool:
    """A value known only at run time: a `${{ }}` expression or a shell expansion."""
    return EXPR in word or "$" in word or "`" in word


def simple_commands(script: str) -> Iterator[list[str]]:
    """The simple commands of a shell script, as words: line continuations joined, `${{ }}` expressions
    replaced by a placeholder, comments, redirections, keywords and leading variable assignments dropped."""
    script = re.sub(r"\$\{\{.*?\}\}", EXPR, script, flags=re.S).replace("\\\n", " ")
    for line in script.splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        try:
            words = list(lexer)
        except ValueError as exc:  # an unbalanced quote: not something this reader can split
            assert "atlasgen" not in line, f"cannot split {line!r}: {exc}"
            continue
        command: list[str] = []
        for i, word in enumerate([*words, ";"]):
            if word in SEPARATORS:
                if command:
                    yield command
                command = []
            elif word in REDIRECTS or (command and command[-1] in REDIRECTS):
                command.append(word)  # dropped below, with its target
            elif word.isdigit() and i + 1 < len(words) and words[i + 1] in REDIRECTS:
                continue  # a file descriptor: 2>&1
            elif not command and (word in KEYWORDS or re.fullmatch(r"[A-Za-z_]\w*=.*", word)):
                continue
            else:
                command.append(word)
            if len(command) >= 2 and command[-2] in REDIRECTS:
                del command[-2:]


def atlasgen_args(command: Sequence[str]) -> tuple[str, ...] | None:
    """The arguments of an `atlasgen ...` or `python -m atlasgen ...` command, else None."""
    if not command:
        return None
    if os.path.basename(command[0]) == "atlasgen":
        return tuple(command[1:])
    python = re.fullmatch(r"python[\d.]*", os.path.basename(command[0]))
    if python and list(command[1:3]) == ["-m", "atlasgen"]:
        return tuple(command[3:])
    return None


def invocations(name: str) -> list[Invocation]:
    found = []
    for job_id, step in steps(load(name)):
        if "run" not in step:
            continue
        where = f"{name} {job_id}/{step.get('name') or step.get('id') or step['run'].splitlines()[0]}"
        for command in simple_commands(step["run"]):
            args = atlasgen_args(command)
            if args is not None:
                found.append(Invocation(where, args))
    return found


# -- checking them with the CLI's own parser ----------------------------------------------------------------


def problems(args: Sequence[str]) -> list[str]:
    """What is wrong with `atlasgen ARGS` for the CLI in atlasgen.cli: unknown commands and options, options
    without their value, extra arguments, missing required options, literal values the option's type rejects.
    Placeholders (expressions, shell variables) pass as values; paths are not looked for on this machine."""
    root = click.Context(cli, info_name="atlasgen")
    try:
        opts, rest, _ = cli.make_parser(root).parse_args(list(args))
    except click.UsageError as exc:
        return [f"atlasgen: {exc.format_message()}"]
    found = _bad_values(cli, root, opts)
    if not rest:
        informative = any(opts.get(name) is True for name in ("version", "help"))
        return found if informative else [*found, "atlasgen: no command given"]
    name, *sub_args = rest
    if is_placeholder(name):
        return [*found, f"atlasgen: the command is {name!r}, known only at run time: cannot be checked"]
    assert isinstance(cli, click.Group)
    command = cli.get_command(root, name)
    if command is None:
        known = ", ".join(cli.list_commands(root))
        return [*found, f"atlasgen: no such command {name!r} (commands: {known})"]
    ctx = click.Context(command, info_name=name, parent=root)
    try:
        opts, extra, _ = command.make_parser(ctx).parse_args(sub_args)
    except click.UsageError as exc:
        return [*found, f"atlasgen {name}: {exc.format_message()}"]
    if extra:
        found.append(f"atlasgen {name}: unexpected extra arguments {extra}")
    return found + _bad_values(command, ctx, opts, name)


def _bad_values(
    command: click.Command, ctx: click.Context, opts: dict[str, Any], name: str = ""
) -> list[str]:
    label = f"atlasgen {name}".strip()
    found = []
    for param in command.params:
        raw = opts.get(param.name or "")
        present = isinstance(raw, str | list | tuple) or raw is True
        if not present:
            if param.required:
                found.append(f"{label}: missing {param.get_error_hint(ctx)}")
            continue
        if raw is True or isinstance(param.type, click.Path):
            continue
        for value in raw if isinstance(raw, list | tuple) else [raw]:
            if is_placeholder(value):
                continue
            try:
                param.type.convert(value, param, ctx)
            except click.BadParameter as exc:
                found.append(f"{label}: {param.get_error_hint(ctx)}: {exc.format_message()}")
    return found


def test_commands_are_read_across_continuations_operators_and_expressions() -> None:
    script = """
        if [ -f prev/positions.parquet ]; then
          atlasgen -v build "$SNAPSHOT" --out site-out \\
            --budget ${{ inputs.budget || '1GB' }} --previous prev/positions.parquet > build.log 2>&1
        fi
        echo "atlasgen build" | tee -a "$GITHUB_STEP_SUMMARY"  # atlasgen in a comment
        HF_TOKEN=x python -m atlasgen fetch --out "snap shot.parquet" && echo ok
        out=$(.venv/bin/atlasgen --version)
    """
    found = [atlasgen_args(command) for command in simple_commands(script)]
    assert [args for args in found if args is not None] == [
        (
            "-v",
            "build",
            "$SNAPSHOT",
            "--out",
            "site-out",
            "--budget",
            EXPR,
            "--previous",
            "prev/positions.parquet",
        ),
        ("fetch", "--out", "snap shot.parquet"),
        ("--version",),
    ]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["build", "x.parquet", "--out", "o", "--bogus", "1"], "No such option '--bogus'"),
        (["-v", "biuld", "--out", "o"], "no such command 'biuld'"),
        (["build", "x.parquet"], "missing '--out'"),
        (["build", "--out", "o", "--backend", "tpu"], "'tpu' is not one of"),
        (["fetch", "--out", "x.parquet", "--limit", "0"], "--limit"),
        (["build", "a.parquet", "b.parquet", "--out", "o"], "unexpected extra arguments ['b.parquet']"),
        (["build", "--out"], "'--out' requires an argument"),
        (["build", "--out", "o", "--retina=yes"], "does not take a value"),
        (["build", "$SNAPSHOT", "--out", "o", "$MORE"], "unexpected extra arguments ['$MORE']"),
        (["$COMMAND", "--out", "o"], "known only at run time"),
        (["--verbose"], "no command given"),
    ],
)
def test_the_checker_says_what_is_wrong(args: list[str], expected: str) -> None:
    found = problems(args)
    assert any(expected in problem for problem in found), found


def test_the_checker_accepts_placeholders_for_values() -> None:
    args = ["-v", "build", "$SNAPSHOT", "--out", "out", "--backend", EXPR, "--previous", "p.parquet"]
    assert problems(args) == []
    assert problems(["fetch", "--source", "${SOURCE}", "-o", "snapshot/models.parquet", "-q"]) == []
    assert problems(["--version"]) == []


def workflow_invocations() -> list[Invocation]:
    return [found for name in NAMES for found in invocations(name)]


@pytest.mark.parametrize("invocation", workflow_invocations(), ids=str)
def test_every_atlasgen_command_in_the_workflows_is_valid(invocation: Invocation) -> None:
    assert problems(invocation.args) == [], str(invocation)


def test_pages_runs_fetch_and_build_with_the_options_publishing_needs() -> None:
    found = invocations("pages.yml")
    subcommand = [next(a for a in i.args if not a.startswith("-")) for i in found]
    assert set(subcommand) == {"fetch", "build"}, [str(i) for i in found]
    builds = [i.args for i, command in zip(found, subcommand, strict=True) if command == "build"]
    for args in builds:
        assert args[args.index("--budget") + 1] == "1GB"
        assert args[args.index("--out") + 1] == "site-out"
    # --previous only when the file was fetched: one build with it, guarded by a test for that file, one without
    with_previous = [args[args.index("--previous") + 1] for args in builds if "--previous" in args]
    assert len(with_previous) == 1 and len(builds) == 2, builds
    script = next(s["run"] for _, s in steps(load("pages.yml")) if "--previous" in s.get("run", ""))
    assert f"[ -f {with_previous[0]} ]" in script


# -- actionlint ---------------------------------------------------------------------------------------------


def actionlint() -> str:
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    exe = shutil.which("actionlint", path=path)
    if exe is None:
        reason = "actionlint is not installed (pip install -e '.[test]')"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return exe


def lint(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    # shellcheck and pyflakes off: the same result on every machine, whatever else it has installed.
    command = [actionlint(), "-no-color", "-oneline", "-shellcheck=", "-pyflakes=", *args]
    return subprocess.run(command, cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("name", NAMES)
def test_workflow_passes_actionlint(name: str) -> None:
    result = lint(str(WORKFLOWS / name))
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow() -> None:
    broken = (WORKFLOWS / "pages.yml").read_text(encoding="utf-8")
    broken = broken.replace("steps.deployment.outputs.page_url", "steps.deploy.outputs.page_url")
    result = lint("-", stdin=broken)
    assert result.returncode == 1 and "deploy" in result.stdout, result.stdout + result.stderr


# -- pinned actions -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_every_action_is_pinned_to_a_commit_with_its_version(name: str) -> None:
    text = (WORKFLOWS / name).read_text(encoding="utf-8")
    lines = [m for m in map(USES_LINE.match, text.splitlines()) if m]
    used = [step["uses"] for _, step in steps(load(name)) if "uses" in step]
    assert [m["ref"] for m in lines] == used, "a `uses:` this test cannot read"
    assert used, f"{name} uses no action"
    for m in lines:
        assert PINNED.fullmatch(m["ref"]), f"{m['ref']}: pin actions to a full 40-hex commit SHA"
        assert m["comment"] and re.fullmatch(r"v\d+\.\d+\.\d+", m["comment"]), (
            f"{m['ref']}: follow the SHA with its release as a comment, e.g. `# v1.2.3`"
        )


def test_an_action_has_one_pin_across_workflows() -> None:
    pins: dict[str, set[str]] = {}
    for name in NAMES:
        for m in map(USES_LINE.match, (WORKFLOWS / name).read_text(encoding="utf-8").splitlines()):
            if m:
                repo = "/".join(m["ref"].split("@")[0].split("/")[:2])
                pins.setdefault(repo, set()).add(f"{m['ref'].split('@')[1]} # {m['comment']}")
    assert {repo: refs for repo, refs in pins.items() if len(refs) > 1} == {}


# -- ci.yml and pages.yml -----------------------------------------------------------------------------------


def test_ci_runs_what_ci_run_runs() -> None:
    ci_run = [line.strip() for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    test_command = [line for line in ci_run if line and not line.startswith("#")][-1]
    assert test_command == "make test"  # the README's test command
    runs = [step["run"].strip() for _, step in steps(load("ci.yml")) if "run" in step]
    # Setting up the base system (a Debian container) may come first; the test run itself is .ci/run.
    assert runs[-1] in ("bash .ci/run", test_command), runs
    setup = [line.strip() for run in runs[:-1] for line in run.splitlines()]
    assert not [line for line in setup if line.startswith(("make ", "pytest", "python -m pytest"))], runs
    assert load("ci.yml")["permissions"] == {"contents": "read"}


@pytest.mark.parametrize("name", NAMES)
def test_jobs_have_timeouts_and_write_nothing_by_default(name: str) -> None:
    workflow = load(name)
    assert workflow["permissions"] == {"contents": "read"}
    for job_id, job in workflow["jobs"].items():
        assert isinstance(job.get("timeout-minutes"), int) and job["timeout-minutes"] > 0, job_id


def test_pages_triggers() -> None:
    on = load("pages.yml")["on"]
    assert set(on) == {"schedule", "workflow_dispatch"}
    assert len(on["schedule"]) == 1
    minute, hour, day, month, weekday = on["schedule"][0]["cron"].split()
    assert minute.isdigit() and hour.isdigit() and day == month == "*" and re.fullmatch(r"[0-6]", weekday), (
        "weekly"
    )
    inputs = on["workflow_dispatch"]["inputs"]
    assert inputs["runs-on"]["default"] == "ubuntu-latest"
    assert inputs["backend"]["type"] == "choice"
    assert inputs["backend"]["options"] == ["cpu", "gpu"] and inputs["backend"]["default"] == "cpu"
    assert inputs["source"]["options"] == ["hub-stats", "api"] and inputs["source"]["default"] == "hub-stats"
    assert inputs["force"]["type"] == "boolean" and inputs["force"]["default"] is False


def test_pages_permissions_concurrency_and_environment() -> None:
    workflow = load("pages.yml")
    assert workflow["concurrency"] == {"group": "pages", "cancel-in-progress": False}
    jobs = workflow["jobs"]
    deploy = jobs["deploy"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["needs"] == "build" and "needs.build.outputs.changed" in deploy["if"]
    url = "${{ steps.deployment.outputs.page_url }}"
    assert deploy["environment"] == {"name": "github-pages", "url": url}
    assert [s["uses"].split("@")[0] for s in deploy["steps"] if s.get("id") == "deployment"] == [
        "actions/deploy-pages"
    ]
    build = jobs["build"]
    assert "write" not in build["permissions"].values()
    assert set(build["permissions"]) <= {"contents", "pages", "actions"}
    assert "inputs.runs-on" in build["runs-on"]


def test_pages_build_steps_wire_up() -> None:
    build = load("pages.yml")["jobs"]["build"]
    by_action = {s["uses"].split("@")[0]: s for s in build["steps"] if "uses" in s}
    upload = by_action["actions/upload-pages-artifact"]
    assert upload["with"]["path"] == "site-out"  # what `atlasgen build --out` writes (checked above)
    pages_id = by_action["actions/configure-pages"]["id"]
    runs = [s for s in build["steps"] if "run" in s]
    base_url = f"steps.{pages_id}.outputs.base_url"
    assert any(base_url in str(s.get("env")) and "/positions.parquet" in s["run"] for s in runs), (
        "the previous positions come from the published site"
    )
    fetch = next(s for s in runs if "atlasgen fetch" in s["run"])
    assert fetch["env"]["HF_TOKEN"] == "${{ secrets.HF_TOKEN }}"
    install = next(s for s in runs if "pip install" in s["run"])
    viewer = next(s for s in runs if "npm --prefix site run build" in s["run"])
    assert runs.index(viewer) < runs.index(install), "the viewer bundle must exist when pip packages atlasgen"
    assert '".[gpu]"' in install["run"] and "pip install ." in install["run"]
