"""Stable composition: islands and group discs placed where the previous atlas had their survivors.

Works in the previous map's packing units (``Frame.prev``; world = u * packing units), see ``stable.py``.
"""

from __future__ import annotations

import numpy as np

from atlasgen.layout.pack import place_free, separate
from atlasgen.layout.regions import GROUP_GAP, GROUP_SPACING, REGION_GAP, Discs, bbox, disc_radii, fill_slots
from atlasgen.layout.stable import Frame, align
from atlasgen.layout.world import ISLAND_GAP, fit_world

PIN_BELOW = 0.5  # islands whose core is less new than this keep their surviving core models exactly
PIN_FIT = 0.3  # ... and whose survivors fit the new shape to within this share of the island radius
KEEP_SLACK = 1.5  # a survivor further than this many disc radii from its disc's centre is re-slotted


def compose_stable(
    frame: Frame,
    fa2_xy: np.ndarray,
    sigma: np.ndarray,
    mid: np.ndarray,
    spacing: np.ndarray,
    comp: np.ndarray,
    ncomp: int,
    leaf: np.ndarray,
    parent: np.ndarray,
    key: np.ndarray,
    discs: Discs,
) -> tuple[np.ndarray, np.ndarray]:
    """World positions of every node and the group discs' centres."""
    n = comp.size
    pu = np.full((n, 2), np.nan)
    anchored = _place_anchored(frame, fa2_xy, sigma, spacing, comp, ncomp, leaf, parent, key, pu)
    lin_c, lin_r = _circles(pu, comp, ncomp, ISLAND_GAP)
    new_isl = ~anchored
    size = np.bincount(comp[comp >= 0], minlength=ncomp).astype(np.float64)
    lineage = np.flatnonzero(comp >= 0)
    fresh = lineage[new_isl[comp[lineage]]]
    pu[fresh] = (fa2_xy[fresh] - mid[comp[fresh]]) * sigma[comp[fresh]][:, None]
    lin_r[new_isl] = np.sqrt(size[new_isl]) + ISLAND_GAP
    lin_c[new_isl] = 0.0

    d_anch = _place_discs(frame, discs, key, pu)
    d_of = np.full(n, -1)
    d_of[discs.nodes] = discs.disc
    und_c, und_r = _circles(pu, d_of, discs.codes.size, GROUP_GAP)
    pu[discs.nodes[~d_anch[discs.disc]]] = discs.local[~d_anch[discs.disc]]
    und_r[~d_anch] = disc_radii(discs.counts[~d_anch])
    und_c[~d_anch] = 0.0

    # growth made some circles overlap: push them apart, then fit the brand-new ones into free space
    centres = np.concatenate([lin_c, und_c])
    radii = np.concatenate([lin_r, und_r])
    fixed = np.concatenate([anchored, d_anch])
    moved = centres.copy()
    moved[fixed] = separate(centres[fixed], radii[fixed])
    moved[~fixed] = _place_new(moved, radii, fixed, ncomp)
    delta = moved - np.where(fixed[:, None], centres, 0.0)
    owner = np.where(comp >= 0, comp, -1)
    owner[discs.nodes] = ncomp + discs.disc
    pu += delta[owner]
    world = fit_world(np.concatenate([pu, moved[ncomp:]]), frame.u)
    return world[:n], world[n:]


def _place_anchored(
    frame: Frame,
    fa2_xy: np.ndarray,
    sigma: np.ndarray,
    spacing: np.ndarray,
    comp: np.ndarray,
    ncomp: int,
    leaf: np.ndarray,
    parent: np.ndarray,
    key: np.ndarray,
    pu: np.ndarray,
) -> np.ndarray:
    """Cores of anchored islands mapped onto their old spot, then their leaves. Returns the mask."""
    core = (comp >= 0) & ~leaf
    anchors = core & frame.anchor
    anchored = np.bincount(comp[anchors], minlength=ncomp) > 0
    cos, sin, scale, shift = align(fa2_xy, frame.prev, anchors, comp, ncomp, sigma)
    sel = np.flatnonzero(core & anchored[np.maximum(comp, 0)])
    c = comp[sel]
    q = fa2_xy[sel]
    rot = np.column_stack([cos[c] * q[:, 0] - sin[c] * q[:, 1], sin[c] * q[:, 0] + cos[c] * q[:, 1]])
    pu[sel] = scale[c][:, None] * rot + shift[c]
    # Survivors of a mostly unchanged core stay exactly put; ForceAtlas2 only found room for the new
    # models among them. A mostly new core keeps its new shape (aligned onto the survivors).
    # (not when the survivors came from places far apart: two old families joined by a new model)
    n_core = np.bincount(comp[core], minlength=ncomp)
    pinned = np.bincount(comp[anchors], minlength=ncomp) >= (1.0 - PIN_BELOW) * n_core
    apart = np.zeros(ncomp)
    a_idx = np.flatnonzero(anchors)
    np.maximum.at(apart, comp[a_idx], np.hypot(*(pu[a_idx] - frame.prev[a_idx]).T))
    size = np.bincount(comp[comp >= 0], minlength=ncomp)
    pinned &= apart <= PIN_FIT * np.sqrt(size) + 1.0
    pin = np.flatnonzero(anchors & pinned[np.maximum(comp, 0)])
    pu[pin] = frame.prev[pin]
    leaves = np.flatnonzero(leaf & anchored[np.maximum(comp, 0)])
    par = parent[leaves]
    step = scale[comp[leaves]] * spacing[par]  # leaf spacing of this island's discs, packing units
    offset = frame.prev[leaves] - frame.prev[par]
    n_leaves = np.bincount(par, minlength=comp.size)[par]
    reach = KEEP_SLACK * step * np.sqrt(n_leaves + 1.0) + step
    keep = frame.anchor[leaves] & frame.anchor[par] & (np.hypot(*offset.T) <= reach)
    pu[leaves[keep]] = pu[par[keep]] + offset[keep]
    new = leaves[~keep]
    new = new[np.lexsort((new, -key[new], parent[new]))]
    kept_count = np.bincount(par[keep], minlength=comp.size)
    step_of = np.zeros(comp.size)
    step_of[par] = step
    pu[new] = fill_slots(pu, step_of, 1.0, pu[leaves[keep]], kept_count, parent[new])
    return anchored


