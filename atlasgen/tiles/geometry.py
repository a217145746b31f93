"""Main-process side of the tile renderer: points and edges -> per-level pixel geometry -> blocks.

A level's inputs are partitioned into blocks once (sort by block key, then slice), so each block job gets
only its own points or line pieces and no job ever holds a whole level's pixels.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from atlasgen.tiles.palette import POPULAR_WEIGHT
from atlasgen.tiles.render import EdgesBlock, FloatArray, IntArray, PointsBlock, Rect

SPAN_QUANTILE = 0.99  # the densest 1 % of pixels saturate, so one hot spot doesn't dim a whole level
# A line piece's end on a tile's upper border is pulled this far inside the tile (pixel coordinates stay
# below 2^18, where a double's resolution is ~6e-11, so the nudge is exact and never crosses a pixel).
_INSIDE = 1e-7
LONG_LINE_TILES = 4.0  # a line longer than this many tiles at a level is drawn as two stubs (_stubs)
STUB_TILES = 1.0  # each stub's length, in tiles


@dataclass(frozen=True)
class PixelPoints:
    """Points of one level: the global pixel each falls in, plus what a block job needs per point."""

    fx: IntArray
    fy: IntArray
    size: npt.NDArray[np.int8]
    weight: FloatArray


def pixel_points(
    x: FloatArray, y: FloatArray, size: npt.NDArray[np.int8], weight: FloatArray, scale: float
) -> PixelPoints:
    return PixelPoints(
        np.floor(x * scale).astype(np.int64), np.floor(y * scale).astype(np.int64), size, weight
    )


def level_span(pts: PixelPoints) -> tuple[float, float]:
    """Alpha span of a level: from the lightest lone model to a high quantile of its pixels' sums.

    Measured on the points' own pixels (not their discs): cheap, and a fixed rule per level is all that
    consistency needs.
    """
    if len(pts.fx) == 0:
        return (1.0, float(POPULAR_WEIGHT))
    key = pts.fy * (1 << 32) + pts.fx
    order = np.argsort(key, kind="stable")  # a radix sort: several times faster than np.unique's hashing
    sums = np.add.reduceat(pts.weight[order], _run_starts(key[order]))
    return (1.0, max(float(np.quantile(sums, SPAN_QUANTILE)), float(POPULAR_WEIGHT)))


def _partition(
    keys: npt.NDArray[np.int64], members: npt.NDArray[np.int64]
) -> Iterator[tuple[int, npt.NDArray[np.int64]]]:
    """(key, members with that key) for each distinct key, in key order; members keep their order."""
    order = np.lexsort((members, keys))
    keys, members = keys[order], members[order]
    starts = _run_starts(keys)
    ends = [*starts[1:], len(keys)]
    for a, b in zip(starts, ends, strict=True):
        yield int(keys[a]), members[a:b]


def _run_starts(sorted_keys: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Where each run of equal values starts in a sorted array."""
    if len(sorted_keys) == 0:
        return np.empty(0, np.int64)
    return np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])


def _rect(block: int, n_blocks: int, block_px: int, size_px: int) -> Rect:
    row, col = divmod(block, n_blocks)
    x0, y0 = col * block_px, row * block_px
    return (x0, y0, min(x0 + block_px, size_px), min(y0 + block_px, size_px))


