"""Close-up cells: what the viewer draws and names past the raster's detail, one file per pick cell.

``data/near/{z}/{x}/{y}.json`` -- for the models of pick cell ``(z, x, y)``, in that cell's order (vertices
ascending; their positions are the pick cell's)::

    {"n": "<varints>", "t": "<rests>", "d": "<varints>", "k": {"<layer>": "<codes>"}}

``n``/``t``: their ids, front-coded; ``d``: downloads + 1 each (0 = unknown); ``k``: for each tile layer that
colours every model (``TABLE.figure_layers``), one character per model: its place in that layer's legend
(``codec.ALPHABET``), ``_`` where it has none. A pick cell holds at most ``pick_max`` models, so a close-up
view reads a few of these files, and only there: picking and hovering keep to the small pick cells.
atlas.json's ``near.max_zoom`` is the zoom deep enough to name nearly every model (``closeup_zoom``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from atlasgen.index.codec import ALPHABET, front_code, varints
from atlasgen.index.pick import cell_members
from atlasgen.index.writer import Writer

NONE = "_"  # no place in the legend
LABEL_ROOM = 48.0  # screen px between close neighbours that lets the viewer name both
CROWDED = 0.01  # the share of models allowed closer than that at the deepest zoom
MAX_ZOOM = 20


def closeup_zoom(xy: np.ndarray) -> int:
    """The zoom where all but the most crowded ``CROWDED`` share of models are ``LABEL_ROOM`` px from their
    nearest neighbour: the viewer's deepest zoom, so that nearly every model in view can be named."""
    from scipy.spatial import cKDTree

    if len(xy) < 2:
        return 0
    distance, _ = cKDTree(xy).query(xy, k=2)
    near = float(np.quantile(distance[:, 1], CROWDED))
    return MAX_ZOOM if near <= 0 else int(np.clip(np.ceil(np.log2(LABEL_ROOM / near)), 0, MAX_ZOOM))


def legend_codes(nodes: pd.DataFrame, xy: np.ndarray) -> dict[str, np.ndarray]:
    """Layer id -> each model's place in the legend the tiles stage gives that layer (-1: none)."""
    from atlasgen.tiles.table import TABLE, points_frame

    frame = points_frame(nodes, xy)
    return {e.id: np.asarray(e.encoding.encode(frame[e.column])[1], np.int64) for e in TABLE.figure_layers()}


def write_near(
    writer: Writer,
    ids: list[str],
    downloads: np.ndarray,
    xy: np.ndarray,
    z: int,
    codes: dict[str, np.ndarray],
    world: int = 256,
) -> dict[str, Any]:
    """One file per pick cell at grid zoom ``z`` over the ``world`` square; atlas.json's ``near``."""
    plus = np.where(downloads < 0, 0, downloads + 1)
    chars = np.frombuffer((ALPHABET + NONE).encode("ascii"), dtype=np.uint8)
    for (cx, cy), members in cell_members(xy, z, world).items():
        lens, rests = front_code([ids[v] for v in members])
        k = {
            layer: chars[
                np.where((c[members] < 0) | (c[members] >= len(ALPHABET)), len(ALPHABET), c[members])
            ]
            .tobytes()
            .decode("ascii")
            for layer, c in sorted(codes.items())
        }
        writer.write(
            f"near/{z}/{cx}/{cy}.json", {"n": varints(lens), "t": rests, "d": varints(plus[members]), "k": k}
        )
    return {"template": "data/near/{z}/{x}/{y}.json", "layers": sorted(codes), "max_zoom": closeup_zoom(xy)}
