"""How an incremental map compares with a fresh layout of the same snapshot.

A map built on last week's keeps every survivor in place, so over months it gets less tidy: holes where
deleted models were, families grown around their neighbours or into annexes, joined parts set beside each
other. The fresh layout to compare with is this build's own islands packed as a fresh build packs them
(``atlas._pack_fresh``: no extra ForceAtlas2, so it costs little). Both are measured the same way, in
packing units:

* ``density``: models per square packing unit of the map's bounding box;
* ``empty``: share of that box's EMPTY_CELL-sized cells that hold no model;
* ``overlaps`` (this map only): pairs of islands or discs with points closer than ``OVERLAP_REACH``.

``rebuild_advised`` is True when the map keeps less than ``REBUILD_BELOW`` of a fresh map's density or
has overlaps: then a publisher should build once without ``--previous`` (and say so: the map moves).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.spatial import cKDTree

OVERLAP_REACH = 0.5  # packing units: the leaf spacing of a typical disc; islands stay >= 1 apart
EMPTY_CELL = 2.0  # packing units: a few point spacings, so the inside of a disc is never "empty"
REBUILD_BELOW = 0.8


def drift(
    pu: np.ndarray, fresh: np.ndarray, label: np.ndarray, family: np.ndarray | None = None
) -> dict[str, Any]:
    """``pu``, ``fresh``: this map's and a fresh map's positions in packing units; ``label``: each node's
    island or group disc; ``family``: its island in the previous atlas (-1: none)."""
    now, new = _measures(pu), _measures(fresh)
    now["overlaps"] = overlaps(pu, label, family)
    ratio = now["density"] / new["density"] if new["density"] else 1.0
    return {
        "now": now,
        "fresh": new,
        "density_vs_fresh": round(ratio, 4),
        "rebuild_advised": bool(ratio < REBUILD_BELOW or now["overlaps"] > 0),
    }


def _measures(pu: np.ndarray) -> dict[str, Any]:
    if pu.shape[0] == 0:
        return {"area": 0.0, "density": 0.0, "empty": 0.0}
    lo, hi = pu.min(0) - 0.5 * EMPTY_CELL, pu.max(0) + 0.5 * EMPTY_CELL
    area = float(np.prod(hi - lo))
    cells = np.floor((hi - lo) / EMPTY_CELL).astype(np.int64) + 1
    ij = np.floor((pu - lo) / EMPTY_CELL).astype(np.int64)
    used = np.unique(ij[:, 0] * cells[1] + ij[:, 1]).size
    return {
        "area": round(area, 1),
        "density": round(pu.shape[0] / area, 6),
        "empty": round(1.0 - used / float(np.prod(cells)), 4),
    }


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
