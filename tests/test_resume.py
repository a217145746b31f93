"""Interrupted builds: a killed `atlasgen build` never harms the site in --out, and `--resume` picks it up.

The kill tests run the real CLI in a subprocess (its own session, so the whole process group is killed with
SIGKILL, as by the OOM killer or a cancelled CI job) and find the stage from its `-v` log lines.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from base64 import b64decode
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_determinism import site_digests

from atlasgen.cli import cli
from atlasgen.pipeline import outdir
from atlasgen.pipeline.build import build_atlas

# The CLI's --layers default (build_atlas's own default, tiles.DEFAULT_LAYERS, orders them otherwise).
LAYERS = ("relation", "edges", "task", "licence")
OPTIONS = {"seed": 3, "backend": "cpu", "workers": 1, "layers": LAYERS, "progress": False}
CLI_OPTIONS = ["--seed", "3", "--backend", "cpu", "--workers", "1"]


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from atlasgen.ingest.synth import write_synthetic_hub

    path = tmp_path_factory.mktemp("snap") / "hub.parquet"
    write_synthetic_hub(3000, path, seed=0)
    return path


@pytest.fixture(scope="module")
def clean(snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted build of `snapshot`: the reference, and the 'previous site' the kills must keep."""
    out = tmp_path_factory.mktemp("clean") / "site"
    build_atlas(snapshot, out, **OPTIONS)
    return out


