"""CPU ForceAtlas2: Barnes-Hut repulsion in numba, with Gephi/cuGraph semantics.

Hand-written because no library offers it: ``fa2``/``fa2_modified`` are Cython and single-threaded,
networkx is O(n^2), crategraph-forceatlas2 is Rust without cuGraph's parameter set. The forces and the
adaptive speed follow Gephi's ``ForceAtlas2.java`` (which cuGraph ports):

* repulsion ``k_r * m_i * m_j / d`` with mass ``m = degree + 1`` (or a caller-supplied mass);
* attraction ``w^ewi * d`` (``log(1 + d)`` in lin-log mode), divided by the source's mass and multiplied
  by the mean mass when ``outbound_attraction_distribution`` is on;
* gravity ``g * m`` towards the origin (``g * m * d`` in strong gravity mode);
* global speed from total swinging vs. traction with jitter tolerance, and a per-node speed limit
  ``speed / (1 + sqrt(speed * swinging_i))``.

Everything is deterministic: parallel loops write per-node results, sums are taken serially.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numba import njit, prange

from atlasgen.layout.params import ForceAtlas2Params

EXACT_BELOW = 64  # exact O(n^2) repulsion below this many vertices: cheaper than building a tree
PARALLEL_FROM = 1024  # threads pay off from about this many vertices (2-core measurements)
_MAX_DEPTH = 48  # quadtree depth cap; bodies closer than root/2^48 share a leaf


@njit(cache=True)
def _grow(arr: np.ndarray, size: int) -> np.ndarray:
    out = np.full(size, -1, dtype=arr.dtype)
    out[: arr.shape[0]] = arr
    return out


@njit(cache=True)
def _grow2(arr: np.ndarray, size: int) -> np.ndarray:
    out = np.full((size, arr.shape[1]), -1, dtype=arr.dtype)
    out[: arr.shape[0]] = arr
    return out


@njit(cache=True)
def _build_quadtree(x: np.ndarray, y: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, ...]:
    """Insert bodies one by one; return (child, body, mass, comx, comy, cx, cy, half) of the cells.

    ``body[c]`` is the body of a one-body leaf, -1 for an internal cell, -2 for a leaf at the depth cap
    holding several (near-)coincident bodies. Children are always created after their parent, so a
    reverse sweep over cell indices accumulates masses bottom-up.
    """
    n = x.size
    cap = 4 * n + 16
    child = np.full((cap, 4), -1, np.int64)
    body = np.full(cap, -1, np.int64)
    depth = np.zeros(cap, np.int64)
    cmass, comx, comy = np.zeros(cap), np.zeros(cap), np.zeros(cap)
    cx, cy, half = np.zeros(cap), np.zeros(cap), np.zeros(cap)
    lo_x, hi_x, lo_y, hi_y = x.min(), x.max(), y.min(), y.max()
    cx[0], cy[0] = 0.5 * (lo_x + hi_x), 0.5 * (lo_y + hi_y)
    half[0] = 0.5 * max(hi_x - lo_x, hi_y - lo_y) * 1.0001 + 1e-12
    body[0] = 0
    cmass[0], comx[0], comy[0] = m[0], x[0], y[0]
    ncell = 1
    for i in range(1, n):
        c = 0
        while True:
            if ncell + 5 > cap:
                cap *= 2
                child, body, depth = _grow2(child, cap), _grow(body, cap), _grow(depth, cap)
                cmass, comx, comy = _grow(cmass, cap), _grow(comx, cap), _grow(comy, cap)
                cx, cy, half = _grow(cx, cap), _grow(cy, cap), _grow(half, cap)
            if body[c] == -1:  # internal: descend or open a new leaf
                q = (1 if x[i] >= cx[c] else 0) + (2 if y[i] >= cy[c] else 0)
                if child[c, q] >= 0:
                    c = child[c, q]
                    continue
                k = ncell
                ncell += 1
                h = 0.5 * half[c]
                cx[k] = cx[c] + (h if q & 1 else -h)
                cy[k] = cy[c] + (h if q & 2 else -h)
                half[k], depth[k], body[k] = h, depth[c] + 1, i
                cmass[k], comx[k], comy[k] = m[i], x[i], y[i]
                child[c, q] = k
                break
            if body[c] == -2 or depth[c] >= _MAX_DEPTH:  # aggregated leaf: add the body to it
                tot = cmass[c] + m[i]
                comx[c] = (comx[c] * cmass[c] + x[i] * m[i]) / tot
                comy[c] = (comy[c] * cmass[c] + y[i] * m[i]) / tot
                cmass[c], body[c] = tot, -2
                break
            # one-body leaf: turn it into an internal cell and push its body one level down
            j = body[c]
            body[c], cmass[c] = -1, 0.0
            q = (1 if x[j] >= cx[c] else 0) + (2 if y[j] >= cy[c] else 0)
            k = ncell
            ncell += 1
            h = 0.5 * half[c]
            cx[k] = cx[c] + (h if q & 1 else -h)
            cy[k] = cy[c] + (h if q & 2 else -h)
            half[k], depth[k], body[k] = h, depth[c] + 1, j
            cmass[k], comx[k], comy[k] = m[j], x[j], y[j]
            child[c, q] = k
    for c in range(ncell - 1, -1, -1):
        if body[c] == -1:
            tot, sx, sy = 0.0, 0.0, 0.0
            for q in range(4):
                k = child[c, q]
                if k >= 0:
                    tot += cmass[k]
                    sx += comx[k] * cmass[k]
                    sy += comy[k] * cmass[k]
            cmass[c] = tot
            if tot > 0:
                comx[c], comy[c] = sx / tot, sy / tot
    return child, body, cmass, comx, comy, cx, cy, half


@njit(cache=True)
def _bh_force(
    i: int,
    x: np.ndarray,
    y: np.ndarray,
    m: np.ndarray,
    kr: float,
    theta2: float,
    child: np.ndarray,
    body: np.ndarray,
    cmass: np.ndarray,
    comx: np.ndarray,
    comy: np.ndarray,
    cx: np.ndarray,
    cy: np.ndarray,
    half: np.ndarray,
    stack: np.ndarray,
) -> tuple[float, float]:
    """Barnes-Hut repulsion on body i: open a cell while its width >= theta * distance."""
    stack[0], sp = 0, 1
    ax, ay = 0.0, 0.0
    while sp > 0:
        sp -= 1
        c = stack[sp]
        b = body[c]
        if b == i or cmass[c] == 0.0:
            continue  # the leaf holding i itself: skipping it avoids a 1/0 blow-up (positions -> 1e19)
        dx, dy = x[i] - comx[c], y[i] - comy[c]
        d2 = dx * dx + dy * dy
        if b == -1 and 4.0 * half[c] * half[c] >= theta2 * d2:
            for q in range(4):
                if child[c, q] >= 0:
                    stack[sp] = child[c, q]
                    sp += 1
            continue
        if b == -2 and abs(x[i] - cx[c]) <= half[c] and abs(y[i] - cy[c]) <= half[c]:
            continue  # aggregated leaf containing i: its pull on i is numerically meaningless
        if d2 > 0.0:
            f = kr * m[i] * cmass[c] / d2
            ax += dx * f
            ay += dy * f
    return ax, ay


@njit(cache=True, parallel=True)
def _repulsion_bh_parallel(
    x: np.ndarray,
    y: np.ndarray,
    m: np.ndarray,
    kr: float,
    theta: float,
    fx: np.ndarray,
    fy: np.ndarray,
) -> None:
    child, body, cmass, comx, comy, cx, cy, half = _build_quadtree(x, y, m)
    for i in prange(x.size):
        stack = np.empty(4 * _MAX_DEPTH + 8, np.int64)
        ax, ay = _bh_force(i, x, y, m, kr, theta * theta, child, body, cmass, comx, comy, cx, cy, half, stack)
        fx[i] += ax
        fy[i] += ay


@njit(cache=True)
def _repulsion_bh_serial(
    x: np.ndarray,
    y: np.ndarray,
    m: np.ndarray,
    kr: float,
    theta: float,
    fx: np.ndarray,
    fy: np.ndarray,
) -> None:
    child, body, cmass, comx, comy, cx, cy, half = _build_quadtree(x, y, m)
    stack = np.empty(4 * _MAX_DEPTH + 8, np.int64)
    for i in range(x.size):
        ax, ay = _bh_force(i, x, y, m, kr, theta * theta, child, body, cmass, comx, comy, cx, cy, half, stack)
        fx[i] += ax
        fy[i] += ay


@njit(cache=True)
def _exact_force(i: int, x: np.ndarray, y: np.ndarray, m: np.ndarray, kr: float) -> tuple[float, float]:
    ax, ay = 0.0, 0.0
    for j in range(x.size):
        dx, dy = x[i] - x[j], y[i] - y[j]
        d2 = dx * dx + dy * dy
        if j != i and d2 > 0.0:
            f = kr * m[i] * m[j] / d2
            ax += dx * f
            ay += dy * f
    return ax, ay


@njit(cache=True, parallel=True)
def _repulsion_exact_parallel(
    x: np.ndarray,
    y: np.ndarray,
    m: np.ndarray,
    kr: float,
    fx: np.ndarray,
    fy: np.ndarray,
) -> None:
    for i in prange(x.size):
        ax, ay = _exact_force(i, x, y, m, kr)
        fx[i] += ax
        fy[i] += ay


@njit(cache=True)
def _repulsion_exact_serial(
    x: np.ndarray,
    y: np.ndarray,
    m: np.ndarray,
    kr: float,
    fx: np.ndarray,
    fy: np.ndarray,
) -> None:
    for i in range(x.size):
        ax, ay = _exact_force(i, x, y, m, kr)
        fx[i] += ax
        fy[i] += ay


@njit(cache=True)
def _attraction_gravity(
    x: np.ndarray,
    y: np.ndarray,
    m: np.ndarray,
    indptr: np.ndarray,
    nbr: np.ndarray,
    coef: np.ndarray,
    lin_log: bool,
    grav: float,
    strong: bool,
    fx: np.ndarray,
    fy: np.ndarray,
) -> None:
    for i in range(x.size):
        ax, ay = 0.0, 0.0
        for e in range(indptr[i], indptr[i + 1]):
            j = nbr[e]
            dx, dy = x[i] - x[j], y[i] - y[j]
            f = coef[e]
            if lin_log:
                d = np.sqrt(dx * dx + dy * dy)
                f = f * np.log1p(d) / d if d > 0.0 else 0.0
            ax -= dx * f
            ay -= dy * f
        d = np.sqrt(x[i] * x[i] + y[i] * y[i])
        if d > 0.0:
            g = grav * m[i] if strong else grav * m[i] / d
            ax -= x[i] * g
            ay -= y[i] * g
        fx[i] += ax
        fy[i] += ay


@njit(cache=True)
def _swing_traction(
    m: np.ndarray,
    fx: np.ndarray,
    fy: np.ndarray,
    ox: np.ndarray,
    oy: np.ndarray,
) -> tuple[float, float]:
    """Per-node swinging into ``ox`` (reused buffer), and the two totals (summed serially)."""
    total_swing, total_tract = 0.0, 0.0
    for i in range(m.size):
        sx, sy = ox[i] - fx[i], oy[i] - fy[i]
        tx, ty = ox[i] + fx[i], oy[i] + fy[i]
        ox[i] = m[i] * np.sqrt(sx * sx + sy * sy)
        total_swing += ox[i]
        total_tract += 0.5 * m[i] * np.sqrt(tx * tx + ty * ty)
    return total_swing, total_tract


@njit(cache=True)
def _adapt_speed(
    total_swing: float,
    total_tract: float,
    n: int,
    jitter: float,
    state: np.ndarray,
) -> None:
    """Gephi's adaptive global speed; ``state = [speed, speed_efficiency]`` is updated in place."""
    speed, eff = state[0], state[1]
    optimal = 0.05 * np.sqrt(n)
    jt = jitter * max(np.sqrt(optimal), min(10.0, optimal * total_tract / (n * n)))
    if total_tract > 0 and total_swing / total_tract > 2.0:
        if eff > 0.05:
            eff *= 0.5
        jt = max(jt, jitter)
    target = jt * eff * total_tract / total_swing if total_swing > 0 else speed * 1.5
    if total_swing > jt * total_tract:
        if eff > 0.05:
            eff *= 0.7
    elif speed < 1000:
        eff *= 1.3
    state[0] = speed + min(target - speed, 0.5 * speed)
    state[1] = eff


