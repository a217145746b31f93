"""How an incremental map compares with a fresh layout of the same snapshot.

A map built on last week's keeps every survivor in place, so over months it gets less tidy: holes where
deleted models were, families grown around their neighbours, joined parts set beside each other. Three
measures, each on the circles the composition packs (an island's circle: its farthest point plus the
gap; a group disc's likewise), for this map and for the fresh packing of the same islands (the circles
``atlas._compose`` would pack; no ForceAtlas2 needed, so this costs little):

* ``density``: models per square packing unit of the map's bounding box;
* ``empty``: share of that box no circle covers;
* ``overlaps``: pairs of islands or discs with points closer than ``OVERLAP_REACH`` (points mixed).

``rebuild_advised`` is True when the map keeps less than ``REBUILD_BELOW`` of a fresh map's density or
has overlaps: then a publisher should build once without ``--previous`` (and say so: the map moves).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from atlasgen.layout.pack import covered_share
from atlasgen.layout.parts import part_circles
from atlasgen.layout.regions import GROUP_GAP, arrange, bbox, disc_radii
from atlasgen.layout.world import GROWTH_ROOM, ISLAND_GAP

OVERLAP_REACH = 0.5  # packing units: the leaf spacing of a typical disc; islands stay >= 1 apart
REBUILD_BELOW = 0.8


def drift(
    pu: np.ndarray, label: np.ndarray, ncomp: int, counts: np.ndarray, family: np.ndarray | None = None
) -> dict[str, Any]:
    """``pu``: positions in packing units; ``label``: island (< ncomp) or ncomp + group disc per node;
    ``counts``: models per group disc; ``family``: each node's island in the previous atlas (-1: none).
    Returns this map's and a fresh map's measures and their ratio."""
    k = ncomp + counts.size
    size = np.bincount(label, minlength=k)[:ncomp].astype(np.float64)
    now_c, now_r = part_circles(pu, label, k, 0.0)
    now_r += np.where(np.arange(k) < ncomp, ISLAND_GAP, GROUP_GAP)
    fresh_lin = np.sqrt(size * (1.0 + GROWTH_ROOM)) + ISLAND_GAP
    fresh_und = disc_radii(counts * (1.0 + GROWTH_ROOM))
    lin_c, und_c = arrange(fresh_lin, fresh_und)
    fresh_c, fresh_r = np.concatenate([lin_c, und_c]), np.concatenate([fresh_lin, fresh_und])
    now = _measures(now_c, now_r, pu.shape[0])
    now["empty"] = round(1.0 - covered_share(now_c, now_r), 4)  # circles may overlap: their union
    now["overlaps"] = overlaps(pu, label, family)
    fresh = _measures(fresh_c, fresh_r, pu.shape[0])
    fresh["empty"] = round(1.0 - min(1.0, float((np.pi * fresh_r**2).sum()) / fresh["area"]), 4)  # disjoint
    ratio = now["density"] / fresh["density"] if fresh["density"] else 1.0
    return {
        "now": now,
        "fresh": fresh,
        "density_vs_fresh": round(ratio, 4),
        "rebuild_advised": bool(ratio < REBUILD_BELOW or now["overlaps"] > 0),
    }


def _measures(centres: np.ndarray, radii: np.ndarray, n: int) -> dict[str, Any]:
    lo, hi = bbox(centres, radii)
    area = float(np.prod(hi - lo)) or 1.0
    return {"area": round(area, 1), "density": round(n / area, 6)}


def overlaps(pu: np.ndarray, label: np.ndarray, family: np.ndarray | None = None) -> int:
    """Pairs of islands/discs with points closer than OVERLAP_REACH; not two survivors of one old
    island that split (its pieces stay where they were, side by side)."""
    if pu.shape[0] < 2:
        return 0
    pairs = cKDTree(pu).query_pairs(OVERLAP_REACH * 0.999, output_type="ndarray")
    a, b = label[pairs[:, 0]], label[pairs[:, 1]]
    mixed = a != b
    if family is not None:
        fa, fb = family[pairs[:, 0]], family[pairs[:, 1]]
        mixed &= (fa < 0) | (fa != fb)
    if not mixed.any():
        return 0
    lo, hi = np.minimum(a[mixed], b[mixed]), np.maximum(a[mixed], b[mixed])
    return int(np.unique(lo * (label.max() + 1) + hi).size)
