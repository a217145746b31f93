"""Pick cells: the models of one cell of a fixed grid, so a click finds the nearest model with a few fetches.

``data/pick/{z}/{x}/{y}.json`` -- ``{"p": "<fixed 2>", "v": "<varints>"}`` for one cell at grid zoom ``z``:
``v`` the vertices ascending, as differences from the previous one (the first from 0); ``p`` per vertex
the position inside the cell, x then y, each ``floor(offset / cell * 4096)`` (the viewer takes the middle of
that step). atlas.json's ``pick.occupied`` is a base64 bitmap of the non-empty cells (bit ``y * 2**z + x``,
least significant bit first) so the viewer never asks for a missing file.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

from atlasgen.index.codec import fixed, varints
from atlasgen.index.writer import SIZES, Sizes, Writer

STEPS = 4096  # positions inside a cell: 12 bits, two characters


def _cells(xy: np.ndarray, z: int, world: int = 256) -> tuple[np.ndarray, np.ndarray]:
    side = 1 << z
    scaled = np.floor(np.asarray(xy, dtype=np.float64) * side / float(world)).astype(np.int64)
    scaled = np.clip(scaled, 0, side - 1)
    return scaled[:, 0], scaled[:, 1]


def pick_zoom(xy: np.ndarray, sizes: Sizes = SIZES, world: int = 256) -> int:
    """Smallest grid zoom whose fullest cell holds at most ``pick_max`` points (the last zoom otherwise)."""
    for z in sizes.pick_zooms:
        cx, cy = _cells(xy, z, world)
        if len(cx) == 0 or np.unique(cx * (1 << z) + cy, return_counts=True)[1].max() <= sizes.pick_max:
            return z
    return sizes.pick_zooms[-1]


def cell_members(xy: np.ndarray, z: int, world: int = 256) -> dict[tuple[int, int], np.ndarray]:
    """(x, y) -> the vertices of each occupied cell at grid zoom ``z``, ascending: a pick cell's models."""
    side = 1 << z
    cx, cy = _cells(xy, z, world)
    cell = cy * side + cx
    order = np.lexsort((np.arange(len(cell)), cell))
    starts = np.searchsorted(cell[order], np.unique(cell), side="left").tolist()
    return {
        (int(c % side), int(c // side)): order[a:b]
        for c, a, b in zip(np.unique(cell).tolist(), starts, [*starts[1:], len(order)], strict=True)
    }


def write_pick(writer: Writer, xy: np.ndarray, sizes: Sizes, world: int = 256) -> dict[str, Any]:
    """The pick grid: 2^z cells across the world square (``world`` units, 256 unless a map grew)."""
    z = pick_zoom(xy, sizes, world)
    side = 1 << z
    cell_size = float(world) / side
    cx, cy = _cells(xy, z, world)
    cell = cy * side + cx
    offset = np.asarray(xy, dtype=np.float64) - np.stack([cx, cy], axis=1) * cell_size
    local = np.clip(np.floor(offset / cell_size * STEPS), 0, STEPS - 1).astype(np.int64)
    order = np.lexsort((np.arange(len(cell)), cell))
    bounds = [*np.searchsorted(cell[order], np.unique(cell), side="left").tolist(), len(order)]
    bits = bytearray((side * side + 7) // 8)
    cells = np.unique(cell)
    for i, c in enumerate(cells.tolist()):
        members = order[bounds[i] : bounds[i + 1]]  # ascending vertices
        deltas = np.diff(members, prepend=0)
        writer.write(
            f"pick/{z}/{c % side}/{c // side}.json",
            {"p": fixed(local[members].ravel(), 2), "v": varints(deltas)},
        )
        bits[c >> 3] |= 1 << (c & 7)
    out = {
        "template": "data/pick/{z}/{x}/{y}.json",
        "zoom": z,
        "cells": len(cells),
        "max_points": sizes.pick_max,
        "steps": STEPS,
        "occupied": base64.b64encode(bytes(bits)).decode("ascii"),
    }
    if world != 256:  # the viewer reads 256 when absent (every atlas built before worlds could grow)
        out["world"] = world
    return out