def start_build(snapshot: Path, out: Path, *extra: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "atlasgen", "-v", "build", str(snapshot), "--out", str(out), "-q"]
    return subprocess.Popen(
        [*command, *CLI_OPTIONS, *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def kill_during(build: subprocess.Popen[str], stage: str, out: Path) -> None:
    """SIGKILL the build once it logs that `stage` started (for tiles: once some tiles are on disk)."""
    assert build.stderr is not None
    seen = []
    for line in build.stderr:
        seen.append(line)
        if line.strip() == f"{stage} ...":
            break
    else:
        pytest.fail(f"the build ended before {stage}: {''.join(seen)[-2000:]}")
    deadline = time.monotonic() + 120
    while stage == "tiles" and not list(out.parent.glob(f".{out.name}.building-*/tiles/*/*/*/*.webp")):
        assert time.monotonic() < deadline and build.poll() is None, "no tile was written"
        time.sleep(0.02)
    os.killpg(build.pid, signal.SIGKILL)
    assert build.wait(timeout=60) == -signal.SIGKILL
    build.stderr.close()


def assert_servable(site: Path) -> None:
    """atlas.json parses, every tile it says exists does, and the server hands out the site."""
    from atlasgen.tools.serve import make_server

    manifest = json.loads((site / "atlas.json").read_text(encoding="utf-8"))
    assert (site / "index.html").is_file()
    for name in ("positions", "lineage", "snapshot"):
        assert (site / manifest["data"][name]).is_file()
    for layer in manifest["layers"]:
        url = layer["url"]
        assert len(list(site.glob(url.split("{z}")[0] + "*/*/*"))) == layer["tiles"]
        for z, bitmap in layer["exists"].items():
            bits, side = b64decode(bitmap), 1 << int(z)
            for i in (i for i in range(side * side) if bits[i >> 3] >> (i & 7) & 1):
                tile = url.format(z=z, x=i % side, y=i // side)
                assert (site / tile).is_file(), tile
    server = make_server(site, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        with urllib.request.urlopen(base + "atlas.json") as response:
            assert json.loads(response.read()) == manifest
        with urllib.request.urlopen(base + manifest["layers"][0]["url"].format(z=0, x=0, y=0)) as response:
            assert response.status == 200 and response.read(4) == b"RIFF"
    finally:
        server.shutdown()
        server.server_close()


def work_dirs(out: Path) -> list[Path]:
    return sorted(out.parent.glob(f".{out.name}.building-*"))


def test_killing_a_build_at_any_stage_leaves_the_previous_site(
    snapshot: Path, clean: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "site"
    shutil.copytree(clean, out)
    before = site_digests(out)
    assert_servable(out)
    left: dict[str, list[Path]] = {}
    for stage in ("layout", "index", "tiles"):
        kill_during(start_build(snapshot, out, "--seed", "4"), stage, out)
        assert site_digests(out) == before, f"killed during {stage}: the site changed"
        assert_servable(out)
        left[stage] = work_dirs(out)
    # Layout runs before the work directory exists; the index kill left one, which the next build removed
    # before it was killed in its turn, leaving its own.
    assert not left["layout"] and len(left["index"]) == len(left["tiles"]) == 1
    assert left["index"] != left["tiles"] and left["tiles"][0].name.split("-")[1].isdigit()
    live = out.parent / f".site.building-{os.getpid()}-live"  # a running build's: not to be touched
    live.mkdir()
    caplog.set_level(logging.INFO, logger="atlasgen")
    build_atlas(snapshot, out, **OPTIONS)
    assert work_dirs(out) == [live]
    assert "removed 1 stale build directory" in caplog.text
    assert site_digests(out) == before  # the same options as the clean build: the same site
    assert not (tmp_path / ".site.stages").exists()  # recorded stages go once a build succeeds


def test_resume_after_a_kill_during_tiles_matches_an_uninterrupted_build(
    snapshot: Path, clean: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    kill_during(start_build(snapshot, out), "tiles", out)
    assert not out.exists() and (tmp_path / ".site.stages" / "index" / "key").is_file()
    assert not (tmp_path / ".site.stages" / "tiles").exists()
    args = ["build", str(snapshot), "--out", str(out), *CLI_OPTIONS, "--resume"]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "resumed: snapshot, graph, layout, index reused from an interrupted build" in result.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["resumed"] == ["snapshot", "graph", "layout", "index"]
    assert site_digests(out) == site_digests(clean)
    assert not work_dirs(out) and not (tmp_path / ".site.stages").exists()


class Killed(BaseException):
    """Stands for a kill: nothing after it runs."""


def interrupted_build(
    snapshot: Path,
    out: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    **options: object,
) -> list[str]:
    """Run a build with --resume that dies in its last stage (after recording the others); return the
    recorded stages it reused."""
    import atlasgen.publish.stage

    def die(*args: object, **kwargs: object) -> None:
        raise Killed

    caplog.clear()
    caplog.set_level(logging.INFO, logger="atlasgen")
    with monkeypatch.context() as patch:
        patch.setattr(atlasgen.publish.stage, "finish", die)
        with pytest.raises(Killed):
            build_atlas(snapshot, out, resume=True, **(OPTIONS | options))
    assert (out.parent / f".{out.name}.stages").is_dir() and not work_dirs(out)
    suffix = ": reused from an interrupted build"
    return [r.getMessage().removesuffix(suffix) for r in caplog.records if r.getMessage().endswith(suffix)]


def test_a_build_resumed_from_every_stage_is_byte_identical_to_a_fresh_one(
    snapshot: Path,
    clean: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    out = tmp_path / "site"
    assert interrupted_build(snapshot, out, monkeypatch, caplog) == []  # records every stage
    recorded = [p for p in (tmp_path / ".site.stages").rglob("result/*")]
    assert {p.suffix for p in recorded} == {".json", ".npz", ".parquet"}  # data files, never a pickle
    report = build_atlas(snapshot, out, resume=True, **OPTIONS)
    assert report["resumed"] == ["snapshot", "graph", "layout", "index", "tiles"]
    assert site_digests(out) == site_digests(clean)


def test_resume_reuses_only_stages_whose_inputs_and_options_are_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from atlasgen.ingest.synth import write_synthetic_hub

    snapshot, out = tmp_path / "hub.parquet", tmp_path / "site"
    write_synthetic_hub(300, snapshot, seed=1)
    resume = functools.partial(interrupted_build, snapshot, out, monkeypatch, caplog)
    every = ["graph", "layout", "index", "tiles"]
    assert resume() == []  # nothing recorded yet
    assert resume() == every
    assert resume(workers=2) == every  # no output byte depends on the worker count
    assert resume(seed=4) == every[:1]
    assert resume(seed=4, max_zoom=1) == every[:2]  # 1: shallower than any default depth (zoom_for_unit)
    assert resume(seed=4, max_zoom=1, budget="5MB") == every[:3]
    os.utime(snapshot, (0, 0))  # same bytes, another mtime: still the same snapshot
    assert resume(seed=4, max_zoom=1, budget="5MB") == every
    write_synthetic_hub(300, snapshot, seed=2)  # another snapshot at the same path
    assert resume(seed=4, max_zoom=1, budget="5MB") == []
    # Without --resume nothing is reused (the build is what it always was) and the records go on success.
    report = build_atlas(snapshot, out, **(OPTIONS | {"seed": 4, "max_zoom": 3, "budget": "5MB"}))
    assert "resumed" not in report and set(report["timings_s"]) == {"snapshot", *every, "site"}
    assert not (tmp_path / ".site.stages").exists() and not work_dirs(out)


def test_the_swap_is_one_atomic_exchange(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    if not outdir.exchange(a, b):
        pytest.skip("no renameat2(RENAME_EXCHANGE) here: the two-rename fallback is tested below")
    out, work = tmp_path / "site", tmp_path / ".site.building-1-x"
    for folder, text in ((out, "old"), (work, "new")):
        folder.mkdir()
        (folder / "atlas.json").write_text(text, encoding="utf-8")
    monkeypatch.setattr(Path, "rename", lambda *a: pytest.fail("renamed: out was missing for a moment"))
    outdir.swap_in(work, out)
    assert (out / "atlas.json").read_text(encoding="utf-8") == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "site"]


def test_a_crash_between_the_fallback_renames_is_undone(
    snapshot: Path, clean: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from atlasgen.tools.serve import make_server

    out = tmp_path / "site"
    shutil.copytree(clean, out)
    before = site_digests(out)

    def crash_in_swap() -> None:
        work = outdir.work_dir(out)
        (work / "atlas.json").write_text("{}", encoding="utf-8")
        renames: list[Path] = []
        real_rename = Path.rename

        def rename(self: Path, target: Path) -> Path:
            renames.append(self)
            if len(renames) == 2:
                raise Killed
            return real_rename(self, target)

        with monkeypatch.context() as patch:
            patch.setattr(outdir, "exchange", lambda a, b: False)
            patch.setattr(Path, "rename", rename)
            with pytest.raises(Killed):
                outdir.swap_in(work, out)
        assert not out.exists() and outdir.old_dir(out).is_dir()
        shutil.rmtree(work)  # a real crash's would be removed as stale: its pid would be dead

    crash_in_swap()
    make_server(out, port=0).server_close()  # `atlasgen serve` puts the previous site back
    assert site_digests(out) == before and not outdir.old_dir(out).exists()
    crash_in_swap()
    build_atlas(snapshot, out, **OPTIONS)  # and so does the next build
    assert site_digests(out) == before and not outdir.old_dir(out).exists() and not work_dirs(out)


def test_serve_of_a_missing_directory_is_a_clean_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["serve", str(tmp_path / "nowhere")])
    assert result.exit_code == 1 and "no atlas.json" in result.output
