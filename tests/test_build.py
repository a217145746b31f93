"""End to end: `atlasgen build` turns snapshots into a complete static site that accounts for every model."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from atlasgen.cli import cli

EDGES = """source,target,relation
org/base,org/base-instruct,finetune
org/base,q/base-GGUF,quantized
org/base,q/base-AWQ,quantization
org/base-instruct,lab/base-lora,adapter
org/base-instruct,mix/merged,merge
other/root,mix/merged,merge
mix/merged,mix/merged,finetune
ghost/parent,lab/orphan-ft,finetune
"""
NODES = """id,downloads,likes,license,pipeline_tag,library_name,created_at
org/base,1000000,500,apache-2.0,text-generation,transformers,2024-01-01
org/base-instruct,50000,40,apache-2.0,text-generation,transformers,2024-02-01
q/base-GGUF,3000,,apache-2.0,text-generation,gguf,2024-03-01
q/base-AWQ,200,,,text-generation,,
lab/base-lora,10,,llama3.1,text-generation,peft,not-a-date
mix/merged,5,,mit,,,
other/root,70000,,mit,,,
lab/orphan-ft,1,,,,,
org/base,999,,dup,,,
"""


def build(tmp_path: Path, *args: str) -> tuple[Path, dict]:
    out = tmp_path / "site"
    result = CliRunner().invoke(cli, ["build", *args, "--out", str(out), "--quiet"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out, json.loads((out / "report.json").read_text(encoding="utf-8"))


def test_edge_csv_build_writes_a_site_and_accounts_for_every_row(tmp_path: Path) -> None:
    (tmp_path / "edges.csv").write_text(EDGES, encoding="utf-8")
    (tmp_path / "nodes.csv").write_text(NODES, encoding="utf-8")
    out, report = build(tmp_path, str(tmp_path / "edges.csv"), "--nodes", str(tmp_path / "nodes.csv"))
    assert report["input_rows"] == 9 and report["models"] == 8 and report["virtual"] == 1
    assert report["dropped_rows"] == [{"row": 9, "id": "org/base", "reason": "duplicate id (first row kept)"}]
    assert report["repairs"] == {
        "self_loops": 1,
        "missing_parents_added_as_virtual": 1,
        "invalid_created_at": 1,
    }
    assert report["edges_by_relation"] == {"adapter": 1, "finetune": 2, "merge": 2, "quantized": 2}
    manifest = json.loads((out / "atlas.json").read_text(encoding="utf-8"))
    assert manifest["counts"]["models"] == 8 and manifest["counts"]["virtual"] == 1
    assert manifest["snapshot"]["format"] == "csv"
    assert manifest["layout"]["seed"] == 0 and manifest["layout"]["params"]["barnes_hut_theta"] == 0.5
    layer = manifest["layers"][0]
    assert layer["id"] == "relation" and layer["tiles"] == len(
        list((out / "tiles" / "relation").rglob("*.webp"))
    )
    assert (out / "tiles/relation/0/0/0.webp").is_file()
    assert (out / "index.html").is_file() and (out / ".nojekyll").is_file()
    assert not list(tmp_path.glob(".site.*")), "temporary build directories left behind"


def test_build_prints_the_report_summary(tmp_path: Path) -> None:
    (tmp_path / "edges.csv").write_text(EDGES, encoding="utf-8")
    args = [str(tmp_path / "edges.csv"), "--out", str(tmp_path / "site"), "--budget", "50MB"]
    result = CliRunner().invoke(cli, ["build", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "models: 9 in atlas (0 virtual parents added), 0 dropped of 9 input rows" in result.output
    assert "repairs: self loops 1" in result.output
    # The roots and the isolated models, each under its own name (a root with descendants has lineage).
    assert "models without a documented parent: 3 (0 without any lineage: the map's undocumented region)" in (
        result.output
    )
    assert "the whole site within its 50.0 MB budget" in result.output
    assert "layout: cpu backend" in result.output
    assert "stability" not in result.output  # no --previous, nothing to compare


def test_bad_options_are_all_reported_before_any_work(tmp_path: Path) -> None:
    args = ["build", "--out", str(tmp_path / "s"), "--budget", "lots", "--layers", "relation,sparkles"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert "--budget: cannot read 'lots' as a size" in result.output and "--layers:" in result.output
    assert not (tmp_path / "s").exists()


def test_rebuild_replaces_the_previous_atlas(tmp_path: Path) -> None:
    (tmp_path / "edges.csv").write_text(EDGES, encoding="utf-8")
    out, _ = build(tmp_path, str(tmp_path / "edges.csv"))
    (out / "mine.txt").write_text("old", encoding="utf-8")  # not atlasgen's: kept (tests/test_outdir.py)
    out, report = build(tmp_path, str(tmp_path / "edges.csv"))
    assert report["models"] == 9 and (out / "mine.txt").read_text(encoding="utf-8") == "old"


def test_previous_atlas_keeps_the_map_in_place(tmp_path: Path) -> None:
    (tmp_path / "edges.csv").write_text(EDGES, encoding="utf-8")
    first, _ = build(tmp_path, str(tmp_path / "edges.csv"))
    kept = tmp_path / "last-week"
    first.rename(kept)
    out, report = build(tmp_path, str(tmp_path / "edges.csv"), "--previous", str(kept))
    stability = report["layout"]["stability"]
    assert stability["survivors"] == report["models"] + report["virtual"]
    assert stability["p95"] < 0.01  # same snapshot, same seed: nothing should move
    positions = pd.read_parquet(out / "positions.parquet")
    assert sorted(positions["id"]) == sorted(pd.read_parquet(kept / "positions.parquet")["id"])


def test_models_new_since_the_previous_atlas_get_their_own_overlay(tmp_path: Path) -> None:
    (tmp_path / "old.csv").write_text("\n".join(EDGES.splitlines()[:4]) + "\n", encoding="utf-8")
    (tmp_path / "edges.csv").write_text(EDGES, encoding="utf-8")
    first, _ = build(tmp_path, str(tmp_path / "old.csv"))
    kept = tmp_path / "last-week"
    first.rename(kept)
    old_ids = set(pd.read_parquet(kept / "positions.parquet")["id"])
    out, report = build(tmp_path, str(tmp_path / "edges.csv"), "--previous", str(kept))
    new_ids = set(pd.read_parquet(out / "positions.parquet")["id"]) - old_ids
    assert len(new_ids) == 5 and report["previous"]["new_models"] == 5
    manifest = json.loads((out / "atlas.json").read_text(encoding="utf-8"))
    assert manifest["previous"] == {"new_models": 5, "label": "old.csv"}
    (layer,) = [entry for entry in manifest["layers"] if entry["id"] == "new"]
    assert layer["overlay"] is True and layer["tiles"] > 0
    assert layer["legend"] == [{"key": "new", "label": "new model", "color": "#ff3b3b"}]
    # The overlay draws the new models only: an old model's pixel is set on the relation layer, not on this one.
    positions = pd.read_parquet(out / "positions.parquet").set_index("id")
    for model, drawn in (("org/base", False), ("mix/merged", True)):
        assert (pixel_alpha(out, "new", layer["max_zoom"], *positions.loc[model, ["x", "y"]]) > 0) == drawn
        assert pixel_alpha(out, "relation", layer["max_zoom"], *positions.loc[model, ["x", "y"]]) > 0
    snapshot = json.loads((out / "snapshot.json").read_text(encoding="utf-8"))
    assert snapshot["models"] == report["models"] and len(snapshot["sha256"]) == 64


def pixel_alpha(site: Path, layer: str, z: int, x: float, y: float) -> int:
    from PIL import Image

    px, py = int(x * 2**z), int(y * 2**z)
    tile = site / "tiles" / layer / str(z) / str(px // 256) / f"{py // 256}.webp"
    if not tile.is_file():
        return 0
    with Image.open(tile) as im:
        return int(im.convert("RGBA").getpixel((px % 256, py % 256))[3])


def test_the_new_layer_needs_a_previous_atlas(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["build", "--out", str(tmp_path / "s"), "--layers", "relation,new"])
    assert result.output == (
        "Error: --layers: new needs a previous atlas, to mark the models added since (got relation, new)\n"
    )
    assert result.exit_code == 1


@pytest.mark.parametrize(
    ("layers", "problem"),
    [
        ("new", "relation is required (the base map), and new needs a previous atlas, to mark the models "
         "added since (got new)"),
        ("sparkles,new", "sparkles is not a layer (relation, edges, task, licence, new), relation is "
         "required (the base map), and new needs a previous atlas, to mark the models added since (got "
         "sparkles, new)"),
        ("task,a,b", "a and b are not layers (relation, edges, task, licence, new), and relation is "
         "required (the base map) (got task, a, b)"),
    ],
)  # fmt: skip
def test_everything_wrong_with_the_layers_is_one_message(tmp_path: Path, layers: str, problem: str) -> None:
    result = CliRunner().invoke(cli, ["build", "--out", str(tmp_path / "s"), "--layers", layers])
    assert result.output == f"Error: --layers: {problem}\n" and result.exit_code == 1


@pytest.mark.slow
def test_embedded_sample_builds_completely(sample_atlas: Path) -> None:
    report = json.loads((sample_atlas / "report.json").read_text(encoding="utf-8"))
    manifest = json.loads((sample_atlas / "atlas.json").read_text(encoding="utf-8"))
    assert report["input_rows"] == report["models"] == 29_075 and report["dropped_total"] == 0
    assert report["repairs"] == {"self_loops": 45}
    assert manifest["counts"]["edges"] == 28_110
    layer = manifest["layers"][0]
    assert layer["max_zoom"] >= 5 and layer["tiles"] > 100
    lo_x, lo_y, hi_x, hi_y = manifest["world"]["bounds"]
    assert 0 <= lo_x < hi_x <= 256 and 0 <= lo_y < hi_y <= 256
    assert set(report["timings_s"]) == {"snapshot", "graph", "layout", "tiles", "index", "site"}


def test_the_site_names_the_snapshot_by_its_file_name_not_its_local_path(tmp_path: Path) -> None:
    (tmp_path / "edges.csv").write_text(EDGES, encoding="utf-8")
    (tmp_path / "nodes.csv").write_text(NODES, encoding="utf-8")
    out, report = build(tmp_path, str(tmp_path / "edges.csv"), "--nodes", str(tmp_path / "nodes.csv"))
    assert report["snapshot"]["path"] == "edges.csv"
    leaks = [
        str(f.relative_to(out))
        for f in out.rglob("*")
        if f.is_file() and str(tmp_path).encode() in f.read_bytes()
    ]
    assert leaks == [], "the builder's local paths are not the site's business"
