"""Worker side of the tile renderer: one block of tiles of one level -> WebP bytes per non-empty tile.

Everything here is a pure function of (LevelSpec, Rect, block arrays), so a block renders the same in this
process, in a process pool or on a Dask worker, and the output never depends on how blocks were scheduled.
See atlasgen/tiles/pyramid.py for the why of stamping, packing and fixed spans.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache

import datashader as ds
import datashader.transfer_functions as tf
import numpy as np
import numpy.typing as npt
import pandas as pd
import xarray as xr
from PIL import Image

TILE = 256
FORMAT = "webp"
# Tiles are WebP, lossless by default: a tile of crisp markers decodes to exactly the rendered RGBA (the golden
# tests compare arrays) and is 40-60 % smaller than the palette PNGs this wrote before. Method 1 of 0-6: on
# 2M-model synthetic Hub tiles, methods 1 and 4 give the same size (±3 %) in a third to a half of the time;
# method 0 is 40-80 % bigger.
LOSSLESS_METHOD = 1
# A *dense* tile (lossless over DENSE_BYTES per 256² px) is a texture of many models per pixel: the overview
# zooms of a big Hub, where no mark is legible on its own. Its colours are reduced to DENSE_COLOURS (Pillow's
# octree, no dithering: deterministic) and then encoded losslessly; that keeps the first view of a 2M-model
# map under 300 KB. Measured on the 2M synthetic Hub's 8 densest z2 tiles: lossless 470 KB; 32 colours
# 162 KB with a mean error of 3.4/255 per channel (over the map background); lossy WebP (q70) 173 KB but
# 13.5/255, because its 4:2:0 chroma bleeds neighbouring colours into the near-white bases and shows as a
# seam against a lossless neighbour. Reduction is kept only where it saves at least 1 - DENSE_GAIN.
DENSE_BYTES = 8_000
DENSE_COLOURS = 32
DENSE_GAIN = 0.6

Rect = tuple[int, int, int, int]  # x0, y0, x1, y1 in global pixels, half-open
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
Packed = npt.NDArray[np.uint32]  # RGBA packed little-endian: bytes R, G, B, A
TileBytes = tuple[int, int, bytes]  # tx, ty, encoded tile (WebP)


@dataclass(frozen=True)
class Style:
    """How a layer is shaded: Datashader's ``tf.shade`` arguments that do not change with the level."""

    categories: tuple[str, ...]
    colors: tuple[str, ...]
    how: str
    min_alpha: int
    alpha: int


@dataclass(frozen=True)
class LevelSpec:
    """What every block of one level of one layer shares. ``ratio`` 2 = the 512-px (@2x) pyramid."""

    layer: str
    kind: str  # "points" | "edges"
    zoom: int
    ratio: int
    span: tuple[float, float]
    radii: tuple[int, ...]  # marker radius per download class at ratio 1 (points only)
    style: Style
    world_tiles: int = 1  # the world square's side in zoom-0 tiles

    @property
    def tile_px(self) -> int:
        return TILE * self.ratio

    @property
    def size_px(self) -> int:
        return (self.tile_px * self.world_tiles) << self.zoom

    @property
    def scale(self) -> float:
        """Pixels per world unit."""
        return float(self.ratio * 2**self.zoom)


@dataclass(frozen=True)
class PointsBlock:
    fx: IntArray  # the global pixel each point falls in
    fy: IntArray
    code: npt.NDArray[np.int8]  # category code into style.categories
    size: npt.NDArray[np.int8]  # download class
    weight: FloatArray


@dataclass(frozen=True)
class EdgesBlock:
    """Line pieces in global pixel coordinates, each inside one tile (see geometry.edge_pieces)."""

    x0: FloatArray
    y0: FloatArray
    x1: FloatArray
    y1: FloatArray
    code: npt.NDArray[np.int8]


@cache
def _dtype(categories: tuple[str, ...]) -> pd.CategoricalDtype:
    return pd.CategoricalDtype(list(categories))  # one dtype per layer: numba compiles once


def disc(radius: int, ratio: int = 1) -> tuple[IntArray, IntArray]:
    """Pixel offsets of a marker; at ratio 1 the same shape as Datashader's ``spread(shape="circle")``.

    At ratio 2 the disc covers the same area in CSS pixels: reach 2·(r + ½) on the finer grid.
    """
    reach = ratio * (radius + 0.5)
    d = np.arange(-int(reach), int(reach) + 1)
    dx, dy = np.meshgrid(d, d)
    inside = np.hypot(dx, dy) <= reach
    return dx[inside].astype(np.int64), dy[inside].astype(np.int64)


