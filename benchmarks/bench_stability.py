#!/usr/bin/env python3
"""Do maps stay put through real Hub change? Chained layouts over real weeks, and a hold-back of hf-snapshot.

    nice .venv/bin/python benchmarks/bench_stability.py weeks [--weeks 12] [--json OUT]
    nice .venv/bin/python benchmarks/bench_stability.py holdback [--json OUT]

``weeks``: ../shared/data/msc-weekly (benchmarks/msc_weeks.py): week 1 laid out fresh, then each week on the
one before, exactly as ``atlasgen build --previous`` does it (the graph stage, then the layout with the
previous atlas's positions.parquet and lineage.parquet, written and read back with atlasgen.artifacts).
Each week is also laid out fresh, for the time and drift comparison. Tiles, index and site do not depend on
--previous, so the layout stage is what differs; ``bench_build.py`` times whole builds.

``holdback``: ../shared/data/hf-snapshot with what a real newer crawl of it changed held back (issue 13):
the old snapshot lacks 1,200 of its models (new since) and 1,200 of its links between models both
snapshots have (links that join families), and has 270 models the new one lacks (deleted since).

Per step: models, links, families joined, parts moved, survivors' displacement by cause (share of the
map's extent: median, p95, p99, max), drift against the fresh packing, world size, layout seconds.
"""

from __future__ import annotations

import argparse
import json
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
    parser.add_argument("what", choices=("weeks", "holdback"))
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--no-fresh", action="store_true", help="skip the fresh layout of each step")
    parser.add_argument("--json", type=Path, help="write the rows here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        steps = weeks(work, args.weeks) if args.what == "weeks" else holdback(work)
        rows = chain(steps, work, not args.no_fresh)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
