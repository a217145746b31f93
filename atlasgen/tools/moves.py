"""Why each surviving model moved between two atlases: the causes the layout reports (layout/parts.py).

``atlasgen diff OLD NEW`` (two atlases) and the build report (``layout.stability.by_cause``) explain
displacement the same way: kept families, the largest part of a joined family, its other parts,
undocumented models, models that changed region (gained or lost all links). Here the causes come from the
two atlases' lineage files, so any two atlases can be compared, whoever built them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def families(n: int, edges: pd.DataFrame) -> np.ndarray:
    """Weakly connected component per node row; -1 for nodes without any edge."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    src, dst = edges["source"].to_numpy(np.int64), edges["target"].to_numpy(np.int64)
    _, label = connected_components(
        coo_matrix((np.ones(src.size), (src, dst)), shape=(n, n)), connection="weak"
    )
    linked = np.zeros(n, dtype=bool)
    linked[src], linked[dst] = True, True
    return np.where(linked, label, -1)


def moves_by_cause(
    old_nodes: pd.DataFrame,
    old_edges: pd.DataFrame,
    new_nodes: pd.DataFrame,
    new_edges: pd.DataFrame,
    old_xy: np.ndarray,
    new_xy: np.ndarray,
) -> dict[str, Any]:
    """Displacement (share of NEW's extent: models, median, p95, p99, max) by cause, and the number of
    NEW families that joined two or more OLD ones. Frames as ``diff.diff_frames`` takes them."""
    from atlasgen.layout.parts import find_parts
    from atlasgen.layout.stable import displacement

    in_old = pd.Index(old_nodes["id"].to_numpy(dtype=object)).get_indexer(
        new_nodes["id"].to_numpy(dtype=object)
    )
    seen = in_old >= 0
    previous = np.full((len(new_nodes), 2), np.nan)
    previous[seen] = old_xy[in_old[seen]]
    old_family = np.full(len(new_nodes), -1, dtype=np.int64)
    old_family[seen] = families(len(old_nodes), old_edges)[in_old[seen]]
    alive = np.isfinite(previous).all(axis=1)
    parts = find_parts(families(len(new_nodes), new_edges), alive, old_family)
    moved = displacement(new_xy, previous, parts.cause)
    return {"families_joined": parts.joined, **moved.get("by_cause", {})}


def cause_lines(by_cause: dict[str, Any]) -> list[str]:
    """The causes for people: one line each (the text of ``atlasgen diff``)."""
    lines = [f"  families joined by new links: {by_cause.get('families_joined', 0):,}"]
    for name, s in by_cause.items():
        if isinstance(s, dict) and s.get("models"):
            lines.append(
                f"  {name.replace('_', ' ')}: {s['models']:,} models, median {s['median']:.2%}, "
                f"p95 {s['p95']:.2%}, p99 {s['p99']:.2%}, max {s['max']:.2%}"
            )
    return lines
