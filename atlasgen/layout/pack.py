"""Circle geometry for the atlas: front-chain packing, overlap removal, placement into free space.

All three run in numba because the Hub has ~300k islands: the pure-Python packing took ~2 s for 2.7k.

* ``pack_circles``: front-chain packing (Wang et al. 2006, the algorithm behind d3.packSiblings),
  written here because neither scipy nor numpy packs circles and the map must not depend on a JS
  toolchain. Circles are placed in the given order, each tangent to two neighbours on the "front chain"
  (the current outer boundary) closest to the centre, so the first (largest) sit in the middle. The
  closeness is measured in an elliptical metric, so the packing can grow into an ellipse of a chosen
  aspect (the atlas sets two regions side by side in a square).
* ``separate``: pushes overlapping circles apart, big ones moving less (snapshot stability).
* ``place_free``: puts new circles into the free space nearest a point (snapshot stability).
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
def _cells(
    x: np.ndarray, y: np.ndarray, r: np.ndarray, x0: float, y0: float, cs: float
) -> tuple[np.ndarray, ...]:
    """Bucket each circle into every grid cell its bounding box touches (counting sort by cell)."""
    n = x.size
    lo_x, lo_y = np.empty(n, np.int64), np.empty(n, np.int64)
    hi_x, hi_y = np.empty(n, np.int64), np.empty(n, np.int64)
    for i in range(n):
        lo_x[i], hi_x[i] = int((x[i] - r[i] - x0) / cs), int((x[i] + r[i] - x0) / cs)
        lo_y[i], hi_y[i] = int((y[i] - r[i] - y0) / cs), int((y[i] + r[i] - y0) / cs)
    nx, ny = hi_x.max() + 1, hi_y.max() + 1
    count = np.zeros(nx * ny + 1, np.int64)
    for i in range(n):
        for cx in range(lo_x[i], hi_x[i] + 1):
            for cy in range(lo_y[i], hi_y[i] + 1):
                count[cx * ny + cy + 1] += 1
    start = np.cumsum(count)
    fill = start[:-1].copy()
    members = np.empty(start[-1], np.int64)
    for i in range(n):
        for cx in range(lo_x[i], hi_x[i] + 1):
            for cy in range(lo_y[i], hi_y[i] + 1):
                members[fill[cx * ny + cy]] = i
                fill[cx * ny + cy] += 1
    return start, members, lo_x, lo_y, np.array([nx, ny])


@njit(cache=True)
def _separate_step(x: np.ndarray, y: np.ndarray, r: np.ndarray, w: np.ndarray, cs: float) -> float:
    """One Gauss-Seidel pass: each overlapping pair moves apart at once (shares inverse to weight), so a
    push travels through a crowd in one pass. Returns the largest overlap met."""
    x0, y0 = (x - r).min(), (y - r).min()
    start, members, lo_x, lo_y, shape = _cells(x, y, r, x0, y0, cs)
    ny = shape[1]
    worst = 0.0
    for cell in range(start.size - 1):
        cx, cy = cell // ny, cell % ny
        for p in range(start[cell], start[cell + 1]):
            i = members[p]
            for q in range(p + 1, start[cell + 1]):
                j = members[q]
                # count each pair once: in the cell holding the low corner of their boxes' overlap
                if max(lo_x[i], lo_x[j]) != cx or max(lo_y[i], lo_y[j]) != cy:
                    continue
                ex, ey = x[j] - x[i], y[j] - y[i]
                d = math.sqrt(ex * ex + ey * ey)
                over = r[i] + r[j] - d
                if over <= 0:
                    continue
                worst = max(worst, over)
                if d == 0:  # coincident: split along a fixed, pair-dependent direction
                    ex, ey, d = math.cos(i + j), math.sin(i + j), 1.0
                share = 1.01 * over / d / (w[i] + w[j])  # a hair more, so touching pairs settle
                x[i] -= ex * share * w[j]
                y[i] -= ey * share * w[j]
                x[j] += ex * share * w[i]
                y[j] += ey * share * w[i]
    return worst


def separate(
    centres: np.ndarray, radii: np.ndarray, *, tol: float = 1e-3, max_rounds: int = 500
) -> np.ndarray:
    """Move circles apart until none overlaps (by more than ``tol``), each moving little.

    Circles move inversely to their area, so a big island stays put while small ones make way.
    """
    xy = np.array(centres, dtype=np.float64, copy=True)
    r = np.ascontiguousarray(radii, dtype=np.float64)
    if r.size < 2:
        return xy
    x, y = xy[:, 0].copy(), xy[:, 1].copy()
    cs = max(float(np.median(r)) * 4.0, 1e-9)  # cells a few small circles wide; big ones span several
    w = r * r + 1e-12
    for _ in range(max_rounds):
        if _separate_step(x, y, r, w, cs) <= tol:
            break
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
    max_cells: int = 4_000_000,
) -> np.ndarray:
    """Centres for ``new_radii`` (sorted largest first) in the free space among existing circles, each as
    close to ``near`` as the room allows; cells inside the box ``avoid`` (x0, y0, x1, y1) are not used.
    """
    new_radii = np.asarray(new_radii, dtype=np.float64)
    if new_radii.size == 0:
        return np.zeros((0, 2))
    room = 2.0 * math.sqrt(float(((2 * new_radii + 2 * gap) ** 2).sum())) + 2 * float(new_radii.max())
    lo = np.minimum((centres - radii[:, None]).min(0), near) - room if radii.size else near - room
    hi = np.maximum((centres + radii[:, None]).max(0), near) + room if radii.size else near + room
    cs = max(float(np.sqrt(np.prod(hi - lo) / max_cells)), float(new_radii.min()) / 2.0, 1e-9)
    gx, gy = np.arange(lo[0], hi[0] + cs, cs), np.arange(lo[1], hi[1] + cs, cs)
    free = np.ones((gx.size, gy.size), dtype=bool)
    _rasterise(free, centres, radii, lo, cs)
    clear = (distance_transform_edt(free) * cs - cs).astype(np.float64)  # conservative by one cell
    dist = np.hypot(gx[:, None] - near[0], gy[None, :] - near[1])
    if avoid is not None:
        inside = (gx[:, None] >= avoid[0]) & (gx[:, None] <= avoid[2])
        inside = inside & (gy[None, :] >= avoid[1]) & (gy[None, :] <= avoid[3])
        clear[inside] = -np.inf
    order = np.argsort(dist.ravel(), kind="stable")
    out = _greedy(clear.ravel(), order, gx, gy, cs, new_radii, gap)
    lost = np.isnan(out[:, 0])  # only if the room estimate was wrong: stack them beyond the right edge
    if lost.any():
        out[lost, 0] = hi[0] + np.cumsum(2 * new_radii[lost] + gap) - new_radii[lost]
        out[lost, 1] = near[1]
    return out


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
