"""What `atlasgen build --out DIR` may replace (atlasgen/pipeline/outdir.py, userfiles.py): the user's files
in an atlas survive a rebuild, a directory that is not an atlas is refused, a symbolic link is built through,
and an --out that cannot work (the current directory, a name too long) is refused before any stage runs.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from atlasgen.cli import cli

FAST = ["--backend", "cpu", "--workers", "1", "--max-zoom", "1", "--layers", "relation", "--max-iter", "20"]
NOBODY = 65534


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from atlasgen.ingest.synth import write_synthetic_hub

    path = tmp_path_factory.mktemp("snap") / "small.parquet"
    write_synthetic_hub(60, path, seed=1)
    return path


def build(snapshot: Path, out: Path | str, *extra: str) -> Result:
    result = CliRunner().invoke(cli, ["build", str(snapshot), "--out", str(out), *FAST, "-q", *extra])
    assert "Traceback" not in result.output and (result.exception is None or result.exit_code == 1)
    return result


def litter(folder: Path) -> list[str]:
    """Work and stage folders a build left beside its output."""
    return sorted(p.name for p in folder.iterdir() if ".building-" in p.name or p.name.endswith(".stages"))


def test_files_atlasgen_did_not_write_survive_a_rebuild(snapshot: Path, tmp_path: Path) -> None:
    site = tmp_path / "siteA"
    assert build(snapshot, site).exit_code == 0
    (site / "CNAME").write_text("example.org\n", encoding="utf-8")
    shutil.copy(snapshot, site / "hub.parquet")  # the next build's own input
    (site / "notes" / "deep").mkdir(parents=True)
    (site / "notes" / "deep" / "todo.txt").write_text("mine", encoding="utf-8")
    (site / "notes" / "elsewhere").symlink_to("/etc/hostname")
    written = {p.name for p in site.iterdir()}
    result = build(site / "hub.parquet", site)
    assert result.exit_code == 0, result.output
    assert (site / "CNAME").read_text(encoding="utf-8") == "example.org\n"
    assert (site / "hub.parquet").read_bytes() == snapshot.read_bytes()
    assert (site / "notes" / "deep" / "todo.txt").read_text(encoding="utf-8") == "mine"
    assert os.readlink(site / "notes" / "elsewhere") == "/etc/hostname"  # a link stays a link
    assert {p.name for p in site.iterdir()} == written
    assert litter(tmp_path) == []


def test_a_directory_that_is_not_an_atlas_is_refused_before_any_stage(snapshot: Path, tmp_path: Path) -> None:
    project = tmp_path / "proj"
    (project / "src").mkdir(parents=True)
    (project / "src" / "main.py").write_text("print('hi')\n", encoding="utf-8")
    (project / "atlas.json").write_text("{}", encoding="utf-8")  # an atlas.json is not yet an atlas
    result = build(snapshot, project)
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error: {project}: not empty and not an atlas (no atlas.json written by atlasgen); "
        "refusing to replace it"
    )
    assert (project / "src" / "main.py").read_text(encoding="utf-8") == "print('hi')\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["proj"]


@pytest.mark.parametrize("dangling", [False, True])
def test_a_symlinked_out_is_built_into_its_target(snapshot: Path, tmp_path: Path, dangling: bool) -> None:
    target, link = tmp_path / "real-site", tmp_path / "site"
    if not dangling:
        target.mkdir()
    link.symlink_to(target.name)
    for _ in range(2):  # into the empty target, then replacing the site there
        result = build(snapshot, link)
        assert result.exit_code == 0, result.output
        assert link.is_symlink() and os.readlink(link) == target.name
        assert (target / "atlas.json").is_file() and (target / "index.html").is_file()
        assert litter(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["real-site", "site"]


def test_another_users_symlink_is_not_followed(
    snapshot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target, link = tmp_path / "theirs", tmp_path / "site"
    target.mkdir()
    link.symlink_to(target)
    if os.geteuid() == 0:
        os.lchown(link, NOBODY, NOBODY)
    else:
        other = os.geteuid() + 1
        monkeypatch.setattr(os, "geteuid", lambda: other)
    result = build(snapshot, link)
    assert result.exit_code == 1 and "a symbolic link owned by another user" in result.output
    assert not list(target.iterdir()) and litter(tmp_path) == []


@pytest.mark.parametrize("out", [".", "..", "sub/.."])
def test_the_current_directory_is_refused(
    snapshot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, out: str
) -> None:
    cwd = tmp_path / "here"
    (cwd / "sub").mkdir(parents=True)
    monkeypatch.chdir(cwd)
    result = build(snapshot, out)
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error: {out}: is the current directory or above it; the site needs a folder of its own"
    )
    assert sorted(p.name for p in cwd.iterdir()) == ["sub"] and litter(tmp_path) == []


def test_a_name_too_long_for_the_work_folder_is_refused_before_any_stage(
    snapshot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import atlasgen.ingest.snapshot

    def no_stage(*args: object, **kwargs: object) -> None:
        pytest.fail("a stage ran")

    monkeypatch.setattr(atlasgen.ingest.snapshot, "read_snapshot", no_stage)
    out = tmp_path / ("s" * 240)  # fits a file name (255) but not ".<name>.building-<pid>-XXXXXXXX"
    result = build(snapshot, out)
    assert result.exit_code == 1
    assert "the name is 240 bytes; the build's work folder beside it adds" in result.output
    assert "\n" not in result.output.strip()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def record_of(site: Path) -> dict[str, str | None]:
    from atlasgen.pipeline.userfiles import RECORD

    entries: dict[str, str | None] = json.loads((site / RECORD).read_text(encoding="utf-8"))["entries"]
    return entries


def test_the_record_lists_what_atlasgen_wrote_and_is_reproducible(snapshot: Path, tmp_path: Path) -> None:
    from atlasgen.pipeline.userfiles import RECORD, digest

    first, second = tmp_path / "a", tmp_path / "b"
    assert build(snapshot, first).exit_code == build(snapshot, second).exit_code == 0
    entries = record_of(first)
    assert set(entries) == {p.name for p in first.iterdir()} - {RECORD}
    assert entries["report.json"] is None  # holds the run's timings: atlasgen's, never compared
    assert entries["tiles"] == digest(first / "tiles") and entries["index.html"] == digest(
        first / "index.html"
    )
    assert (first / RECORD).read_bytes() == (second / RECORD).read_bytes()


@pytest.mark.parametrize(
    "change",
    ["edit index.html", "add data/mine.txt", "add tiles/README.md", "link atlas.json"],
)
def test_a_change_to_what_atlasgen_wrote_is_refused_before_any_stage(
    snapshot: Path, tmp_path: Path, change: str
) -> None:
    site = tmp_path / "site"
    assert build(snapshot, site).exit_code == 0
    verb, name = change.split(" ")
    path = site / name
    if verb == "edit":
        path.write_text(path.read_text(encoding="utf-8") + "<!-- my analytics -->", encoding="utf-8")
    elif verb == "add":
        path.write_text("mine", encoding="utf-8")
    else:
        path.rename(site / "atlas.real.json")
        path.symlink_to("atlas.real.json")
    (site / "report.json").write_text("{}", encoding="utf-8")  # not compared: rewritten by every build
    before = {p.name: p.lstat().st_mtime_ns for p in site.rglob("*")}
    result = build(snapshot, site)
    top = name.split("/")[0]
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert f"{site}: {top} changed since atlasgen wrote it" in result.output
    assert {p.name: p.lstat().st_mtime_ns for p in site.rglob("*")} == before
    assert litter(tmp_path) == []


def test_only_entries_the_record_lists_are_replaced(snapshot: Path, tmp_path: Path) -> None:
    from atlasgen.pipeline.userfiles import RECORD, digest

    site = tmp_path / "site"
    assert build(snapshot, site).exit_code == 0
    # An entry an older atlasgen wrote and this one does not: recorded, unchanged, so it goes.
    (site / "old-output.json").write_text("{}", encoding="utf-8")
    record = json.loads((site / RECORD).read_text(encoding="utf-8"))
    record["entries"]["old-output.json"] = digest(site / "old-output.json")
    (site / RECORD).write_text(json.dumps(record), encoding="utf-8")
    (site / "CNAME").write_text("example.org\n", encoding="utf-8")
    assert build(snapshot, site).exit_code == 0
    assert not (site / "old-output.json").exists() and (site / "CNAME").is_file()
    assert "CNAME" not in record_of(site)
    # A file of the user's under a name the new site writes: the build refuses instead of replacing it.
    record = json.loads((site / RECORD).read_text(encoding="utf-8"))
    del record["entries"]["trends.html"]
    (site / RECORD).write_text(json.dumps(record), encoding="utf-8")
    (site / "trends.html").write_text("my own trends page", encoding="utf-8")
    result = build(snapshot, site)
    assert result.exit_code == 1
    assert f"{site / 'trends.html'}: not written by atlasgen, and the new site has its own" in result.output
    assert (site / "trends.html").read_text(encoding="utf-8") == "my own trends page"
    assert litter(tmp_path) == [".site.stages"]  # what was built waits for a resumed build


def test_a_site_without_a_record_keeps_what_the_new_site_does_not_write(
    snapshot: Path, tmp_path: Path
) -> None:
    from atlasgen.pipeline.userfiles import RECORD

    site = tmp_path / "site"
    assert build(snapshot, site).exit_code == 0
    (site / RECORD).unlink()  # as a site built before atlasgen kept the record
    (site / "CNAME").write_text("example.org\n", encoding="utf-8")
    assert build(snapshot, site).exit_code == 0
    assert (site / "CNAME").read_text(encoding="utf-8") == "example.org\n" and "CNAME" not in record_of(site)
