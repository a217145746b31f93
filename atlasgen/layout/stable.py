"""Snapshot stability: lay a new snapshot out on the previous atlas, which is the map.

Users know last week's map and share links into it. With ``previous`` (world positions, NaN for new
models) the atlas works in the previous map's own units: ``u`` world units per packing unit, measured
from the previous map (``_unit``), so positions are never rescaled. Then:

* each survivor gets a cause (``parts.py``): kept family, largest or other part of a joined family,
  undocumented, changed region; kept families and largest parts stay exactly where they were, the
  smaller parts of a join move rigidly into the free space beside the largest (``parts.move_parts``);
* ForceAtlas2 starts from the survivors' (target) positions with few iterations, only to say where new
  core models belong; the result is aligned onto the survivors by the best rotation + translation;
* new models take free slots (``compose.py``); brand-new families and groups go into the free space
  nearest their region, and the world grows outward when the map needs room (``world.world_size``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from atlasgen.layout.params import LayoutParameterError
from atlasgen.layout.parts import (
    CAUSES,
    KEPT,
    LARGEST,
    OTHER,
    UNDOCUMENTED,
    Parts,
    find_parts,
    move_parts,
    part_circles,
)
from atlasgen.layout.regions import GROUP_GAP, GROUP_SPACING, region_sides
from atlasgen.layout.world import ISLAND_GAP

# ForceAtlas2 length units per packing unit: measured per island from its leaf discs (the innermost leaf
# sits one leaf spacing, DISC_SPACING FA2 units, from its parent); this median (0.7-1.4) otherwise.
KAPPA = 1.0
# Median nearest-neighbour distance in a golden-angle disc, in units of its spacing (1.68-1.70 for 100
# to 100k points), and the fewest undocumented survivors that measure the map's unit by it.
PHYLLOTAXIS_NN = 1.69
UNIT_MIN_POINTS = 64
UNIT_SAMPLE = 20_000
SNAP_LOG2 = 0.1  # a measured unit within 7% of a power of two is taken as that power (``_snap``)
SCALE_SLACK = 1.25  # an anchored island's scale stays within this factor of its density scale
MIN_ITER_SHARE = 0.1  # an unchanged core still gets this share of max_iter to settle new masses


@dataclass
class Frame:
    """What the previous atlas says about this snapshot, in packing units (world / u)."""

    u: float  # world units per packing unit of the previous map
    prev: np.ndarray  # (n, 2) where each survivor goes, / u (its old position; moved parts translated)
    anchor: np.ndarray  # bool per node: a survivor that stays in its region (lineage or undocumented)
    parts: Parts  # old families per new island and each survivor's cause (parts.py)
    lo: float  # nothing new goes below this on x or y (the world's margin): the world only grows outward


def check_previous(previous: Any, n: int) -> np.ndarray | None:
    if previous is None:
        return None
    prev = np.asarray(previous, dtype=np.float64)
    if prev.shape != (n, 2):
        raise LayoutParameterError(f"previous must have shape ({n}, 2), got {prev.shape}")
    prev = prev.copy()
    prev[~np.isfinite(prev).all(axis=1)] = np.nan
    return prev


def check_families(old_family: Any, n: int) -> np.ndarray | None:
    if old_family is None:
        return None
    fam = np.asarray(old_family)
    if fam.shape != (n,) or not np.issubdtype(fam.dtype, np.integer):
        raise LayoutParameterError(f"previous_family must be {n} integers, got {fam.dtype} {fam.shape}")
    return np.where(fam < 0, -1, fam).astype(np.int64)


def build_frame(
    prev: np.ndarray,
    comp: np.ndarray,
    ncomp: int,
    und: np.ndarray,
    disc: np.ndarray,
    old_family: np.ndarray | None,
    margin: float,
) -> Frame | None:
    """Measure the previous map's unit and find what happened to its families; None when too few
    survivors to measure the unit (lay out fresh).
    """
    alive = ~np.isnan(prev[:, 0])
    und_mask = np.zeros(prev.shape[0], bool)
    und_mask[und] = True
    if old_family is None:
        old_family = _guess_families(prev, comp, alive, und_mask)
    parts = find_parts(comp, alive, old_family)
    u = _unit(prev, comp, ncomp, parts.cause)
    if u is None:
        return None
    anchor = np.isin(parts.cause, (KEPT, LARGEST, OTHER, UNDOCUMENTED))
    pu = prev / u
    d_of = np.full(prev.shape[0], -1)
    d_of[und] = disc
    d_kept = np.where(anchor, d_of, -1)
    dc, dr = part_circles(pu, d_kept, int(disc.max(initial=-1)) + 1, GROUP_GAP)
    has = np.bincount(d_kept[d_kept >= 0], minlength=dr.size) > 0
    lineage_side = region_sides(np.where(anchor[:, None], pu, np.nan), comp)[0]  # the survivors' places
    pu += move_parts(pu, parts, dc[has], dr[has], ISLAND_GAP, margin / u, lineage_side)
    return Frame(u, pu, anchor, parts, margin / u)


def _unit(prev: np.ndarray, comp: np.ndarray, ncomp: int, cause: np.ndarray) -> float | None:
    """World units per packing unit of the previous map. From the group discs' point spacing when there
    are enough undocumented survivors: their spacing is GROUP_SPACING packing units in every map, fresh
    or grown, whatever shape a disc grew into. Otherwise from kept islands, each sqrt(size) packing
    units in radius when fresh (the weighted median). None when too few survivors to tell.
    """
    und = np.flatnonzero(cause == UNDOCUMENTED)
    if und.size >= UNIT_MIN_POINTS:
        some = und[:: max(1, und.size // UNIT_SAMPLE)]  # a median needs no more
        dist, _ = cKDTree(prev[und]).query(prev[some], k=2)
        return _snap(float(np.median(dist[:, 1])) / (PHYLLOTAXIS_NN * GROUP_SPACING))
    u_vals, weights = _unit_per_group(prev, comp, cause == KEPT, ncomp)
    if u_vals.size == 0:
        return None
    order = np.argsort(u_vals)
    cum = np.cumsum(weights[order])
    return _snap(float(u_vals[order][np.searchsorted(cum, 0.5 * cum[-1])]))


def _snap(unit: float) -> float:
    """A measured unit near a power of two is that power: every fresh map's unit is one (world.fresh_unit),
    and a median measures it only to a few percent; the tiles' depth and detail follow it exactly."""
    if not unit > 0:
        return unit
    power = round(math.log2(unit))
    return float(2.0**power) if abs(math.log2(unit) - power) < SNAP_LOG2 else unit


