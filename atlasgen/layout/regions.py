"""The undocumented region: models without any documented lineage, grouped by task into dense discs.

~60% of Hub models have no edge. As one-node islands they would fill the map with a grey fog; here
each task (``groups`` code) becomes one phyllotaxis disc, most-downloaded in the centre, at the same
point spacing as the family discs (``GROUP_SPACING``), so both regions read at the same scale. The discs
are packed largest first, and the region sits beside the lineage region (see ``arrange``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from atlasgen.layout.pack import pack_circles
from atlasgen.layout.params import LayoutParameterError

GOLDEN_ANGLE = math.pi * (3.0 - math.sqrt(5.0))
# Point spacing in a group disc, packing units: that of the leaf discs of a typical family (half a unit:
# islands are scaled to radius sqrt(size), and FA2 cores leave room between their leaf discs).
GROUP_SPACING = 0.5
GROUP_GAP = 2.0  # room around a group disc, packing units: discs read as separate clusters
REGION_GAP = 0.04  # gap between the two regions, as a share of the map's height
REGION_REACH = 4.0  # packing units: what a build places keeps this far from the other region's points
ASPECT_RANGE = (1 / 3, 3.0)  # no region thinner than this, however lopsided the split


@dataclass
class Discs:
    """Group discs: ``local`` offsets of the nodes from their disc centre, one row per disc."""

    nodes: np.ndarray  # node ids, sorted by disc then rank
    disc: np.ndarray  # disc index per entry of ``nodes``
    local: np.ndarray  # (len(nodes), 2) offset from the disc centre, packing units
    codes: np.ndarray  # group code per disc (-1 = unknown)
    counts: np.ndarray  # nodes per disc


def check_groups(groups: Any, labels: Sequence[str] | None, n: int) -> tuple[np.ndarray, list[str]]:
    """Group codes (int64, -1 = unknown) and one label per code."""
    if groups is None:
        codes = np.full(n, -1, dtype=np.int64)
    else:
        codes = np.asarray(groups).astype(np.int64, copy=False).ravel()
        if codes.size != n:
            raise LayoutParameterError(f"groups must hold one code per node ({n}), got {codes.size}")
        codes = np.where(codes < 0, -1, codes)
    top = int(codes.max(initial=-1)) + 1
    names = [str(s) for s in labels] if labels is not None else [str(c) for c in range(top)]
    if len(names) < top:
        raise LayoutParameterError(f"group_labels has {len(names)} labels, groups use codes up to {top - 1}")
    return codes, names


def phyllotaxis(rank: np.ndarray, spacing: np.ndarray | float, first: float) -> np.ndarray:
    """Offsets of the rank-th point of a golden-angle disc: radius spacing*sqrt(rank+first)."""
    radius = spacing * np.sqrt(rank + first)
    angle = rank * GOLDEN_ANGLE
    return np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])


def group_discs(nodes: np.ndarray, codes: np.ndarray, key: np.ndarray) -> Discs:
    """One disc per group code among ``nodes``, largest first (ties: code); ranked by ``key`` desc."""
    code = codes[nodes]
    sorted_codes, counts = np.unique(code, return_counts=True)
    by_size = np.lexsort((sorted_codes, -counts))
    disc_of = np.empty(by_size.size, np.int64)
    disc_of[by_size] = np.arange(by_size.size)
    disc = disc_of[np.searchsorted(sorted_codes, code)]
    uniq, counts = sorted_codes[by_size], counts[by_size]
    order = np.lexsort((nodes, -key[nodes], disc))
    nodes, disc = nodes[order], disc[order]
    starts = np.r_[0, np.cumsum(counts)[:-1]].astype(np.int64)
    rank = np.arange(nodes.size) - starts[disc]
    return Discs(nodes, disc, phyllotaxis(rank, GROUP_SPACING, 0.5), uniq, counts)


def disc_radii(counts: np.ndarray) -> np.ndarray:
    """Packing radius of a disc of ``counts`` points, gap included."""
    return GROUP_SPACING * np.sqrt(counts.astype(np.float64)) + GROUP_GAP


def arrange(lin_radii: np.ndarray, und_radii: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pack the lineage islands and the group discs as two regions side by side in a square-ish map.

    Both packings grow into ellipses of the map's full height whose widths split it in proportion to
    their areas (the Hub is ~40% lineage, ~60% undocumented by area); the undocumented region goes to
    the right. Returns the circle centres of each, in packing units.
    """
    area_l, area_u = float((lin_radii**2).sum()), float((und_radii**2).sum())
    share = area_l / (area_l + area_u) if area_l + area_u > 0 else 1.0
    lo, hi = ASPECT_RANGE
    lin = pack_circles(lin_radii, float(np.clip(share, lo, hi)))
    und = pack_circles(und_radii, float(np.clip(1.0 - share, lo, hi)))
    if lin_radii.size == 0 or und_radii.size == 0:
        return lin, und
    l_lo, l_hi = bbox(lin, lin_radii)
    u_lo, u_hi = bbox(und, und_radii)
    gap = REGION_GAP * max(l_hi[1] - l_lo[1], u_hi[1] - u_lo[1])
    shift = np.array([l_hi[0] + gap - u_lo[0], 0.5 * (l_lo[1] + l_hi[1] - u_lo[1] - u_hi[1])])
    return lin, und + shift


