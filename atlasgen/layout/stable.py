"""Snapshot stability: lay a new snapshot out where the previous atlas had its surviving models.

Users know last week's map. With ``previous`` (world positions, NaN for new models), the atlas works in
the previous map's own units: ``u`` world units per packing unit, measured from the previous map (an
island of s models has radius sqrt(s) packing units, a group disc of k models GROUP_SPACING*sqrt(k)), so
positions are never globally rescaled. Then:

* a family whose core (non-leaf) models survived is *anchored*: ForceAtlas2 starts from the survivors'
  old positions (new core models next to a neighbour) with few iterations, and the result is mapped
  back onto the old positions by the best rotation + translation (scale held near the density scale);
* surviving leaves keep their offset from their parent; new leaves take free slots of the parent's disc;
* group discs keep their old centre and points; new models take free slots;
* overlaps that growth caused are removed with minimal movement (``pack.separate``); brand-new families
  and groups go into the free space nearest their region (``pack.place_free``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from atlasgen.layout.params import LayoutParameterError
from atlasgen.layout.regions import GROUP_SPACING

# ForceAtlas2 length units per packing unit: measured per island from its leaf discs (the innermost leaf
# sits one leaf spacing, DISC_SPACING FA2 units, from its parent); this median (0.7-1.4) otherwise.
KAPPA = 1.0
SCALE_SLACK = 1.25  # an anchored island's scale stays within this factor of its density scale
MIN_ITER_SHARE = 0.1  # an unchanged core still gets this share of max_iter to settle new masses


@dataclass
class Frame:
    """What the previous atlas says about this snapshot, in packing units (world / u)."""

    u: float  # world units per packing unit of the previous map
    prev: np.ndarray  # (n, 2) previous positions / u, NaN for new models
    anchor: np.ndarray  # bool per node: a survivor that stays in its region (lineage or undocumented)


def check_previous(previous: Any, n: int) -> np.ndarray | None:
    if previous is None:
        return None
    prev = np.asarray(previous, dtype=np.float64)
    if prev.shape != (n, 2):
        raise LayoutParameterError(f"previous must have shape ({n}, 2), got {prev.shape}")
    prev = prev.copy()
    prev[~np.isfinite(prev).all(axis=1)] = np.nan
    return prev


def build_frame(
    prev: np.ndarray, comp: np.ndarray, ncomp: int, und: np.ndarray, disc: np.ndarray
) -> Frame | None:
    """Measure the previous map's unit; None when too few survivors to measure it (lay out fresh)."""
    alive = ~np.isnan(prev[:, 0])
    unit = [_unit_per_group(prev, comp, alive, ncomp)]
    und_mask = np.zeros(prev.shape[0], bool)
    und_mask[und] = True
    d_of = np.full(prev.shape[0], -1)
    d_of[und] = disc
    d_unit, d_weight = _unit_per_group(prev, d_of, alive, int(disc.max(initial=-1)) + 1, centre="median")
    unit.append((d_unit / GROUP_SPACING, d_weight))
    u_vals = np.concatenate([v for v, _ in unit])
    weights = np.concatenate([w for _, w in unit])
    if u_vals.size == 0:
        return None
    order = np.argsort(u_vals)
    cum = np.cumsum(weights[order])
    u = float(u_vals[order][np.searchsorted(cum, 0.5 * cum[-1])])  # weighted median
    anchor = alive.copy()
    # a model that moved between regions must move: its old neighbours are now in the other region
    idx = np.flatnonzero(alive)
    if idx.size >= 2:
        _, near = cKDTree(prev[idx]).query(prev[idx], k=2)
        anchor[idx] = und_mask[idx] == und_mask[idx[near[:, 1]]]
    return Frame(u, prev / u, anchor)


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


def displacement(xy: np.ndarray, previous: np.ndarray | None) -> dict[str, Any]:
    """Median and 95th-percentile move of surviving models, as a share of the new map's extent."""
    if previous is None:
        return {"survivors": 0, "median": None, "p95": None}
    alive = np.isfinite(previous).all(axis=1)
    if not alive.any():
        return {"survivors": 0, "median": None, "p95": None}
    extent = float(np.ptp(xy, axis=0).max()) or 1.0
    d = np.hypot(*(xy[alive] - previous[alive]).T) / extent
    return {
        "survivors": int(alive.sum()),
        "median": round(float(np.median(d)), 6),
        "p95": round(float(np.percentile(d, 95)), 6),
    }
