"""Atlas composition: the undocumented region, snapshot stability, and the circle geometry behind them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy.spatial import cKDTree

from atlasgen.errors import AtlasgenError
from atlasgen.layout import layout_atlas
from atlasgen.layout.pack import pack_circles, place_free

TASKS = ["text-generation", "image-classification", "fill-mask", "text-to-image", "asr"]


def _hub(n_fam: int, n_single: int, seed: int) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Families (a root, children on random earlier members, mostly the root) plus lone models.

    Returns (n, src, dst, downloads, task code per node); lone models carry tasks, -1 = unknown.
    """
    rng = np.random.default_rng(seed)
    sizes = np.minimum(2 + rng.pareto(1.2, n_fam).astype(int), 300)
    src: list[int] = []
    dst: list[int] = []
    n = 0
    for s in sizes:
        for k in range(1, s):
            src.append(n if rng.random() < 0.6 else n + int(rng.integers(0, k)))
            dst.append(n + k)
        n += int(s)
    codes = np.full(n + n_single, -1)
    codes[n:] = rng.integers(-1, len(TASKS), n_single)
    downloads = rng.pareto(1.0, n + n_single) * 100
    return n + n_single, np.array(src), np.array(dst), downloads, codes


def _grow(
    n: int,
    src: np.ndarray,
    dst: np.ndarray,
    downloads: np.ndarray,
    codes: np.ndarray,
    share: float,
    seed: int,
) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The next snapshot: ``share`` new models (appended), half joining existing families, a quarter in
    new families of two, a quarter undocumented."""
    rng = np.random.default_rng(seed)
    k = int(share * n)
    linked = np.unique(np.r_[src, dst])
    join, pairs = k // 2, k // 8
    alone = k - join - 2 * pairs
    new_src = [rng.choice(linked, join), n + join + 2 * np.arange(pairs)]
    new_dst = [n + np.arange(join), n + join + 2 * np.arange(pairs) + 1]
    total = n + k
    more_codes = np.r_[np.full(join + 2 * pairs, -1), rng.integers(-1, len(TASKS), alone)]
    return (
        total,
        np.r_[src, *new_src],
        np.r_[dst, *new_dst],
        np.r_[downloads, rng.pareto(1.0, k) * 100],
        np.r_[codes, more_codes],
    )


def _atlas(n: int, src: np.ndarray, dst: np.ndarray, w: np.ndarray, codes: np.ndarray, **kw: Any) -> Any:
    return layout_atlas(
        n,
        src,
        dst,
        weights=w,
        groups=codes,
        group_labels=TASKS,
        backend="cpu",
        max_iter=60,
        progress=False,
        **kw,
    )


@pytest.fixture(scope="module")
def hub() -> tuple[tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray, dict[str, Any]]:
    graph = _hub(150, 1500, seed=0)
    xy, info = _atlas(*graph)
    return graph, xy, info


def test_undocumented_region_beside_lineage(hub: Any) -> None:
    (n, src, dst, _w, codes), xy, info = hub
    assert np.all((xy >= 0) & (xy <= 256)) and np.all(np.isfinite(xy))
    lone = np.setdiff1d(np.arange(n), np.r_[src, dst])
    lineage = np.setdiff1d(np.arange(n), lone)
    assert info["undocumented"] == lone.size and info["islands"] == 150
    regions = info["regions"]
    lin_box, und_box = regions["lineage"]["bbox"], regions["undocumented"]["bbox"]
    assert lin_box[2] < und_box[0]  # separate, to the right
    assert np.allclose(lin_box, [*xy[lineage].min(0), *xy[lineage].max(0)], atol=1e-3)
    groups = regions["undocumented"]["groups"]
    assert sorted(g["count"] for g in groups) == sorted(np.bincount(codes[lone] + 1).tolist())
    assert [g["count"] for g in groups] == sorted((g["count"] for g in groups), reverse=True)
    assert {g["label"] for g in groups} == {*TASKS, "unknown"}


def test_group_discs_dense_sorted_and_apart(hub: Any) -> None:
    (n, src, dst, w, codes), xy, info = hub
    lone = np.setdiff1d(np.arange(n), np.r_[src, dst])
    discs = info["regions"]["undocumented"]["groups"]
    for g in discs:
        members = lone[codes[lone] == g["code"]]
        r = np.hypot(*(xy[members] - g["centre"]).T)
        assert r.max() <= g["radius"] + 1e-3
        assert r[np.argmax(w[members])] == r.min()  # most downloaded in the centre
    for i, a in enumerate(discs):
        for b in discs[i + 1 :]:
            assert np.hypot(*np.subtract(a["centre"], b["centre"])) > a["radius"] + b["radius"]


def test_group_discs_match_family_density(hub: Any) -> None:
    (n, src, dst, _w, _codes), xy, _info = hub
    lone = np.zeros(n, bool)
    lone[np.setdiff1d(np.arange(n), np.r_[src, dst])] = True
    tree = cKDTree(xy)
    nn = tree.query(xy, k=2)[0][:, 1]
    leaves = np.setdiff1d(dst, src)
    ratio = np.median(nn[lone]) / np.median(nn[leaves])
    assert 0.6 < ratio < 1.6


def test_stability_after_five_percent_growth(hub: Any) -> None:
    graph, xy, _ = hub
    grown = _grow(*graph, share=0.05, seed=1)
    previous = np.full((grown[0], 2), np.nan)
    previous[: graph[0]] = xy
    new_xy, info = _atlas(*grown, previous=previous)
    assert np.all((new_xy >= 0) & (new_xy <= 256))
    assert info["regions"]["lineage"]["bbox"][2] < info["regions"]["undocumented"]["bbox"][0]
    stab = info["stability"]
    assert stab["survivors"] == graph[0]
    assert stab["median"] <= 0.01 and stab["p95"] <= 0.05
    moved = np.hypot(*(new_xy[: graph[0]] - xy).T) / np.ptp(new_xy, axis=0).max()
    assert np.isclose(np.median(moved), stab["median"], atol=1e-6)
    # new models land next to their parent, not somewhere random
    child = grown[2] >= graph[0]
    edge = np.hypot(*(new_xy[grown[1][child]] - new_xy[grown[2][child]]).T)
    assert np.median(edge) < 0.05 * np.ptp(new_xy, axis=0).max()


def test_previous_of_same_graph_changes_nothing(hub: Any) -> None:
    graph, xy, _ = hub
    again, info = _atlas(*graph, previous=xy)
    assert info["stability"]["median"] < 1e-6 and info["stability"]["p95"] < 1e-6
    assert np.abs(again - xy).max() < 1e-6


def test_previous_and_groups_checked() -> None:
    with pytest.raises(AtlasgenError, match="previous"):
        layout_atlas(3, [0], [1], previous=np.zeros((2, 2)), backend="cpu", progress=False)
    with pytest.raises(AtlasgenError, match="groups"):
        layout_atlas(3, [0], [1], groups=np.zeros(2, int), backend="cpu", progress=False)
    with pytest.raises(AtlasgenError, match="group_labels"):
        layout_atlas(
            3, [0], [1], groups=np.array([0, 0, 4]), group_labels=["a"], backend="cpu", progress=False
        )


def test_all_new_previous_is_a_fresh_layout(hub: Any) -> None:
    graph, xy, _ = hub
    again, info = _atlas(*graph, previous=np.full((graph[0], 2), np.nan))
    assert np.array_equal(again, xy) and info["stability"]["survivors"] == 0


def _gaps(centres: np.ndarray, radii: np.ndarray) -> np.ndarray:
    d = np.hypot(*(centres[:, None] - centres[None]).transpose(2, 0, 1)) - (radii[:, None] + radii[None])
    np.fill_diagonal(d, np.inf)
    return d


def test_pack_circles_elliptical_aspect() -> None:
    radii = np.sort(np.random.default_rng(2).uniform(0.5, 3, 400))[::-1]
    for aspect in (0.4, 2.5):
        c = pack_circles(radii, aspect)
        w, h = np.ptp(c, axis=0)
        assert abs(np.log(w / h) - np.log(aspect)) < 0.25
        assert _gaps(c, radii).min() > -1e-9


def test_place_free_fills_room_near_target() -> None:
    radii = np.full(50, 1.0)
    centres = pack_circles(radii)
    new_r = np.array([3.0, 2.0, 1.0, 1.0])
    avoid = np.array([-100.0, 5.0, 100.0, 100.0])  # nothing below y = 5
    out = place_free(centres, radii, new_r, np.zeros(2), gap=0.0, avoid=avoid)
    allc, allr = np.r_[centres, out], np.r_[radii, new_r]
    assert _gaps(allc, allr).min() > -1e-9
    assert np.all(out[:, 1] < 5.0)
    assert np.hypot(*out.T).max() < 3 * np.hypot(*centres.T).max()
