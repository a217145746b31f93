"""Stable composition: last week's map is the map; only what the data changed moves.

Works in the previous map's packing units (``Frame.prev``: world = u * packing units), see ``stable.py``.

* Every survivor stays exactly where ``Frame.prev`` puts it: its old position, or for the smaller parts of
  a joined family their old position shifted beside the largest part (``parts.py``).
* New models of an existing island or group disc take the free slot nearest where they belong (a new
  leaf: its parent's disc; a new core model: where ForceAtlas2, aligned onto the survivors, puts it;
  a new undocumented model: its task's disc). Slots near another island's points are skipped, so a
  family that outgrows its room grows around its neighbours, never into them, and nobody is pushed.
* Brand-new islands and discs go into the free space nearest their region: holes that deleted models
  left first, then the edge. Nothing goes above or left of the world's margin, so the world only grows
  outward (right and down) and no coordinate is ever rescaled.
* The regions keep their sides of a border: the undocumented region's left edge. Nothing undocumented
  goes left of it and nothing of the lineage region right of it (less a gap), so neither region's growth
  walls the other in: the lineage region grows left, up and down around its core, and each group disc
  grows as a disc, its centre moving away from the walls as it needs room (``_disc_centres``).
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from atlasgen.layout.pack import place_free, place_near
from atlasgen.layout.parts import cluster_circles
from atlasgen.layout.regions import (
    GROUP_GAP,
    GROUP_SPACING,
    REGION_GAP,
    REGION_REACH,
    Blockers,
    Discs,
    Sides,
    Territory,
    disc_radii,
    fill_slots,
    phyllotaxis,
    region_sides,
    territory,
)
from atlasgen.layout.stable import Frame, align
from atlasgen.layout.world import ISLAND_GAP

Box = tuple[np.ndarray, np.ndarray]
# How far a new model looks for a free slot in its island: a core model this many slots around where
# ForceAtlas2 wants it, a leaf this factor beyond its parent's full disc radius. Beyond, the island has
# no room (neighbours are close): the model goes to the island's annex in the free space beside it.
CORE_SLOTS = 32
SLOT_REACH = 1.5
SETTLE_ROUNDS = 8
PLACE_CELLS = 1_000_000  # free-space grid for new islands: cells of about a small island's radius


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
    label = comp.copy()
    label[discs.nodes] = ncomp + discs.disc
    pu = np.full((n, 2), np.nan)
    pu[frame.anchor] = frame.prev[frame.anchor]
    sides = region_sides(pu, comp)
    lin_box, und_box = _walls(pu, comp, frame.lo, sides)
    anchored, step, wish = _align_new_cores(frame, fa2_xy, sigma, spacing, comp, ncomp, leaf)
    _grow_islands(frame, pu, label, anchored, step, wish, comp, leaf, parent, key, lin_box)
    d_anch, d_centre = _grow_discs(frame, discs, pu, label, ncomp, und_box, sides[1][0])

    # obstacles for what goes into free space: the circles of clusters of islands with survivors, each point
    # of the group discs (a disc grown for months is no circle)
    und_pts = discs.nodes[d_anch[discs.disc]]
    isl_c, isl_r = cluster_circles(pu, np.where(comp >= 0, comp, -1), ISLAND_GAP)
    obst_c = np.concatenate([isl_c, pu[und_pts]])
    obst_r = np.concatenate([isl_r, np.full(und_pts.size, GROUP_GAP)])
    over = np.flatnonzero(np.isnan(pu[:, 0]) & (comp >= 0) & anchored[np.maximum(comp, 0)])
    if over.size:
        ann_c, ann_r = _annexes(over, pu, comp, parent, key, step, obst_c, obst_r, frame.lo, sides[0])
        obst_c, obst_r = np.concatenate([obst_c, ann_c]), np.concatenate([obst_r, ann_r])
    lineage = np.flatnonzero(comp >= 0)
    new_isl = ~anchored
    fresh = lineage[new_isl[comp[lineage]]]
    pu[fresh] = (fa2_xy[fresh] - mid[comp[fresh]]) * sigma[comp[fresh]][:, None]
    size = np.bincount(comp[lineage], minlength=ncomp).astype(np.float64)
    new_d = discs.nodes[~d_anch[discs.disc]]
    pu[new_d] = discs.local[~d_anch[discs.disc]]
    radii = np.concatenate([np.sqrt(size) + ISLAND_GAP, disc_radii(discs.counts)])
    todo = np.concatenate([new_isl, ~d_anch])
    centres = np.concatenate([np.zeros((ncomp, 2)), d_centre])
    boxes = _boxes(pu, comp, frame.anchor)
    centres[todo] = _place_new(obst_c, obst_r, radii, todo, ncomp, boxes, frame.lo, sides)
    pu[~frame.anchor] += np.where(todo[label], 1.0, 0.0)[~frame.anchor, None] * centres[label[~frame.anchor]]
    return pu * frame.u, centres[ncomp:] * frame.u


def _annexes(
    over: np.ndarray,
    pu: np.ndarray,
    comp: np.ndarray,
    parent: np.ndarray,
    key: np.ndarray,
    step: np.ndarray,
    obst_c: np.ndarray,
    obst_r: np.ndarray,
    lo: float,
    x_range: tuple[float, float],
) -> tuple[np.ndarray, np.ndarray]:
    """New models that found no room in their island (its neighbours are close): one disc per parent (its
    new leaves, most important first, as in the island's own leaf discs; an island's new core models form
    one more), largest first, each set into the free space nearest its parent (its island's middle): a
    small one fits a gap beside the island, and each parent's new models sit together (their lines to it
    run together: tiles/bundle.py). Returns the annexes' circles."""
    over = over[np.lexsort((over, -key[over], parent[over], comp[over]))]
    group = np.r_[True, (comp[over][1:] != comp[over][:-1]) | (parent[over][1:] != parent[over][:-1])]
    start = np.flatnonzero(group)
    count = np.diff(np.r_[start, over.size])
    isl = comp[over[start]]
    spacing = _median_per_island(step, comp)[isl]
    radius = spacing * np.sqrt(count + 0.5) + ISLAND_GAP
    order = np.lexsort((np.arange(isl.size), -radius))
    centre = np.zeros((isl.size, 2))
    target = _near_parent(pu, comp, parent[over[start]], isl)
    centre[order] = place_near(obst_c, obst_r, radius[order], target[order], lo=lo, x_range=x_range)
    a = np.repeat(np.arange(isl.size), count)
    rank = np.arange(over.size) - start[a]
    pu[over] = centre[a] + phyllotaxis(rank, spacing[a], 0.5)
    return centre, radius