def _guess_families(prev: np.ndarray, comp: np.ndarray, alive: np.ndarray, und: np.ndarray) -> np.ndarray:
    """Old families without the previous lineage: each survivor's new island (so nothing counts as
    joined), and its old region guessed from its nearest surviving neighbour's region now.
    """
    fam = np.where(alive & (comp >= 0), comp, -1)
    idx = np.flatnonzero(alive)
    if idx.size >= 2:
        _, near = cKDTree(prev[idx]).query(prev[idx], k=2)
        moved = idx[und[idx] != und[idx[near[:, 1]]]]  # its neighbours are in the other region now
        fam[moved] = np.where(comp[moved] >= 0, -1, comp.size + moved)
    return fam


def _unit_per_group(
    prev: np.ndarray, group: np.ndarray, alive: np.ndarray, ngroup: int, centre: str = "box"
) -> tuple[np.ndarray, np.ndarray]:
    """Per group with >= 3 survivors: (radius / sqrt(survivors), survivors)."""
    sel = np.flatnonzero(alive & (group >= 0))
    g = group[sel]
    count = np.bincount(g, minlength=ngroup)
    if centre == "box":
        lo = np.full((ngroup, 2), np.inf)
        hi = np.full((ngroup, 2), -np.inf)
        np.minimum.at(lo, g, prev[sel])
        np.maximum.at(hi, g, prev[sel])
        mid = np.where(np.isfinite(lo), 0.5 * (lo + np.where(np.isfinite(hi), hi, 0.0)), 0.0)
    else:
        mid = np.zeros((ngroup, 2))
        for d in np.flatnonzero(count):
            mid[d] = np.median(prev[sel[g == d]], axis=0)
    radius = np.zeros(ngroup)
    np.maximum.at(radius, g, np.hypot(*(prev[sel] - mid[g]).T))
    ok = (count >= 3) & (radius > 0)
    return radius[ok] / np.sqrt(count[ok]), count[ok].astype(np.float64)


