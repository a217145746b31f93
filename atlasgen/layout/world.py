"""The world square every map lives in, and the one rule that fits previous-map units into it."""

from __future__ import annotations

import numpy as np

WORLD = 256.0
MARGIN = 2.0  # world units left free around the map
# A fresh map fills this share of the world square, and each island or group disc reserves room for
# this much growth (in node count): later snapshots then grow into the slack instead of shrinking the
# whole map or pushing neighbours, the two things that move surviving models.
FRESH_FILL = 0.9
GROWTH_ROOM = 0.1
ISLAND_GAP = 1.0  # gap between packed islands, in leaf spacings (the unit of the packing)


def fit_world(pu: np.ndarray, unit: float) -> np.ndarray:
    """Previous-map units to world; shrink about the centre only if the map outgrew [0, 256]^2."""
    xy = pu * unit
    if xy.shape[0] == 0:
        return xy
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    room = WORLD - 2 * MARGIN
    span = float((hi - lo).max())
    if span > room:
        xy = (xy - 0.5 * (lo + hi)) * (room / span) + 0.5 * WORLD
        lo, hi = xy.min(axis=0), xy.max(axis=0)
    # then the least translation that brings it inside
    xy = xy + np.maximum(MARGIN - lo, 0.0) - np.maximum(hi - (WORLD - MARGIN), 0.0)
    return xy
