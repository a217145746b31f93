"""The orchestrator: snapshot -> graph -> layout -> tiles -> index -> site, one flat function.

The site is built in a temporary directory beside `out` and swapped in at the end, so an interrupted build
leaves the previous site intact (outdir.py). Each completed stage is recorded beside `out` until the build
succeeds, for `--resume` (stages.py). Each stage's time is logged and recorded in report.json.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from atlasgen.errors import BuildError
from atlasgen.pipeline import cache as stages
from atlasgen.pipeline import outdir

log = logging.getLogger("atlasgen")


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
    from atlasgen.artifacts import read_previous
    from atlasgen.graph.dag import build_graph
    from atlasgen.graph.focus import focus_graph, parse_specs
    from atlasgen.index import stage as index
    from atlasgen.ingest.snapshot import SAMPLE, read_snapshot
    from atlasgen.layout import layout_atlas
    from atlasgen.publish import stage as publish
    from atlasgen.publish.manifest import previous_info
    from atlasgen.publish.site import viewer_dir
    from atlasgen.tiles.pyramid import render_layers

    out = outdir.prepare(out)  # a link's target; refuses what may not be replaced (outdir.py)
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
        since = previous_info(previous, len(nodes_df) - found)
        if since["new_models"] and "new" not in layers:
            layers = (*layers, "new")
    key = stages.fingerprint(key, seed, backend, max_iter, previous and ident(_positions_file(previous)))
    if (cached := cache.get("layout", key)) is None:
        groups, labels = task_groups(nodes_df)
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
                data = index.run(nodes_df, edges, xy, work, max_zoom=max_zoom)
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
                    since_date=since.get("date") if since else None,
                    progress=progress,
                )
                cache.put("tiles", key, tiles, work, [work / "tiles"])
        built = publish.Built(
            graph.report,
            source,
            layout_info,
            tiles,
            data,
            xy,
            seed,
            budget_bytes,
            since,
            _digest(snapshot_id) if snapshot else None,
        )
        with _stage("site", timings):  # the trends page is part of the site stage (report.json's stages)
            report = publish.run(work, built, nodes_df, edges)
        publish.write_report(work, report, timings, cache.reused)
        outdir.swap_in(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    cache.clear()
    return report


def _digest(snapshot_id: list[Any] | None) -> str | None:
    """The snapshot's SHA-256 from its identity [path, size, sha256] (None for the embedded sample)."""
    return snapshot_id[2] if snapshot_id and len(snapshot_id) == 3 else None


def task_groups(nodes: Any) -> tuple[Any, list[str]]:
    """Models without lineage are grouped by task on the map: a code per node (-1 = no task) and the labels."""
    codes, labels = nodes["pipeline_tag"].factorize(sort=True)
    return codes, [str(label) for label in labels]


def _positions_file(previous: Path) -> Path:
    from atlasgen.artifacts import FILENAME

    return previous / FILENAME if previous.is_dir() else previous


def _check_options(
    out: Path, budget: str | int, layers: tuple[str, ...] | None, previous: Path | None = None
) -> tuple[int, tuple[str, ...]]:
    """Validate every build option before any work; report all problems at once."""
    from atlasgen.tiles.budget import parse_size
    from atlasgen.tiles.table import TABLE

    problems = []
    if out.exists() and not out.is_dir():
        problems.append(f"{out}: exists and is not a directory")
    elif out.is_dir() and any(out.iterdir()) and not (out / "atlas.json").is_file():
        problems.append(f"{out}: not empty and not an atlas (no atlas.json); refusing to replace it")
    try:
        budget_bytes = parse_size(budget)
    except ValueError as exc:
        problems.append(f"--budget: {exc}")
    layers = tuple(layers) if layers else TABLE.defaults
    if "new" in layers and previous is None:
        problems.append("--layers: the new layer marks models added since --previous; give --previous")
    unknown = [name for name in layers if name not in TABLE]
    if unknown or not set(TABLE.required) <= set(layers):
        problems.append(
            f"--layers: must include {' and '.join(TABLE.required)} and be among {', '.join(TABLE.names)} "
            f"(got {', '.join(layers)})"
        )
    if problems:
        raise BuildError("; ".join(problems))
    out.parent.mkdir(parents=True, exist_ok=True)
    return budget_bytes, layers


def _points(nodes: Any, xy: Any, seeds: Any = None) -> Any:
    """The tiles stage's points (tiles/table.py); models without a previous position are the new ones."""
    import numpy as np

    from atlasgen.tiles.table import points_frame

    return points_frame(nodes, xy, None if seeds is None else {"new": ~np.isfinite(seeds[:, 0])})


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
