"""What a new snapshot did to each family of the previous atlas: kept, split, or joined with others.

A *part* is the set of surviving models that one new island (weakly connected component) took from one
old island. An island with one part kept its family (grown, shrunk or unchanged): its survivors stay
exactly where they were. An island with several parts *joined* old families (a new merge, a model naming
a second parent, a missing parent that appeared): its largest part, by surviving models, stays exactly
where it was and the smaller parts move, rigidly, into the free space beside it. An old family split over
several new islands keeps each piece where it was (each is that island's only or largest part).

Every survivor gets one cause, and the report and ``atlasgen diff`` explain its displacement by it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from atlasgen.layout.pack import place_near

NEW = -1
CLUSTER_REACH = 3.0  # packing units: points of one family this close belong to one cluster
BESIDE = 2.0  # a smaller part whose circle is within this many gaps of its largest part's stays
KEPT, LARGEST, OTHER, UNDOCUMENTED, REGION = range(5)
CAUSES = ("kept", "joined_largest", "joined_other", "undocumented", "changed_region")


@dataclass
class Parts:
    cause: np.ndarray  # per node: one of KEPT .. REGION, NEW for models the previous atlas lacked
    part: np.ndarray  # per node: part id, -1 outside parts (new, undocumented, changed region)
    comp: np.ndarray  # per part: its new island
    moving: np.ndarray  # per part: True for the smaller parts of a joined island
    head: np.ndarray  # per part: the part id of its island's largest part
    joined: int  # islands formed from two or more old families


def find_parts(comp: np.ndarray, alive: np.ndarray, old_family: np.ndarray) -> Parts:
    """Parts of every new island; ``old_family`` is each node's old island (-1: not in one)."""
    lineage_then, lineage_now = old_family >= 0, comp >= 0
    cause = np.full(comp.size, NEW, dtype=np.int8)
    cause[alive & ~lineage_then & ~lineage_now] = UNDOCUMENTED
    cause[alive & (lineage_then != lineage_now)] = REGION
    sel = np.flatnonzero(alive & lineage_then & lineage_now)
    pairs, part_of, count = np.unique(
        np.column_stack([comp[sel], old_family[sel]]), axis=0, return_inverse=True, return_counts=True
    )
    part = np.full(comp.size, -1, dtype=np.int64)
    part[sel] = part_of.ravel()
    pcomp = pairs[:, 0] if pairs.size else np.zeros(0, np.int64)
    # largest part of each island first (most survivors; ties: lowest old island id, deterministic)
    order = np.lexsort((pairs[:, 1] if pairs.size else pcomp, -count, pcomp))
    first = np.r_[True, pcomp[order][1:] != pcomp[order][:-1]] if order.size else np.zeros(0, bool)
    head = np.empty(pcomp.size, np.int64)
    head[order] = order[np.maximum.accumulate(np.where(first, np.arange(order.size), 0))]
    moving = head != np.arange(pcomp.size)
    n_parts = np.bincount(pcomp, minlength=int(pcomp.max(initial=-1)) + 1)
    cause[sel] = np.where(n_parts[pcomp[part[sel]]] > 1, np.where(moving[part[sel]], OTHER, LARGEST), KEPT)
    return Parts(cause, part, pcomp, moving, head, int((n_parts > 1).sum()))


def move_parts(
    prev: np.ndarray,
    parts: Parts,
    fixed_c: np.ndarray,
    fixed_r: np.ndarray,
    gap: float,
    lo: float,
    x_range: tuple[float, float] = (-np.inf, np.inf),
) -> np.ndarray:
    """Per-node translation taking each smaller part of a joined family into the free space nearest its
    largest part, rigidly (its models keep their shape). A part stays where it is when it is already
    beside the largest part, or when the nearest free space is no nearer to it (a dense map: moving
    would only scatter it); ``parts.moving`` is updated. ``fixed_c``/``fixed_r``: circles that must not
    be covered besides the parts' own (group discs); nothing goes below ``lo`` on either axis, nor out of
    ``x_range`` on x (the lineage region's side of the border, regions.region_sides).
    """
    delta = np.zeros_like(prev)
    if not parts.moving.any():
        return delta
    centre, radius = part_circles(prev, parts.part, parts.comp.size, gap)
    # a smaller part already beside its largest part (circles within a gap) stays where it is
    h = parts.head
    apart = np.hypot(*(centre - centre[h]).T) - radius - radius[h]
    parts.moving &= apart > BESIDE * gap
    todo = np.flatnonzero(parts.moving)
    todo = todo[np.lexsort((todo, -radius[todo]))]  # largest first: they need the most room
    # aim at the largest part's rim on the side the part comes from: it moves the least way
    way = centre[todo] - centre[h[todo]]
    way /= np.maximum(np.hypot(*way.T), 1e-12)[:, None]
    target = centre[h[todo]] + way * (radius[h[todo]] + radius[todo])[:, None]
    # every part's present place is taken this week (a part that does not move keeps it)
    held_c, held_r = cluster_circles(prev, parts.part, gap)
    placed = place_near(
        np.concatenate([held_c, fixed_c]),
        np.concatenate([held_r, fixed_r]),
        radius[todo],
        target,
        lo=lo,
        x_range=x_range,
    )
    nearer = np.hypot(*(placed - centre[h[todo]]).T) + radius[todo] < np.hypot(
        *(centre[todo] - centre[h[todo]]).T
    )
    parts.moving[todo[~nearer]] = False
    shift = np.zeros_like(centre)
    shift[todo[nearer]] = placed[nearer] - centre[todo[nearer]]
    inside = parts.part >= 0
    delta[inside] = shift[parts.part[inside]]
    return delta


def part_circles(xy: np.ndarray, owner: np.ndarray, k: int, gap: float) -> tuple[np.ndarray, np.ndarray]:
    """Bounding circle (bbox centre, farthest point + gap) of each owner's placed points (owner -1 and
    NaN rows: none)."""
    sel = np.flatnonzero((owner >= 0) & ~np.isnan(xy[:, 0]))
    o = owner[sel]
    lo = np.full((k, 2), np.inf)
    hi = np.full((k, 2), -np.inf)
    np.minimum.at(lo, o, xy[sel])
    np.maximum.at(hi, o, xy[sel])
    ok = np.isfinite(lo[:, 0])
    mid = np.zeros((k, 2))
    mid[ok] = 0.5 * (lo[ok] + hi[ok])
    r = np.zeros(k)
    np.maximum.at(r, o, np.hypot(*(xy[sel] - mid[o]).T))
    return mid, r + gap


def cluster_circles(xy: np.ndarray, owner: np.ndarray, gap: float) -> tuple[np.ndarray, np.ndarray]:
    """Bounding circles of each owner's spatial clusters (its points within CLUSTER_REACH of each other,
    chained): a family with an annex, or a split one, is several circles, not one circle over all of
    them and everything between (which would hide the free space between them)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    sel = np.flatnonzero((owner >= 0) & ~np.isnan(xy[:, 0]))
    if sel.size == 0:
        return np.zeros((0, 2)), np.zeros(0)
    pairs = cKDTree(xy[sel]).query_pairs(CLUSTER_REACH, output_type="ndarray")
    pairs = pairs[owner[sel][pairs[:, 0]] == owner[sel][pairs[:, 1]]]
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(sel.size, sel.size))
    k, cluster = connected_components(graph, directed=False)
    ids = np.full(xy.shape[0], -1)
    ids[sel] = cluster
    return part_circles(xy, ids, k, gap)
