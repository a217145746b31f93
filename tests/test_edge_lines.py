"""The edges layer's long lines: fans from one parent drawn as bundles (tiles/bundle.py), and lines longer
than a few tiles at a level drawn as stubs at both ends (tiles/geometry.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from atlasgen.tiles.bundle import MIN_FAN, bundle_fans, fan_reach
from atlasgen.tiles.geometry import LONG_LINE_TILES, STUB_TILES, edge_pieces

LONG_LINE_PX, STUB_PX = 256 * LONG_LINE_TILES, 256 * STUB_TILES


def _segments(
    parent_xy: tuple[float, float], children: np.ndarray, relation: str = "adapter"
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "x0": np.full(len(children), parent_xy[0]),
            "y0": np.full(len(children), parent_xy[1]),
            "x1": children[:, 0],
            "y1": children[:, 1],
            "relation": relation,
        }
    )


def _ends(frame: pd.DataFrame) -> set[tuple[float, float]]:
    return set(zip(frame["x1"].round(9), frame["y1"].round(9), strict=True))


def test_a_far_fan_becomes_one_trunk_and_short_spokes() -> None:
    rng = np.random.default_rng(0)
    far = np.array([100.5, 40.5]) + rng.uniform(0, 3, (50, 2))  # 50 children in one 4-unit cell, far off
    near = np.array([[1.0, 1.0], [2.0, 0.5]])  # two close children: drawn as they are
    segments = pd.concat([_segments((0.0, 0.0), far), _segments((0.0, 0.0), near)], ignore_index=True)
    parent = np.zeros(len(segments), np.int64)
    drawn, bundled = bundle_fans(segments, parent, reach=4.0)
    assert bundled == 50
    assert len(drawn) == 2 + 1 + 50  # the close ones, one trunk, one spoke per far child
    assert drawn.iloc[:2].equals(segments.iloc[50:].reset_index(drop=True))  # untouched, in order first
    trunk = drawn.iloc[2]
    assert (trunk["x0"], trunk["y0"]) == (0.0, 0.0)  # from the parent
    assert np.allclose([trunk["x1"], trunk["y1"]], far.mean(axis=0))  # to its children's middle
    spokes = drawn.iloc[3:]
    assert _ends(spokes) == _ends(_segments((0, 0), far))  # every child still has its line end
    assert np.hypot(spokes["x1"] - spokes["x0"], spokes["y1"] - spokes["y0"]).max() < 4.0 * np.sqrt(2)
    assert (drawn["relation"] == "adapter").all()
    before = np.hypot(segments["x1"] - segments["x0"], segments["y1"] - segments["y0"]).sum()
    after = np.hypot(drawn["x1"] - drawn["x0"], drawn["y1"] - drawn["y0"]).sum()
    assert after < 0.1 * before


def test_small_fans_other_parents_and_relations_are_not_bundled() -> None:
    far = np.array([50.5, 50.5]) + np.linspace(0, 2, MIN_FAN)[:, None]
    few = _segments((0.0, 0.0), far[: MIN_FAN - 1])  # one short of a fan
    split = pd.concat(  # a fan's worth, but of two parents / two relations
        [_segments((0.0, 0.0), far[:4]), _segments((1.0, 0.0), far[4:])], ignore_index=True
    )
    mixed = pd.concat(
        [_segments((0.0, 0.0), far[:4], "merge"), _segments((0.0, 0.0), far[4:], "adapter")],
        ignore_index=True,
    )
    for segments, parent in (
        (few, np.zeros(len(few), np.int64)),
        (split, np.r_[np.zeros(4), np.ones(MIN_FAN - 4)].astype(np.int64)),
        (mixed, np.zeros(len(mixed), np.int64)),
    ):
        drawn, bundled = bundle_fans(segments, parent, reach=4.0)
        assert bundled == 0 and drawn.equals(segments)


def test_bundling_is_deterministic_and_off_without_a_scale() -> None:
    rng = np.random.default_rng(1)
    segments = _segments((3.0, 3.0), 200 + rng.uniform(0, 30, (400, 2)))
    parent = np.zeros(len(segments), np.int64)
    a, _ = bundle_fans(segments, parent, reach=8.0)
    b, _ = bundle_fans(segments, parent, reach=8.0)
    assert a.equals(b)
    assert bundle_fans(segments, parent, fan_reach(None))[1] == 0
    assert fan_reach(0.25) == 4.0


def test_a_line_longer_than_a_few_tiles_is_drawn_as_stubs_at_both_ends() -> None:
    # in pixels (scale 1): a long horizontal line and a short one, on one row of tiles
    x0, y0 = np.array([10.0, 10.0]), np.array([10.0, 20.0])
    x1, y1 = np.array([10.0 + 3 * LONG_LINE_PX, 30.0]), np.array([10.0, 20.0])
    p = edge_pieces(x0, y0, x1, y1, np.array([1, 2], np.int8), scale=1.0, size_px=8192, tile_px=256)
    pieces = pd.DataFrame({"x0": p.x0, "x1": p.x1, "y": p.y0, "code": p.code})
    short = pieces[pieces["code"] == 2]
    assert np.isclose((short["x1"] - short["x0"]).sum(), 20.0)  # drawn whole
    long = pieces[pieces["code"] == 1]
    drawn = np.sort(np.r_[long["x0"], long["x1"]])
    assert np.isclose(np.abs(long["x1"] - long["x0"]).sum(), 2 * STUB_PX, atol=1e-3)  # two stubs only
    assert np.isclose(drawn[0], 10.0) and np.isclose(drawn[-1], x1[0], atol=1e-3)  # at both ends
    assert not ((drawn > 10.0 + STUB_PX + 1e-3) & (drawn < x1[0] - STUB_PX - 1e-3)).any()  # none between
    # the same line in world units: whole at a level where it is short, stubs where it is long
    world = np.array([0.5]), np.array([0.5]), np.array([1.5]), np.array([0.5])
    near = edge_pieces(*world, np.array([1], np.int8), scale=256.0, size_px=4096, tile_px=256)
    deep = edge_pieces(*world, np.array([1], np.int8), scale=4096.0, size_px=65536, tile_px=256)
    assert np.isclose(np.abs(near.x1 - near.x0).sum(), 256.0, atol=1e-3)
    assert np.isclose(np.abs(deep.x1 - deep.x0).sum(), 2 * STUB_PX, atol=1e-3)
    # a @2x pyramid (512-px tiles, twice the pixels per world unit) draws the same: whole, and stubs
    near2 = edge_pieces(*world, np.array([1], np.int8), scale=512.0, size_px=8192, tile_px=512)
    deep2 = edge_pieces(*world, np.array([1], np.int8), scale=8192.0, size_px=131072, tile_px=512)
    assert np.isclose(np.abs(near2.x1 - near2.x0).sum(), 512.0, atol=1e-3)
    assert np.isclose(np.abs(deep2.x1 - deep2.x0).sum(), 4 * STUB_PX, atol=1e-3)
