"""The cuGraph backend on a real GPU (run with `pytest --gpu -m gpu` on a CUDA machine, see scripts/gpu-check).

cuGraph's ForceAtlas2 is not bit-for-bit ours (float32, its own Barnes-Hut tree, its own random jitter), so
the GPU layout is compared with the CPU one by quality, within a tolerance, not by coordinates.
"""

from __future__ import annotations

import numpy as np
import pytest

from atlasgen.layout import choose_backend, force_atlas2, layout_atlas
from atlasgen.layout.quality import layout_quality

pytestmark = pytest.mark.gpu


def _forest(n: int = 4000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Stars and chains, every vertex connected (cuGraph does not move vertices without edges)."""
    rng = np.random.default_rng(seed)
    child = np.arange(1, n)
    parent = np.where(rng.random(n - 1) < 0.7, (child - 1) // 50 * 50, rng.integers(0, child))
    return parent, child


def test_auto_picks_gpu() -> None:
    name, reason = choose_backend("auto")
    assert name == "gpu" and "cuGraph" in reason


def test_gpu_matches_cpu_in_quality() -> None:
    n = 4000
    src, dst = _forest(n)
    cpu = force_atlas2(src, dst, n, max_iter=200, random_state=0, backend="cpu")
    gpu = force_atlas2(src, dst, n, max_iter=200, random_state=0, backend="gpu")
    assert list(gpu.columns) == ["vertex", "x", "y"]
    assert np.array_equal(gpu["vertex"].to_numpy(), cpu["vertex"].to_numpy())
    xy_gpu = gpu[["x", "y"]].to_numpy()
    assert np.all(np.isfinite(xy_gpu)) and np.ptp(xy_gpu, axis=0).min() > 0
    q_cpu = layout_quality(cpu[["x", "y"]].to_numpy(), src, dst)
    q_gpu = layout_quality(xy_gpu, src, dst)
    assert q_gpu["edge_ratio"] < 0.5  # a real layout: a random one scores about 1
    assert q_gpu["edge_ratio"] < 2.0 * q_cpu["edge_ratio"] + 0.05
    assert q_gpu["knn_preservation"] > 0.5 * q_cpu["knn_preservation"]


def test_gpu_keeps_isolated_vertices_and_pos_list() -> None:
    n = 3000
    src, dst = _forest(2000)
    start = force_atlas2(src, dst, n, max_iter=0, random_state=5, backend="cpu")
    out = force_atlas2(src, dst, n, max_iter=20, pos_list=start, backend="gpu")
    assert np.array_equal(out["vertex"].to_numpy(), np.arange(n))
    lonely = np.arange(2000, n)  # no edges: cuGraph leaves them out, atlasgen keeps their start
    assert np.array_equal(out.loc[lonely, ["x", "y"]].to_numpy(), start.loc[lonely, ["x", "y"]].to_numpy())
    assert not np.allclose(out.loc[:1999, ["x", "y"]].to_numpy(), start.loc[:1999, ["x", "y"]].to_numpy())


def test_layout_atlas_end_to_end_on_gpu() -> None:
    src, dst = _forest(1500, seed=1)
    n = 1600  # 100 isolated models
    xy, info = layout_atlas(n, src, dst, seed=0, backend="gpu", max_iter=100, progress=False)
    assert info["backend"] == "gpu"
    assert xy.shape == (n, 2) and np.all(np.isfinite(xy)) and xy.min() >= 0 and xy.max() <= 256
    q = layout_quality(xy, src, dst)
    assert q["edge_ratio"] < 0.5
