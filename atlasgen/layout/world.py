"""The world square every map lives in: [0, 256]^2 for a fresh map; a map built on a previous one never
shrinks, so its square doubles when it outgrows it."""

from __future__ import annotations

import math

import numpy as np

WORLD = 256.0
MARGIN = 2.0  # world units left free around the map
# A fresh map fills at most this share of the world square's side, centred, at a power-of-two scale
# (world units per packing unit; ``fresh_unit``): between 1/8 and 1/4 of it. Each island or group disc
# reserves room for GROWTH_ROOM more nodes, and the map has room around it in the square: later snapshots
# grow into the slack and outward on every side (the world's top and left edges are walls) instead of
# shrinking it or pushing neighbours, the two things that move surviving models. A map that has grown to
# twice a fresh map's size (drift.py then advises a rebuild) still fits the square. The power of two keeps
# every map's detail per packing unit the same at its deepest zoom (tiles.pyramid.zoom_for_unit), grown or
# fresh: the tiles cost what the models need, not what the world's size is. Zoom 0 shows the map small;
# the viewer opens fitted to it, and labels start where it fills the view (index/labels.py).
FRESH_FILL = 0.25
GROWTH_ROOM = 0.1
ISLAND_GAP = 1.0  # gap between packed islands, in leaf spacings (the unit of the packing)


def fresh_unit(span: float) -> float:
    """World units per packing unit of a fresh map ``span`` packing units across: the largest power of two
    at which it fills at most FRESH_FILL of the world square (inside its margin)."""
    if span <= 0:
        return 1.0
    return float(2.0 ** math.floor(math.log2(FRESH_FILL * (WORLD - 2 * MARGIN) / span)))


def world_size(xy: np.ndarray) -> int:
    """The world square's side: 256, doubled until the map (and its margin) fits. A map built on last
    week's keeps its coordinates and grows right and down (``compose.py``), so when it outgrows the
    square the square grows with it, and every view link into last week's map still shows the same models.
    """
    if xy.shape[0] == 0:
        return int(WORLD)
    reach = float(np.nanmax(xy)) + MARGIN
    return int(WORLD) << max(0, math.ceil(math.log2(max(reach, WORLD) / WORLD)))
