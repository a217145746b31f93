"""The atlas composition: a lineage DAG laid out as a map of islands in world coordinates [0, 256]^2.

One global ForceAtlas2 over the Hub gives a disc of specks with the big families pushed to the rim as
rings. Instead:

1. split the graph into weakly connected components (one island per family);
2. fold leaves (one parent, no children) out of the graph; after ForceAtlas2 they sit around their
   parent in a phyllotaxis (golden-angle) disc, most-downloaded closest, so a base with hundreds of
   quantizations reads as a dense star, not a ring. The parent keeps their count in its FA2 mass, so
   FA2 reserves room for the disc;
3. run ForceAtlas2 per component on the remaining core (1-2 core nodes: closed form);
4. scale each island so that its area is proportional to its node count (uniform density), and pack
   the islands as circles, largest in the centre (front-chain packing, ``pack_circles``);
5. fit everything into [0, 256]^2 (x right, y down), centred, aspect preserved.
"""

from __future__ import annotations

import math
from time import perf_counter
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from tqdm import tqdm

import atlasgen.layout as _layout
from atlasgen.layout.params import ForceAtlas2Params, check_graph

GOLDEN_ANGLE = math.pi * (3.0 - math.sqrt(5.0))
WORLD = 256.0
MARGIN = 2.0  # world units left free around the map
ISLAND_GAP = 1.0  # gap between packed islands, in leaf spacings (the unit of the packing)
DISC_SPACING = 0.5  # leaf spacing in a disc, in ForceAtlas2 length units
# A core node's FA2 mass gains sqrt(folded leaves): its disc's radius grows as sqrt(k), and FA2 keeps
# neighbours at ~sqrt(k_r * m_i * m_j), so room and disc match. A linear count (Gephi's degree + 1)
# reserves room ~ k and leaves the islands mostly empty.
FOLDED_MASS = 0.5
GPU_MIN_CORE = 2000  # smaller cores run on the cpu backend: a GPU launch costs more than it saves
# Strong gravity keeps an island round and filled (area ~ node count is then honest); outbound
# attraction distribution is off because it pushes hubs, the centres of the discs, to the rim.
ATLAS_FA2: dict[str, Any] = {
    "outbound_attraction_distribution": False,
    "strong_gravity_mode": True,
    "gravity": 1.0,
    "scaling_ratio": 2.0,
}