@njit(cache=True)
def _apply(
    x: np.ndarray,
    y: np.ndarray,
    fx: np.ndarray,
    fy: np.ndarray,
    swing: np.ndarray,
    speed: float,
) -> None:
    for i in range(x.size):
        f = speed / (1.0 + np.sqrt(speed * swing[i]))  # per-node speed limit
        x[i] += fx[i] * f
        y[i] += fy[i] * f


@njit(cache=True)
def _move(
    x: np.ndarray,
    y: np.ndarray,
    m: np.ndarray,
    indptr: np.ndarray,
    nbr: np.ndarray,
    coef: np.ndarray,
    fparams: np.ndarray,
    flags: np.ndarray,
    state: np.ndarray,
    fx: np.ndarray,
    fy: np.ndarray,
    ox: np.ndarray,
    oy: np.ndarray,
) -> None:
    """The rest of an iteration once repulsion is in ``fx, fy``: attraction, gravity, speed, move."""
    _attraction_gravity(x, y, m, indptr, nbr, coef, flags[0], fparams[2], flags[1], fx, fy)
    total_swing, total_tract = _swing_traction(m, fx, fy, ox, oy)  # ox now holds swinging
    _adapt_speed(total_swing, total_tract, x.size, fparams[3], state)
    _apply(x, y, fx, fy, ox, state[0])
    ox[:] = fx
    oy[:] = fy


