"""Tile layers as data: validated inputs, each layer's encoding and style, level specs, size estimates, and
a one-canvas reference render. atlasgen/tiles.py drives them; see its docstring for the why.
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
from atlasgen.tiles.palette import (
    EDGES,
    LICENCE,
    MAX_RADIUS,
    NEW,
    RELATION,
    RELATIONS,
    Encoding,
    licence_codes,
    popularity_weight,
    radii,
    size_class,
    task_encoding,
)
from atlasgen.tiles.render import TILE, LevelSpec, Style, disc, disc_reach

LAYERS: tuple[str, ...] = ("relation", "edges", "task", "licence", "new")
DEFAULT_LAYERS = LAYERS[:4]  # "new" needs to know which models are new (``build --previous``)
HOW = "log"  # alpha ~ log of the summed popularity weight, within the level's fixed span
MIN_ALPHA = 190  # a lone model with unknown downloads must stay visible on the dark background
EDGE_MIN_MEDIAN_PX = 6.0  # the edges layer starts at the zoom where the median edge is this long
# Lines are faint (alpha 40..150) and saturate at 12 overlapping lines, so bundles read as structure while
# dense fans stay see-through instead of turning into a grey mat.
EDGE_STYLE_ALPHA = (40, 150)
EDGE_SPAN = (1.0, 12.0)


@dataclass
class Layer:
    """One tile set to render: its encoding, a category code per point (or edge) and its zoom range."""

    enc: Encoding
    kind: str  # "points" | "edges"
    code: npt.NDArray[np.int8]  # per point (of ``subset`` when given) or per edge
    subset: npt.NDArray[np.int64] | None = None  # the points this layer draws; None = all
    min_zoom: int = 0
    levels: dict[int, tuple[int, int]] = field(default_factory=dict)  # zoom -> (tiles, bytes), all ratios

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


def _relation_codes(values: pd.Series, allowed: tuple[str, ...]) -> npt.NDArray[np.int8]:
    names = pd.Index(values.astype(str))
    codes = pd.Index(allowed).get_indexer(names)
    if (codes < 0).any():
        raise ValueError(f"unknown relations {sorted(set(names[codes < 0]))[:5]}; expected {allowed}")
    return codes.astype(np.int8)


def prepare_layers(
    points: pd.DataFrame, edges: pd.DataFrame | None, wanted: Sequence[str]
) -> tuple[Inputs, list[Layer]]:
    """Validate the frames and reduce them to arrays. Bad input here is a bug upstream, hence ValueError."""
    unknown = set(wanted) - set(LAYERS)
    if unknown:
        raise ValueError(f"unknown layers {sorted(unknown)}; expected some of {LAYERS}")
    need = {"x", "y", "relation", "downloads"}
    need |= {"pipeline_tag"} if "task" in wanted else set()
    need |= {"licence"} if "licence" in wanted else set()
    need |= {"new"} if "new" in wanted else set()
    missing = need - set(points.columns)
    if missing:
        raise ValueError(f"points lacks columns {sorted(missing)}")
    x, y = points["x"].to_numpy(np.float64), points["y"].to_numpy(np.float64)
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("points have non-finite x/y")
    downloads = points["downloads"].to_numpy(np.float64)
    out: dict[str, Layer] = {
        "relation": Layer(RELATION, "points", _relation_codes(points["relation"], RELATIONS))
    }
    if "task" in wanted:
        enc, codes = task_encoding(points["pipeline_tag"])
        out["task"] = Layer(enc, "points", codes)
    if "licence" in wanted:
        out["licence"] = Layer(LICENCE, "points", licence_codes(points["licence"]))
    if "new" in wanted:
        new = np.flatnonzero(points["new"].to_numpy(bool))
        out["new"] = Layer(NEW, "points", np.zeros(len(new), np.int8), subset=new)
    empty = np.empty(0)
    segments: Segments = (empty, empty, empty, empty)
    if "edges" in wanted and edges is not None:
        missing = {"x0", "y0", "x1", "y1", "relation"} - set(edges.columns)
        if missing:
            raise ValueError(f"edges lacks columns {sorted(missing)}")
        x0, y0, x1, y1 = (edges[c].to_numpy(np.float64) for c in ("x0", "y0", "x1", "y1"))
        segments = (x0, y0, x1, y1)
        if not all(np.isfinite(s).all() for s in segments):
            raise ValueError("edges have non-finite coordinates")
        out["edges"] = Layer(EDGES, "edges", _relation_codes(edges["relation"], EDGES.categories))
    data = Inputs(x, y, size_class(downloads), popularity_weight(downloads), segments)
    return data, [out[name] for name in bud.PRIORITY if name in out and name in wanted]


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


def level_spec(layer: Layer, zoom: int, ratio: int, design_zoom: int, span: tuple[float, float]) -> LevelSpec:
    r = radii(zoom, design_zoom) if layer.kind == "points" else ()
    return LevelSpec(layer.enc.key, layer.kind, zoom, ratio, span, r, layer.style)


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
            p = edge_pieces(*data.edges, layer.code, scale, (TILE * ratio) << zoom, tile_px)
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
    scale, size_px = float(ratio * 2**zoom), (TILE * ratio) << zoom
    rect = (0, 0, size_px, size_px)
    if lay.kind == "points":
        pts = layer_points(lay, data, scale)
        spec = level_spec(lay, zoom, ratio, design_zoom, level_span(pts))
        return render_points_dense(spec, PointsBlock(pts.fx, pts.fy, lay.code, pts.size, pts.weight), rect)
    p = edge_pieces(*data.edges, lay.code, scale, size_px, TILE * ratio)
    spec = level_spec(lay, zoom, ratio, design_zoom, EDGE_SPAN)
    return render_edges_dense(spec, EdgesBlock(p.x0, p.y0, p.x1, p.y1, p.code), rect)