def _median_per_island(step: np.ndarray, comp: np.ndarray) -> np.ndarray:
    """Per island, the median slot step of its nodes (those with one); 1 for an island without any."""
    ncomp = int(comp.max(initial=-1)) + 1
    sel = np.flatnonzero((comp >= 0) & (step > 0))
    sel = sel[np.lexsort((step[sel], comp[sel]))]
    out = np.ones(ncomp)
    if sel.size:
        c = comp[sel]
        first = np.searchsorted(c, np.arange(ncomp))
        n = np.bincount(c, minlength=ncomp)
        has = n > 0
        lo_i, hi_i = first[has] + (n[has] - 1) // 2, first[has] + n[has] // 2
        out[has] = 0.5 * (step[sel][lo_i] + step[sel][hi_i])
    return out


def _near_parent(pu: np.ndarray, comp: np.ndarray, par: np.ndarray, isl: np.ndarray) -> np.ndarray:
    """Where each annex aims: its parent (a new leaf's), else the middle of its island's placed points."""
    ncomp = int(comp.max(initial=-1)) + 1
    sel = np.flatnonzero((comp >= 0) & ~np.isnan(pu[:, 0]))
    count = np.maximum(np.bincount(comp[sel], minlength=ncomp), 1)[:, None]
    mid = np.column_stack([np.bincount(comp[sel], pu[sel, i], minlength=ncomp) for i in (0, 1)]) / count
    out = mid[isl]
    has = (par >= 0) & ~np.isnan(pu[np.maximum(par, 0), 0])
    out[has] = pu[par[has]]
    return out


def _walls(pu: np.ndarray, comp: np.ndarray, lo: float, sides: Sides) -> tuple[Territory, Territory]:
    """Where new models of each region may not go: near the other region's points (so the regions stay
    apart as they grow), past the world's margin (so the world only grows right and down), and across the
    border: the undocumented region grows away from the lineage region, not around it, and the lineage
    region keeps left of it (new families and annexes need the room beside their region)."""
    placed = ~np.isnan(pu[:, 0])
    lin, und = placed & (comp >= 0), placed & (comp < 0)
    return (
        territory(pu[und], REGION_REACH, lo, right=sides[0][1]),
        territory(pu[lin], REGION_REACH, lo, left=sides[1][0]),
    )


def _boxes(pu: np.ndarray, comp: np.ndarray, anchor: np.ndarray) -> list[Box | None]:
    """Bounding boxes of the survivors of each region (lineage, undocumented); None for an empty one."""
    out: list[Box | None] = []
    for mask in (anchor & (comp >= 0), anchor & (comp < 0)):
        out.append((pu[mask].min(0), pu[mask].max(0)) if mask.any() else None)
    return out


