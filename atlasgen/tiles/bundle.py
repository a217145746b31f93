"""Fans of long parent -> child lines drawn as bundles, for the edges layer.

A family that outgrows its room on a map built on last week's grows into free space beside its neighbours
(layout/compose.py's annexes), which in a packed map can be far from the parent: a base model with
thousands of new fine-tunes then fans out thousands of lines across the map. Drawn one by one they hide
what is under them and cost most of the edges layer (on the real week 12 built on week 11: 27,000 lines
over 32 packing units long against a fresh map's 8,700, 6x the length and ~3x the render time of a fresh
map's lines). Drawn as a
bundle they read as what they are: one line from the parent to where its children sit, and short spokes
from there to each child.

The rule: the lines of one parent, one relation, longer than ``2 * reach``, whose children fall in the same
``reach``-sided cell of a grid fixed to the world, are a fan if there are at least ``MIN_FAN`` of them. A fan
is drawn as a trunk from the parent to its children's centroid and a spoke from the centroid to each child.
Everything else is drawn as it is. Datashader's line glyphs draw straight segments only, and edge-bundling
libraries (e.g. datashader.bundling.hammer_bundle) move every line by a force simulation over the whole
graph, which costs far more than the lines and changes lines nobody asked to bundle; this grouping is a
few vectorised passes. The lineage panel and overlay still show each link exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

MIN_FAN = 8  # the fewest long lines of one parent into one cell that are drawn as a bundle
REACH_UNITS = 16.0  # the cell side, in packing units (a family disc of ~1,000 models is this wide)


def bundle_fans(segments: pd.DataFrame, parent: np.ndarray, reach: float) -> tuple[pd.DataFrame, int]:
    """``segments`` (x0, y0, x1, y1 from parent to child, relation) with every fan drawn as a bundle (see the
    module docstring); ``parent`` names each segment's parent (any integer id). Returns the segments to
    draw and how many lines went into bundles. Deterministic: the rows keep their order, trunks and
    spokes follow in the fans' order."""
    if not (reach > 0 and np.isfinite(reach)) or len(segments) == 0:
        return segments, 0
    x0, y0 = segments["x0"].to_numpy(np.float64), segments["y0"].to_numpy(np.float64)
    x1, y1 = segments["x1"].to_numpy(np.float64), segments["y1"].to_numpy(np.float64)
    relation = pd.Series(segments["relation"].to_numpy()).astype("category").cat.codes.to_numpy()
    far = np.flatnonzero(np.hypot(x1 - x0, y1 - y0) > 2.0 * reach)
    if far.size < MIN_FAN:
        return segments, 0
    cx, cy = np.floor(x1[far] / reach).astype(np.int64), np.floor(y1[far] / reach).astype(np.int64)
    keys = np.column_stack([np.asarray(parent)[far], relation[far], cx, cy])
    _, fan, size = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    fan = fan.ravel()
    inside = size[fan] >= MIN_FAN
    if not inside.any():
        return segments, 0
    rows, fan = far[inside], fan[inside]
    _, first, fan = np.unique(fan, return_index=True, return_inverse=True)
    count = np.bincount(fan).astype(np.float64)
    mx, my = np.bincount(fan, x1[rows]) / count, np.bincount(fan, y1[rows]) / count
    head = rows[first]  # one line of each fan: its parent end and relation
    kept = np.ones(len(segments), bool)
    kept[rows] = False
    trunks = pd.DataFrame({"x0": x0[head], "y0": y0[head], "x1": mx, "y1": my})
    spokes = pd.DataFrame({"x0": mx[fan], "y0": my[fan], "x1": x1[rows], "y1": y1[rows]})
    trunks["relation"] = segments["relation"].to_numpy()[head]
    spokes["relation"] = segments["relation"].to_numpy()[rows]
    out = pd.concat([segments[kept][["x0", "y0", "x1", "y1", "relation"]], trunks, spokes], ignore_index=True)
    return out, int(rows.size)


def fan_reach(unit: Any) -> float:
    """The cell side in world units for a layout of ``unit`` world units per packing unit (0: none)."""
    try:
        value = float(unit)
    except (TypeError, ValueError):
        return 0.0
    return REACH_UNITS * value if value > 0 and np.isfinite(value) else 0.0
