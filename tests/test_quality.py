"""layout_quality: a layout that keeps neighbours together scores better than a random one."""

from __future__ import annotations

import math

import numpy as np
import pytest

from atlasgen.layout import force_atlas2
from atlasgen.layout.quality import layout_quality


def _stars(n_stars: int = 20, leaves: int = 9) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stars far apart, each hub at its centre and its leaves on a small circle: a perfect layout."""
    size = leaves + 1
    star, leaf = np.repeat(np.arange(n_stars), leaves), np.tile(np.arange(leaves), n_stars)
    hubs, kids = star * size, star * size + 1 + leaf
    centres = 100.0 * np.column_stack([np.arange(n_stars) % 5, np.arange(n_stars) // 5])
    xy = np.zeros((n_stars * size, 2))
    xy[np.arange(n_stars) * size] = centres
    angle = 2 * np.pi * leaf / leaves
    xy[kids] = centres[star] + np.column_stack([np.cos(angle), np.sin(angle)])
    return xy, hubs, kids


def test_good_layout_beats_random() -> None:
    xy, src, dst = _stars()
    good = layout_quality(xy, src, dst)
    shuffled = layout_quality(np.random.default_rng(0).permutation(xy), src, dst)
    assert good["edge_ratio"] < 0.05 < 0.5 < shuffled["edge_ratio"]
    assert good["knn_preservation"] == 1.0  # every leaf's hub, every hub's 9 leaves are nearest
    assert shuffled["knn_preservation"] < 0.2
    assert good["nodes_sampled"] == xy.shape[0] and good["edges_sampled"] == src.size and good["k"] == 10


def test_deterministic_and_sampled() -> None:
    rng = np.random.default_rng(1)
    n = 3000
    src, dst = rng.integers(0, np.arange(1, n)), np.arange(1, n)
    xy = rng.normal(size=(n, 2))
    a = layout_quality(xy, src, dst, sample=500, seed=4)
    assert a == layout_quality(xy, src, dst, sample=500, seed=4)
    assert a["edges_sampled"] == 500 and a["nodes_sampled"] == 500
    assert 0.7 < a["edge_ratio"] < 1.3  # random positions: edges as long as random pairs


def test_force_atlas2_improves_on_its_start() -> None:
    rng = np.random.default_rng(2)
    n = 400
    src, dst = rng.integers(0, np.arange(1, n) // 4 + 1), np.arange(1, n)
    start = force_atlas2(src, dst, n, max_iter=0, random_state=0, backend="cpu")
    done = force_atlas2(src, dst, n, max_iter=100, random_state=0, backend="cpu")
    before = layout_quality(start[["x", "y"]].to_numpy(), src, dst)
    after = layout_quality(done[["x", "y"]].to_numpy(), src, dst)
    assert after["edge_ratio"] < 0.5 * before["edge_ratio"]
    assert after["knn_preservation"] > 2 * before["knn_preservation"]


def test_no_edges_and_bad_input() -> None:
    out = layout_quality(np.zeros((3, 2)), [], [])
    assert math.isnan(out["edge_ratio"]) and math.isnan(out["knn_preservation"])
    coincident = layout_quality(np.zeros((4, 2)), [0, 1], [1, 2])  # all points on one spot: no crash
    assert math.isnan(coincident["edge_ratio"]) and 0 <= coincident["knn_preservation"] <= 1
    with pytest.raises(ValueError, match="xy"):
        layout_quality(np.zeros((3, 3)), [0], [1])
    with pytest.raises(ValueError, match="vertex ids"):
        layout_quality(np.zeros((3, 2)), [0], [3])
