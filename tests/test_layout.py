"""Layout stage: properties of ForceAtlas2 and of the atlas composition on tiny hand-made graphs."""

from __future__ import annotations

import sys
import types
from typing import Any

import numpy as np
import pandas as pd
import pytest

from atlasgen.errors import AtlasgenError, BackendUnavailable
from atlasgen.layout import _gpu, choose_backend, force_atlas2, layout_atlas
from atlasgen.layout.atlas import pack_circles
from atlasgen.layout.params import ForceAtlas2Params


def _families() -> tuple[int, np.ndarray, np.ndarray]:
    """A star (hub 0, 30 leaves), ten small trees of 7 nodes, a chain of 5, two isolated nodes."""
    edges = [(0, i) for i in range(1, 31)]
    for t in range(10):
        b = 31 + 7 * t
        edges += [(b, b + 1), (b, b + 2), (b + 1, b + 3), (b + 1, b + 4), (b + 2, b + 5), (b + 2, b + 6)]
    edges += [(101, 102), (102, 103), (103, 104), (104, 105)]
    src, dst = np.array(edges).T
    return N_FAMILY_NODES, src, dst


N_FAMILY_NODES = 108


def _components(n: int, src: np.ndarray, dst: np.ndarray) -> list[np.ndarray]:
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    _, lab = connected_components(
        sp.coo_matrix((np.ones(src.size), (src, dst)), shape=(n, n)), directed=False
    )
    return [np.flatnonzero(lab == c) for c in np.unique(lab)]


@pytest.fixture(scope="module")
def atlas() -> tuple[np.ndarray, dict[str, Any]]:
    n, src, dst = _families()
    return layout_atlas(n, src, dst, seed=3, backend="cpu", max_iter=100, progress=False)


def test_atlas_shape_finite_inside_world(atlas: tuple[np.ndarray, dict[str, Any]]) -> None:
    xy, info = atlas
    assert xy.shape == (N_FAMILY_NODES, 2) and xy.dtype == np.float64
    assert np.all(np.isfinite(xy)) and xy.min() >= 0 and xy.max() <= 256
    assert info["backend"] == "cpu" and info["components"] == 14
    assert {"reason", "params", "seconds"} <= set(info)


def test_atlas_deterministic_per_seed(atlas: tuple[np.ndarray, dict[str, Any]]) -> None:
    n, src, dst = _families()
    again, _ = layout_atlas(n, src, dst, seed=3, backend="cpu", max_iter=100, progress=False)
    other, _ = layout_atlas(n, src, dst, seed=4, backend="cpu", max_iter=100, progress=False)
    assert np.array_equal(atlas[0], again)
    assert not np.allclose(atlas[0], other)


def test_atlas_star_in_map_is_small(atlas: tuple[np.ndarray, dict[str, Any]]) -> None:
    xy = atlas[0]
    assert np.hypot(*(xy[1:31] - xy[0]).T).max() < 0.2 * 256


def test_atlas_parents_near_children(atlas: tuple[np.ndarray, dict[str, Any]]) -> None:
    xy = atlas[0]
    _, src, dst = _families()
    edge_len = np.hypot(*(xy[src] - xy[dst]).T).mean()
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 108, 2000), rng.integers(0, 108, 2000)
    assert edge_len < 0.35 * np.hypot(*(xy[a] - xy[b]).T).mean()


def test_atlas_components_do_not_overlap(atlas: tuple[np.ndarray, dict[str, Any]]) -> None:
    xy = atlas[0]
    circles = []
    for members in _components(*_families()):
        lo, hi = xy[members].min(0), xy[members].max(0)
        centre = 0.5 * (lo + hi)
        circles.append((centre, np.hypot(*(xy[members] - centre).T).max()))
    for i, (ci, ri) in enumerate(circles):
        for cj, rj in circles[i + 1 :]:
            assert np.hypot(*(ci - cj)) > ri + rj


