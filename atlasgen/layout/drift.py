"""How an incremental map compares with a fresh layout of the same snapshot.

A map built on last week's keeps every survivor in place, so over months it gets less tidy: holes where
deleted models were, families grown around their neighbours or into annexes, joined parts set beside each
other. The fresh layout to compare with is this build's own islands packed as a fresh build packs them
(``atlas._pack_fresh``: no extra ForceAtlas2, so it costs little). Both are measured the same way, in
packing units:

* ``density``: models per square packing unit of the map's bounding box;
* ``empty``: share of that box's EMPTY_CELL-sized cells that hold no model;
* ``overlaps`` (this map only): pairs of islands or discs with points closer than ``OVERLAP_REACH``,
  one of them placed or moved by this build; ``kept_contacts``: such pairs of points that both stayed
  where they were (the pieces of a family that split, which keep their places side by side).

``scale_vs_fresh`` (set by the layout): world units per packing unit of this map over those at which a
fresh packing of the same snapshot fills a quarter of the world's side (a fresh map's own: 0.5-1, as its
unit is the power of two at or below). A map that keeps last week's scale while the Hub grows gets larger
in world units than a fresh map (it never shrinks): past 2 it no longer fits the world square it started
in, and its growth (families' annexes, new families at its edge) is far from where it started. The tiles
do not grow with it: their depth follows the scale (tiles.pyramid.zoom_for_unit).

``rebuild_advised`` is True when the map keeps less than ``REBUILD_BELOW`` of a fresh map's density, has
overlaps, or is over ``REBUILD_SCALE`` times a fresh map's scale: then a publisher should build once
without ``--previous`` (and say so: the map moves).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.spatial import cKDTree

OVERLAP_REACH = 0.5  # packing units: the leaf spacing of a typical disc; islands stay >= 1 apart
EMPTY_CELL = 2.0  # packing units: a few point spacings, so the inside of a disc is never "empty"
REBUILD_BELOW = 0.8
REBUILD_SCALE = 2.0


def drift(pu: np.ndarray, fresh: np.ndarray, label: np.ndarray, placed: np.ndarray) -> dict[str, Any]:
    """``pu``, ``fresh``: this map's and a fresh map's positions in packing units; ``label``: each node's
    island or group disc; ``placed``: the nodes this build placed or moved (the others stayed)."""
    now, new = _measures(pu), _measures(fresh)
    now["overlaps"], now["kept_contacts"] = overlaps(pu, label, placed)
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


def overlaps(pu: np.ndarray, label: np.ndarray, placed: np.ndarray | None = None) -> tuple[int, int]:
    """Pairs of islands/discs with points closer than OVERLAP_REACH: (with a point ``placed`` by this
    build, with both points kept where they were)."""
    if pu.shape[0] < 2:
        return 0, 0
    pairs = cKDTree(pu).query_pairs(OVERLAP_REACH * 0.999, output_type="ndarray")
    pairs = pairs[label[pairs[:, 0]] != label[pairs[:, 1]]]
    fresh = np.ones(len(pairs), bool) if placed is None else placed[pairs].any(axis=1)
    return _label_pairs(pairs[fresh], label), _label_pairs(pairs[~fresh], label)


def _label_pairs(pairs: np.ndarray, label: np.ndarray) -> int:
    if len(pairs) == 0:
        return 0
    a, b = label[pairs[:, 0]], label[pairs[:, 1]]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    return int(np.unique(lo * (int(label.max()) + 1) + hi).size)
