"""The orchestrator: ingest -> graph -> layout -> index -> tiles -> publish, one flat list of stages.

Each stage is one call into its package; this module only passes results along, times each stage, records it
for ``--resume`` (cache.py) and builds in a work directory that is swapped in at the end, so an interrupted
build leaves the previous site intact (outdir.py). Every option is checked before any work (options.py).
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atlasgen.pipeline import cache as stages
from atlasgen.pipeline import options as build_options
from atlasgen.pipeline import outdir

log = logging.getLogger("atlasgen")
STAGES = ("snapshot", "graph", "layout", "index", "tiles", "site")  # report.json's timings_s, in order


@dataclass
class Run:
    """One build's bookkeeping: the stage cache, the chained cache key and each stage's time."""

    cache: stages.StageCache
    key: str
    timings: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        log.info("%s ...", name)
        start = time.perf_counter()
        yield
        self.timings[name] = round(time.perf_counter() - start, 3)
        log.info("%s done in %.1f s", name, self.timings[name])

    def chain(self, *parts: Any) -> str:
        """The next stage's cache key: everything before it plus what it adds."""
        self.key = stages.fingerprint(self.key, *parts)
        return self.key


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
    index_sizes: Any = None,
) -> dict[str, Any]:
    """Build a complete static atlas site in `out`; return the build report.

    `previous` (an earlier atlas directory or its positions.parquet) seeds surviving models with their old
    positions, so the map stays recognisable between snapshots. `budget` caps the whole site's size: the
    tiles get what the index and viewer leave, and the deepest zooms / least important layers that don't
    fit are dropped and reported. Each completed stage is recorded beside `out` until the build succeeds;
    `resume` reuses the stages an interrupted build recorded for the same inputs and options (cache.py).
    `focus` (model ids and ``org:NAME``) charts only those families (graph/focus.py); atlas.json says which.
    `index_sizes` (an ``index.writer.Sizes``) sets the index's shard sizes; the default suits any Hub size.
    """
    from atlasgen.graph.focus import parse_specs
    from atlasgen.ingest.snapshot import SAMPLE
    from atlasgen.publish.stage import Built

    out = outdir.prepare(out)  # a link's target; refuses what may not be replaced (outdir.py)
    checked = build_options.check(out, budget, layers, previous)  # and a budget below the viewer
    focus = parse_specs(focus)
    out.parent.mkdir(parents=True, exist_ok=True)
    outdir.recover(out)
    outdir.remove_stale(out)
    snapshot_id = stages.file_identity(snapshot or SAMPLE)  # [path, size, sha256]: resume key, snapshot.json
    key = stages.fingerprint(stages.environment(), snapshot_id, fmt, stages.file_identity(nodes))
    if focus:
        key = stages.fingerprint(key, "focus", list(focus))  # as given: their order is in the report
    timings: dict[str, float] = {}
    run = Run(stages.StageCache(out, resume=resume, timings=timings), key, timings)

    graph, source = _graph_stage(run, snapshot, fmt, nodes, focus)
    _check_budget(checked.budget_bytes, len(graph.nodes))  # before the layout: a hopeless budget stops here
    seeds, families, since = _previous_stage(previous, graph.nodes)
    layers = checked.layers
    if since and since["new_models"] and "new" not in layers:
        layers = (*layers, "new")  # models added since the previous atlas get their overlay
    run.chain(seed, backend, max_iter, previous and stages.file_identity(_positions_file(previous)))
    xy, layout_info = _layout_stage(
        run, graph, seeds, families, seed=seed, backend=backend, max_iter=max_iter, progress=progress
    )
    work = outdir.work_dir(out)
    try:
        world = int(layout_info.get("world", 256))  # a map built on a previous one may have grown
        max_zoom = _depth(max_zoom, layout_info)
        data = _index_stage(run, graph, xy, work, max_zoom=max_zoom, sizes=index_sizes, world=world)
        digest = _digest(snapshot_id) if snapshot else None
        built = Built(graph.report, source, layout_info, data, xy, seed, since, digest)
        draft = _draft_stage(run, built, graph, work)
        options: dict[str, Any] = {"max_zoom": max_zoom, "layers": layers, "retina": retina, "world": world}
        options |= {"workers": workers, "dask_scheduler": dask_scheduler, "progress": progress}
        fans = layout_info.get("unit")  # the scale of the layout: long fans of lines are bundled at it
        tiles = _tiles_stage(
            run, graph, xy, seeds, since, work, fans, budget_bytes=checked.budget_bytes, **options
        )
        report = _publish_stage(run, draft, tiles, checked.budget_bytes, work)
        outdir.swap_in(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    run.cache.clear()
    return report


def _depth(max_zoom: int | None, layout_info: dict[str, Any]) -> int | None:
    """The deepest tile zoom: as asked, else from the layout's scale (tiles.pyramid.zoom_for_unit), so that a
    map grown on last week's costs what a fresh one of the same snapshot does; None (measured from the
    positions by the tiles and index stages) for a layout that does not say its scale."""
    if max_zoom is not None or not layout_info.get("unit"):
        return max_zoom
    from atlasgen.tiles.pyramid import zoom_for_unit

    return zoom_for_unit(float(layout_info["unit"]))


def _graph_stage(
    run: Run, snapshot: Path | None, fmt: str | None, nodes: Path | None, focus: tuple[str, ...]
) -> Any:
    """ingest + graph: the snapshot read, the lineage DAG built and focused; (graph, source)."""
    from atlasgen.graph.dag import build_graph
    from atlasgen.graph.focus import focus_graph
    from atlasgen.ingest.snapshot import read_snapshot

    if (cached := run.cache.get("graph", run.key)) is not None:
        return cached
    with run.stage("snapshot"):
        snap = read_snapshot(snapshot, fmt=fmt, nodes=nodes)
    with run.stage("graph"):
        graph, _ = focus_graph(build_graph(snap), focus)
        return run.cache.put("graph", run.key, (graph, snap.source))


def _previous_stage(previous: Path | None, nodes: Any) -> tuple[Any, Any, dict[str, Any] | None]:
    """Last atlas's positions of the models that survive (NaN for new ones), each model's island in it
    (from its lineage file; None without one) and what the site says of it."""
    if previous is None:
        return None, None, None
    from atlasgen.artifacts import read_previous, read_previous_families
    from atlasgen.publish.manifest import previous_info

    seeds, found = read_previous(previous, nodes["id"])
    log.info("previous atlas: %d of %d models keep their position", found, len(nodes))
    families = read_previous_families(previous, nodes["id"])
    return seeds, families, previous_info(previous, len(nodes) - found)


def _layout_stage(run: Run, graph: Any, seeds: Any, families: Any, **params: Any) -> Any:
    """layout: world positions for every model and the layout's facts; (xy, info)."""
    from atlasgen.layout import layout_atlas

    if (cached := run.cache.get("layout", run.key)) is None:
        nodes, edges = graph.nodes, graph.edges
        groups, labels = task_groups(nodes)
        with run.stage("layout"):
            layout = layout_atlas(
                len(nodes),
                edges["source"].to_numpy(),
                edges["target"].to_numpy(),
                weights=nodes["downloads"].to_numpy(),
                groups=groups,
                group_labels=labels,
                previous=seeds,
                previous_family=families,
                **params,
            )
            cached = run.cache.put("layout", run.key, layout)
    log.info("layout backend: %s (%s)", cached[1].get("backend"), cached[1].get("reason"))
    return cached


def _index_stage(
    run: Run, graph: Any, xy: Any, work: Path, *, max_zoom: int | None, sizes: Any, world: int
) -> Any:
    """index: search, names, details, pick cells, labels, licence changes, data files; atlas.json's data."""
    from atlasgen.index import stage as index

    key = run.chain(max_zoom) if sizes is None else run.chain(max_zoom, sizes)
    if (data := run.cache.get("index", key, into=work)) is None:
        with run.stage("index"):
            extra = {} if sizes is None else {"sizes": sizes}
            data = index.run(graph.nodes, graph.edges, xy, work, max_zoom=max_zoom, world=world, **extra)
            run.cache.put("index", key, data, work, list(work.iterdir()))
    return data


def _check_budget(budget_bytes: int, models: int) -> None:
    """A budget the viewer and the least index these models can have would not leave room for is refused
    before the layout (budget.below_index); the exact minimum is known in the tiles stage."""
    from atlasgen.publish.site import viewer_dir
    from atlasgen.tiles.budget import below_index, tree_bytes

    if (problem := below_index(budget_bytes, tree_bytes(viewer_dir()), models)) is not None:
        raise problem


def _draft_stage(run: Run, built: Any, graph: Any, work: Path) -> Any:
    """publish, first part: every site file but the tiles, atlas.json and report.json as drafts (so the
    tiles stage can measure what they leave of the budget)."""
    from atlasgen.pipeline.userfiles import write_record
    from atlasgen.publish import stage as publish

    with run.stage("site"):
        draft = publish.prepare(work, built, graph.nodes, graph.edges, STAGES)
        # The record of what atlasgen wrote is a site file too: written now with every top-level entry the
        # site will have (tiles/ too), it has the size the swap's own writing of it will have.
        (work / "tiles").mkdir(exist_ok=True)
        write_record(work)
    return draft


def _tiles_stage(
    run: Run, graph: Any, xy: Any, seeds: Any, since: Any, work: Path, unit: Any, **options: Any
) -> Any:
    """tiles: every layer's pyramid within what the rest of the site (all in ``work`` now) leaves of the
    budget; the edges layer with long fans of lines bundled (tiles/bundle.py) at the layout's ``unit``."""
    from atlasgen.publish.stage import entry_bytes
    from atlasgen.tiles.budget import tree_bytes
    from atlasgen.tiles.pyramid import render_layers

    reserved = tree_bytes(work)
    since_date = since.get("date") if since else None  # the new layer's title
    key = run.chain(options["layers"], options["retina"], options["budget_bytes"], reserved, since_date)
    if (tiles := run.cache.get("tiles", key, into=work)) is None:
        with run.stage("tiles"):
            tiles = render_layers(
                _points(graph.nodes, xy, seeds),
                _segments(graph.edges, xy, unit),
                work,
                reserved_bytes=reserved,
                since_date=since_date,
                entry_bytes=entry_bytes,
                **options,
            )
            run.cache.put("tiles", key, tiles, work, [work / "tiles"])
    return tiles


def _publish_stage(run: Run, draft: Any, tiles: Any, budget_bytes: int, work: Path) -> dict[str, Any]:
    """publish, second part: atlas.json with the tile layers, then report.json with the timings; the whole
    site measured against the budget."""
    from atlasgen.errors import BuildError
    from atlasgen.publish import stage as publish
    from atlasgen.tiles.budget import format_size, tree_bytes

    drafted = run.timings.get("site", 0.0)
    with run.stage("site"):  # one stage in report.json: the drafts and this
        report = publish.finish(work, draft, tiles, budget_bytes)
    run.timings["site"] = round(run.timings.pop("site") + drafted, 3)  # last, as it ends last
    publish.write_report(work, report, run.timings, run.cache.reused)
    if (total := tree_bytes(work)) > budget_bytes:  # the drafts and entry bounds make this a bug
        raise BuildError(
            f"the site came to {format_size(total)} ({total:,} bytes), over its budget of {budget_bytes:,} "
            "bytes: the room reserved for its own files fell short (a bug in atlasgen)"
        )
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


def _points(nodes: Any, xy: Any, seeds: Any = None) -> Any:
    """The tiles stage's points (tiles/table.py); models without a previous position are the new ones."""
    import numpy as np

    from atlasgen.tiles.table import points_frame

    return points_frame(nodes, xy, None if seeds is None else {"new": ~np.isfinite(seeds[:, 0])})


def _segments(edges: Any, xy: Any, unit: Any) -> Any:
    """The edges layer's lines, parent -> child, with long fans bundled (tiles/bundle.py)."""
    import pandas as pd

    from atlasgen.tiles.bundle import bundle_fans, fan_reach

    src, dst = edges["source"].to_numpy(), edges["target"].to_numpy()
    segments = pd.DataFrame(
        {
            "x0": xy[src, 0],
            "y0": xy[src, 1],
            "x1": xy[dst, 0],
            "y1": xy[dst, 1],
            "relation": edges["relation"].to_numpy(),
        }
    )
    drawn, bundled = bundle_fans(segments, src, fan_reach(unit))
    if bundled:
        log.info(
            "edges layer: %d of %d lines drawn in bundles (long fans from one parent)", bundled, len(src)
        )
    return drawn
