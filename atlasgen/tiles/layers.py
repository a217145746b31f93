"""Tile layers as data: the table's entries prepared for rendering (validated input arrays, each layer's
encoding, codes and style), level specs, size estimates, and a one-canvas reference render. pyramid.py drives
them; see its docstring for the why, and table.py for what a layer is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from atlasgen.tiles import budget as bud
from atlasgen.tiles.geometry import PixelPoints, edge_pieces, level_span, pixel_points, touched_tiles
from atlasgen.tiles.palette import MAX_RADIUS, Encoding, popularity_weight, radii, size_class
from atlasgen.tiles.render import TILE, LevelSpec, Style, disc, disc_reach
from atlasgen.tiles.table import TABLE, LayerDef, LayerTable

HOW = "log"  # alpha ~ log of the summed popularity weight, within the level's fixed span
MIN_ALPHA = 190  # a lone model with unknown downloads must stay visible on the dark background
EDGE_MIN_MEDIAN_PX = 6.0  # the edges layer starts at the zoom where the median edge is this long
# Lines are faint (alpha 40..150) and saturate at 12 overlapping lines, so bundles read as structure while
# dense fans stay see-through instead of turning into a grey mat.
EDGE_STYLE_ALPHA = (40, 150)
EDGE_SPAN = (1.0, 12.0)
EDGE_COLUMNS = ("x0", "y0", "x1", "y1")


@dataclass
class Layer:
    """One tile set to render: its table entry, encoding, a category code per point (or edge), zoom range."""

    spec: LayerDef
    enc: Encoding
    code: npt.NDArray[np.int8]  # per point (of ``subset`` when given) or per edge
    subset: npt.NDArray[np.int64] | None = None  # the points this layer draws; None = all
    min_zoom: int = 0
    levels: dict[int, tuple[int, int]] = field(default_factory=dict)  # zoom -> (tiles, bytes), all ratios

    @property
    def name(self) -> str:
        return self.spec.id

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def style(self) -> Style:
        colors = tuple(self.enc.colors[c] for c in self.enc.categories)
        if self.kind == "edges":
            return Style(self.enc.categories, colors, HOW, *EDGE_STYLE_ALPHA)
        return Style(self.enc.categories, colors, HOW, MIN_ALPHA, 255)


Segments = tuple[
    npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]
]


@dataclass(frozen=True)
class Inputs:
    x: npt.NDArray[np.float64]
    y: npt.NDArray[np.float64]
    size: npt.NDArray[np.int8]
    weight: npt.NDArray[np.float64]
    edges: Segments  # x0, y0, x1, y1 in world coordinates
    world_tiles: int = 1  # the world square's side in zoom-0 tiles (world size / 256; layout/world.py)


def _require(frame: pd.DataFrame, columns: set[str], what: str) -> None:
    missing = columns - set(frame.columns)
    if missing:
        raise ValueError(f"{what} lacks columns {sorted(missing)}")


def _segments(edges: pd.DataFrame) -> Segments:
    x0, y0, x1, y1 = (edges[c].to_numpy(np.float64) for c in EDGE_COLUMNS)
    if not all(np.isfinite(s).all() for s in (x0, y0, x1, y1)):
        raise ValueError("edges have non-finite coordinates")
    return x0, y0, x1, y1


def _layer(spec: LayerDef, frame: pd.DataFrame, segments: Segments) -> Layer:
    """One entry's layer: encode its column (dispatching on the entry's encoding) and set its first zoom."""
    enc, codes = spec.encoding.encode(frame[spec.column])
    subset = np.flatnonzero(codes >= 0) if spec.encoding.partial else None
    if subset is None and (codes < 0).any():
        bad = sorted(set(frame[spec.column].astype(str)[codes < 0]))[:5]
        raise ValueError(f"unknown {spec.column} values {bad}; expected {enc.categories}")
    min_zoom = spec.min_zoom
    if spec.kind == "edges":
        min_zoom = max(min_zoom, edge_min_zoom(segments))
    return Layer(spec, enc, codes if subset is None else codes[subset], subset, min_zoom)


def prepare_layers(
    points: pd.DataFrame,
    edges: pd.DataFrame | None,
    wanted: Sequence[str],
    *,
    table: LayerTable = TABLE,
    world: int = 256,
) -> tuple[Inputs, list[Layer]]:
    """Validate the frames and reduce them to arrays: the layers in budget priority order. An edges layer
    without ``edges`` is left out. Bad input here is a bug upstream, hence ValueError. ``world``: the
    world square's side (256, or a larger power-of-two multiple: a map grown over weeks)."""
    if world < TILE or world % TILE or (world // TILE) & (world // TILE - 1):
        raise ValueError(f"world size must be 256 times a power of two, got {world}")
    unknown = set(wanted) - set(table.names)
    if unknown:
        raise ValueError(f"unknown layers {sorted(unknown)}; expected some of {table.names}")
    chosen = [table[name] for name in table.priority if name in wanted]
    _require(points, {"x", "y", "downloads"} | {s.column for s in chosen if s.kind == "points"}, "points")
    x, y = points["x"].to_numpy(np.float64), points["y"].to_numpy(np.float64)
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("points have non-finite x/y")
    empty = np.empty(0)
    segments: Segments = (empty, empty, empty, empty)
    line_specs = [s for s in chosen if s.kind == "edges"]
    if line_specs and edges is not None:
        _require(edges, {*EDGE_COLUMNS, *(s.column for s in line_specs)}, "edges")
        segments = _segments(edges)
    frames = {"points": points} if edges is None else {"points": points, "edges": edges}
    todo = [_layer(s, frames[s.kind], segments) for s in chosen if s.kind in frames]
    downloads = points["downloads"].to_numpy(np.float64)
    return Inputs(x, y, size_class(downloads), popularity_weight(downloads), segments, world // TILE), todo


def skip_reason(layer: Layer, depth: int) -> str:
    """Why a layer starting deeper than the pyramid's ``depth`` is skipped."""
    if layer.kind == "edges" and layer.min_zoom > layer.spec.min_zoom:
        return f"{layer.name} layer skipped: its median edge is under {EDGE_MIN_MEDIAN_PX:g} px up to zoom {depth}"
    return f"{layer.name} layer skipped: it starts at zoom {layer.min_zoom}, deeper than zoom {depth}"


def layer_points(layer: Layer, data: Inputs, scale: float) -> PixelPoints:
    """The pixel positions of the points a points layer draws at this scale."""
    if layer.subset is None:
        return pixel_points(data.x, data.y, data.size, data.weight, scale)
    s = layer.subset
    return pixel_points(data.x[s], data.y[s], data.size[s], data.weight[s], scale)


def edge_min_zoom(segments: Segments) -> int:
    """First zoom at which the median edge is ≥ EDGE_MIN_MEDIAN_PX long (lines shorter read as noise)."""
    x0, y0, x1, y1 = segments
    length = np.hypot(x1 - x0, y1 - y0)
    median = float(np.median(length[length > 0])) if (length > 0).any() else 0.0
    return max(0, math.ceil(math.log2(EDGE_MIN_MEDIAN_PX / median))) if median > 0 else 99


def level_spec(
    layer: Layer, zoom: int, ratio: int, design_zoom: int, span: tuple[float, float], world_tiles: int = 1
) -> LevelSpec:
    r = radii(zoom, design_zoom) if layer.kind == "points" else ()
    return LevelSpec(layer.name, layer.kind, zoom, ratio, span, r, layer.style, world_tiles)


def estimate_level(layer: Layer, data: Inputs, zoom: int, ratios: Sequence[int], design_zoom: int) -> float:
    """Uncalibrated bytes of one level (budget.py): exact non-empty tile count, modelled bytes per tile."""
    total = 0.0
    for ratio in ratios:
        scale, tile_px = float(ratio * 2**zoom), TILE * ratio
        if layer.kind == "points":
            pts = layer_points(layer, data, scale)
            per_tile = touched_tiles(pts, disc_reach(MAX_RADIUS, ratio), tile_px)
            area = np.mean([len(disc(r, ratio)[0]) for r in radii(zoom, design_zoom)])
            total += bud.estimate_tiles_bytes(
                len(per_tile), bud.covered_pixels(per_tile, float(area), tile_px)
            )
        else:
            p = edge_pieces(
                *data.edges, layer.code, scale, (TILE * ratio * data.world_tiles) << zoom, tile_px
            )
            tiles = len(np.unique((p.ty << 32) + p.tx))
            total += bud.estimate_tiles_bytes(
                tiles, float(np.maximum(abs(p.x1 - p.x0), abs(p.y1 - p.y0)).sum() + len(p.x0))
            )
    return total


def render_level_dense(
    points: pd.DataFrame,
    edges: pd.DataFrame | None,
    layer: str,
    zoom: int,
    *,
    design_zoom: int,
    ratio: int = 1,
) -> npt.NDArray[np.uint32]:
    """One whole level of one layer as a single spatial render (packed RGBA, row 0 = top), without blocks,
    packing or tiles: the reference the tests hold tiles against, and a quick figure."""
    from atlasgen.tiles.render import EdgesBlock, PointsBlock, render_edges_dense, render_points_dense

    data, todo = prepare_layers(points, edges, (layer,))
    (lay,) = todo
    scale, size_px = float(ratio * 2**zoom), (TILE * ratio * data.world_tiles) << zoom
    rect = (0, 0, size_px, size_px)
    if lay.kind == "points":
        pts = layer_points(lay, data, scale)
        spec = level_spec(lay, zoom, ratio, design_zoom, level_span(pts))
        return render_points_dense(spec, PointsBlock(pts.fx, pts.fy, lay.code, pts.size, pts.weight), rect)
    p = edge_pieces(*data.edges, lay.code, scale, size_px, TILE * ratio)
    spec = level_spec(lay, zoom, ratio, design_zoom, EDGE_SPAN)
    return render_edges_dense(spec, EdgesBlock(p.x0, p.y0, p.x1, p.y1, p.code), rect)