def fa2_seeds(
    frame: Frame,
    core_src: np.ndarray,
    core_dst: np.ndarray,
    comp: np.ndarray,
    ncomp: int,
    parent: np.ndarray,
    disc_spacing: float,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """ForceAtlas2 start positions (NaN: no anchor in its island) and each island's share of change."""
    n = comp.size
    kappa = _kappa(frame, comp, ncomp, parent, disc_spacing)
    core = np.ones(n, bool)
    core[:] = False
    core[core_src] = True
    core[core_dst] = True
    anchored_core = core & frame.anchor
    n_anchor = np.bincount(comp[anchored_core], minlength=ncomp)
    mid = np.zeros((ncomp, 2))
    np.add.at(mid, comp[anchored_core], frame.prev[anchored_core])
    mid /= np.maximum(n_anchor, 1)[:, None]
    pos = np.full((n, 2), np.nan)
    pos[anchored_core] = kappa[comp[anchored_core], None] * (
        frame.prev[anchored_core] - mid[comp[anchored_core]]
    )
    rng = np.random.default_rng(seed)
    for _ in range(64):  # new core models start next to a placed neighbour (parents first, then kin)
        todo = np.isnan(pos[core_dst, 0]) & ~np.isnan(pos[core_src, 0])
        back = np.isnan(pos[core_src, 0]) & ~np.isnan(pos[core_dst, 0])
        if not (todo.any() or back.any()):
            break
        for a, b, m in ((core_src, core_dst, todo), (core_dst, core_src, back)):
            tgt, _first = np.unique(b[m], return_index=True)
            pos[tgt] = pos[a[m][_first]] + rng.normal(0.0, 0.25, (tgt.size, 2))
    has = n_anchor[comp] > 0
    left = core & has & np.isnan(pos[:, 0])
    pos[left] = rng.normal(0.0, 1.0, (int(left.sum()), 2))
    pos[~has] = np.nan
    n_core = np.bincount(comp[core], minlength=ncomp)
    change = 1.0 - n_anchor / np.maximum(n_core, 1)
    return pos, change


def _kappa(frame: Frame, comp: np.ndarray, ncomp: int, parent: np.ndarray, disc_spacing: float) -> np.ndarray:
    """Per island, FA2 units per packing unit of the previous map, from its innermost surviving leaf."""
    leaves = np.flatnonzero((parent >= 0) & frame.anchor)
    leaves = leaves[frame.anchor[parent[leaves]]]
    dist = np.hypot(*(frame.prev[leaves] - frame.prev[parent[leaves]]).T)
    inner = np.full(ncomp, np.inf)
    np.minimum.at(inner, comp[leaves], dist)
    ok = np.isfinite(inner) & (inner > 0)
    return np.where(ok, disc_spacing / np.where(ok, inner, 1.0), KAPPA)


def iterations(max_iter: int, change: float) -> int:
    """Fewer ForceAtlas2 iterations for an island that barely changed: it starts near its old shape;
    none when no core model is new, so an unchanged family keeps its exact shape.
    """
    if change <= 0:
        return 0
    return round(max_iter * min(1.0, MIN_ITER_SHARE + 2.0 * change))


def align(
    fa2: np.ndarray, prev: np.ndarray, anchors: np.ndarray, comp: np.ndarray, ncomp: int, sigma: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per island, the rotation + scale + translation taking anchors' ForceAtlas2 positions closest to
    their previous ones (closed-form 2-D Procrustes). Returns (cos, sin, scale, shift) per island.
    """
    c = comp[anchors]
    k = np.bincount(c, minlength=ncomp).astype(np.float64)
    kk = np.maximum(k, 1.0)[:, None]
    q_mid = np.zeros((ncomp, 2))
    p_mid = np.zeros((ncomp, 2))
    np.add.at(q_mid, c, fa2[anchors])
    np.add.at(p_mid, c, prev[anchors])
    q_mid /= kk
    p_mid /= kk
    q = fa2[anchors] - q_mid[c]
    p = prev[anchors] - p_mid[c]
    dot = np.bincount(c, q[:, 0] * p[:, 0] + q[:, 1] * p[:, 1], minlength=ncomp)
    cross = np.bincount(c, q[:, 0] * p[:, 1] - q[:, 1] * p[:, 0], minlength=ncomp)
    qq = np.bincount(c, (q**2).sum(axis=1), minlength=ncomp)
    norm = np.hypot(dot, cross)
    many = (k >= 2) & (norm > 0) & (qq > 0)
    cos = np.where(many, dot / np.where(many, norm, 1.0), 1.0)
    sin = np.where(many, cross / np.where(many, norm, 1.0), 0.0)
    fit = np.where(many, norm / np.where(qq > 0, qq, 1.0), sigma)
    scale = np.clip(fit, sigma / SCALE_SLACK, sigma * SCALE_SLACK)
    rot_q = np.column_stack([cos * q_mid[:, 0] - sin * q_mid[:, 1], sin * q_mid[:, 0] + cos * q_mid[:, 1]])
    shift = p_mid - scale[:, None] * rot_q
    return cos, sin, scale, shift


def displacement(
    xy: np.ndarray, previous: np.ndarray | None, cause: np.ndarray | None = None
) -> dict[str, Any]:
    """Surviving models' moves as a share of the new map's extent: median, p95, p99 and max, overall and
    by cause (``parts.CAUSES``: kept families, the largest and the other parts of joined ones,
    undocumented models, models that changed region)."""
    if previous is None:
        return {"survivors": 0, "median": None, "p95": None}
    alive = np.isfinite(previous).all(axis=1)
    if not alive.any():
        return {"survivors": 0, "median": None, "p95": None}
    extent = float(np.ptp(xy, axis=0).max()) or 1.0
    d = np.hypot(*(xy - np.where(alive[:, None], previous, 0.0)).T) / extent
    out: dict[str, Any] = {"survivors": int(alive.sum()), **_stats(d[alive])}
    if cause is not None:
        out["by_cause"] = {name: _stats(d[alive & (cause == i)]) for i, name in enumerate(CAUSES)}
    return out


def _stats(d: np.ndarray) -> dict[str, Any]:
    if d.size == 0:
        return {"models": 0}
    q = np.percentile(d, [50, 95, 99])
    return {
        "models": int(d.size),
        "median": round(float(q[0]), 6),
        "p95": round(float(q[1]), 6),
        "p99": round(float(q[2]), 6),
        "max": round(float(d.max()), 6),
    }
