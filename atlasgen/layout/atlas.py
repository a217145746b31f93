"""The atlas composition: a lineage DAG laid out as a map in world coordinates [0, 256]^2.

One global ForceAtlas2 over the Hub gives a disc of specks with the big families pushed to the rim as
rings. Instead:

1. models with no documented lineage (no edge; ~60% of the Hub) go to their own region, one dense
   phyllotaxis disc per task (``regions.py``), instead of fogging the map as one-model islands;
2. the rest splits into weakly connected components (one island per family);
3. leaves (one parent, no children) are folded out of the graph; after ForceAtlas2 they sit around their
   parent in a phyllotaxis (golden-angle) disc, most-downloaded closest, so a base with hundreds of
   quantizations reads as a dense star, not a ring. The parent keeps their count in its FA2 mass, so
   FA2 reserves room for the disc;
4. ForceAtlas2 runs per island on the remaining core (1-2 core nodes: closed form);
5. each island is scaled so that its area is proportional to its node count (uniform density: one
   "packing unit" between neighbouring points, as in the group discs), and the islands are packed as
   circles, largest in the centre (``pack.py``), the two regions side by side;
6. everything is scaled into [0, 256]^2 (x right, y down), centred, aspect preserved, at the largest
   power-of-two scale at which it fills at most a quarter of the square's side (``world.fresh_unit``):
   room to grow around it, and the same detail per model at the deepest tile zoom for every map.

With ``previous`` (last snapshot's positions) steps 4-6 keep survivors in place instead (``stable.py``,
``parts.py``, ``compose.py``): the map is never rescaled, it grows outward.
"""

from __future__ import annotations

from collections.abc import Sequence
from time import perf_counter
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