def test_atlas_star_is_compact_disc() -> None:
    n = 201
    src, dst = np.zeros(200, dtype=np.int64), np.arange(1, 201)
    downloads = np.r_[np.nan, np.arange(200.0)]
    downloads[5] = np.nan
    xy, _ = layout_atlas(n, src, dst, weights=downloads, seed=0, backend="cpu", progress=False)
    r = np.hypot(*(xy[1:] - xy[0]).T)
    d = np.hypot(*(xy[1:, None] - xy[None, 1:]).transpose(2, 0, 1)) + np.eye(200) * 1e9
    spacing = np.median(d.min(axis=1))
    assert r.max() < 1.2 * np.sqrt(200) * spacing  # a dense disc (a ring would be ~32 spacings wide)
    assert r.max() > 5 * r.min()  # filled from the centre, not a ring
    assert r[199] == r.min()  # most downloaded leaf (vertex 200) is nearest its parent
    assert r[4] == r.max()  # NaN downloads rank last


def test_atlas_empty_and_isolated() -> None:
    xy, info = layout_atlas(3, [], [], backend="cpu", progress=False)
    assert xy.shape == (3, 2) and np.all((xy >= 0) & (xy <= 256))
    assert info["components"] == 3


def test_pack_circles_no_overlap_largest_central() -> None:
    radii = np.sort(np.random.default_rng(1).uniform(0.5, 5, 150))[::-1]
    centres = pack_circles(radii)
    d = np.hypot(*(centres[:, None] - centres[None]).transpose(2, 0, 1))
    gap = d - (radii[:, None] + radii[None])
    np.fill_diagonal(gap, 1)
    assert gap.min() > -1e-9
    assert np.hypot(*centres[0]) < np.median(np.hypot(*centres.T))


def test_force_atlas2_frame_and_pos_list() -> None:
    pos = pd.DataFrame({"vertex": [2, 0, 1], "x": [5.0, 1.0, 3.0], "y": [0.0, 2.0, 4.0]})
    same = force_atlas2([0, 1], [1, 2], 3, max_iter=0, pos_list=pos, backend="cpu")
    assert list(same.columns) == ["vertex", "x", "y"]
    assert same["x"].tolist() == [1.0, 3.0, 5.0] and same["y"].tolist() == [2.0, 4.0, 0.0]
    moved = force_atlas2([0, 1], [1, 2], 3, max_iter=20, pos_list=pos, backend="cpu")
    assert not np.allclose(moved[["x", "y"]].to_numpy(), same[["x", "y"]].to_numpy())


@pytest.mark.parametrize("barnes_hut", [True, False])
def test_force_atlas2_finite_deterministic(barnes_hut: bool) -> None:
    rng = np.random.default_rng(0)
    n = 150  # above the exact-repulsion threshold, so Barnes-Hut really runs
    src, dst = rng.integers(0, np.arange(1, n)), np.arange(1, n)
    kw = {"max_iter": 60, "barnes_hut_optimize": barnes_hut, "backend": "cpu"}
    a = force_atlas2(src, dst, n, random_state=1, **kw)
    b = force_atlas2(src, dst, n, random_state=1, **kw)
    c = force_atlas2(src, dst, n, random_state=2, **kw)
    assert np.all(np.isfinite(a[["x", "y"]].to_numpy())) and a.equals(b) and not a.equals(c)
    lengths = np.hypot(a.x[src].to_numpy() - a.x[dst].to_numpy(), a.y[src].to_numpy() - a.y[dst].to_numpy())
    spread = np.hypot(a.x - a.x.mean(), a.y - a.y.mean()).mean()
    assert lengths.mean() < spread


def test_force_atlas2_options_run() -> None:
    out = force_atlas2(
        [0, 1, 2], [1, 2, 0], 4, weights=[1.0, 2.0, 3.0], max_iter=30, lin_log_mode=True,
        strong_gravity_mode=True, outbound_attraction_distribution=False, random_state=0, backend="cpu",
    )  # fmt: skip
    assert np.all(np.isfinite(out[["x", "y"]].to_numpy()))


def test_callback_receives_positions() -> None:
    seen: list[str] = []

    class Recorder:
        def on_preprocess_end(self, positions: np.ndarray) -> None:
            seen.append("pre")

        def on_epoch_end(self, positions: np.ndarray) -> None:
            assert positions.shape == (3, 2)
            seen.append("epoch")

        def on_train_end(self, positions: np.ndarray) -> None:
            seen.append("end")

    force_atlas2([0], [1], 3, max_iter=4, callback=Recorder(), random_state=0, backend="cpu")
    assert seen == ["pre"] + ["epoch"] * 4 + ["end"]


