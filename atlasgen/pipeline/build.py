"""The orchestrator: snapshot -> graph -> layout -> tiles -> index -> site, one flat function.

The site is built in a temporary directory beside `out` and swapped in at the end, so an interrupted build
leaves the previous site intact (outdir.py). Each completed stage is recorded beside `out` until the build
succeeds, for `--resume` (stages.py). Each stage's time is logged and recorded in report.json.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from atlasgen import __version__
from atlasgen.errors import BuildError
from atlasgen.pipeline import cache as stages
from atlasgen.pipeline import outdir

log = logging.getLogger("atlasgen")

# report.json keys that describe the run rather than the atlas: the stage timings, the stages a resumed build
# reused, and (under "layout") the layout's own timings, "seconds*". Everything else in the site is the same
# byte for byte for the same snapshot, seed and options on the CPU backend (tests/test_determinism.py).
RUN_FACTS = ("timings_s", "resumed")


@contextmanager
def _stage(name: str, timings: dict[str, float]) -> Iterator[None]:
    log.info("%s ...", name)
    start = time.perf_counter()
    yield
    timings[name] = round(time.perf_counter() - start, 3)
    log.info("%s done in %.1f s", name, timings[name])


def build_atlas(
    snapshot: Path | None,
    out: Path,
    *,
    fmt: str | None = None,
    nodes: Path | None = None,
    seed: int = 0,
    backend: str = "auto",
    max_iter: int = 300,
    max_zoom: int | None = None,
    previous: Path | None = None,
    budget: str | int = "1GB",
    layers: tuple[str, ...] | None = None,
    retina: bool = False,
    workers: int | None = None,
    dask_scheduler: str | None = None,
    resume: bool = False,
    progress: bool = True,
    focus: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Build a complete static atlas site in `out`; return the build report.

    `previous` (an earlier atlas directory or its positions.parquet) seeds surviving models with their old
    positions, so the map stays recognisable between snapshots. `budget` caps the whole site's size: the
    tiles get what the index and viewer leave, and the deepest zooms / least important layers that don't
    fit are dropped and reported. Each completed stage is recorded beside `out` until the build succeeds;
    `resume` reuses the stages an interrupted build recorded for the same inputs and options (stages.py).
    `focus` (model ids and ``org:NAME``) charts only those families (focus.py); atlas.json says which.
    """
    from atlasgen.artifacts import read_previous, snapshot_manifest, write_lineage, write_positions
    from atlasgen.graph.dag import build_graph
    from atlasgen.graph.focus import focus_graph, manifest_entry, parse_specs
    from atlasgen.index.labels import write_labels
    from atlasgen.index.licence_changes import write_licence_changes
    from atlasgen.index.stage import write_index
    from atlasgen.ingest.snapshot import SAMPLE, read_snapshot
    from atlasgen.layout import layout_atlas
    from atlasgen.publish.site import viewer_dir, write_site
    from atlasgen.publish.trends_page import write_trends
    from atlasgen.tiles.pyramid import render_layers

    budget_bytes, layers = _check_options(out, budget, layers, previous)
    focus = parse_specs(focus)
    outdir.recover(out)
    outdir.remove_stale(out)
    timings: dict[str, float] = {}
    cache = stages.StageCache(out, resume=resume, timings=timings)
    ident = stages.file_identity
    snapshot_id = ident(snapshot or SAMPLE)  # [path, size, sha256]: the resume key and snapshot.json
    key = stages.fingerprint(stages.environment(), snapshot_id, fmt, ident(nodes))
    if focus:
        key = stages.fingerprint(key, "focus", list(focus))  # as given: their order is in the report
    if (cached := cache.get("graph", key)) is None:
        with _stage("snapshot", timings):
            snap = read_snapshot(snapshot, fmt=fmt, nodes=nodes)
        with _stage("graph", timings):
            graph, _ = focus_graph(build_graph(snap), focus)
            cached = cache.put("graph", key, (graph, snap.source))
    graph, source = cached
    nodes_df, edges = graph.nodes, graph.edges
    seeds, since = None, None
    if previous is not None:
        seeds, found = read_previous(previous, nodes_df["id"])
        log.info("previous atlas: %d of %d models keep their position", found, len(nodes_df))
        since = _previous_info(previous, len(nodes_df) - found)
        if since["new_models"] and "new" not in layers:
            layers = (*layers, "new")
    key = stages.fingerprint(key, seed, backend, max_iter, previous and ident(_positions_file(previous)))
    if (cached := cache.get("layout", key)) is None:
        groups, labels = _task_groups(nodes_df)
        with _stage("layout", timings):
            layout = layout_atlas(
                len(nodes_df),
                edges["source"].to_numpy(),
                edges["target"].to_numpy(),
                weights=nodes_df["downloads"].to_numpy(),
                seed=seed,
                backend=backend,
                max_iter=max_iter,
                progress=progress,
                groups=groups,
                group_labels=labels,
                previous=seeds,
            )
            cached = cache.put("layout", key, layout)
    xy, layout_info = cached
    log.info("layout backend: %s (%s)", layout_info.get("backend"), layout_info.get("reason"))
    work = outdir.work_dir(out)
    try:
        key = stages.fingerprint(key, max_zoom)
        if (data := cache.get("index", key, into=work)) is None:
            with _stage("index", timings):
                data = write_index(nodes_df, edges, xy, work)
                data["positions"] = write_positions(nodes_df, xy, work)
                data["lineage"] = write_lineage(nodes_df["id"], edges, work)
                data.update(write_labels(nodes_df, edges, xy, work, max_zoom=max_zoom))
                data["licences"] = write_licence_changes(nodes_df, edges, work)
                cache.put("index", key, data, work, list(work.iterdir()))
        reserved = _tree_bytes(work) + _tree_bytes(viewer_dir())
        key = stages.fingerprint(key, layers, retina, budget_bytes, reserved)
        if (tiles := cache.get("tiles", key, into=work)) is None:
            with _stage("tiles", timings):
                tiles = render_layers(
                    _points(nodes_df, xy, seeds),
                    _segments(edges, xy),
                    work,
                    max_zoom=max_zoom,
                    layers=layers,
                    retina=retina,
                    workers=workers,
                    dask_scheduler=dask_scheduler,
                    budget_bytes=budget_bytes,
                    reserved_bytes=reserved,
                    progress=progress,
                )
                cache.put("tiles", key, tiles, work, [work / "tiles"])
        report = _report(graph.report, source, layout_info, timings, seed)
        report["tiles"] = {"bytes": tiles["bytes"], "dropped": tiles["dropped"], "budget": budget_bytes}
        data["snapshot"] = "snapshot.json"
        digest = snapshot_id[2] if snapshot is not None and snapshot_id and len(snapshot_id) == 3 else None
        _write_json(work / "snapshot.json", snapshot_manifest(source, report, digest))
        manifest = _manifest(report, source, tiles["layers"], data, layout_info, seed, xy)
        if (focused := manifest_entry(report)) is not None:
            manifest["focus"] = focused
        if since is not None:
            manifest["previous"] = report["previous"] = since
            for layer in manifest["layers"]:
                if layer["id"] == "new" and since.get("date"):
                    layer["title"] = f"New since {since['date']}"
        with _stage("site", timings):  # the trends page is part of the site stage (report.json's stages)
            manifest["trends"] = write_trends(nodes_df, edges, work, manifest["snapshot"])
            write_site(work, manifest)
        report["timings_s"] = timings
        if cache.reused:
            report["resumed"] = cache.reused
        _write_json(work / "report.json", report)
        outdir.swap_in(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    cache.clear()
    return report


def reproducible(report: dict[str, Any]) -> dict[str, Any]:
    """The build report without the run's facts (RUN_FACTS): what the same inputs reproduce exactly."""
    kept = {k: v for k, v in report.items() if k not in RUN_FACTS}
    if isinstance(kept.get("layout"), dict):
        kept["layout"] = {k: v for k, v in kept["layout"].items() if not k.startswith("seconds")}
    return kept


def _task_groups(nodes: Any) -> tuple[Any, list[str]]:
    """Models without lineage are grouped by task on the map: a code per node (-1 = no task) and the labels."""
    codes, labels = nodes["pipeline_tag"].factorize(sort=True)
    return codes, [str(label) for label in labels]


def _positions_file(previous: Path) -> Path:
    from atlasgen.artifacts import FILENAME

    return previous / FILENAME if previous.is_dir() else previous


def _previous_info(previous: Path, new_models: int) -> dict[str, Any]:
    """What the site says about the atlas this one continues: its snapshot date/label and how many are new."""
    info: dict[str, Any] = {"new_models": new_models}
    manifest = (previous if previous.is_dir() else previous.parent) / "snapshot.json"
    try:
        snap = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return info  # a bare positions file: new models are still marked, just without a date
    if isinstance(snap, dict):
        info |= {k: snap[k] for k in ("date", "label") if isinstance(snap.get(k), str)}
    return info


def _check_options(
    out: Path, budget: str | int, layers: tuple[str, ...] | None, previous: Path | None = None
) -> tuple[int, tuple[str, ...]]:
    """Validate every build option before any work; report all problems at once."""
    from atlasgen.tiles.budget import parse_size
    from atlasgen.tiles.pyramid import DEFAULT_LAYERS, LAYERS

    problems = []
    if out.exists() and not out.is_dir():
        problems.append(f"{out}: exists and is not a directory")
    elif out.is_dir() and any(out.iterdir()) and not (out / "atlas.json").is_file():
        problems.append(f"{out}: not empty and not an atlas (no atlas.json); refusing to replace it")
    try:
        budget_bytes = parse_size(budget)
    except ValueError as exc:
        problems.append(f"--budget: {exc}")
    layers = tuple(layers) if layers else DEFAULT_LAYERS
    if "new" in layers and previous is None:
        problems.append("--layers: the new layer marks models added since --previous; give --previous")
    unknown = [name for name in layers if name not in LAYERS]
    if unknown or "relation" not in layers:
        problems.append(
            f"--layers: must include relation and be among {', '.join(LAYERS)} (got {', '.join(layers)})"
        )
    if problems:
        raise BuildError("; ".join(problems))
    out.parent.mkdir(parents=True, exist_ok=True)
    return budget_bytes, layers


def _points(nodes: Any, xy: Any, seeds: Any = None) -> Any:
    import numpy as np

    new = np.zeros(len(nodes), bool) if seeds is None else ~np.isfinite(seeds[:, 0])
    return nodes[["relation", "downloads", "pipeline_tag", "licence"]].assign(x=xy[:, 0], y=xy[:, 1], new=new)


def _segments(edges: Any, xy: Any) -> Any:
    import pandas as pd

    src, dst = edges["source"].to_numpy(), edges["target"].to_numpy()
    return pd.DataFrame(
        {
            "x0": xy[src, 0],
            "y0": xy[src, 1],
            "x1": xy[dst, 0],
            "y1": xy[dst, 1],
            "relation": edges["relation"].to_numpy(),
        }
    )


def _tree_bytes(root: Path) -> int:
    return sum(f.stat().st_size for f in root.rglob("*") if f.is_file())


def _report(
    graph_report: dict[str, Any],
    source: dict[str, Any],
    layout_info: dict[str, Any],
    timings: dict[str, float],
    seed: int,
) -> dict[str, Any]:
    report = {"generator": {"name": "atlasgen", "version": __version__}, "snapshot": source, **graph_report}
    report["layout"] = {k: v for k, v in layout_info.items() if _jsonable(v)} | {"seed": seed}
    return report


def _manifest(
    report: dict[str, Any],
    source: dict[str, Any],
    layers: list[dict[str, Any]],
    data: dict[str, Any],
    layout_info: dict[str, Any],
    seed: int,
    xy: Any,
) -> dict[str, Any]:
    counts = {k: report[k] for k in ("models", "virtual", "edges", "edges_by_relation", "without_lineage")}
    counts |= {"repairs": report["repairs"], "dropped": report["dropped"]}
    return {
        "generator": report["generator"],
        "title": "Model Atlas",
        "snapshot": {k: source[k] for k in ("label", "format", "date") if k in source},
        "counts": counts,
        "world": {"size": 256, "bounds": [float(v) for v in (*xy.min(axis=0), *xy.max(axis=0))]},
        "layers": layers,
        "data": data,
        "layout": {
            "algorithm": "forceatlas2",
            "backend": layout_info.get("backend"),
            "params": layout_info.get("params", {}),
            "regions": layout_info.get("regions", {}),
            "seed": seed,
        },
        "report": "report.json",
    }


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def _write_json(path: Path, payload: Any) -> None:
    path.write_text(
        json.dumps(payload, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def summary_lines(report: dict[str, Any]) -> list[str]:
    """The build report in a few human lines (the CLI prints these)."""
    lines = [
        f"models: {report['models']:,} in atlas ({report['virtual']:,} virtual parents added), "
        f"{report['dropped_total']:,} dropped of {report['input_rows']:,} input rows",
        "edges: {:,} ({})".format(
            report["edges"], ", ".join(f"{k} {v:,}" for k, v in report["edges_by_relation"].items())
        ),
        f"without documented lineage: {report['without_lineage']:,}",
    ]
    from atlasgen.graph.focus import summary_line

    if (focused := summary_line(report)) is not None:
        lines.append(focused)
    if report["repairs"]:
        lines.append(
            "repairs: " + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in report["repairs"].items())
        )
    tiles = report.get("tiles", {})
    if tiles:
        lines.append(
            f"tiles: {tiles['bytes'] / 1e6:,.1f} MB within a {tiles['budget'] / 1e6:,.0f} MB site budget"
        )
        lines.extend(f"tiles dropped: {reason}" for reason in tiles["dropped"])
    for reason, count in report["dropped"].items():
        lines.append(f"dropped ({reason}): {count:,} — rows listed in report.json")
    layout = report.get("layout", {})
    if layout.get("backend"):
        lines.append(f"layout: {layout['backend']} backend — {layout.get('reason', '')}")
    stability = layout.get("stability")
    if stability and stability.get("survivors"):
        lines.append(
            f"stability: {stability['survivors']:,} models kept from the previous atlas; displacement "
            f"median {stability['median']:.2%}, p95 {stability['p95']:.2%} of the map's extent"
        )
    if report.get("resumed"):
        lines.append(f"resumed: {', '.join(report['resumed'])} reused from an interrupted build")
    if "timings_s" in report:
        lines.append("time: " + ", ".join(f"{k} {v:.1f}s" for k, v in report["timings_s"].items()))
    return lines