import atlasgen.layout.stable as stable
from atlasgen.layout.backends import choose_backend, initial_positions, run_force_atlas2
from atlasgen.layout.drift import REBUILD_SCALE, drift
from atlasgen.layout.pack import pack_circles
from atlasgen.layout.params import ForceAtlas2Params, LayoutParameterError, check_graph
from atlasgen.layout.regions import (
    Discs,
    arrange,
    bbox,
    check_groups,
    describe,
    disc_radii,
    group_discs,
    phyllotaxis,
)
from atlasgen.layout.world import FRESH_FILL, GROWTH_ROOM, ISLAND_GAP, MARGIN, WORLD, fresh_unit, world_size
from atlasgen.progress import bar

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
    groups: np.ndarray | None = None,
    group_labels: Sequence[str] | None = None,
    previous: np.ndarray | None = None,
    previous_family: np.ndarray | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Lay out a lineage DAG (edges parent -> child) as an atlas: families as islands, undocumented
    models (no edge) grouped by task in a region of their own.

    ``weights`` are per *node* (downloads; NaN = unknown, ranked lowest): they order each disc, most
    downloaded in the centre. ``groups`` is an int code per node (task; -1 = unknown) and
    ``group_labels`` a label per code; they group the undocumented models. ``previous`` is the last
    atlas's ``(n_nodes, 2)`` world positions (NaN rows: new models): survivors then stay where they
    were. ``previous_family`` names each node's island in the previous atlas (-1: none; from its
    lineage): then families that new links joined are told apart (``parts.py``). Returns ``(xy, info)``:
    ``xy`` float64 ``(n_nodes, 2)`` inside ``[0, world]^2`` (``info["world"]``: 256 for a fresh map;
    a map built on a previous one never shrinks, it grows); ``info`` holds backend, reason, params,
    seconds, components, counts, ``unit`` (world units per packing unit: a power of two for a fresh map,
    the previous map's for one built on it; the tiles' depth follows it), ``regions`` (bbox of each region, centre, radius and count of each group
    disc), ``stability`` (survivors' displacement / map extent, by cause) and, with ``previous``,
    ``drift`` (this map against a fresh packing of the same snapshot, ``drift.py``).
    """
    t0 = perf_counter()
    src, dst, n, _ = check_graph(sources, targets, n_nodes, None)
    rank_key = _rank_key(weights, n)
    codes, names = check_groups(groups, group_labels, n)
    prev = stable.check_previous(previous, n)
    old_family = stable.check_families(previous_family, n)
    params = ForceAtlas2Params(max_iter=max_iter, random_state=seed, **ATLAS_FA2)  # validates
    name, reason = choose_backend(backend)
    compile_s = _warm_up() if n else 0.0
    src, dst = _clean_edges(src, dst, n)
    comp, ncomp = _components(src, dst, n)
    lineage = np.flatnonzero(comp >= 0)
    discs = group_discs(np.flatnonzero(comp < 0), codes, rank_key)
    leaf, parent = _fold_leaves(src, dst, n)
    frame = None
    if prev is not None:
        frame = stable.build_frame(prev, comp, ncomp, discs.nodes, discs.disc, old_family, MARGIN)
    core_xy, spacing, fa2_s, used = _layout_cores(
        n, src, dst, leaf, parent, comp, ncomp, params, name, progress, frame
    )
    t_pack = perf_counter()
    fa2_xy = _place_leaves(core_xy, spacing, leaf, parent, rank_key)
    sigma, mid = _island_scale(fa2_xy, comp, ncomp, lineage)
    if frame is None:
        xy, disc_centres, unit = _compose(fa2_xy, sigma, mid, comp, ncomp, lineage, discs)
    else:
        from atlasgen.layout.compose import compose_stable

        xy, disc_centres = compose_stable(
            frame, fa2_xy, sigma, mid, spacing, comp, ncomp, leaf, parent, rank_key, discs
        )
        unit = frame.u
    info: dict[str, Any] = {
        "backend": name,
        "reason": reason,
        "backends_used": sorted(used),
        "params": {**params.as_dict(), "disc_spacing": DISC_SPACING, "island_gap": ISLAND_GAP},
        "seed": seed,
        "components": int(ncomp + discs.nodes.size),
        "islands": int(ncomp),
        "undocumented": int(discs.nodes.size),
        "folded_leaves": int(leaf.sum()),
        "regions": describe(xy, lineage, discs, disc_centres, names),
        "world": world_size(xy),
        "unit": unit,
        "stability": stable.displacement(xy, prev, None if frame is None else frame.parts.cause),
        "seconds": perf_counter() - t0,
        "seconds_fa2": fa2_s,
        "seconds_pack": perf_counter() - t_pack,
        "seconds_compile": compile_s,
    }
    if frame is not None:
        info["stability"]["families_joined"] = frame.parts.joined
        info["stability"]["parts_moved"] = int(frame.parts.moving.sum())
        label = np.where(comp >= 0, comp, 0)
        label[discs.nodes] = ncomp + discs.disc
        fresh, centres, radii, _ = _pack_fresh(fa2_xy, sigma, mid, comp, ncomp, lineage, discs)
        placed = ~frame.anchor
        inside = frame.parts.part >= 0
        placed[inside] |= frame.parts.moving[frame.parts.part[inside]]
        info["drift"] = drift(xy / frame.u, fresh, label, placed)
        scale = frame.u / _fill_scale(centres, radii)
        info["drift"]["scale_vs_fresh"] = round(scale, 4)
        info["drift"]["rebuild_advised"] |= bool(scale > REBUILD_SCALE)
        info["seconds"] = perf_counter() - t0
    return xy, info


def _rank_key(weights: Any, n: int) -> np.ndarray:
    """Per-node sort key for discs: downloads, NaN/missing -> -inf (last)."""
    if weights is None:
        return np.zeros(n)
    w = np.asarray(weights, dtype=np.float64).ravel()
    if w.size != n:
        raise LayoutParameterError(f"weights must hold one value per node ({n}), got {w.size}")
    return np.where(np.isnan(w), -np.inf, w)


def _warm_up() -> float:
    """Compile (or load from numba's cache) the serial and parallel kernels; return the seconds taken."""
    from atlasgen.layout._cpu import EXACT_BELOW, PARALLEL_FROM, force_atlas2_cpu

    t = perf_counter()
    for k in (4, EXACT_BELOW, PARALLEL_FROM):  # exact, Barnes-Hut, parallel Barnes-Hut
        ring = np.arange(k, dtype=np.int64)
        pos = initial_positions(k, 0)
        force_atlas2_cpu(ring, (ring + 1) % k, k, pos, ForceAtlas2Params(max_iter=1))
    pack_circles(np.ones(4))
    return perf_counter() - t


def _clean_edges(src: np.ndarray, dst: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Drop self-loops and duplicate pairs (the graph stage should have done it; be robust)."""
    keep = src != dst
    key = np.unique(src[keep] * max(n, 1) + dst[keep])
    return key // max(n, 1), key % max(n, 1)


def _components(src: np.ndarray, dst: np.ndarray, n: int) -> tuple[np.ndarray, int]:
    """Weakly connected component per node, numbered 0.. over nodes with an edge; -1 for the rest."""
    _, labels = connected_components(
        sp.coo_matrix((np.ones(src.size), (src, dst)), shape=(n, n)), directed=True, connection="weak"
    )
    linked = np.zeros(n, dtype=bool)
    linked[src] = True
    linked[dst] = True
    comp = np.full(n, -1, dtype=np.int64)
    uniq, dense = np.unique(labels[linked], return_inverse=True)
    comp[linked] = dense
    return comp, int(uniq.size)


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
    parent: np.ndarray,
    comp: np.ndarray,
    ncomp: int,
    params: ForceAtlas2Params,
    backend: str,
    progress: bool,
    frame: stable.Frame | None,
) -> tuple[np.ndarray, np.ndarray, float, set[str]]:
    """Positions of core nodes (per island, island-local, FA2 units) and each core node's disc spacing.

    Islands of 1-2 core nodes are laid out in closed form, all at once; the rest one by one.
    """
    keep = ~leaf[dst]
    csrc, cdst = src[keep], dst[keep]
    order = np.argsort(comp[csrc], kind="stable")
    csrc, cdst = csrc[order], cdst[order]
    edge_bounds = np.searchsorted(comp[csrc], np.arange(ncomp + 1))
    core = np.flatnonzero(~leaf & (comp >= 0))
    core = core[np.argsort(comp[core], kind="stable")]
    node_bounds = np.searchsorted(comp[core], np.arange(ncomp + 1))
    folded = np.bincount(src[leaf[dst]], minlength=n).astype(np.float64)
    xy, spacing = _small_cores(core, node_bounds, folded, n)
    seeds, change = (
        (None, None)
        if frame is None
        else stable.fa2_seeds(frame, csrc, cdst, comp, ncomp, parent, DISC_SPACING, params.random_state or 0)
    )
    local = np.zeros(n, dtype=np.int64)
    fa2_s, used = 0.0, set()
    big = np.flatnonzero(np.diff(node_bounds) > 2)
    for c in bar(big, desc="layout", unit="island", enabled=progress):  # one line in a log (progress.py)
        members = core[node_bounds[c] : node_bounds[c + 1]]
        local[members] = np.arange(members.size)
        es = local[csrc[edge_bounds[c] : edge_bounds[c + 1]]]
        ed = local[cdst[edge_bounds[c] : edge_bounds[c + 1]]]
        start, p = None, params
        if seeds is not None and change is not None and not np.isnan(seeds[members[0], 0]):
            start = seeds[members]
            p = ForceAtlas2Params(
                **{**params.as_dict(), "max_iter": stable.iterations(params.max_iter, change[c])}
            )
        t = perf_counter()
        pos, which = _layout_core(members.size, es, ed, folded[members], p, backend, int(c), start)
        fa2_s += perf_counter() - t
        used.add(which)
        xy[members], spacing[members] = pos, DISC_SPACING
    return xy, spacing, fa2_s, used


def _small_cores(
    core: np.ndarray, node_bounds: np.ndarray, folded: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Cores of one node sit at 0; of two, side by side with room for both discs (unit spacing)."""
    xy, spacing = np.zeros((n, 2)), np.ones(n)
    size = np.diff(node_bounds)
    pairs = np.flatnonzero(size == 2)
    a, b = core[node_bounds[pairs]], core[node_bounds[pairs] + 1]
    half = 0.5 * (np.sqrt(folded[a] + 1.0) + np.sqrt(folded[b] + 1.0) + 1.0)
    xy[a, 0], xy[b, 0] = -half, half
    return xy, spacing


def _layout_core(
    m: int,
    es: np.ndarray,
    ed: np.ndarray,
    folded: np.ndarray,
    params: ForceAtlas2Params,
    backend: str,
    island: int,
    start: np.ndarray | None,
) -> tuple[np.ndarray, str]:
    """One island's core of >= 3 nodes: (positions (m, 2), backend used)."""
    if start is None:
        seed = int(np.random.SeedSequence([params.random_state or 0, island]).generate_state(1)[0])
        start = initial_positions(m, seed)
    mass = 1.0 + np.bincount(es, minlength=m) + np.bincount(ed, minlength=m) + folded**FOLDED_MASS
    which = "gpu" if backend == "gpu" and m >= GPU_MIN_CORE else "cpu"
    return run_force_atlas2(which, es, ed, m, start, params, mass=mass), which


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
    out = xy.copy()
    out[leaves] = xy[par] + phyllotaxis(rank, spacing[par], 1.0)
    return out


def _island_scale(
    xy: np.ndarray, comp: np.ndarray, ncomp: int, lineage: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per island: the scale giving it radius sqrt(node count) (packing units), and its bbox centre."""
    c, pts = comp[lineage], xy[lineage]
    size = np.bincount(c, minlength=ncomp).astype(np.float64)
    lo = np.full((ncomp, 2), np.inf)
    hi = np.full((ncomp, 2), -np.inf)
    np.minimum.at(lo, c, pts)
    np.maximum.at(hi, c, pts)
    mid = 0.5 * (lo + hi)
    extent = np.zeros(ncomp)
    np.maximum.at(extent, c, np.hypot(*(pts - mid[c]).T))
    target = np.sqrt(size)
    return np.where(extent > 0, target / np.where(extent > 0, extent, 1.0), 1.0), mid


def _compose(
    fa2_xy: np.ndarray,
    sigma: np.ndarray,
    mid: np.ndarray,
    comp: np.ndarray,
    ncomp: int,
    lineage: np.ndarray,
    discs: Discs,
) -> tuple[np.ndarray, np.ndarray, float]:
    """A fresh map: pack islands and group discs as two regions, centred in the world square at a
    power-of-two scale (``world.fresh_unit``). Returns positions, group disc centres and the scale."""
    pu, centres, radii, und_c = _pack_fresh(fa2_xy, sigma, mid, comp, ncomp, lineage, discs)
    if radii.size == 0:
        return pu, und_c, 1.0
    lo, hi = bbox(centres, radii)
    scale = fresh_unit(_span(centres, radii))
    shift = 0.5 * WORLD - 0.5 * (lo + hi) * scale
    return pu * scale + shift, und_c * scale + shift, scale


def _span(centres: np.ndarray, radii: np.ndarray) -> float:
    """The packing's side in packing units (its bounding box's larger side); 0 for no circles."""
    lo, hi = bbox(centres, radii)
    return float((hi - lo).max())


def _fill_scale(centres: np.ndarray, radii: np.ndarray) -> float:
    """World units per packing unit at which this packing would fill exactly FRESH_FILL of the world's side
    (a fresh map's unit, ``fresh_unit``, is the power of two at or below it)."""
    span = _span(centres, radii)
    return FRESH_FILL * (WORLD - 2 * MARGIN) / span if span > 0 else 1.0


def _pack_fresh(
    fa2_xy: np.ndarray,
    sigma: np.ndarray,
    mid: np.ndarray,
    comp: np.ndarray,
    ncomp: int,
    lineage: np.ndarray,
    discs: Discs,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The fresh packing in packing units: (positions, circle centres, radii, group disc centres)."""
    c = comp[lineage]
    size = np.bincount(c, minlength=ncomp).astype(np.float64)
    lin_r = np.sqrt(size * (1.0 + GROWTH_ROOM)) + ISLAND_GAP
    und_r = disc_radii(discs.counts * (1.0 + GROWTH_ROOM))
    order = np.lexsort((np.arange(ncomp), -size))  # largest first, ties by label: deterministic
    lin_c = np.zeros((ncomp, 2))
    lin_c[order], und_c = arrange(lin_r[order], und_r)
    pu = np.zeros((comp.size, 2))
    pu[lineage] = (fa2_xy[lineage] - mid[c]) * sigma[c][:, None] + lin_c[c]
    pu[discs.nodes] = discs.local + und_c[discs.disc]
    return pu, np.concatenate([lin_c, und_c]), np.concatenate([lin_r, und_r]), und_c
