"""The CLI tells the truth: every command and option is documented in the README; user errors have no traceback."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from atlasgen.cli import cli

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def commands() -> dict[str, click.Command]:
    assert isinstance(cli, click.Group)
    return dict(cli.commands)


def test_python_dash_m_runs_the_cli() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "atlasgen", "--help"], capture_output=True, text=True, check=True
    )
    assert all(name in out.stdout for name in ("build", "fetch", "serve"))


@pytest.mark.parametrize("name", sorted(commands()))
def test_every_command_and_option_is_in_the_readme(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0 and "Usage: atlasgen" in result.output
    section = re.search(rf"^### `atlasgen {name}.*?(?=^### |\Z)", README, flags=re.S | re.M)
    assert section, f"README has no '### `atlasgen {name}' section"
    for param in commands()[name].params:
        if isinstance(param, click.Option):
            assert param.opts[0] in section.group(0), f"{param.opts[0]} of {name} missing from README"


def test_missing_snapshot_is_a_clean_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["build", str(tmp_path / "nope.parquet"), "--out", str(tmp_path / "site")]
    )
    assert result.exit_code == 1
    assert "nope.parquet: no such file" in result.output and "Traceback" not in result.output


def test_build_refuses_to_replace_a_directory_that_is_not_an_atlas(tmp_path: Path) -> None:
    keep = tmp_path / "mine"
    keep.mkdir()
    (keep / "thesis.tex").write_text("precious", encoding="utf-8")
    result = CliRunner().invoke(cli, ["build", "--out", str(keep)])
    assert result.exit_code == 1 and "refusing to replace it" in result.output
    assert (keep / "thesis.tex").read_text(encoding="utf-8") == "precious"


def test_serve_needs_an_atlas(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["serve", str(tmp_path)])
    assert result.exit_code == 1 and "no atlas.json" in result.output


def test_the_command_line_imports_pandas_only_for_a_command_that_needs_it() -> None:
    code = "import sys, atlasgen.cli; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_format_and_layer_options_follow_their_registries() -> None:
    from atlasgen.ingest.snapshot import FORMATS
    from atlasgen.tiles.table import DEFAULT_LAYERS, figure_layers
    from atlasgen.tools.figure.style import THEMES

    for name in ("build", "diff", "lineage"):
        shown = CliRunner().invoke(cli, [name, "--help"], terminal_width=200).output
        assert f"[{'|'.join(FORMATS)}]" in shown, name
    bad = CliRunner().invoke(cli, ["diff", "a", "b", "--snapshot-format", "xml"])
    assert bad.exit_code == 2 and "'xml' is not one of" in bad.output
    shown = CliRunner().invoke(cli, ["build", "--help"], terminal_width=400).output
    assert f"[default: {','.join(DEFAULT_LAYERS)}]" in shown and "Under --budget the layers" in shown
    build = commands()["build"]
    assert build.make_context("build", ["--out", "site"]).params["layers"] == ",".join(DEFAULT_LAYERS)
    shown = CliRunner().invoke(cli, ["figure", "--help"], terminal_width=200).output
    assert f"[{'|'.join(layer.id for layer in figure_layers())}]" in shown
    assert f"[{'|'.join(THEMES)}]" in shown


def test_the_readme_states_the_budget_rule_the_code_applies() -> None:
    """tests/test_budget.py checks the rule itself (expected_choice); the README must say the same."""
    from atlasgen.tiles.table import PRIORITY

    row = re.search(r"^\| `--budget SIZE` \|(.*)$", README, flags=re.M)
    assert row, "README has no --budget row"
    assert f"({', '.join(PRIORITY)})" in row.group(1)
    assert "kept whole if it fits in what is left, else dropped whole" in row.group(1)
    assert "every file atlasgen writes counted" in row.group(1)
    assert "reverse priority" not in README


def test_max_iter_counts_per_family_as_the_help_and_the_readme_say(monkeypatch: pytest.MonkeyPatch) -> None:
    from atlasgen.layout import atlas as layout

    calls: list[tuple[int, int]] = []
    real = layout._layout_core

    def spy(m: int, es: Any, ed: Any, folded: Any, params: Any, *rest: Any) -> Any:
        calls.append((m, params.max_iter))
        return real(m, es, ed, folded, params, *rest)

    monkeypatch.setattr(layout, "_layout_core", spy)
    # Two families, chains of four models: the last of each is folded into its parent's disc, three remain.
    layout.layout_atlas(8, [0, 1, 2, 4, 5, 6], [1, 2, 3, 5, 6, 7], max_iter=7, backend="cpu", progress=False)
    assert calls == [(3, 7), (3, 7)]
    shown = CliRunner().invoke(cli, ["build", "--help"], terminal_width=400).output
    row = re.search(r"^\| `--max-iter N` \|(.*)$", README, flags=re.M)
    assert row and "ForceAtlas2 iterations for each family" in row.group(1)
    assert "ForceAtlas2 iterations for each family" in shown and "component" not in shown


def test_the_readme_predict_example_runs_from_a_fresh_clone() -> None:
    """Every file the example reads is the package's, or one an earlier line of it downloads and checks."""
    import hashlib

    block = re.search(r"```sh\n([^`]*?atlasgen predict [^`]*)```", README)
    assert block, "README lost the predict example"
    text = block.group(1).replace("\\\n", " ")
    assert "../" not in text, "a fresh clone has nothing beside it"
    leaderboard = re.search(r"--leaderboard (\S+)", text)
    url = re.search(r"curl -L[^\n]*?(https://\S+/(\S+?\.csv))", text)
    assert leaderboard and url and leaderboard.group(1) == url.group(2), "the leaderboard CSV is downloaded"
    digest = re.search(r"([0-9a-f]{64})  " + re.escape(url.group(2)) + r"\"? \| sha256sum -c", text)
    assert digest, "and checked"
    shared = (
        Path(__file__).resolve().parents[2] / "shared/data/open-llm-leaderboard/fboulnois-llm-leaderboard-csv"
    )
    copy = shared / "0f4e5c69c6fb/csv" / url.group(2)
    if copy.is_file():  # the copy the README's numbers were measured with
        assert hashlib.sha256(copy.read_bytes()).hexdigest() == digest.group(1)
        assert "0f4e5c69c6fb" in url.group(1)


def test_synth_is_quiet_with_q_like_build_and_fetch(tmp_path: Path) -> None:
    out = tmp_path / "hub.parquet"
    loud = CliRunner().invoke(cli, ["synth", "-n", "50", "-o", str(out)])
    assert loud.exit_code == 0 and "50 synthetic models written" in loud.output
    for flag in ("-q", "--quiet"):
        quiet = CliRunner().invoke(cli, ["synth", "-n", "50", "-o", str(tmp_path / f"{flag}.parquet"), flag])
        assert quiet.exit_code == 0 and quiet.output == "", quiet.output
        assert (tmp_path / f"{flag}.parquet").read_bytes() == out.read_bytes()
    weeks = CliRunner().invoke(
        cli, ["synth", "-n", "50", "-o", str(tmp_path / "w.parquet"), "--weeks", "1", "-q"]
    )
    assert weeks.exit_code == 0 and weeks.output == "" and (tmp_path / "w-week1.parquet").is_file()
