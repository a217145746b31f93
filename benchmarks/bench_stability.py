#!/usr/bin/env python3
"""Do maps stay put through real Hub change? Chained layouts over real weeks, and a hold-back of hf-snapshot.

    nice .venv/bin/python benchmarks/bench_stability.py weeks [--weeks 12] [--json OUT]
    nice .venv/bin/python benchmarks/bench_stability.py holdback [--json OUT]
    nice .venv/bin/python benchmarks/bench_stability.py builds [--weeks 12] [--json OUT] [--keep DIR]

``weeks``: ../shared/data/msc-weekly (benchmarks/msc_weeks.py): week 1 laid out fresh, then each week on the
one before, exactly as ``atlasgen build --previous`` does it (the graph stage, then the layout with the
previous atlas's positions.parquet and lineage.parquet, written and read back with atlasgen.artifacts).
Each week is also laid out fresh, for the time and drift comparison. Tiles, index and site do not depend on
--previous, so the layout stage is what differs; ``bench_build.py`` times whole builds.

``holdback``: ../shared/data/hf-snapshot with what a real newer crawl of it changed held back (issue 13):
the old snapshot lacks 1,200 of its models (new since) and 1,200 of its links between models both
snapshots have (links that join families), and has 270 models the new one lacks (deleted since).

``builds``: the whole ``atlasgen build`` of the last week, fresh and with ``--previous`` the week before
(chained as in ``weeks``), one after the other in one run: wall time, stage times, tile depth, tiles and
bytes per layer, and the ratio ``--previous`` / fresh (the issue's target: <= 1.1). A build with
``--previous`` also renders the ``new`` overlay (models added since), which a fresh build has no reason to:
it is rendered again alone and timed, for the ratio of the same work.

Per step: models, links, families joined, parts moved, survivors' displacement by cause (share of the
map's extent: median, p95, p99, max), drift against the fresh packing, world size, layout seconds.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from msc_weeks import hub_by_week, write_week

SNAPSHOT = Path(__file__).resolve().parents[2] / "shared" / "data" / "hf-snapshot"
HF_FILES = "hakanotal-hf-dep-network-analysis/c952a70d68df/network_data"
HOLD = {"added": 1200, "links": 1200, "deleted": 270}


def graph(edges: Path, nodes: Path) -> Any:
    from atlasgen.graph.dag import build_graph
    from atlasgen.ingest.snapshot import read_snapshot

    return build_graph(read_snapshot(edges, nodes=nodes))


def layout(g: Any, previous: Path | None) -> tuple[np.ndarray, dict[str, Any], float]:
    """The layout stage as `atlasgen build` runs it (task groups, downloads, previous atlas files)."""
    from atlasgen.artifacts import read_previous, read_previous_families
    from atlasgen.layout import layout_atlas

    kw: dict[str, Any] = {}
    if previous is not None:
        kw["previous"], _ = read_previous(previous, g.nodes["id"])
        kw["previous_family"] = read_previous_families(previous, g.nodes["id"])
    codes, labels = g.nodes["pipeline_tag"].factorize(sort=True)
    t = time.perf_counter()
    xy, info = layout_atlas(
        len(g.nodes),
        g.edges["source"].to_numpy(),
        g.edges["target"].to_numpy(),
        weights=g.nodes["downloads"].to_numpy(),
        groups=codes,
        group_labels=[str(x) for x in labels],
        backend="cpu",
        progress=False,
        **kw,
    )
    return xy, info, time.perf_counter() - t


def publish(g: Any, xy: np.ndarray, out: Path) -> Path:
    from atlasgen.artifacts import write_lineage, write_positions

    out.mkdir(parents=True, exist_ok=True)
    write_positions(g.nodes, xy, out)
    write_lineage(g.nodes["id"], g.edges, out)
    return out


def chain(snapshots: Iterator[tuple[str, Path, Path]], work: Path, fresh: bool) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    previous: Path | None = None
    for i, (name, edges, nodes) in enumerate(snapshots):
        g = graph(edges, nodes)
        xy, info, seconds = layout(g, previous)
        row = {"step": name, "models": len(g.nodes), "links": len(g.edges), "world": info["world"]}
        row["seconds_previous" if previous is not None else "seconds_fresh"] = round(seconds, 1)
        if previous is not None:
            row |= {"stability": info["stability"], "drift": info["drift"]}
            if fresh:
                row["seconds_fresh"] = round(layout(g, None)[2], 1)
        rows.append(row)
        print(line(row), flush=True)
        previous = publish(g, xy, work / f"{i:02d}")
    return rows


def weeks(work: Path, n: int) -> Iterator[tuple[str, Path, Path]]:
    for i, (week, hub) in enumerate(hub_by_week(), start=1):
        if i > n:
            return
        edges, nodes = work / f"week{i:02d}.csv", work / f"week{i:02d}-nodes.csv"
        write_week(hub, edges, nodes)
        yield f"week {i} ({week})", edges, nodes


def holdback(work: Path, seed: int = 13) -> Iterator[tuple[str, Path, Path]]:
    """(old, new) hf-snapshot pair: see the module docstring."""
    edges = pd.read_csv(SNAPSHOT / HF_FILES / "edges.csv", dtype=str)
    edges = edges[edges["source"] != edges["target"]].drop_duplicates(["source", "target"])
    ids = pd.read_csv(SNAPSHOT / HF_FILES / "metadata.csv", dtype=str)["id"].drop_duplicates()
    rng = np.random.default_rng(seed)
    leaves = np.setdiff1d(edges["target"].unique(), edges["source"].unique())  # new models are mostly leaves
    added = set(rng.choice(leaves, HOLD["added"], replace=False))
    deleted = set(rng.choice(np.setdiff1d(leaves, list(added)), HOLD["deleted"], replace=False))
    both = ~edges["source"].isin(added | deleted) & ~edges["target"].isin(added | deleted)
    late = set(rng.choice(np.flatnonzero(both.to_numpy()), HOLD["links"], replace=False))
    old_e = edges[~edges["target"].isin(added) & ~edges["source"].isin(added)]
    old_e = old_e[~np.isin(np.arange(len(edges)), list(late))[edges.index.get_indexer(old_e.index)]]
    new_e = edges[~edges["target"].isin(deleted) & ~edges["source"].isin(deleted)]
    for name, e, keep in (("old", old_e, ~ids.isin(added)), ("new", new_e, ~ids.isin(deleted))):
        e_path, n_path = work / f"hf-{name}.csv", work / f"hf-{name}-nodes.csv"
        e.rename(columns={"edge": "relation"}).to_csv(e_path, index=False)
        ids[keep].to_frame("id").to_csv(n_path, index=False)
        yield f"hf-snapshot {name}", e_path, n_path


def whole_build(edges: Path, nodes: Path, out: Path, previous: Path | None) -> dict[str, Any]:
    """``atlasgen build`` in a subprocess, as a publisher runs it; its wall time and what report.json says."""
    cmd = [sys.executable, "-m", "atlasgen", "build", str(edges), "--nodes", str(nodes), "--out", str(out)]
    cmd += ["--quiet", "--backend", "cpu"] + (["--previous", str(previous)] if previous else [])
    t = time.perf_counter()
    subprocess.run(cmd, check=True)
    wall = time.perf_counter() - t
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    atlas = json.loads((out / "atlas.json").read_text(encoding="utf-8"))
    layers = {
        e["id"]: {"zooms": f"{e['min_zoom']}-{e['max_zoom']}", "tiles": e["tiles"], "bytes": e["bytes"]}
        for e in atlas["layers"]
    }
    return {
        "wall_s": round(wall, 1),
        "stages_s": report["timings_s"],
        "world": report["layout"]["world"],
        "unit": report["layout"].get("unit"),
        "layers": layers,
    }


def builds(work: Path, n: int, keep: Path | None = None) -> dict[str, Any]:
    """Chain the layouts to week n - 1, then build week n whole, fresh and on week n - 1 (into ``keep``, to
    look at, when given)."""
    steps = list(weeks(work, n))
    *before, (name, edges, nodes) = steps
    chain(iter(before), work, fresh=False)
    previous = work / f"{len(before) - 1:02d}"
    out: dict[str, Any] = {"step": name}
    sites = keep or work
    for kind, prev in (("fresh", None), ("previous", previous)):
        out[kind] = whole_build(edges, nodes, sites / f"site-{kind}", prev)
        print(f"{name} {kind}: {json.dumps(out[kind])}", flush=True)
    out["new_layer_s"] = new_layer_seconds(edges, nodes, previous, sites / "site-previous")
    out["ratio"] = round(out["previous"]["wall_s"] / out["fresh"]["wall_s"], 2)
    same = out["previous"]["wall_s"] - out["new_layer_s"]
    out["ratio_same_layers"] = round(same / out["fresh"]["wall_s"], 2)
    tiles = [out[k]["stages_s"].get("tiles", 0.0) for k in ("previous", "fresh")]
    out["ratio_tiles"] = round(tiles[0] / tiles[1], 2) if tiles[1] else None
    print(
        f"{name}: --previous / fresh = {out['ratio']:.2f} (whole build), {out['ratio_tiles']} (tiles); the "
        f"new overlay, which only --previous draws, took {out['new_layer_s']} s: without it "
        f"{out['ratio_same_layers']:.2f}"
    )
    return out


def new_layer_seconds(edges: Path, nodes: Path, previous: Path, site: Path) -> float:
    """The ``new`` overlay rendered alone as the --previous build rendered it (same points, depth, world)."""
    from atlasgen.artifacts import read_positions, read_previous
    from atlasgen.tiles.pyramid import render_layers
    from atlasgen.tiles.table import points_frame

    g = graph(edges, nodes)
    xy = read_positions(site).set_index("id").reindex(g.nodes["id"])[["x", "y"]].to_numpy()
    seeds, _ = read_previous(previous, g.nodes["id"])
    atlas = json.loads((site / "atlas.json").read_text(encoding="utf-8"))
    depth = max(e["max_zoom"] for e in atlas["layers"])
    points = points_frame(g.nodes, xy, {"new": ~np.isfinite(seeds[:, 0])})
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        render_layers(points, None, Path(tmp), max_zoom=depth, layers=("new",), world=atlas["world"]["size"],
                      progress=False)  # fmt: skip
        return round(time.perf_counter() - t, 1)


def line(row: dict[str, Any]) -> str:
    head = f"{row['step']}: {row['models']:,} models, {row['links']:,} links, world {row['world']}"
    if "stability" not in row:
        return head + f", fresh {row['seconds_fresh']}s"
    s, d = row["stability"], row["drift"]
    causes = ", ".join(
        f"{k} {v['models']:,} p95 {v['p95']:.2%} max {v['max']:.2%}"
        for k, v in s["by_cause"].items()
        if v["models"]
    )
    return (
        f"{head}; joined {s['families_joined']}, parts moved {s['parts_moved']}; all median {s['median']:.3%} "
        f"p95 {s['p95']:.3%}; {causes}; density vs fresh {d['density_vs_fresh']:.2f}, empty "
        f"{d['now']['empty']:.2f} (fresh {d['fresh']['empty']:.2f}), overlaps {d['now']['overlaps']}, scale vs "
        f"fresh {d['scale_vs_fresh']:.2f}; layout "
        f"{row['seconds_previous']}s (fresh {row.get('seconds_fresh', '-')}s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=("weeks", "holdback", "builds"))
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--no-fresh", action="store_true", help="skip the fresh layout of each step")
    parser.add_argument("--json", type=Path, help="write the rows here")
    parser.add_argument("--keep", type=Path, help="builds: build the two sites here (to look at them)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.what == "builds":
            rows: Any = builds(work, args.weeks, args.keep)
        else:
            steps = weeks(work, args.weeks) if args.what == "weeks" else holdback(work)
            rows = chain(steps, work, not args.no_fresh)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