def disc_reach(radius: int, ratio: int = 1) -> int:
    return int(ratio * (radius + 0.5))


def _color_key(style: Style) -> dict[str, str]:
    return dict(zip(style.categories, style.colors, strict=True))


def _shade(agg: xr.DataArray, spec: LevelSpec) -> Packed:
    # color_baseline=0: the default baseline is the minimum of *this* call's data, i.e. per block.
    img = tf.shade(
        agg,
        color_key=_color_key(spec.style),
        how=spec.style.how,
        span=list(spec.span),
        min_alpha=spec.style.min_alpha,
        alpha=spec.style.alpha,
        color_baseline=0,
    )
    return np.asarray(img.data, dtype=np.uint32)


# --- points ------------------------------------------------------------------------------------------------


def point_stamps(spec: LevelSpec, block: PointsBlock, rect: Rect) -> pd.DataFrame:
    """Marker pixels of the block's points that fall inside rect: columns gx, gy, cat, w."""
    parts = []
    for size, radius in enumerate(spec.radii):
        sel = np.flatnonzero(block.size == size)
        dx, dy = disc(radius, spec.ratio)
        gx = (block.fx[sel, None] + dx).ravel()
        gy = (block.fy[sel, None] + dy).ravel()
        inside = (gx >= rect[0]) & (gx < rect[2]) & (gy >= rect[1]) & (gy < rect[3])
        rep = np.repeat(sel, len(dx))[inside]
        parts.append((gx[inside], gy[inside], block.code[rep], block.weight[rep]))
    gx, gy, code, w = (np.concatenate(column) for column in zip(*parts, strict=True))
    cat = pd.Categorical.from_codes(code, dtype=_dtype(spec.style.categories))
    return pd.DataFrame({"gx": gx, "gy": gy, "cat": cat, "w": w})


def _aggregate_points(frame: pd.DataFrame, x: str, y: str, width: int, height: int) -> xr.DataArray:
    """The Datashader step: categorical sum of weights per pixel on the grid [0, width) × [0, height)."""
    canvas = ds.Canvas(plot_width=width, plot_height=height, x_range=(0, width), y_range=(0, height))
    return canvas.points(frame, x, y, ds.by("cat", ds.sum("w")))