def test_gpu_backend_unavailable_names_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_gpu, "can_run", lambda: "cugraph not installed")
    with pytest.raises(BackendUnavailable, match=r"atlasgen\[gpu\]"):
        choose_backend("gpu")
    with pytest.raises(BackendUnavailable, match="cugraph not installed"):
        force_atlas2([0], [1], 2, backend="gpu")
    name, reason = choose_backend("auto")
    assert name == "cpu" and "cugraph not installed" in reason


@pytest.mark.skipif(_gpu.can_run() is True, reason="this machine can run cuGraph")
def test_gpu_backend_unavailable_here() -> None:
    with pytest.raises(BackendUnavailable, match=r"atlasgen\[gpu\]"):
        layout_atlas(2, [0], [1], backend="gpu", progress=False)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_iter": -1},
        {"barnes_hut_theta": 0.0},
        {"barnes_hut_theta": float("inf")},
        {"scaling_ratio": -2.0},
        {"backend": "tpu"},
        {"prevent_overlapping": True},
        {"pos_list": pd.DataFrame({"vertex": [0], "x": [0.0], "y": [0.0]})},
    ],
)
def test_invalid_parameters_raise(kwargs: dict[str, Any]) -> None:
    with pytest.raises(AtlasgenError):
        force_atlas2([0], [1], 2, **kwargs)


def test_invalid_graph_and_all_problems_reported() -> None:
    with pytest.raises(AtlasgenError, match="outside"):
        force_atlas2([0], [5], 2, backend="cpu")
    with pytest.raises(AtlasgenError, match=r"max_iter.*barnes_hut_theta"):
        ForceAtlas2Params(max_iter=-1, barnes_hut_theta=-1)
    with pytest.raises(AtlasgenError):
        layout_atlas(2, [0], [1], max_iter=-5, progress=False)


