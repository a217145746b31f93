"""Two cheap numbers that say how well a 2-D layout shows a graph, for comparing layout backends.

* ``edge_ratio``: median length of the graph's edges (parent to child) divided by the median distance
  between random pairs of vertices. Scale-free; lower is better (a random layout scores about 1).
* ``knn_preservation``: for vertices with graph neighbours, the share of their neighbours found among
  their ``k`` nearest points in the layout, out of ``min(degree, k)`` (a hub cannot have all of its
  thousands of children among 10 nearest points). Averaged over vertices; higher is better (1 = every
  vertex's nearest points are its neighbours; a random layout scores about ``k / n``).

Both are sampled with a fixed seed (deterministic) and cost O(n log n): a ``scipy.spatial.cKDTree`` for
the neighbours, sorted edge keys for the membership test.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.spatial import cKDTree


def layout_quality(
    xy: Any,
    sources: Any,
    targets: Any,
    *,
    seed: int = 0,
    k: int = 10,
    sample: int = 20000,
) -> dict[str, float | int]:
    """Score positions ``xy`` (n, 2) of a graph given as edges ``sources[i] -> targets[i]``.

    Returns ``edge_ratio`` and ``knn_preservation`` (see the module doc; NaN when the graph has no
    edges) with the sample sizes behind them: ``edges_sampled``, ``nodes_sampled`` and ``k``.
    """
    pts = np.asarray(xy, dtype=np.float64)
    src = np.asarray(sources, dtype=np.int64).ravel()
    dst = np.asarray(targets, dtype=np.int64).ravel()
    if pts.ndim != 2 or pts.shape[1] != 2 or src.shape != dst.shape:
        raise ValueError("xy must be (n, 2) and sources, targets of equal length")
    n = pts.shape[0]
    if src.size and (min(src.min(), dst.min()) < 0 or max(src.max(), dst.max()) >= n):
        raise ValueError("edge endpoints must be vertex ids in [0, n)")
    keep = src != dst
    src, dst = src[keep], dst[keep]
    rng = np.random.default_rng(seed)
    out: dict[str, float | int] = {"edge_ratio": float("nan"), "knn_preservation": float("nan"), "k": k}
    out["edges_sampled"] = out["nodes_sampled"] = 0
    if n < 2 or src.size == 0:
        return out
    out.update(_edge_ratio(pts, src, dst, rng, sample))
    out.update(_knn_preservation(pts, src, dst, rng, k, sample))
    return out


def _edge_ratio(
    pts: np.ndarray, src: np.ndarray, dst: np.ndarray, rng: np.random.Generator, sample: int
) -> dict[str, float | int]:
    n = pts.shape[0]
    edges = rng.choice(src.size, size=min(sample, src.size), replace=False)
    edge_len = np.hypot(*(pts[src[edges]] - pts[dst[edges]]).T)
    a = rng.integers(0, n, size=sample)
    b = (a + rng.integers(1, n, size=sample)) % n  # never a == b
    pair_len = np.median(np.hypot(*(pts[a] - pts[b]).T))
    ratio = float(np.median(edge_len) / pair_len) if pair_len > 0 else float("nan")
    return {"edge_ratio": ratio, "edges_sampled": int(edges.size)}


def _knn_preservation(
    pts: np.ndarray, src: np.ndarray, dst: np.ndarray, rng: np.random.Generator, k: int, sample: int
) -> dict[str, float | int]:
    n = pts.shape[0]
    keys = np.unique(np.concatenate([src * n + dst, dst * n + src]))  # undirected, deduplicated
    has_nbr = np.unique(keys // n)
    nodes = np.sort(rng.choice(has_nbr, size=min(sample, has_nbr.size), replace=False))
    kk = min(k, n - 1)
    _, near = cKDTree(pts).query(pts[nodes], k=kk + 1)  # +1: the vertex itself is usually first
    near = near.reshape(nodes.size, kk + 1)
    pairs = nodes[:, None] * n + near
    hit = np.isin(pairs, keys) & (near != nodes[:, None])
    # a vertex among coincident points may not be returned first: count at most k hits
    found = np.minimum(hit.sum(axis=1), kk)
    degree = np.searchsorted(keys, (nodes + 1) * n) - np.searchsorted(keys, nodes * n)
    share = found / np.minimum(degree, kk)
    return {"knn_preservation": float(share.mean()), "nodes_sampled": int(nodes.size)}