@njit(cache=True)
def _iterate_serial(
    x: np.ndarray,
    y: np.ndarray,
    m: np.ndarray,
    indptr: np.ndarray,
    nbr: np.ndarray,
    coef: np.ndarray,
    fparams: np.ndarray,
    flags: np.ndarray,
    state: np.ndarray,
    ox: np.ndarray,
    oy: np.ndarray,
    n_iter: int,
) -> None:
    """Run ``n_iter`` iterations in place, single-threaded, all inside numba (small graphs)."""
    n = x.size
    fx, fy = np.zeros(n), np.zeros(n)
    for _ in range(n_iter):
        fx[:] = 0.0
        fy[:] = 0.0
        if flags[2] and n >= EXACT_BELOW:
            _repulsion_bh_serial(x, y, m, fparams[0], fparams[1], fx, fy)
        else:
            _repulsion_exact_serial(x, y, m, fparams[0], fx, fy)
        _move(x, y, m, indptr, nbr, coef, fparams, flags, state, fx, fy, ox, oy)


def _iterate_parallel(
    x: np.ndarray,
    y: np.ndarray,
    m: np.ndarray,
    indptr: np.ndarray,
    nbr: np.ndarray,
    coef: np.ndarray,
    fparams: np.ndarray,
    flags: np.ndarray,
    state: np.ndarray,
    ox: np.ndarray,
    oy: np.ndarray,
    n_iter: int,
) -> None:
    """Large graphs: parallel repulsion, driven from Python one iteration at a time.

    The loop stays in Python on purpose: a cached njit function that calls a ``parallel=True`` one
    segfaults when reloaded from numba's cache (numba 0.68); the Python overhead per iteration
    (~10 us) is nothing next to a parallel Barnes-Hut pass over >= PARALLEL_FROM vertices.
    """
    fx, fy = np.zeros(x.size), np.zeros(x.size)
    for _ in range(n_iter):
        fx[:] = 0.0
        fy[:] = 0.0
        if flags[2]:
            _repulsion_bh_parallel(x, y, m, fparams[0], fparams[1], fx, fy)
        else:
            _repulsion_exact_parallel(x, y, m, fparams[0], fx, fy)
        _move(x, y, m, indptr, nbr, coef, fparams, flags, state, fx, fy, ox, oy)