class _FakeFrame:
    """Just enough of cudf.DataFrame for the backend: columns in, pandas out."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = {k: np.asarray(v) for k, v in data.items()}

    def __setitem__(self, key: str, value: Any) -> None:
        self.data[key] = np.asarray(value)

    @property
    def columns(self) -> list[str]:
        return list(self.data)

    def __len__(self) -> int:
        return len(next(iter(self.data.values())))

    def to_pandas(self) -> pd.DataFrame:
        return pd.DataFrame(self.data)


def _fake_cugraph(calls: dict[str, Any]) -> tuple[types.ModuleType, types.ModuleType]:
    cudf = types.ModuleType("cudf")
    cudf.DataFrame = _FakeFrame  # type: ignore[attr-defined]
    cugraph = types.ModuleType("cugraph")

    class Graph:
        def __init__(self, directed: bool = False) -> None:
            calls["directed"] = directed

        def from_cudf_edgelist(
            self, df: _FakeFrame, source: str, destination: str, edge_attr: Any = None
        ) -> None:
            calls["edges"] = (df.data[source], df.data[destination], edge_attr)

    documented = {
        "max_iter", "pos_list", "outbound_attraction_distribution", "lin_log_mode", "prevent_overlapping",
        "vertex_radius", "overlap_scaling_ratio", "edge_weight_influence", "jitter_tolerance",
        "barnes_hut_optimize", "barnes_hut_theta", "scaling_ratio", "strong_gravity_mode", "gravity",
        "vertex_mobility", "vertex_mass", "verbose", "callback", "random_state",
    }  # fmt: skip

    def force_atlas2(G: Graph, **kwargs: Any) -> _FakeFrame:
        unknown = set(kwargs) - documented
        assert not unknown, f"not in cugraph.force_atlas2's documented signature: {unknown}"
        calls["kwargs"] = kwargs
        pos = kwargs["pos_list"]
        return _FakeFrame({"vertex": pos.data["vertex"], "x": pos.data["x"] + 1, "y": pos.data["y"] - 1})

    cugraph.Graph = Graph  # type: ignore[attr-defined]
    cugraph.force_atlas2 = force_atlas2  # type: ignore[attr-defined]
    return cudf, cugraph


def test_gpu_contract_with_stand_in(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: dict[str, Any] = {}
    cudf, cugraph = _fake_cugraph(calls)
    monkeypatch.setitem(sys.modules, "cudf", cudf)
    monkeypatch.setitem(sys.modules, "cugraph", cugraph)
    monkeypatch.setattr(_gpu, "can_run", lambda: True)
    pos = pd.DataFrame({"vertex": [0, 1, 2, 3], "x": [0.0, 1, 2, 3], "y": [0.0, 0, 1, 1]})
    out = force_atlas2([0, 1], [1, 2], 4, max_iter=7, pos_list=pos, random_state=11, backend="gpu")
    src, dst, edge_attr = calls["edges"]
    assert src.dtype in (np.int32, np.int64) and dst.dtype in (np.int32, np.int64) and edge_attr is None
    kwargs = calls["kwargs"]
    assert kwargs["max_iter"] == 7 and kwargs["random_state"] == 11
    assert set(kwargs["pos_list"].columns) == {"vertex", "x", "y"} and len(kwargs["pos_list"]) == 3
    assert kwargs["pos_list"].data["vertex"].dtype in (np.int32, np.int64)
    assert out["x"].tolist() == [1.0, 2.0, 3.0, 3.0]  # vertex 3 has no edge: keeps its position
    assert calls["directed"] is False


@pytest.mark.gpu
def test_gpu_layout_real() -> None:
    n, src, dst = _families()
    out = force_atlas2(src, dst, n, max_iter=50, random_state=0, backend="gpu")
    assert np.all(np.isfinite(out[["x", "y"]].to_numpy()))
    xy, info = layout_atlas(n, src, dst, backend="gpu", progress=False)
    assert info["backend"] == "gpu" and np.all((xy >= 0) & (xy <= 256))


def test_barnes_hut_close_to_exact_repulsion() -> None:
    from atlasgen.layout._cpu import _repulsion_exact_serial
    from atlasgen.layout._quadtree import repulsion_bh_serial

    rng = np.random.default_rng(5)
    n = 3000
    xy = np.r_[rng.normal(0, 1, (n // 2, 2)), rng.uniform(-50, 50, (n - n // 2, 2))]  # dense + sparse
    x, y, m = xy[:, 0].copy(), xy[:, 1].copy(), rng.integers(1, 5, n).astype(np.float64)
    exact, bh = (np.zeros(n), np.zeros(n)), (np.zeros(n), np.zeros(n))
    _repulsion_exact_serial(x, y, m, 2.0, *exact)
    repulsion_bh_serial(x, y, m, 2.0, 0.5, np.arange(n), *bh)
    err = np.hypot(bh[0] - exact[0], bh[1] - exact[1]) / np.hypot(*exact)
    assert np.median(err) < 1e-3 and err.max() < 0.02  # theta 0.5: ~3e-4 typical (Gephi's error level)


def test_coincident_vertices_stay_finite() -> None:
    n = 2000  # parallel path; half the vertices start on one spot, a pair sits 1e-12 apart
    pos = np.random.default_rng(0).uniform(-100, 100, (n, 2))
    pos[: n // 2] = 3.0
    pos[n // 2 + 1] = pos[n // 2] + 1e-12
    frame = pd.DataFrame({"vertex": np.arange(n), "x": pos[:, 0], "y": pos[:, 1]})
    out = force_atlas2(np.arange(n - 1), np.arange(1, n), n, max_iter=30, pos_list=frame, backend="cpu")
    xy = out[["x", "y"]].to_numpy()
    assert np.all(np.isfinite(xy)) and np.abs(xy).max() < 1e6


def test_parallel_result_independent_of_thread_count() -> None:
    import numba

    rng = np.random.default_rng(3)
    n = 5000  # above PARALLEL_FROM
    src, dst = rng.integers(0, np.arange(1, n) // 3 + 1), np.arange(1, n)
    a = force_atlas2(src, dst, n, max_iter=20, random_state=0, backend="cpu")
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        b = force_atlas2(src, dst, n, max_iter=20, random_state=0, backend="cpu")
    finally:
        numba.set_num_threads(before)
    assert a.equals(b)
