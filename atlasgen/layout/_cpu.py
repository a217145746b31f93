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

Barnes-Hut repulsion (the time sink: >95 % of an iteration) lives in ``_quadtree.py``. Everything is
deterministic and independent of the thread count: parallel loops write per-node results, sums are taken
serially.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numba import njit, parallel_chunksize, prange

from atlasgen.layout._quadtree import repulsion_bh_parallel, repulsion_bh_serial
from atlasgen.layout.params import ForceAtlas2Params

EXACT_BELOW = 64  # exact O(n^2) repulsion below this many vertices: cheaper than building a tree
PARALLEL_FROM = 1024  # threads pay off from about this many vertices (2-core measurements)
CHUNK = 1024  # bodies per scheduling chunk of the parallel repulsion


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
    order: np.ndarray,
    n_iter: int,
) -> None:
    """Run ``n_iter`` iterations in place, single-threaded, all inside numba (small graphs)."""
    n = x.size
    fx, fy = np.zeros(n), np.zeros(n)
    for _ in range(n_iter):
        fx[:] = 0.0
        fy[:] = 0.0
        if flags[2] and n >= EXACT_BELOW:
            repulsion_bh_serial(x, y, m, fparams[0], fparams[1], order, fx, fy)
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
    order: np.ndarray,
    n_iter: int,
) -> None:
    """Large graphs: parallel repulsion, driven from Python one iteration at a time.

    The loop stays in Python on purpose: a cached njit function that calls a ``parallel=True`` one
    segfaults when reloaded from numba's cache (numba 0.68); the Python overhead per iteration
    (~10 us) is nothing next to a parallel Barnes-Hut pass over >= PARALLEL_FROM vertices.
    Threads take bodies in chunks of CHUNK, first come first served: dense regions cost more per body
    than sparse ones, and a static half-and-half split left one core idle. Each body still writes only
    its own force, so the result does not depend on the schedule.
    """
    fx, fy = np.zeros(x.size), np.zeros(x.size)
    with parallel_chunksize(CHUNK):
        for _ in range(n_iter):
            fx[:] = 0.0
            fy[:] = 0.0
            if flags[2]:
                repulsion_bh_parallel(x, y, m, fparams[0], fparams[1], order, fx, fy)
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
    order = np.arange(n, dtype=np.int64)  # Morton order of the bodies, refined each iteration
    hook = _hooks(callback)
    hook("on_preprocess_end", x, y)
    chunk = 1 if callback is not None else (100 if p.verbose else p.max_iter)
    iterate = _iterate_parallel if n >= PARALLEL_FROM else _iterate_serial
    done = 0
    while done < p.max_iter:
        step = min(chunk, p.max_iter - done)
        iterate(x, y, mass, indptr, nbr, coef, fparams, flags, state, ox, oy, order, step)
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