def layout_atlas(
    n_nodes: int,
    sources: Any,
    targets: Any,
    *,
    weights: Any = None,
    seed: int = 0,
    backend: str = "auto",
    max_iter: int = 300,
    progress: bool = True,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Lay out a lineage DAG (edges parent -> child) as an atlas of islands.

    ``weights`` are per *node* (downloads; NaN = unknown, ranked lowest): they order each parent's
    folded leaves, most-downloaded nearest to the parent. Returns ``(xy, info)``: ``xy`` float64
    ``(n_nodes, 2)`` inside ``[0, 256]^2``; ``info`` holds backend, reason, params, seconds (total,
    fa2, compile), components and counts.
    """
    t0 = perf_counter()
    src, dst, n, _ = check_graph(sources, targets, n_nodes, None)
    rank_key = _rank_key(weights, n)
    params = ForceAtlas2Params(max_iter=max_iter, random_state=seed, **ATLAS_FA2)  # validates
    name, reason = _layout.choose_backend(backend)
    compile_s = _warm_up() if n else 0.0
    src, dst = _clean_edges(src, dst, n)
    leaf, parent = _fold_leaves(src, dst, n)
    ncomp, labels = connected_components(
        sp.coo_matrix((np.ones(src.size), (src, dst)), shape=(n, n)), directed=True, connection="weak"
    )
    core_xy, spacing, fa2_s, used = _layout_cores(n, src, dst, leaf, labels, ncomp, params, name, progress)
    xy = _place_leaves(core_xy, spacing, leaf, parent, rank_key)
    xy = _pack_islands(xy, labels, ncomp)
    info = {
        "backend": name,
        "reason": reason,
        "backends_used": sorted(used),
        "params": {**params.as_dict(), "disc_spacing": DISC_SPACING, "island_gap": ISLAND_GAP},
        "seed": seed,
        "components": int(ncomp),
        "folded_leaves": int(leaf.sum()),
        "seconds": perf_counter() - t0,
        "seconds_fa2": fa2_s,
        "seconds_compile": compile_s,
    }
    return xy, info


def _rank_key(weights: Any, n: int) -> np.ndarray:
    """Per-node sort key for leaves: downloads, NaN/missing -> -inf (last)."""
    if weights is None:
        return np.zeros(n)
    w = np.asarray(weights, dtype=np.float64).ravel()
    if w.size != n:
        from atlasgen.layout.params import LayoutParameterError

        raise LayoutParameterError(f"weights must hold one value per node ({n}), got {w.size}")
    return np.where(np.isnan(w), -np.inf, w)


def _warm_up() -> float:
    """Compile (or load from numba's cache) the serial and parallel kernels; return the seconds taken."""
    from atlasgen.layout._cpu import EXACT_BELOW, PARALLEL_FROM, force_atlas2_cpu

    t = perf_counter()
    for k in (4, EXACT_BELOW, PARALLEL_FROM):  # exact, Barnes-Hut, parallel Barnes-Hut
        ring = np.arange(k, dtype=np.int64)
        pos = _layout.initial_positions(k, 0)
        force_atlas2_cpu(ring, (ring + 1) % k, k, pos, ForceAtlas2Params(max_iter=1))
    return perf_counter() - t


def _clean_edges(src: np.ndarray, dst: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Drop self-loops and duplicate pairs (the graph stage should have done it; be robust)."""
    keep = src != dst
    key = np.unique(src[keep] * max(n, 1) + dst[keep])
    return key // max(n, 1), key % max(n, 1)


def _fold_leaves(src: np.ndarray, dst: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Leaves: exactly one parent and no children. Returns (mask, parent id or -1)."""
    leaf = (np.bincount(dst, minlength=n) == 1) & (np.bincount(src, minlength=n) == 0)
    parent = np.full(n, -1, dtype=np.int64)
    into_leaf = leaf[dst]
    parent[dst[into_leaf]] = src[into_leaf]
    return leaf, parent


def _layout_cores(
    n: int,
    src: np.ndarray,
    dst: np.ndarray,
    leaf: np.ndarray,
    labels: np.ndarray,
    ncomp: int,
    params: ForceAtlas2Params,
    backend: str,
    progress: bool,
) -> tuple[np.ndarray, np.ndarray, float, set[str]]:
    """Positions of core nodes (per island, island-local) and each core node's disc spacing."""
    keep = ~leaf[dst]
    csrc, cdst = src[keep], dst[keep]
    order = np.argsort(labels[csrc], kind="stable")
    csrc, cdst = csrc[order], cdst[order]
    edge_bounds = np.searchsorted(labels[csrc], np.arange(ncomp + 1))
    core = np.flatnonzero(~leaf)
    core = core[np.argsort(labels[core], kind="stable")]
    node_bounds = np.searchsorted(labels[core], np.arange(ncomp + 1))
    folded = np.bincount(src[leaf[dst]], minlength=n).astype(np.float64)
    xy, spacing = np.zeros((n, 2)), np.ones(n)
    local = np.zeros(n, dtype=np.int64)
    fa2_s, used = 0.0, set()
    for c in tqdm(range(ncomp), desc="layout", unit="island", disable=not progress):
        members = core[node_bounds[c] : node_bounds[c + 1]]
        local[members] = np.arange(members.size)
        es, ed = (
            local[csrc[edge_bounds[c] : edge_bounds[c + 1]]],
            local[cdst[edge_bounds[c] : edge_bounds[c + 1]]],
        )
        t = perf_counter()
        pos, s, which = _layout_core(members.size, es, ed, folded[members], params, backend, c)
        fa2_s += perf_counter() - t if which else 0.0
        if which:
            used.add(which)
        xy[members], spacing[members] = pos, s
    return xy, spacing, fa2_s, used


def _layout_core(
    m: int,
    es: np.ndarray,
    ed: np.ndarray,
    folded: np.ndarray,
    params: ForceAtlas2Params,
    backend: str,
    island: int,
) -> tuple[np.ndarray, np.ndarray, str]:
    """One island's core: (positions (m, 2), per-node disc spacing, backend used or '')."""
    if m <= 2:
        r = np.sqrt(folded + 1.0)  # disc radii at unit spacing
        half = 0.0 if m == 1 else 0.5 * (r.sum() + 1.0)
        return np.array([[-half, 0.0], [half, 0.0]])[:m], np.ones(m), ""
    seed = int(np.random.SeedSequence([params.random_state or 0, island]).generate_state(1)[0])
    mass = 1.0 + np.bincount(es, minlength=m) + np.bincount(ed, minlength=m) + folded**FOLDED_MASS
    which = "gpu" if backend == "gpu" and m >= GPU_MIN_CORE else "cpu"
    pos = _layout.run_force_atlas2(which, es, ed, m, _layout.initial_positions(m, seed), params, mass=mass)
    return pos, np.full(m, DISC_SPACING), which


def _place_leaves(
    xy: np.ndarray, spacing: np.ndarray, leaf: np.ndarray, parent: np.ndarray, key: np.ndarray
) -> np.ndarray:
    """Phyllotaxis discs: the k-th leaf of a parent at radius s*sqrt(k+1), angle k*golden angle."""
    leaves = np.flatnonzero(leaf)
    order = np.lexsort((leaves, -key[leaves], parent[leaves]))  # by parent, downloads desc, id
    leaves = leaves[order]
    par = parent[leaves]
    starts = np.flatnonzero(np.r_[True, par[1:] != par[:-1]])
    rank = np.arange(leaves.size) - np.repeat(starts, np.diff(np.r_[starts, leaves.size]))
    radius = spacing[par] * np.sqrt(rank + 1.0)
    angle = rank * GOLDEN_ANGLE
    out = xy.copy()
    out[leaves, 0] = xy[par, 0] + radius * np.cos(angle)
    out[leaves, 1] = xy[par, 1] + radius * np.sin(angle)
    return out


def _pack_islands(xy: np.ndarray, labels: np.ndarray, ncomp: int) -> np.ndarray:
    """Scale islands to area ~ node count, pack them as circles, fit the map into [0, 256]^2."""
    if xy.shape[0] == 0:
        return xy
    size = np.bincount(labels, minlength=ncomp).astype(np.float64)
    lo = np.full((ncomp, 2), np.inf)
    hi = np.full((ncomp, 2), -np.inf)
    np.minimum.at(lo, labels, xy)
    np.maximum.at(hi, labels, xy)
    centre = 0.5 * (lo + hi)
    rel = xy - centre[labels]
    extent = np.zeros(ncomp)
    np.maximum.at(extent, labels, np.hypot(rel[:, 0], rel[:, 1]))
    target = np.sqrt(size)
    scale = np.where(extent > 0, target / np.where(extent > 0, extent, 1.0), 1.0)
    radii = target + ISLAND_GAP
    order = np.lexsort((np.arange(ncomp), -size))  # largest first, ties by label: deterministic
    centres = np.zeros((ncomp, 2))
    centres[order] = pack_circles(radii[order])
    placed = rel * scale[labels, None] + centres[labels]
    return _fit(placed, centres, radii)


def _fit(xy: np.ndarray, centres: np.ndarray, radii: np.ndarray) -> np.ndarray:
    lo = (centres - radii[:, None]).min(axis=0)
    hi = (centres + radii[:, None]).max(axis=0)
    span = float((hi - lo).max())
    scale = (WORLD - 2 * MARGIN) / span if span > 0 else 1.0
    return (xy - 0.5 * (lo + hi)) * scale + 0.5 * WORLD


# Front-chain circle packing (Wang et al. 2006, the algorithm behind d3.packSiblings), written here
# because neither scipy nor numpy packs circles and the map must not depend on a JS toolchain.
# Circles are placed in the given order, each tangent to two neighbours on the "front chain" (the
# current outer boundary) closest to the centroid, so the first (largest) sit in the middle.


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


def _overlaps(i: int, j: int, x: np.ndarray, y: np.ndarray, r: np.ndarray) -> bool:
    dr = r[i] + r[j] - 1e-9 * (r[i] + r[j])
    return dr > 0 and dr * dr > (x[i] - x[j]) ** 2 + (y[i] - y[j]) ** 2


def _score(i: int, nxt: list[int], x: np.ndarray, y: np.ndarray, r: np.ndarray) -> float:
    """Squared distance to the origin of the weighted midpoint of chain edge (i, next(i))."""
    j = nxt[i]
    ab = r[i] + r[j]
    mx, my = (x[i] * r[j] + x[j] * r[i]) / ab, (y[i] * r[j] + y[j] * r[i]) / ab
    return mx * mx + my * my


def pack_circles(radii: np.ndarray) -> np.ndarray:
    """Centres (n, 2) of non-overlapping circles with these radii (> 0), packed around the origin."""
    r = np.asarray(radii, dtype=np.float64)
    n = r.size
    x, y = np.zeros(n), np.zeros(n)
    if n >= 2:
        x[0], x[1] = -r[1], r[0]
    if n >= 3:
        _place(1, 0, 2, x, y, r)
    nxt, prv = list(range(n)), list(range(n))
    if n >= 3:
        nxt[0], nxt[1], nxt[2] = 1, 2, 0
        prv[0], prv[1], prv[2] = 2, 0, 1
    a, b, i = 0, 1, 3
    while i < n:
        _place(a, b, i, x, y, r)
        hit = _first_overlap(a, b, i, nxt, prv, x, y, r)
        if hit is not None:  # drop the overlapped arc of the chain and retry circle i
            if hit[0] == "b":
                b = hit[1]
            else:
                a = hit[1]
            nxt[a], prv[b] = b, a
            continue
        prv[i], nxt[i] = a, b
        nxt[a], prv[b] = i, i
        a, b = _closest_pair(i, nxt, x, y, r)
        i += 1
    return np.column_stack([x, y])


def _first_overlap(
    a: int, b: int, c: int, nxt: list[int], prv: list[int], x: np.ndarray, y: np.ndarray, r: np.ndarray
) -> tuple[str, int] | None:
    """Walk the chain from both ends of (a, b), nearest arc first; return the first circle hit."""
    j, k, sj, sk = nxt[b], prv[a], r[b], r[a]
    while True:
        if sj <= sk:
            if _overlaps(j, c, x, y, r):
                return "b", j
            sj += r[j]
            j = nxt[j]
        else:
            if _overlaps(k, c, x, y, r):
                return "a", k
            sk += r[k]
            k = prv[k]
        if j == nxt[k]:
            return None


def _closest_pair(c: int, nxt: list[int], x: np.ndarray, y: np.ndarray, r: np.ndarray) -> tuple[int, int]:
    """The chain edge whose weighted midpoint is closest to the origin (where the next circle goes)."""
    best, best_score = c, _score(c, nxt, x, y, r)
    j = nxt[c]
    while j != c:
        s = _score(j, nxt, x, y, r)
        if s < best_score:
            best, best_score = j, s
        j = nxt[j]
    return best, nxt[best]
