"""`build --budget` caps the whole site, every file counted, and a budget that cannot be met is a one-line
error naming the smallest budget that works, before the long stages where it can be known, and with the
previous site left as it was (issue 15 item 9)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from atlasgen.cli import cli
from atlasgen.tiles.budget import parse_size


def site_bytes(site: Path) -> int:
    """Every file of a built site, as a static host counts it."""
    return sum(f.stat().st_size for f in site.rglob("*") if f.is_file() and not f.is_symlink())


def tile_bytes(site: Path) -> int:
    return sum(f.stat().st_size for f in (site / "tiles").rglob("*") if f.is_file())


def files(site: Path) -> dict[str, bytes]:
    return {str(f.relative_to(site)): f.read_bytes() for f in sorted(site.rglob("*")) if f.is_file()}


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from atlasgen.ingest.synth import write_synthetic_hub

    path = tmp_path_factory.mktemp("budget") / "hub.parquet"
    write_synthetic_hub(2000, path, seed=5)
    return path


@pytest.fixture(scope="module")
def full(snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site without a budget that bites."""
    out = tmp_path_factory.mktemp("full") / "site"
    built = run_build(snapshot, out)
    assert built.exit_code == 0, built.output
    return out


def run_build(snapshot: Path, out: Path, *args: str) -> Result:
    return CliRunner().invoke(
        cli, ["build", str(snapshot), "--out", str(out), "--workers", "1", "--quiet", *args]
    )


def one_line_error(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("Error: --budget: ")
    return lines[0]


def viewer_bytes() -> int:
    from atlasgen.publish.site import viewer_dir

    return site_bytes(viewer_dir())


@pytest.mark.parametrize("budget", ["1KB", "0", "viewer - 1"])
def test_a_budget_below_the_viewer_is_refused_before_any_work(
    snapshot: Path, tmp_path: Path, budget: str
) -> None:
    out = tmp_path / "site"
    budget = str(viewer_bytes() - 1) if budget == "viewer - 1" else budget
    line = one_line_error(run_build(snapshot, out, "--budget", budget))
    assert "viewer" in line
    assert not out.exists() and not list(tmp_path.glob(".*")), "no stage ran"


def test_a_budget_too_small_for_the_index_is_refused_before_the_layout(
    snapshot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import atlasgen.layout

    def no_layout(*args: object, **kwargs: object) -> None:
        raise AssertionError("the layout ran")

    monkeypatch.setattr(atlasgen.layout, "layout_atlas", no_layout)
    # The viewer and 10 kB: far too little for the index of 2,000 models.
    line = one_line_error(run_build(snapshot, tmp_path / "site", "--budget", str(viewer_bytes() + 10_000)))
    assert "2,000 models" in line and "index" in line


def test_a_budget_that_cannot_be_met_names_the_smallest_that_works(
    full: Path, snapshot: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    assert run_build(snapshot, out).exit_code == 0
    before = files(out)
    # Room for everything but the tiles and the manifests (whose layer entries shrink with fewer layers, by
    # more than the map's first tile, a small map in its world): the viewer could not load a map.
    manifests = sum((full / name).stat().st_size for name in ("atlas.json", "report.json"))
    budget = site_bytes(full) - tile_bytes(full) - manifests
    line = one_line_error(run_build(snapshot, out, "--budget", str(budget)))
    assert files(out) == before, "the previous site is left as it was"
    assert not list(tmp_path.glob(".site.building*"))
    smallest = re.search(r"the smallest budget that works is ([0-9.]+ ?[kMG]?B)\b", line)
    assert smallest, line
    minimum = parse_size(smallest.group(1).replace(" ", ""))
    # The named budget works: a site that loads (the base layer's zoom 0), every file within the budget ...
    fits = tmp_path / "fits"
    built = run_build(snapshot, fits, "--budget", str(minimum))
    assert built.exit_code == 0, built.output
    assert site_bytes(fits) <= minimum
    layers = json.loads((fits / "atlas.json").read_text(encoding="utf-8"))["layers"]
    assert [(layer["id"], layer["min_zoom"]) for layer in layers] == [("relation", 0)]
    # ... and it is the smallest, to the 0.1 unit it is named in.
    step = 10 ** (len(str(minimum)) - 4)
    one_line_error(run_build(snapshot, tmp_path / "short", "--budget", str(minimum - step)))


def test_every_file_of_the_site_counts(full: Path, snapshot: Path, tmp_path: Path) -> None:
    total, tiles = site_bytes(full), tile_bytes(full)
    for i, budget in enumerate([total - 100, total - tiles // 4, total - tiles // 2]):
        out = tmp_path / f"b{i}"
        built = run_build(snapshot, out, "--budget", str(budget))
        assert built.exit_code == 0, built.output
        assert site_bytes(out) <= budget, (budget, site_bytes(out) - budget)
        report = json.loads((out / "report.json").read_text(encoding="utf-8"))
        assert report["tiles"]["dropped"], "something had to go"