def render_points_sparse(spec: LevelSpec, block: PointsBlock, rect: Rect) -> tuple[IntArray, Packed]:
    """Covered pixels of rect (global ids gy·size_px + gx, sorted) and their packed RGBA.

    The covered pixels are numbered and laid out row by row on a near-square canvas; each stamp is put at
    its pixel's slot. A pixel's colour depends only on its own stamps, so this equals a spatial render.
    """
    stamps = point_stamps(spec, block, rect)
    if stamps.empty:
        return np.empty(0, np.int64), np.empty(0, np.uint32)
    cells, slot = np.unique(
        stamps["gy"].to_numpy() * spec.size_px + stamps["gx"].to_numpy(), return_inverse=True
    )
    width = int(np.ceil(np.sqrt(len(cells))))
    height = -(-len(cells) // width)
    stamps["sx"] = slot % width + 0.5
    stamps["sy"] = slot // width + 0.5
    rgba = _shade(_aggregate_points(stamps, "sx", "sy", width, height), spec)
    return cells, rgba.ravel()[: len(cells)]


def render_points_dense(spec: LevelSpec, block: PointsBlock, rect: Rect) -> Packed:
    """Spatial render of rect in one canvas (packed RGBA, row 0 = top): the reference for tests."""
    x0, y0, x1, y1 = rect
    stamps = point_stamps(spec, block, rect)
    stamps["gx"] = stamps["gx"] - x0 + 0.5  # pixel centres, so a stamp never sits on a pixel edge
    stamps["gy"] = stamps["gy"] - y0 + 0.5
    return _shade(_aggregate_points(stamps, "gx", "gy", x1 - x0, y1 - y0), spec)


# --- edges -------------------------------------------------------------------------------------------------


def _aggregate_edges(spec: LevelSpec, block: EdgesBlock, rect: Rect) -> xr.DataArray:
    """Datashader's line aggregation (Bresenham, count per category) of the pieces on rect's pixel grid.

    The canvas spans rect in global pixels, so Datashader's mapping is x - x0 with a scale of exactly 1, and
    every piece lies inside one tile, hence inside rect: nothing is clipped, so a piece rasterises the same
    in any rect that holds its tile. That is what makes line tiles seam-free.
    """
    x0, y0, x1, y1 = rect
    frame = pd.DataFrame(
        {
            "x0": block.x0,
            "y0": block.y0,
            "x1": block.x1,
            "y1": block.y1,
            "cat": pd.Categorical.from_codes(block.code, dtype=_dtype(spec.style.categories)),
        }
    )
    canvas = ds.Canvas(plot_width=x1 - x0, plot_height=y1 - y0, x_range=(x0, x1), y_range=(y0, y1))
    return canvas.line(frame, x=["x0", "x1"], y=["y0", "y1"], axis=1, agg=ds.by("cat", ds.count()))


def render_edges_sparse(spec: LevelSpec, block: EdgesBlock, rect: Rect) -> tuple[IntArray, Packed]:
    """Like render_points_sparse: aggregate the block spatially, shade only its covered pixels."""
    if len(block.x0) == 0:
        return np.empty(0, np.int64), np.empty(0, np.uint32)
    agg = _aggregate_edges(spec, block, rect)
    counts = np.asarray(agg.data)
    _, width, n_cats = counts.shape
    flat = counts.reshape(-1, n_cats)
    covered = np.flatnonzero(flat.any(axis=1))
    packed = xr.DataArray(
        flat[covered][None],
        dims=agg.dims,
        coords={
            agg.dims[0]: [0.5],
            agg.dims[1]: np.arange(len(covered)) + 0.5,
            agg.dims[2]: agg.coords[agg.dims[2]],
        },
    )
    rgba = _shade(packed, spec).ravel() if len(covered) else np.empty(0, np.uint32)
    gy, gx = np.divmod(covered, width)
    return (gy + rect[1]) * spec.size_px + gx + rect[0], rgba


def render_edges_dense(spec: LevelSpec, block: EdgesBlock, rect: Rect) -> Packed:
    """Spatial render of rect (packed RGBA, row 0 = top): the reference for tests. Empty pixels are 0
    (tf.shade gives zero counts a colour with alpha 0; tiles store them as plain transparent)."""
    rgba = _shade(_aggregate_edges(spec, block, rect), spec)
    return np.where(rgba >> 24 > 0, rgba, np.uint32(0))


# --- tiles -------------------------------------------------------------------------------------------------


def encode_tile(offsets: IntArray, rgba: Packed, tile_px: int) -> bytes:
    """A tile with these pixels set (the rest transparent) as lossless WebP: exactly these RGBA values, or,
    for a dense texture, these reduced to DENSE_COLOURS colours where that is much smaller."""
    tile = np.zeros(tile_px * tile_px, np.uint32)
    tile[offsets] = rgba
    image = Image.frombytes("RGBA", (tile_px, tile_px), tile.tobytes())
    exact = _webp(image)
    if len(exact) <= DENSE_BYTES * (tile_px // TILE) ** 2:
        return exact
    reduced = _webp(image.quantize(DENSE_COLOURS, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE))
    return reduced if len(reduced) < DENSE_GAIN * len(exact) else exact


def _webp(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="WEBP", lossless=True, method=LOSSLESS_METHOD, exact=True)
    return out.getvalue()


def tiles_of(spec: LevelSpec, cells: IntArray, rgba: Packed) -> list[TileBytes]:
    """Split rendered cells into tiles and encode each tile that has a visible pixel."""
    visible = (rgba >> 24) > 0
    cells, rgba = cells[visible], rgba[visible]
    if len(cells) == 0:
        return []
    tile_px, n_tiles = spec.tile_px, spec.size_px // spec.tile_px
    gy, gx = np.divmod(cells, spec.size_px)
    tile_id = (gx // tile_px) * n_tiles + gy // tile_px
    order = np.argsort(tile_id, kind="stable")
    tiles, starts = np.unique(tile_id[order], return_index=True)
    out = []
    for tile, sel in zip(tiles, np.split(order, starts[1:]), strict=True):
        tx, ty = divmod(int(tile), n_tiles)
        offsets = (gy[sel] % tile_px) * tile_px + gx[sel] % tile_px
        out.append((tx, ty, encode_tile(offsets, rgba[sel], tile_px)))
    return out


def render_block(spec: LevelSpec, rect: Rect, block: PointsBlock | EdgesBlock) -> list[TileBytes]:
    """The job a worker runs: one block of one level -> (tx, ty, WebP bytes) for its non-empty tiles."""
    if isinstance(block, PointsBlock):
        cells, rgba = render_points_sparse(spec, block, rect)
    else:
        cells, rgba = render_edges_sparse(spec, block, rect)
    return tiles_of(spec, cells, rgba)
