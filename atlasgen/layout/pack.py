"""Circle geometry for the atlas: front-chain packing, overlap removal, placement into free space.

All three run in numba because the Hub has ~300k islands: the pure-Python packing took ~2 s for 2.7k.

* ``pack_circles``: front-chain packing (Wang et al. 2006, the algorithm behind d3.packSiblings),
  written here because neither scipy nor numpy packs circles and the map must not depend on a JS
  toolchain. Circles are placed in the given order, each tangent to two neighbours on the "front chain"
  (the current outer boundary) closest to the centre, so the first (largest) sit in the middle. The
  closeness is measured in an elliptical metric, so the packing can grow into an ellipse of a chosen
  aspect (the atlas sets two regions side by side in a square).
* ``place_free``: puts new circles into the free space nearest one point (snapshot stability: new
  families), ``place_near`` each into the free space nearest its own point (joined parts, annexes).
* ``covered_share``: how much of their bounding box a set of circles covers (drift measures).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from scipy.ndimage import distance_transform_edt


@njit(cache=True)
def _place(b: int, a: int, c: int, x: np.ndarray, y: np.ndarray, r: np.ndarray) -> None:
    """Put circle c tangent to circles b and a, on the outer side of the chain edge."""
    dx, dy = x[b] - x[a], y[b] - y[a]
    d2 = dx * dx + dy * dy
    if d2 == 0:
        x[c], y[c] = x[a] + r[c], y[a]
        return
    a2, b2 = (r[a] + r[c]) ** 2, (r[b] + r[c]) ** 2
    if a2 > b2:
        t = (d2 + b2 - a2) / (2 * d2)
        h = math.sqrt(max(0.0, b2 / d2 - t * t))
        x[c], y[c] = x[b] - t * dx - h * dy, y[b] - t * dy + h * dx
    else:
        t = (d2 + a2 - b2) / (2 * d2)
        h = math.sqrt(max(0.0, a2 / d2 - t * t))
        x[c], y[c] = x[a] + t * dx - h * dy, y[a] + t * dy + h * dx


@njit(cache=True)
def _overlaps(i: int, j: int, x: np.ndarray, y: np.ndarray, r: np.ndarray) -> bool:
    dr = r[i] + r[j] - 1e-9 * (r[i] + r[j])
    return dr > 0 and dr * dr > (x[i] - x[j]) ** 2 + (y[i] - y[j]) ** 2


@njit(cache=True)
def _score(i: int, j: int, x: np.ndarray, y: np.ndarray, r: np.ndarray, ax: float, ay: float) -> float:
    """Elliptical distance to the origin of the weighted midpoint of chain edge (i, j)."""
    ab = r[i] + r[j]
    mx, my = (x[i] * r[j] + x[j] * r[i]) / ab / ax, (y[i] * r[j] + y[j] * r[i]) / ab / ay
    return mx * mx + my * my


@njit(cache=True)
def _first_overlap(
    a: int, b: int, c: int, nxt: np.ndarray, prv: np.ndarray, x: np.ndarray, y: np.ndarray, r: np.ndarray
) -> tuple[int, int]:
    """Walk the chain from both ends of (a, b), nearest arc first: (side 1=b/2=a, circle) or (0, -1)."""
    j, k, sj, sk = nxt[b], prv[a], r[b], r[a]
    while True:
        if sj <= sk:
            if _overlaps(j, c, x, y, r):
                return 1, j
            sj += r[j]
            j = nxt[j]
        else:
            if _overlaps(k, c, x, y, r):
                return 2, k
            sk += r[k]
            k = prv[k]
        if j == nxt[k]:
            return 0, -1


@njit(cache=True)
def _pack(r: np.ndarray, ax: float, ay: float) -> tuple[np.ndarray, np.ndarray]:
    n = r.size
    x, y = np.zeros(n), np.zeros(n)
    if n >= 2:
        x[0], x[1] = -r[1], r[0]
    if n >= 3:
        _place(1, 0, 2, x, y, r)
    nxt, prv = np.arange(n), np.arange(n)
    if n >= 3:
        nxt[0], nxt[1], nxt[2] = 1, 2, 0
        prv[0], prv[1], prv[2] = 2, 0, 1
    a, b, i = 0, 1, 3
    while i < n:
        _place(a, b, i, x, y, r)
        side, hit = _first_overlap(a, b, i, nxt, prv, x, y, r)
        if side != 0:  # drop the overlapped arc of the chain and retry circle i
            if side == 1:
                b = hit
            else:
                a = hit
            nxt[a], prv[b] = b, a
            continue
        prv[i], nxt[i] = a, b
        nxt[a], prv[b] = i, i
        best, best_score = i, _score(i, nxt[i], x, y, r, ax, ay)  # where the next circle goes
        j = nxt[i]
        while j != i:
            s = _score(j, nxt[j], x, y, r, ax, ay)
            if s < best_score:
                best, best_score = j, s
            j = nxt[j]
        a, b = best, nxt[best]
        i += 1
    return x, y


def pack_circles(radii: np.ndarray, aspect: float = 1.0) -> np.ndarray:
    """Centres (n, 2) of non-overlapping circles with these radii (> 0), packed around the origin.

    ``aspect`` (width / height) > 1 grows the packing into a wide ellipse, < 1 into a tall one.
    """
    r = np.ascontiguousarray(radii, dtype=np.float64)
    x, y = _pack(r, math.sqrt(aspect), 1.0 / math.sqrt(aspect))
    return np.column_stack([x, y])


@njit(cache=True)
def _greedy(
    clear: np.ndarray,
    order: np.ndarray,
    gx: np.ndarray,
    gy: np.ndarray,
    cs: float,
    radii: np.ndarray,
    gap: float,
) -> np.ndarray:
    """Place circles (largest first) at the first cell in ``order`` with enough clearance.

    ``clear`` is the flattened (gx.size, gy.size) grid of distances to the nearest occupied point.
    """
    nx, ny = gx.size, gy.size
    out = np.full((radii.size, 2), np.nan)
    dead = radii.min() + gap  # cells with less clearance can never take a circle: skip them for good
    ptr = 0
    # Radii are rounded up to 5% steps: while the step holds, cells already passed stay too small
    # (clearance only shrinks), so the scan resumes where it stopped instead of rescanning the map.
    level, resume = -1, 0
    for c in range(radii.size):
        lv = math.ceil(math.log(max(radii[c] / radii.min(), 1.0)) / math.log(1.05))
        if lv != level:
            level, resume = lv, ptr
        need = radii.min() * 1.05**lv + gap
        k = max(resume, ptr)
        while k < order.size and clear[order[k]] < need:
            if k == ptr and clear[order[k]] < dead:
                ptr += 1
            k += 1
        resume = k
        if k == order.size:
            continue  # no room: the caller falls back
        ix, iy = order[k] // ny, order[k] % ny
        px, py = gx[ix], gy[iy]
        out[c, 0], out[c, 1] = px, py
        reach = 2.0 * radii[c] + 2.0 * gap + cs  # later circles are smaller: farther cells can't conflict
        span = int(reach / cs) + 1
        for jx in range(max(0, ix - span), min(nx, ix + span + 1)):
            for jy in range(max(0, iy - span), min(ny, iy + span + 1)):
                d = math.sqrt((gx[jx] - px) ** 2 + (gy[jy] - py) ** 2) - radii[c]
                if d < clear[jx * ny + jy]:
                    clear[jx * ny + jy] = d
    return out


def place_free(
    centres: np.ndarray,
    radii: np.ndarray,
    new_radii: np.ndarray,
    near: np.ndarray,
    *,
    gap: float,
    avoid: np.ndarray | None = None,
    lo: float = -np.inf,
    max_cells: int = 4_000_000,
    x_range: tuple[float, float] = (-np.inf, np.inf),
) -> np.ndarray:
    """Centres for ``new_radii`` (sorted largest first) in the free space among existing circles, each as
    close to ``near`` as the room allows; cells inside the box ``avoid`` (x0, y0, x1, y1) are not used,
    no circle reaches below ``lo`` on x or y, nor out of ``x_range`` on x (while room is found there).
    """
    new_radii = np.asarray(new_radii, dtype=np.float64)
    if new_radii.size == 0:
        return np.zeros((0, 2))
    room = 2.0 * math.sqrt(float(((2 * new_radii + 2 * gap) ** 2).sum())) + 2 * float(new_radii.max())
    for _ in range(4):  # walls (avoid, lo) can take most of the room: then look further out
        out = _place_free(centres, radii, new_radii, near, gap, avoid, (lo, *x_range), max_cells, room)
        if not np.isnan(out[:, 0]).any():
            return out
        room *= 3.0
    hi = (centres + radii[:, None]).max(0) if radii.size else near
    lost = np.isnan(out[:, 0])  # still no room: stack them beyond the right edge
    out[lost, 0] = max(float(hi[0]), float(near[0])) + np.cumsum(2 * new_radii[lost] + gap) - new_radii[lost]
    out[lost, 1] = max(float(near[1]), lo + float(new_radii.max()))
    return out


def _place_free(
    centres: np.ndarray,
    radii: np.ndarray,
    new_radii: np.ndarray,
    near: np.ndarray,
    gap: float,
    avoid: np.ndarray | None,
    walls: tuple[float, float, float],
    max_cells: int,
    room: float,
) -> np.ndarray:
    lo, left, right = walls
    lo_box = np.minimum((centres - radii[:, None]).min(0), near) - room if radii.size else near - room
    hi = np.maximum((centres + radii[:, None]).max(0), near) + room if radii.size else near + room
    lo_box = np.maximum(lo_box, lo - 1.0)
    if left < right:  # no cells past the x range's walls (they would all be refused)
        lo_box[0], hi[0] = max(lo_box[0], left - 1.0), max(min(hi[0], right + 1.0), lo_box[0])
    cs = max(float(np.sqrt(np.prod(hi - lo_box) / max_cells)), float(new_radii.min()) / 2.0, 1e-9)
    gx, gy = np.arange(lo_box[0], hi[0] + cs, cs), np.arange(lo_box[1], hi[1] + cs, cs)
    free = np.ones((gx.size, gy.size), dtype=bool)
    _rasterise(free, centres, radii, lo_box, cs)
    clear = _clearance(free, gx, gy, cs, walls)
    dist = np.hypot(gx[:, None] - near[0], gy[None, :] - near[1])
    if avoid is not None:
        inside = (gx[:, None] >= avoid[0]) & (gx[:, None] <= avoid[2])
        inside = inside & (gy[None, :] >= avoid[1]) & (gy[None, :] <= avoid[3])
        clear[inside] = -np.inf
    order = np.argsort(dist.ravel(), kind="stable")
    return _greedy(clear.ravel(), order, gx, gy, cs, new_radii, gap)


def _clearance(
    free: np.ndarray, gx: np.ndarray, gy: np.ndarray, cs: float, walls: tuple[float, float, float]
) -> np.ndarray:
    """Per grid cell, the room to the nearest occupied cell (conservative by one cell) or to the walls:
    ``lo`` on x and y, then the x range's ends."""
    lo, left, right = walls
    clear = np.full(free.shape, np.inf) if free.all() else distance_transform_edt(free) * cs - cs
    if np.isfinite(lo):
        clear = np.minimum(clear, np.minimum(gx[:, None] - lo, gy[None, :] - lo))
    if np.isfinite(left) or np.isfinite(right):
        clear = np.minimum(clear, np.minimum(gx - left, right - gx)[:, None])
    return np.ascontiguousarray(clear, dtype=np.float64)