def _csr(
    src: np.ndarray, dst: np.ndarray, n: int, w: np.ndarray, mass: np.ndarray, p: ForceAtlas2Params
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Symmetric CSR; each entry carries its edge's attraction coefficient (same for both ends)."""
    coef = w if p.edge_weight_influence == 1.0 else w**p.edge_weight_influence
    if p.outbound_attraction_distribution:
        coef = coef * mass.mean() / mass[src]
    rows = np.concatenate([src, dst])
    order = np.argsort(rows, kind="stable")
    nbr = np.concatenate([dst, src])[order]
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return indptr, nbr.astype(np.int64), np.concatenate([coef, coef])[order].astype(np.float64)


def force_atlas2_cpu(
    src: np.ndarray,
    dst: np.ndarray,
    n: int,
    pos: np.ndarray,
    p: ForceAtlas2Params,
    *,
    weights: np.ndarray | None = None,
    mass: np.ndarray | None = None,
    callback: object | None = None,
) -> np.ndarray:
    """Lay out ``n`` vertices from initial positions ``pos`` (n, 2); return new positions (n, 2).

    ``mass`` overrides Gephi's ``degree + 1`` (atlas uses it to keep folded leaves' weight).
    ``callback`` may define cuGraph's ``on_preprocess_end / on_epoch_end / on_train_end(positions)``;
    it then receives (n, 2) copies and the run goes one iteration per call.
    """
    x, y = pos[:, 0].astype(np.float64).copy(), pos[:, 1].astype(np.float64).copy()
    if n == 0 or p.max_iter == 0:
        return np.column_stack([x, y])
    if mass is None:
        mass = 1.0 + np.bincount(src, minlength=n) + np.bincount(dst, minlength=n)
    mass = np.asarray(mass, np.float64)
    w = np.ones(src.size) if weights is None else weights
    indptr, nbr, coef = _csr(src, dst, n, w, mass, p)
    fparams = np.array([p.scaling_ratio, p.barnes_hut_theta, p.gravity, p.jitter_tolerance])
    flags = np.array([p.lin_log_mode, p.strong_gravity_mode, p.barnes_hut_optimize])
    state = np.array([1.0, 1.0])
    ox, oy = np.zeros(n), np.zeros(n)
    hook = _hooks(callback)
    hook("on_preprocess_end", x, y)
    chunk = 1 if callback is not None else (100 if p.verbose else p.max_iter)
    iterate = _iterate_parallel if n >= PARALLEL_FROM else _iterate_serial
    done = 0
    while done < p.max_iter:
        step = min(chunk, p.max_iter - done)
        iterate(x, y, mass, indptr, nbr, coef, fparams, flags, state, ox, oy, step)
        done += step
        hook("on_epoch_end", x, y)
        if p.verbose:
            _log_progress(done, state)
    hook("on_train_end", x, y)
    return np.column_stack([x, y])


def _hooks(callback: object | None) -> Callable[[str, np.ndarray, np.ndarray], None]:
    def call(name: str, x: np.ndarray, y: np.ndarray) -> None:
        method = getattr(callback, name, None)
        if method is not None:
            method(np.column_stack([x, y]))

    return call


def _log_progress(done: int, state: np.ndarray) -> None:
    import logging

    logging.getLogger("atlasgen.layout").info(
        "ForceAtlas2 iteration %d: speed %.4g, efficiency %.3g", done, state[0], state[1]
    )
