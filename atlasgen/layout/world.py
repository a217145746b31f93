"""The world square every map lives in: [0, 256]^2 for a fresh map; a map built on a previous one never
shrinks, so its square doubles when it outgrows it."""

from __future__ import annotations

import math

import numpy as np

WORLD = 256.0
MARGIN = 2.0  # world units left free around the map
# A fresh map fills this share of the world square, and each island or group disc reserves room for
# this much growth (in node count): later snapshots then grow into the slack instead of shrinking the
# whole map or pushing neighbours, the two things that move surviving models.
FRESH_FILL = 0.9
GROWTH_ROOM = 0.1
ISLAND_GAP = 1.0  # gap between packed islands, in leaf spacings (the unit of the packing)


def world_size(xy: np.ndarray) -> int:
    """The world square's side: 256, doubled until the map (and its margin) fits. A map built on last
    week's keeps its coordinates and grows right and down (``compose.py``), so when it outgrows the
    square the square grows with it, and every view link into last week's map still shows the same models.
    """
    if xy.shape[0] == 0:
        return int(WORLD)
    reach = float(np.nanmax(xy)) + MARGIN
    return int(WORLD) << max(0, math.ceil(math.log2(max(reach, WORLD) / WORLD)))