def bbox(centres: np.ndarray, radii: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if radii.size == 0:
        return np.zeros(2), np.zeros(2)
    return (centres - radii[:, None]).min(0), (centres + radii[:, None]).max(0)


Sides = tuple[tuple[float, float], tuple[float, float]]


def region_sides(pu: np.ndarray, comp: np.ndarray) -> Sides:
    """The x ranges where what a build places may go: (lineage region's, undocumented region's). A fresh map
    puts the undocumented region right of the lineage region; its survivors' left edge is the border:
    nothing undocumented goes left of it, nothing of the lineage region within REGION_REACH of it.
    Unbounded unless both regions have survivors (``pu`` NaN: not placed; ``comp`` < 0: undocumented)."""
    placed = ~np.isnan(pu[:, 0])
    lin, und = placed & (comp >= 0), placed & (comp < 0)
    if not (und.any() and lin.any()):
        return (-np.inf, np.inf), (-np.inf, np.inf)
    border = float(pu[und, 0].min())
    return (-np.inf, border - REGION_REACH), (border, np.inf)


@dataclass
class Territory:
    """Cells of a grid (origin ``lo``, cell side ``cs``) that new slots may not use: within a reach of
    the other region's points, and past the world's margin (``wall``: nothing below it on x or y), left
    of ``left`` or right of ``right``."""

    lo: np.ndarray
    cs: float
    blocked: np.ndarray  # bool (nx, ny)
    wall: float
    left: float = -np.inf
    right: float = np.inf

    def blocks(self, pos: np.ndarray) -> np.ndarray:
        ij = np.floor((pos - self.lo) / self.cs).astype(np.int64)
        inside = (
            (ij >= 0).all(axis=1) & (ij[:, 0] < self.blocked.shape[0]) & (ij[:, 1] < self.blocked.shape[1])
        )
        out = (pos < self.wall).any(axis=1) | (pos[:, 0] < self.left) | (pos[:, 0] > self.right)
        out[inside] |= self.blocked[ij[inside, 0], ij[inside, 1]]
        return out


def territory(
    points: np.ndarray,
    reach: float,
    wall: float,
    left: float = -np.inf,
    right: float = np.inf,
    cs: float = 1.0,
) -> Territory:
    """The cells within ``reach`` of ``points`` (and below ``wall``, left of ``left``, right of ``right``)
    as a Territory."""
    from scipy.ndimage import distance_transform_edt

    if points.shape[0] == 0:
        return Territory(np.zeros(2), 1.0, np.zeros((0, 0), bool), wall, left, right)
    lo = points.min(0) - reach - cs
    shape = np.floor((points.max(0) + reach + cs - lo) / cs).astype(np.int64) + 1
    occupied = np.ones(tuple(shape), dtype=bool)
    ij = np.floor((points - lo) / cs).astype(np.int64)
    occupied[ij[:, 0], ij[:, 1]] = False
    near = distance_transform_edt(occupied) * cs <= reach + cs  # conservative by a cell
    return Territory(lo, cs, near, wall, left, right)


@dataclass
class Blockers:
    """Points already on the map that new slots keep clear of: any point blocks slots within OWN_CLEAR
    of its disc's spacing; a point of another island or disc of the same region (``label``) within ``reach``,
    so a growing disc grows around its neighbours instead of into them; and the ``other`` region's
    territory (see ``Territory``).
    """

    points: np.ndarray  # (k, 2)
    label: np.ndarray  # island or disc label per point
    reach: float
    other: Territory


def fill_slots(
    centres: np.ndarray,
    spacing: np.ndarray,
    first: float,
    kept: np.ndarray,
    kept_count: np.ndarray,
    owner: np.ndarray,
    blockers: Blockers | None = None,
    disc_label: np.ndarray | None = None,
    limit: np.ndarray | None = None,
) -> np.ndarray:
    """Positions for new points of phyllotaxis discs that already hold ``kept`` points (any disc).

    ``centres``, ``spacing`` and ``kept_count`` (kept points in it) are per disc; ``owner`` (sorted; most
    important first within a disc) names each new point's disc. Each takes
    the innermost slot of its disc that no kept point sits on, so survivors stay put and holes left
    by deleted models are refilled before the disc grows. With ``blockers`` (then ``disc_label``: the
    label of each disc), slots near other islands' points are skipped too. With ``limit`` (slots per
    disc), a disc looks no further out: new points that find no free slot within it come back NaN.
    """
    if owner.size == 0:
        return np.zeros((0, 2))
    uniq, start, n_new = np.unique(owner, return_index=True, return_counts=True)
    points = kept if blockers is None else blockers.points
    tree = cKDTree(points) if points.shape[0] else None
    out = np.full((owner.size, 2), np.nan)
    todo = np.arange(uniq.size)  # discs still short of free slots
    extra = np.full(uniq.size, 8)
    cap = np.full(uniq.size, np.iinfo(np.int64).max) if limit is None else limit[uniq]
    while todo.size:
        d = uniq[todo]
        n_slot = np.minimum(kept_count[d] + 2 * n_new[todo] + extra[todo], cap[todo])  # grown if blocked
        g = np.repeat(np.arange(todo.size), n_slot)
        k = np.arange(g.size) - np.repeat(np.cumsum(n_slot) - n_slot, n_slot)
        pos = centres[d][g] + phyllotaxis(k, spacing[d][g], first)
        label = None if disc_label is None else disc_label[d][g]
        free = _free(pos, OWN_CLEAR * spacing[d][g], tree, blockers, label)
        first_slot = np.cumsum(n_slot) - n_slot
        rank = np.cumsum(free) - 1  # rank among the free slots of the same disc:
        rank -= np.repeat(rank[first_slot] + (~free[first_slot]), n_slot)
        take = free & (rank < np.repeat(n_new[todo], n_slot))
        done = (np.bincount(g[take], minlength=todo.size) == n_new[todo]) | (n_slot >= cap[todo])
        take &= done[g]
        out[np.repeat(start[todo], n_slot)[take] + rank[take]] = pos[take]
        extra[todo] = 2 * extra[todo] + n_new[todo]
        todo = todo[~done]
    return out


# A slot is taken when a point sits within this many spacings of it. Points of a golden-angle disc are
# >= 1.55 spacings apart, so a hole left by a deleted model is free; and a disc whose centre moved (its
# survivors' median) cannot put new points between the old ones at half the spacing.
OWN_CLEAR = 1.2
FOREIGN_NEIGHBOURS = 8  # nearest points checked for another island's: beyond them its own points shield


def _free(
    pos: np.ndarray, clear: np.ndarray, tree: Any, blockers: Blockers | None, label: np.ndarray | None
) -> np.ndarray:
    """Which slots no point blocks (see ``Blockers``)."""
    if tree is None:
        free = np.ones(pos.shape[0], dtype=bool)
    elif blockers is None or label is None:
        dist, _ = tree.query(pos, distance_upper_bound=float(clear.max()), workers=-1)
        free = dist > clear
    else:
        free = _clear_of_others(pos, clear, tree, blockers, label)
    if blockers is not None:
        free &= ~blockers.other.blocks(pos)
    return free


def _clear_of_others(
    pos: np.ndarray, clear: np.ndarray, tree: Any, blockers: Blockers, label: np.ndarray
) -> np.ndarray:
    """No point within ``clear``, and no other label's point within ``reach``. The nearest few points
    settle most slots; where all of them are within reach (a crowd hides the rest), all are checked."""
    k = min(FOREIGN_NEIGHBOURS, blockers.points.shape[0])
    dist, idx = tree.query(pos, k=k, distance_upper_bound=max(blockers.reach, float(clear.max())), workers=-1)
    dist, idx = dist.reshape(pos.shape[0], k), idx.reshape(pos.shape[0], k)
    found = idx < blockers.points.shape[0]
    other = found & (blockers.label[np.where(found, idx, 0)] != label[:, None])
    free = (dist[:, 0] > clear) & ~(other & (dist < blockers.reach)).any(axis=1)
    crowd = np.flatnonzero(free & found[:, -1] & (dist[:, -1] < blockers.reach))
    if crowd.size:
        pairs = cKDTree(pos[crowd]).sparse_distance_matrix(tree, blockers.reach, output_type="ndarray")
        bad = blockers.label[pairs["j"]] != label[crowd][pairs["i"]]
        free[crowd[np.unique(pairs["i"][bad])]] = False
    return free


def describe(
    xy: np.ndarray, lineage: np.ndarray, discs: Discs, centres: np.ndarray, labels: list[str]
) -> dict[str, Any]:
    """``info["regions"]``: each region's bbox and each group disc (label, centre, radius, count)."""
    out: dict[str, Any] = {}
    for name, members in (("lineage", lineage), ("undocumented", discs.nodes)):
        box = [*xy[members].min(0), *xy[members].max(0)] if members.size else []
        out[name] = {"bbox": [round(float(v), 4) for v in box], "nodes": int(members.size)}
    groups = []
    for d in range(discs.codes.size):
        pts = xy[discs.nodes[discs.disc == d]]
        c = centres[d]
        code = int(discs.codes[d])
        groups.append(
            {
                "label": labels[code] if code >= 0 else "unknown",
                "code": code,
                "centre": [round(float(c[0]), 4), round(float(c[1]), 4)],
                "radius": round(float(np.hypot(*(pts - c).T).max(initial=0.0)), 4),
                "count": int(pts.shape[0]),
            }
        )
    out["undocumented"]["groups"] = groups
    return out