def _rasterise(free: np.ndarray, centres: np.ndarray, radii: np.ndarray, lo: np.ndarray, cs: float) -> None:
    if radii.size:
        _rasterise_nb(free, np.ascontiguousarray(centres, np.float64), radii.astype(np.float64), lo, cs)


@njit(cache=True)
def _rasterise_nb(
    free: np.ndarray, centres: np.ndarray, radii: np.ndarray, lo: np.ndarray, cs: float
) -> None:
    nx, ny = free.shape
    for i in range(radii.size):
        cx, cy, r = centres[i, 0], centres[i, 1], radii[i]
        for ix in range(max(0, int((cx - r - lo[0]) / cs)), min(nx, int((cx + r - lo[0]) / cs) + 2)):
            for iy in range(max(0, int((cy - r - lo[1]) / cs)), min(ny, int((cy + r - lo[1]) / cs) + 2)):
                if (lo[0] + ix * cs - cx) ** 2 + (lo[1] + iy * cs - cy) ** 2 <= (r + cs) ** 2:
                    free[ix, iy] = False


@njit(cache=True)
def _nearest_greedy(
    clear: np.ndarray, gx: np.ndarray, gy: np.ndarray, cs: float, radii: np.ndarray, near: np.ndarray
) -> np.ndarray:
    """Each circle in turn at the cell nearest its own ``near`` point with enough clearance: a square
    window around that point doubles until the best cell in it is closer than the window's edge.
    """
    nx, ny = gx.size, gy.size
    out = np.full((radii.size, 2), np.nan)
    for c in range(radii.size):
        px, py = near[c, 0], near[c, 1]
        ix0 = min(max(int((px - gx[0]) / cs), 0), nx - 1)
        iy0 = min(max(int((py - gy[0]) / cs), 0), ny - 1)
        h, best, bx, by = 2, np.inf, -1, -1
        while True:
            for ix in range(max(0, ix0 - h), min(nx, ix0 + h + 1)):
                for iy in range(max(0, iy0 - h), min(ny, iy0 + h + 1)):
                    if clear[ix, iy] >= radii[c]:
                        d = (gx[ix] - px) ** 2 + (gy[iy] - py) ** 2
                        if d < best:
                            best, bx, by = d, ix, iy
            whole = ix0 - h <= 0 and iy0 - h <= 0 and ix0 + h >= nx - 1 and iy0 + h >= ny - 1
            if (bx >= 0 and math.sqrt(best) <= (h - 1) * cs) or whole:
                break
            h *= 2
        if bx < 0:
            continue  # no room anywhere: the caller falls back
        out[c, 0], out[c, 1] = gx[bx], gy[by]
        span = int((2.0 * radii[c] + cs) / cs) + 1
        for jx in range(max(0, bx - span), min(nx, bx + span + 1)):
            for jy in range(max(0, by - span), min(ny, by + span + 1)):
                d = math.sqrt((gx[jx] - gx[bx]) ** 2 + (gy[jy] - gy[by]) ** 2) - radii[c]
                if d < clear[jx, jy]:
                    clear[jx, jy] = d
    return out