def point_blocks(
    pts: PixelPoints, code: npt.NDArray[np.int8], reach: int, block_px: int, size_px: int
) -> Iterator[tuple[Rect, PointsBlock]]:
    """Blocks of block_px² pixels, each with the points whose markers (≤ reach px) may reach it."""
    n_blocks = -(-size_px // block_px)
    if len(pts.fx) == 0:
        return
    corners = []
    # A marker is far smaller than a block, so it reaches at most the blocks of its bounding box's corners.
    for dx in (-reach, reach):
        for dy in (-reach, reach):
            bx, by = (pts.fx + dx) // block_px, (pts.fy + dy) // block_px
            ok = (bx >= 0) & (bx < n_blocks) & (by >= 0) & (by < n_blocks)
            corners.append(np.where(ok, by * n_blocks + bx, -1))
    # Each point once per distinct block its corners fall in: sort the 4 corners per point, keep firsts.
    stacked = np.stack(corners)
    stacked.sort(axis=0)
    keep = stacked >= 0
    keep[1:] &= stacked[1:] != stacked[:-1]
    block_of = stacked[keep]
    member = np.broadcast_to(np.arange(len(pts.fx)), stacked.shape)[keep]
    for block, idx in _partition(block_of, member):
        yield (
            _rect(block, n_blocks, block_px, size_px),
            PointsBlock(pts.fx[idx], pts.fy[idx], code[idx], pts.size[idx], pts.weight[idx]),
        )


def touched_tiles(pts: PixelPoints, reach: int, tile_px: int) -> npt.NDArray[np.int64]:
    """How many points' markers touch each non-empty tile (an array over the non-empty tiles): the budget's
    cheap preview of a level, exact about which tiles exist."""
    if len(pts.fx) == 0:
        return np.empty(0, np.int64)
    keys = []
    for dx in (-reach, reach):
        for dy in (-reach, reach):
            tx, ty = (pts.fx + dx) // tile_px, (pts.fy + dy) // tile_px
            keys.append((ty << 32) + tx)
    # A point counts once per distinct tile its marker's corners fall in.
    stacked = np.stack(keys)
    stacked.sort(axis=0)
    first = np.ones_like(stacked, dtype=bool)
    first[1:] = stacked[1:] != stacked[:-1]
    tiles = np.sort(stacked[first], kind="stable")
    return np.diff(np.r_[_run_starts(tiles), len(tiles)])


# --- edges -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pieces:
    """Edge segments cut at tile borders, in global pixels; each piece lies inside tile (tx, ty)."""

    x0: FloatArray
    y0: FloatArray
    x1: FloatArray
    y1: FloatArray
    code: npt.NDArray[np.int8]
    tx: IntArray
    ty: IntArray


def _crossings(a: FloatArray, b: FloatArray, tile_px: int) -> tuple[IntArray, FloatArray]:
    """(segment index, parameter t) where segments a→b (one coordinate) cross a multiple of tile_px."""
    ca, cb = np.floor(a / tile_px).astype(np.int64), np.floor(b / tile_px).astype(np.int64)
    n = np.abs(cb - ca)
    seg = np.repeat(np.arange(len(a)), n)
    within = np.arange(len(seg)) - np.repeat(np.cumsum(n) - n, n)
    border = (np.minimum(ca, cb)[seg] + 1 + within) * tile_px
    return seg, (border - a[seg]) / (b[seg] - a[seg])


def _stubs(
    ax: FloatArray,
    ay: FloatArray,
    bx: FloatArray,
    by: FloatArray,
    code: npt.NDArray[np.int8],
    tile_px: int,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, npt.NDArray[np.int8]]:
    """Pixel segments with each one longer than LONG_LINE_TILES tiles replaced by two stubs of STUB_TILES, one
    from each end towards the other (in tiles, so a @2x pyramid draws what the 1x one does). Zoomed in that far, a link whose ends are screens apart is a stripe across views
    that show neither end; its stubs still show at each end that a link leaves, and which way (the lineage
    panel and overlay draw it whole). The deepest levels then cost what the short links cost: on a map grown
    for weeks, whose families grew into room far from their parents, the long links were most of them."""
    length = np.hypot(bx - ax, by - ay)
    long = length > LONG_LINE_TILES * tile_px
    if not long.any():
        return ax, ay, bx, by, code
    f = STUB_TILES * tile_px / length[long]
    dx, dy = (bx - ax)[long] * f, (by - ay)[long] * f
    keep = ~long
    a_x, a_y, b_x, b_y = ax[long], ay[long], bx[long], by[long]
    return (
        np.concatenate([ax[keep], a_x, b_x]),
        np.concatenate([ay[keep], a_y, b_y]),
        np.concatenate([bx[keep], a_x + dx, b_x - dx]),
        np.concatenate([by[keep], a_y + dy, b_y - dy]),
        np.concatenate([code[keep], code[long], code[long]]),
    )


def edge_pieces(
    x0: FloatArray,
    y0: FloatArray,
    x1: FloatArray,
    y1: FloatArray,
    code: npt.NDArray[np.int8],
    scale: float,
    size_px: int,
    tile_px: int,
) -> Pieces:
    """Segments (world coordinates) -> pieces cut wherever they cross a tile border at this level.

    Cutting at borders fixed by the level (not by the blocks) is what lets every block, and a single render
    of the whole level, rasterise a piece identically: see render._aggregate_edges. A segment longer than
    LONG_LINE_TILES tiles at this level is drawn as two stubs of STUB_TILES from its ends (``_stubs``).
    """
    x0, y0, x1, y1, code = _stubs(x0 * scale, y0 * scale, x1 * scale, y1 * scale, code, tile_px)
    top = np.nextafter(float(size_px), 0.0)
    ax, ay = np.clip(x0, 0, top), np.clip(y0, 0, top)
    bx, by = np.clip(x1, 0, top), np.clip(y1, 0, top)
    n = len(ax)
    sx, tx_ = _crossings(ax, bx, tile_px)
    sy, ty_ = _crossings(ay, by, tile_px)
    seg = np.concatenate([np.arange(n), np.arange(n), sx, sy])
    t = np.concatenate([np.zeros(n), np.ones(n), tx_, ty_])
    order = np.lexsort((t, seg))
    seg, t = seg[order], t[order]
    keep = (seg[1:] == seg[:-1]) & (t[1:] > t[:-1])
    keep |= (seg[1:] == seg[:-1]) & (t[:-1] == 0.0) & (t[1:] == 1.0)  # zero-length edge: one pixel
    s, ta, tb = seg[:-1][keep], t[:-1][keep], t[1:][keep]
    dx, dy = bx[s] - ax[s], by[s] - ay[s]
    px0, py0, px1, py1 = ax[s] + ta * dx, ay[s] + ta * dy, ax[s] + tb * dx, ay[s] + tb * dy
    ptx = np.floor((px0 + px1) / 2 / tile_px).astype(np.int64)
    pty = np.floor((py0 + py1) / 2 / tile_px).astype(np.int64)
    lo_x, lo_y = (ptx * tile_px).astype(np.float64), (pty * tile_px).astype(np.float64)
    hi_x, hi_y = lo_x + tile_px - _INSIDE, lo_y + tile_px - _INSIDE
    return Pieces(
        np.clip(px0, lo_x, hi_x),
        np.clip(py0, lo_y, hi_y),
        np.clip(px1, lo_x, hi_x),
        np.clip(py1, lo_y, hi_y),
        code[s],
        ptx,
        pty,
    )


def edge_blocks(
    pieces: Pieces, block_tiles: int, tile_px: int, size_px: int
) -> Iterator[tuple[Rect, EdgesBlock]]:
    """Blocks of block_tiles² tiles with the pieces inside them (a piece never crosses a tile border)."""
    n_blocks = -(-(size_px // tile_px) // block_tiles)
    keys = (pieces.ty // block_tiles) * n_blocks + pieces.tx // block_tiles
    for block, idx in _partition(keys, np.arange(len(keys))):
        yield (
            _rect(block, n_blocks, block_tiles * tile_px, size_px),
            EdgesBlock(pieces.x0[idx], pieces.y0[idx], pieces.x1[idx], pieces.y1[idx], pieces.code[idx]),
        )
