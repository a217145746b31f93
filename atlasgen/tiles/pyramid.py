"""Tile layers: Datashader aggregation -> fixed-span shading -> seam-free WebP tile pyramids.

World coordinates (docs/contracts.md): x right, y down, the map inside [0, 256]². At zoom z one world unit
is 2^z pixels and tile (z, tx, ty) covers pixels [256·tx, 256·tx + 256) × [256·ty, 256·ty + 256): Leaflet
CRS.Simple's own tile numbering. Everything works in these global pixel coordinates; 2^z is a power of two,
so world -> pixel is exact. The @2x (retina) pyramid is the same with 2^(z+1) pixels per world unit and
512-px tiles covering the same world squares.

Layers are the entries of table.py's one table: markers (``relation``, the paper's encoding; ``task``,
``licence``: the same markers, other colours; ``new``: some models only) or ``edges`` (parent -> child
lines). How a level is drawn, and why:

* **Markers are stamped, not spread.** Each model becomes a disc of pixel-centre "stamps" (radius by its
  download class and the zoom, see ``palette.radii``) *before* aggregation. So one pixel's value depends
  only on the stamps inside it: no render can see a different neighbourhood than another, and tile or
  block borders cannot make seams. (``tf.spread`` on a categorical float aggregate costs pixels × disc
  area × categories and on shaded images needs one shade per size class; stamping costs nothing.)
* **Lines are cut at tile borders** before Datashader's line aggregation (Bresenham): a piece inside one
  tile is never clipped by a block's canvas, so it rasterises the same in every render (geometry.py).
* **One span per level.** ``tf.shade``'s default (eq_hist, or a min/max span) is computed per call, so
  tiles shaded one by one disagree. The span here is fixed per level (from the level's pixel sums for
  points, a constant for lines) and ``color_baseline=0`` keeps the colour mix independent of a call.
* **Only covered pixels are shaded.** tf.shade costs ~0.1 µs per pixel and deep levels are >99 % empty.
  Per block of tiles (which bounds memory) the covered pixels are packed into a compact canvas, aggregated
  with ``ds.by(category, ds.sum("w"))``, shaded once and scattered back to their tiles. Since shading is
  per pixel with a fixed span, packing changes nothing; tests compare against plain spatial renders.
* **Blocks are independent jobs** (render.render_block): a process pool over all cores by default, or
  a Dask cluster; output does not depend on the worker count. Tiles come back as lossless WebP bytes
  (dense overview textures with their colours reduced first: render.encode_tile) and are written
  here; fully transparent tiles are never written.
* **A size budget** (budget.py) picks the deepest zoom and the layers that fit. It is a policy apart:
  ``render_layers`` asks it, layer by layer, which level to render next, renders that level and tells it
  the level's size, and deletes what it says no longer fits.

Datashader's image has row 0 at the *smallest* y (it flips only in ``to_pil``), which is our y-down world,
so no flip is needed; tests pin this.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from atlasgen.errors import BuildError
from atlasgen.progress import bar
from atlasgen.tiles import budget as bud
from atlasgen.tiles.executors import Job, Runner, make_runner
from atlasgen.tiles.geometry import edge_blocks, edge_pieces, level_span, point_blocks
from atlasgen.tiles.layers import (
    EDGE_MIN_MEDIAN_PX,
    EDGE_SPAN,
    EDGE_STYLE_ALPHA,
    MIN_ALPHA,
    Inputs,
    Layer,
    estimate_level,
    layer_points,
    level_spec,
    prepare_layers,
    render_level_dense,
    skip_reason,
)
from atlasgen.tiles.palette import BACKGROUND, MAX_RADIUS, RELATION
from atlasgen.tiles.render import FORMAT, TILE, disc_reach
from atlasgen.tiles.table import DEFAULT_LAYERS, TABLE, LayerTable

__all__ = [
    "EDGE_MIN_MEDIAN_PX",
    "EDGE_STYLE_ALPHA",
    "MIN_ALPHA",
    "choose_max_zoom",
    "render_layers",
    "render_level_dense",
    "render_relation_tiles",
    "zoom_for_unit",
]

BLOCK_PX = 1024  # a points block: 4×4 tiles at 1x (bounds memory; z3 already splits into 4 parallel jobs)
EDGE_BLOCK_PX = 1024  # lines are aggregated spatially: a 1024² canvas × 5 categories of uint32 is 21 MB
TARGET_SEPARATION_PX = 16.0  # median neighbour gap at max zoom: markers (≤ 5 px radius) stay apart
# Pixels per packing unit at the deepest zoom of a layout whose scale is known (zoom_for_unit). Its discs
# are golden-angle discs at 0.5 units (layout.regions.GROUP_SPACING) with a median neighbour gap of 1.69
# spacings, so markers sit ~13.5 px apart: choose_max_zoom's 16 px, rounded to a power of two.
UNIT_PX = 16.0


def choose_max_zoom(x: npt.ArrayLike, y: npt.ArrayLike, *, min_zoom: int = 2, max_zoom: int = 8) -> int:
    """Shallowest zoom at which the median nearest-neighbour distance is ≥ 16 px, clamped to the bounds.

    Deeper levels would mostly add empty space (and 4× the tiles per level). Coincident points are
    counted once: they never separate.
    """
    from scipy.spatial import cKDTree

    xy = np.column_stack([np.asarray(x, np.float64), np.asarray(y, np.float64)])
    xy = np.unique(xy[np.isfinite(xy).all(axis=1)], axis=0)
    if len(xy) < 2:
        return min_zoom
    dist, _ = cKDTree(xy).query(xy, k=2)
    median = float(np.median(dist[:, 1]))  # world units; 1 world unit = 2^z px at zoom z
    return int(np.clip(np.ceil(np.log2(TARGET_SEPARATION_PX / median)), min_zoom, max_zoom))


def zoom_for_unit(unit: float, *, min_zoom: int = 2, max_zoom: int = 12) -> int:
    """The deepest zoom for a layout whose scale is known (``unit`` world units per packing unit, the
    layout's ``info["unit"]``): the zoom at which a packing unit is nearest UNIT_PX pixels; exactly UNIT_PX
    for a power-of-two unit (every fresh map's, layout.world.fresh_unit, and every map grown from one).

    ``choose_max_zoom`` measures a median that differs a little between two layouts of one snapshot and
    rounds up, so equal maps could get depths a level apart. This depends on the scale alone: a map grown
    on last week's and a fresh map of the same snapshot get the same detail per model, and tiles that cost
    what the models need whatever the world's size.
    """
    if not (unit > 0 and math.isfinite(unit)):
        raise ValueError(f"unit must be a positive number of world units, got {unit!r}")
    return int(np.clip(round(math.log2(UNIT_PX / unit)), min_zoom, max_zoom))


# --- one level -----------------------------------------------------------------------------------------


def _jobs(layer: Layer, data: Inputs, zoom: int, ratio: int, design_zoom: int) -> Iterator[Job]:
    """The level's blocks, partitioned once (sorted by block key, then sliced)."""
    scale = float(ratio * 2**zoom)
    size_px = (TILE * ratio * data.world_tiles) << zoom
    if layer.kind == "points":
        pts = layer_points(layer, data, scale)
        spec = level_spec(layer, zoom, ratio, design_zoom, level_span(pts), data.world_tiles)
        reach = disc_reach(MAX_RADIUS, ratio)
        for rect, block in point_blocks(pts, layer.code, reach, BLOCK_PX * ratio, size_px):
            yield spec, rect, block
    else:
        spec = level_spec(layer, zoom, ratio, design_zoom, EDGE_SPAN, data.world_tiles)
        pieces = edge_pieces(*data.edges, layer.code, scale, size_px, TILE * ratio)
        for rect, eblock in edge_blocks(pieces, EDGE_BLOCK_PX // TILE, TILE * ratio, size_px):
            yield spec, rect, eblock


def _layer_dir(out_dir: Path, layer: str, ratio: int) -> Path:
    return Path(out_dir) / "tiles" / (layer if ratio == 1 else f"{layer}@{ratio}x")


@dataclass(frozen=True)
class _Levels:
    """Renders, writes, deletes and estimates whole levels of the prepared layers, at every pixel ratio."""

    runner: Runner
    data: Inputs
    ratios: tuple[int, ...]
    design_zoom: int
    out_dir: Path
    progress: bool

    def render(self, layer: Layer, zoom: int) -> tuple[int, int]:
        """Render one level and write its tiles; returns (tiles, bytes)."""
        n_tiles = n_bytes = 0
        made: set[Path] = set()
        for ratio in self.ratios:
            root = _layer_dir(self.out_dir, layer.name, ratio) / str(zoom)
            shown = bar(
                desc=f"{layer.name}{'' if ratio == 1 else '@2x'} z{zoom}",
                unit="block",
                enabled=self.progress,
            )
            for _spec_done, tiles in self.runner.run(_jobs(layer, self.data, zoom, ratio, self.design_zoom)):
                shown.update()
                for tx, ty, blob in tiles:
                    folder = root / str(tx)
                    if folder not in made:
                        folder.mkdir(parents=True, exist_ok=True)
                        made.add(folder)
                    (folder / f"{ty}.{FORMAT}").write_bytes(blob)
                    n_tiles += 1
                    n_bytes += len(blob)
            shown.close()
        return n_tiles, n_bytes

    def delete(self, layer: Layer, zoom: int) -> None:
        for ratio in self.ratios:
            shutil.rmtree(_layer_dir(self.out_dir, layer.name, ratio) / str(zoom), ignore_errors=True)

    def estimate(self, layer: Layer, zoom: int) -> float:
        return estimate_level(layer, self.data, zoom, self.ratios, self.design_zoom)


def _clear(dirs: Sequence[Path]) -> None:
    try:
        for d in dirs:
            if d.exists():
                shutil.rmtree(d)  # stale tiles of an earlier render would otherwise survive
            d.mkdir(parents=True)
    except OSError as exc:
        raise BuildError(f"cannot write tiles to {dirs[0].parent}: {exc}") from exc


# --- the pyramid: the budget says which levels, the levels get rendered ------------------------------------


def _render_layer(levels: _Levels, ledger: bud.Ledger, layer: Layer, *, first: bool, overhead: int) -> None:
    """Render the levels of one layer the budget allows; ``layer.levels`` is what was kept."""
    if layer.min_zoom > ledger.depth:
        ledger.dropped.append(skip_reason(layer, ledger.depth))
        return
    account = ledger.account(
        layer.name,
        layer.min_zoom,
        first=first,
        estimate=lambda zoom: levels.estimate(layer, zoom),
        overhead=overhead,
    )
    for zoom in account:
        account.record(*levels.render(layer, zoom))
    for zoom in account.discarded:
        levels.delete(layer, zoom)
    layer.levels = account.levels


def render_layers(
    points: pd.DataFrame,
    edges: pd.DataFrame | None,
    out_dir: Path,
    *,
    max_zoom: int | None = None,
    layers: Sequence[str] = DEFAULT_LAYERS,
    retina: bool = False,
    workers: int | None = None,
    dask_scheduler: str | None = None,
    budget_bytes: int | None = None,
    reserved_bytes: int = 0,
    since_date: str | None = None,
    progress: bool = True,
    table: LayerTable = TABLE,
    entry_bytes: Callable[[dict[str, Any]], int] | None = None,
    world: int = 256,
) -> dict[str, Any]:
    """Render tile pyramids ``out_dir/tiles/<layer>/{z}/{x}/{y}.webp`` (and ``<layer>@2x`` with ``retina``).

    ``points``: x, y (world coordinates), downloads and the columns of the layers asked for (table.py;
    ``table.points_frame`` builds it; NaN/None allowed for the attributes). ``edges``: x0, y0, x1, y1,
    relation (parent -> child segments) or None. Zooms 0..max_zoom (default ``choose_max_zoom``), the edges
    layer from ``edge_min_zoom``. ``workers``: processes (default all cores, 1 = in this process);
    ``dask_scheduler``: render on that Dask cluster instead. ``budget_bytes`` (None = no limit) minus
    ``reserved_bytes`` is what the tiles may take, and ``entry_bytes(entry)`` (the site's bound on what a
    layer's entry adds to its manifests; default nothing) what keeping a layer costs besides; see budget.py
    for how depth and layers are chosen. A budget without room for the first layer's zoom 0 raises the
    OptionError naming the smallest that works. ``since_date``: the previous atlas' date, for the titles of
    dated layers ("New since <date>"). Returns ``{"layers": [atlas.json layer entries in the order asked],
    "dropped": [reasons], "bytes": total}``; a previous render of these layers in out_dir is replaced. ``world``: the world square's
    side (a map grown over weeks is larger than 256: more tiles per zoom).
    """
    data, todo = prepare_layers(points, edges, layers, table=table, world=world)
    design_zoom = choose_max_zoom(data.x, data.y) if max_zoom is None else max_zoom
    ratios = (1, 2) if retina else (1,)
    ledger = bud.Ledger(math.inf if budget_bytes is None else budget_bytes - reserved_bytes, design_zoom)
    if edges is None:
        ledger.dropped += [
            f"{name} layer skipped: no edges given" for name in layers if table[name].kind == "edges"
        ]
    _clear([_layer_dir(out_dir, name, r) for name in layers for r in ratios])
    with make_runner(workers, dask_scheduler) as runner:
        levels = _Levels(runner, data, ratios, design_zoom, Path(out_dir), progress)
        for rank, layer in enumerate(todo):
            overhead = _overhead(layer, design_zoom, retina, since_date, entry_bytes)
            _render_layer(levels, ledger, layer, first=rank == 0, overhead=overhead)
            if ledger.exhausted:
                assert budget_bytes is not None  # only a budget runs out
                raise bud.too_small(budget_bytes, reserved_bytes, layer.name, ledger.needed)
    order = {name: i for i, name in enumerate(layers)}
    kept = sorted((layer for layer in todo if layer.levels), key=lambda layer: order[layer.name])
    entries = [_entry(layer, retina, since_date) for layer in kept]
    return {"layers": entries, "dropped": ledger.dropped, "bytes": sum(e["bytes"] for e in entries)}


# A level's tile count and bytes as no real level has them: wider than any, for bounding an entry's size.
_WIDEST_LEVEL = (10**12 - 1, 10**15 - 1)


def _overhead(
    layer: Layer,
    depth: int,
    retina: bool,
    since_date: str | None,
    entry_bytes: Callable[[dict[str, Any]], int] | None,
) -> int:
    """What keeping ``layer`` costs besides its tiles: ``entry_bytes`` of its entry as it would be with every
    level down to ``depth``, at the widest sizes (so that the bound holds whatever is kept)."""
    if entry_bytes is None:
        return 0
    zooms = range(layer.min_zoom, max(depth, layer.min_zoom) + 1)
    widest = replace(layer, levels=dict.fromkeys(zooms, _WIDEST_LEVEL))
    return entry_bytes(_entry(widest, retina, since_date))


def _entry(layer: Layer, retina: bool, since_date: str | None = None) -> dict[str, Any]:
    name = layer.name
    entry: dict[str, Any] = {
        "id": name,
        "title": layer.spec.title_since(since_date),
        "url": f"tiles/{name}/{{z}}/{{x}}/{{y}}.{FORMAT}",
        "min_zoom": min(layer.levels),
        "max_zoom": max(layer.levels),
        "tile_size": TILE,
        "tiles": sum(t for t, _ in layer.levels.values()),
        "bytes": sum(b for _, b in layer.levels.values()),
        "legend": layer.enc.legend(),
        "background": BACKGROUND,
        "levels": {str(z): {"tiles": t, "bytes": b} for z, (t, b) in sorted(layer.levels.items())},
    }
    if layer.spec.overlay:
        entry["overlay"] = True  # lines or some models only, on a transparent background: over a base layer
    if retina:
        # Same tile grid, 512-px images: Leaflet draws an image into tileSize (256) CSS px, so on a 2x screen
        # this is a sharp 1:1 image. tiles/bytes above count both sets (the budget pays for both).
        entry["retina"] = {
            "url": f"tiles/{name}@2x/{{z}}/{{x}}/{{y}}.{FORMAT}",
            "tile_px": 2 * TILE,
            "pixel_ratio": 2,
        }
    return entry


def render_relation_tiles(
    points: pd.DataFrame,
    out_dir: Path,
    *,
    max_zoom: int | None = None,
    progress: bool = True,
    workers: int | None = None,
) -> dict[str, Any]:
    """The relation layer alone (the pipeline's original entry point): ``render_layers(..., layers=("relation",))``
    and its one layer entry."""
    result = render_layers(
        points, None, out_dir, max_zoom=max_zoom, layers=("relation",), workers=workers, progress=progress
    )
    if result["layers"]:
        return dict(result["layers"][0])
    empty = Layer(TABLE["relation"], RELATION, np.empty(0, np.int8), levels={0: (0, 0)})
    return {**_entry(empty, False), "max_zoom": max_zoom or 0}