def place_near(
    centres: np.ndarray,
    radii: np.ndarray,
    new_radii: np.ndarray,
    near: np.ndarray,
    *,
    lo: float = -np.inf,
    max_cells: int = 1_000_000,
    x_range: tuple[float, float] = (-np.inf, np.inf),
) -> np.ndarray:
    """Centres for ``new_radii`` in the free space among existing circles, each as close to its own
    point ``near[i]`` as the room allows (in the given order); no circle reaches below ``lo`` on x or y,
    nor out of ``x_range`` on x.
    """
    new_radii = np.asarray(new_radii, dtype=np.float64)
    if new_radii.size == 0:
        return np.zeros((0, 2))
    room = 2.0 * math.sqrt(float(((2 * new_radii) ** 2).sum())) + 2 * float(new_radii.max())
    low = (
        np.minimum((centres - radii[:, None]).min(0), near.min(0)) - room
        if radii.size
        else near.min(0) - room
    )
    high = (
        np.maximum((centres + radii[:, None]).max(0), near.max(0)) + room
        if radii.size
        else near.max(0) + room
    )
    low = np.maximum(low, lo)
    cs = max(float(np.sqrt(np.prod(high - low) / max_cells)), float(new_radii.min()) / 2.0, 1e-9)
    gx, gy = np.arange(low[0], high[0] + cs, cs), np.arange(low[1], high[1] + cs, cs)
    free = np.ones((gx.size, gy.size), dtype=bool)
    _rasterise(free, centres, radii, low, cs)
    clear = _clearance(free, gx, gy, cs, (lo, *x_range))
    out = _nearest_greedy(np.ascontiguousarray(clear), gx, gy, cs, new_radii, np.asarray(near, np.float64))
    lost = np.isnan(out[:, 0])  # only if the room estimate was wrong: stack them beyond the right edge
    if lost.any():
        out[lost, 0] = high[0] + np.cumsum(2 * new_radii[lost]) - new_radii[lost]
        out[lost, 1] = np.maximum(near[lost, 1], lo + new_radii[lost])
    return out


def covered_share(centres: np.ndarray, radii: np.ndarray, *, max_cells: int = 1_000_000) -> float:
    """Share of the circles' bounding box that the circles cover (their union, on a grid)."""
    if radii.size == 0:
        return 0.0
    lo, hi = (centres - radii[:, None]).min(0), (centres + radii[:, None]).max(0)
    cs = max(float(np.sqrt(np.prod(hi - lo) / max_cells)), 1e-9)
    free = np.ones((int((hi[0] - lo[0]) / cs) + 1, int((hi[1] - lo[1]) / cs) + 1), dtype=bool)
    # cell corners within r of a centre: shrink by one cell, as _rasterise marks within r + cs
    _rasterise(free, centres, np.maximum(radii - cs, 0.0), lo, cs)
    return float(1.0 - free.mean())