def _place_discs(frame: Frame, discs: Discs, key: np.ndarray, pu: np.ndarray) -> np.ndarray:
    """Group discs with survivors keep their old centre and points; new models fill free slots."""
    nd = discs.codes.size
    nodes, disc = discs.nodes, discs.disc
    alive = frame.anchor[nodes]
    centre = np.zeros((nd, 2))
    for d in np.flatnonzero(np.bincount(disc[alive], minlength=nd)):
        centre[d] = np.median(frame.prev[nodes[alive & (disc == d)]], axis=0)
    has = np.bincount(disc[alive], minlength=nd) > 0
    reach = GROUP_SPACING * (KEEP_SLACK * np.sqrt(discs.counts) + 2.0)
    keep = alive & has[disc] & (np.hypot(*(frame.prev[nodes] - centre[disc]).T) <= reach[disc])
    pu[nodes[keep]] = frame.prev[nodes[keep]]
    new = ~keep & has[disc]  # nodes are already sorted by disc, then downloads
    kept_count = np.bincount(disc[keep], minlength=nd)
    pu[nodes[new]] = fill_slots(
        centre, np.full(nd, GROUP_SPACING), 0.5, pu[nodes[keep]], kept_count, disc[new]
    )
    return has


def _circles(pu: np.ndarray, owner: np.ndarray, k: int, gap: float) -> tuple[np.ndarray, np.ndarray]:
    """Bounding circle (bbox centre, max distance + gap) of each owner's placed points."""
    sel = np.flatnonzero((owner >= 0) & ~np.isnan(pu[:, 0]))
    o = owner[sel]
    lo = np.full((k, 2), np.inf)
    hi = np.full((k, 2), -np.inf)
    np.minimum.at(lo, o, pu[sel])
    np.maximum.at(hi, o, pu[sel])
    ok = np.isfinite(lo[:, 0])
    mid = np.zeros((k, 2))
    mid[ok] = 0.5 * (lo[ok] + hi[ok])
    r = np.zeros(k)
    np.maximum.at(r, o, np.hypot(*(pu[sel] - mid[o]).T))
    return mid, r + gap


def _place_new(centres: np.ndarray, radii: np.ndarray, fixed: np.ndarray, ncomp: int) -> np.ndarray:
    """Centres for brand-new islands (nearest the lineage region) and discs (nearest the other)."""
    lin = np.zeros(centres.shape[0], bool)
    lin[:ncomp] = True
    out = centres.copy()
    boxes = [bbox(centres[fixed & m], radii[fixed & m]) if (fixed & m).any() else None for m in (lin, ~lin)]
    placed = fixed.copy()
    for mine, box, other, side in ((lin, boxes[0], boxes[1], -1.0), (~lin, boxes[1], boxes[0], 1.0)):
        todo = np.flatnonzero(~fixed & mine)
        if todo.size == 0:
            continue
        todo = todo[np.lexsort((todo, -radii[todo]))]
        near, avoid = _target(box, other, side)
        out[todo] = place_free(out[placed], radii[placed], radii[todo], near, gap=0.0, avoid=avoid)
        placed[todo] = True
    return out[~fixed]


Box = tuple[np.ndarray, np.ndarray]


def _target(box: Box | None, other: Box | None, side: float) -> tuple[np.ndarray, np.ndarray | None]:
    """Where a region's new circles go (its centre, or beside the other region), and the half-plane
    to avoid: everything past the other region's near edge (lineage left, undocumented right).
    """
    if other is None:
        return (np.zeros(2) if box is None else 0.5 * (box[0] + box[1])), None
    (o_lo, o_hi), gap = other, REGION_GAP * float(other[1][1] - other[0][1])
    if box is not None:
        near = 0.5 * (box[0] + box[1])
    else:  # the region is new: start it beside the other one
        near = np.array([o_hi[0] + gap if side > 0 else o_lo[0] - gap, 0.5 * (o_lo[1] + o_hi[1])])
    if side > 0:
        return near, np.array([-np.inf, -np.inf, o_hi[0] + gap, np.inf])
    return near, np.array([o_lo[0] - gap, -np.inf, np.inf, np.inf])