def _align_new_cores(
    frame: Frame,
    fa2_xy: np.ndarray,
    sigma: np.ndarray,
    spacing: np.ndarray,
    comp: np.ndarray,
    ncomp: int,
    leaf: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """New core models of islands with survivors: where ForceAtlas2's island, mapped onto the survivors
    by the best rotation + translation (scale near the density scale), wishes them. Returns the
    anchored-island mask, each node's slot step, and (new core models, their wished positions).
    """
    anchors = frame.anchor & (comp >= 0)
    anchored = np.bincount(comp[anchors], minlength=ncomp) > 0
    cos, sin, scale, shift = align(fa2_xy, frame.prev, anchors, comp, ncomp, sigma)
    step = np.zeros(comp.size)
    lin = comp >= 0
    step[lin] = scale[comp[lin]] * spacing[lin]  # slot spacing in this island's discs, packing units
    sel = np.flatnonzero(lin & ~leaf & ~frame.anchor & anchored[np.maximum(comp, 0)])
    c, q = comp[sel], fa2_xy[sel]
    rot = np.column_stack([cos[c] * q[:, 0] - sin[c] * q[:, 1], sin[c] * q[:, 0] + cos[c] * q[:, 1]])
    return anchored, step, (sel, scale[c][:, None] * rot + shift[c])


def _grow_islands(
    frame: Frame,
    pu: np.ndarray,
    label: np.ndarray,
    anchored: np.ndarray,
    step: np.ndarray,
    wish: tuple[np.ndarray, np.ndarray],
    comp: np.ndarray,
    leaf: np.ndarray,
    parent: np.ndarray,
    key: np.ndarray,
    other: Territory,
) -> None:
    """New core models take the free slot nearest their aligned spot, then new leaves the innermost
    free slot of their parent's disc."""
    sel, spot = wish
    if sel.size:
        cap = np.full(sel.size, CORE_SLOTS)
        _settle(sel, spot, step[sel], 0.0, pu, label, label[sel], other, limit=cap)
    new = np.flatnonzero(leaf & ~frame.anchor & anchored[np.maximum(comp, 0)])
    new = new[np.lexsort((new, -key[new], parent[new]))]
    if new.size:
        par = parent[new]
        uniq = np.unique(par)
        kept = np.bincount(parent[leaf & frame.anchor], minlength=comp.size)[uniq]
        owner = np.searchsorted(uniq, par)
        cap = np.ceil(SLOT_REACH**2 * (kept + np.bincount(owner))).astype(np.int64) + 8
        ok = ~np.isnan(pu[uniq, 0])  # a parent that found no room: its new leaves follow it (annex)
        take = ok[owner]
        _settle(
            new[take],
            pu[uniq[ok]],
            step[uniq[ok]],
            1.0,
            pu,
            label,
            label[uniq[ok]],
            other,
            np.searchsorted(np.flatnonzero(ok), owner[take]),
            kept[ok],
            cap[ok],
        )


def _settle(
    who: np.ndarray,
    centres: np.ndarray,
    spacing: np.ndarray,
    first: float,
    pu: np.ndarray,
    label: np.ndarray,
    disc_label: np.ndarray,
    other: Territory,
    owner: np.ndarray | None = None,
    kept: np.ndarray | None = None,
    limit: np.ndarray | None = None,
) -> None:
    """Put nodes ``who`` into free phyllotaxis slots around ``centres`` (one disc each; ``owner``: the
    disc of each, sorted; default one per disc), clear of every point placed so far. Two islands growing
    into the same free space in one pass can pick slots close to each other: the later one of each such
    pair tries again with the first one placed, for a few rounds."""
    owner = np.arange(centres.shape[0]) if owner is None else owner
    count = np.zeros(centres.shape[0], np.int64) if kept is None else kept  # slots taken, a first guess
    todo = np.arange(who.size)
    for attempt in range(SETTLE_ROUNDS):
        placed = np.flatnonzero(~np.isnan(pu[:, 0]))
        blockers = Blockers(pu[placed], label[placed], ISLAND_GAP, other)
        pu[who[todo]] = fill_slots(
            centres, spacing, first, pu[placed], count, owner[todo], blockers, disc_label, limit
        )
        todo = todo[_clashes(pu[who[todo]], disc_label[owner[todo]])]
        if todo.size == 0 or attempt == SETTLE_ROUNDS - 1:
            return
        pu[who[todo]] = np.nan


def _clashes(xy: np.ndarray, lab: np.ndarray) -> np.ndarray:
    """Indices of points with a point of another label placed earlier within ISLAND_GAP."""
    ok = np.flatnonzero(~np.isnan(xy[:, 0]))
    if ok.size < 2:
        return np.zeros(0, np.int64)
    pairs = cKDTree(xy[ok]).query_pairs(ISLAND_GAP, output_type="ndarray")
    pairs = pairs[lab[ok][pairs[:, 0]] != lab[ok][pairs[:, 1]]]
    return np.unique(ok[pairs.max(axis=1)]) if pairs.size else np.zeros(0, np.int64)


def _grow_discs(
    frame: Frame,
    discs: Discs,
    pu: np.ndarray,
    label: np.ndarray,
    ncomp: int,
    other: Territory,
    left: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Group discs with survivors keep their points; new models take the innermost free slots around
    the disc's centre (``_disc_centres``). Returns which discs had survivors and their centres."""
    nd = discs.codes.size
    nodes, disc = discs.nodes, discs.disc
    alive = frame.anchor[nodes]
    has = np.bincount(disc[alive], minlength=nd) > 0
    centre = _disc_centres(frame.prev, nodes, disc, alive, discs.counts, max(left, frame.lo), frame.lo)
    new = ~alive & has[disc]  # nodes are already sorted by disc, then downloads
    if new.any():
        kept_count = np.bincount(disc[alive], minlength=nd)
        spacing, disc_label = np.full(nd, GROUP_SPACING), ncomp + np.arange(nd)
        _settle(nodes[new], centre, spacing, 0.5, pu, label, disc_label, other, disc[new], kept_count)
    return has, centre


def _disc_centres(
    prev: np.ndarray,
    nodes: np.ndarray,
    disc: np.ndarray,
    alive: np.ndarray,
    counts: np.ndarray,
    left: float,
    top: float,
) -> np.ndarray:
    """Where each group disc with survivors grows from: its survivors' median, moved right and down just
    enough that the disc all its models need (GROUP_SPACING * sqrt(count)) stays right of ``left`` and
    below ``top``. A disc against a wall then grows as a disc away from it (last week's disc inside this
    week's, touching it where the wall is) instead of a disc cut flat by the wall."""
    centre = np.zeros((counts.size, 2))
    has = np.flatnonzero(np.bincount(disc[alive], minlength=counts.size))
    for d in has:
        centre[d] = np.median(prev[nodes[alive & (disc == d)]], axis=0)
    need = GROUP_SPACING * np.sqrt(counts[has] + 0.5)
    centre[has] = np.maximum(centre[has], np.column_stack([left + need, top + need]))
    return centre


def _place_new(
    obst_c: np.ndarray,
    obst_r: np.ndarray,
    radii: np.ndarray,
    todo: np.ndarray,
    ncomp: int,
    boxes: list[Box | None],
    lo: float,
    sides: Sides,
) -> np.ndarray:
    """Centres for brand-new islands (nearest the lineage region, left of the border) and discs (nearest
    the other, right of it), in the free space among the obstacles and each other; largest first."""
    lin = np.zeros(todo.size, bool)
    lin[:ncomp] = True
    out = np.zeros((todo.size, 2))
    for mine, box, other, side, x_range in (
        (lin, boxes[0], boxes[1], -1.0, sides[0]),
        (~lin, boxes[1], boxes[0], 1.0, sides[1]),
    ):
        idx = np.flatnonzero(todo & mine)
        if idx.size == 0:
            continue
        idx = idx[np.lexsort((idx, -radii[idx]))]
        near, avoid = _target(box, other, side)
        out[idx] = place_free(
            obst_c,
            obst_r,
            radii[idx],
            near,
            gap=0.0,
            avoid=avoid,
            lo=lo,
            max_cells=PLACE_CELLS,
            x_range=x_range,
        )
        obst_c, obst_r = np.concatenate([obst_c, out[idx]]), np.concatenate([obst_r, radii[idx]])
    return out[todo]


def _target(box: Box | None, other: Box | None, side: float) -> tuple[np.ndarray, np.ndarray | None]:
    """Where a region's new circles go (its centre, or beside the other region: lineage left,
    undocumented right), and the box to avoid: the other region's, with a gap.
    """
    if other is None:
        return (np.zeros(2) if box is None else 0.5 * (box[0] + box[1])), None
    (o_lo, o_hi), gap = other, REGION_GAP * float(other[1][1] - other[0][1])
    if box is not None:
        near = 0.5 * (box[0] + box[1])
    else:  # the region is new: start it beside the other one
        near = np.array([o_hi[0] + gap if side > 0 else o_lo[0] - gap, 0.5 * (o_lo[1] + o_hi[1])])
    return near, np.array([o_lo[0] - gap, o_lo[1] - gap, o_hi[0] + gap, o_hi[1] + gap])
