"""Relation tiles: file layout, orientation, seams, fixed-span shading, colours, max-zoom choice, golden tiles.

Golden tiles: ``ATLASGEN_UPDATE_GOLDEN=1 pytest tests/test_tiles.py -k golden`` rewrites tests/data/tiles/
(a compressed .npz per tile, and a PNG beside it for people).
"""

from __future__ import annotations

import colorsys
import os
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
from PIL import Image

from atlasgen import tiles
from atlasgen.palette import RELATIONS, radii, relation_legend

GOLDEN = Path(__file__).parent / "data" / "tiles"
Pixels = npt.NDArray[np.uint8]


def frame(rows: list[tuple[float, float, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["x", "y", "relation", "downloads"])


def read_tile(out: Path, z: int, x: int, y: int) -> Pixels:
    with Image.open(out / "tiles" / "relation" / str(z) / str(x) / f"{y}.png") as im:
        assert im.mode == "RGBA" and im.size == (256, 256)
        return np.asarray(im)


def tile_files(out: Path) -> set[tuple[int, int, int]]:
    root = out / "tiles" / "relation"
    return {tuple(int(p) for p in f.relative_to(root).with_suffix("").parts) for f in root.rglob("*.png")}  # type: ignore[misc]


def stitch(out: Path, z: int) -> Pixels:
    n = 2**z
    full = np.zeros((256 * n, 256 * n, 4), np.uint8)
    for _, x, y in {t for t in tile_files(out) if t[0] == z}:
        full[256 * y : 256 * (y + 1), 256 * x : 256 * (x + 1)] = read_tile(out, z, x, y)
    return full


def rgba(packed: npt.NDArray[np.uint32]) -> Pixels:
    return np.ascontiguousarray(packed).view(np.uint8).reshape(*packed.shape, 4)


def hex_rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def test_files_exist_exactly_for_nonempty_tiles(tmp_path: Path) -> None:
    # Points well inside tiles (away from every tile border down to z2), so the non-empty tiles are known.
    pts = frame([(20.0, 20.0, "base", 5e6), (100.0, 170.0, "finetune", np.nan), (230.0, 40.0, "merge", 10.0)])
    layer = tiles.render_relation_tiles(pts, tmp_path, max_zoom=2, progress=False)
    expected = {(0, 0, 0)}
    for z in (1, 2):
        size = 256 / 2**z
        expected |= {(z, int(x // size), int(y // size)) for x, y in pts[["x", "y"]].to_numpy()}
    assert tile_files(tmp_path) == expected
    files = list((tmp_path / "tiles" / "relation").rglob("*.png"))
    assert layer["tiles"] == len(files) == len(expected)
    assert layer["bytes"] == sum(f.stat().st_size for f in files)
    assert layer["max_zoom"] == 2 and layer["min_zoom"] == 0 and layer["tile_size"] == 256
    assert layer["url"] == "tiles/relation/{z}/{x}/{y}.png" and layer["id"] == "relation"
    assert layer["legend"] == relation_legend() and layer["background"] == "#0b0e14"


def test_rerender_replaces_stale_tiles(tmp_path: Path) -> None:
    tiles.render_relation_tiles(frame([(200.0, 200.0, "base", 1.0)]), tmp_path, max_zoom=1, progress=False)
    tiles.render_relation_tiles(frame([(20.0, 20.0, "base", 1.0)]), tmp_path, max_zoom=1, progress=False)
    assert tile_files(tmp_path) == {(0, 0, 0), (1, 0, 0)}


def test_y_is_down_and_tile_numbering_matches_world(tmp_path: Path) -> None:
    # World (70.3, 200.2) at z2: tile size 64 world units -> tile (1, 3); inside it, pixel column
    # floor((70.3 - 64) * 4) = 25, row floor((200.2 - 192) * 4) = 32. At z0 the pixel is (70, 200).
    tiles.render_relation_tiles(frame([(70.3, 200.2, "base", np.nan)]), tmp_path, max_zoom=2, progress=False)
    assert tile_files(tmp_path) == {(0, 0, 0), (1, 0, 1), (2, 1, 3)}
    z2 = read_tile(tmp_path, 2, 1, 3)
    assert z2[32, 25, 3] > 0
    rows, cols = np.nonzero(z2[..., 3])
    assert (rows.min() + rows.max()) / 2 == 32 and (cols.min() + cols.max()) / 2 == 25  # disc centred there
    z0 = read_tile(tmp_path, 0, 0, 0)
    assert z0[200, 70, 3] > 0 and z0[255 - 200, 70, 3] == 0  # not flipped upside down


def border_points() -> pd.DataFrame:
    """Popular (largest-marker) and plain points straddling the z1/z2 tile borders at 64, 128 and 192."""
    rows = []
    for i, edge in enumerate((64.0, 128.0, 192.0)):
        for j, offset in enumerate((-0.3, -0.01, 0.0, 0.02, 0.4)):
            downloads = (5e6, np.nan, 2e3, 50.0, 1e5)[j]
            relation = RELATIONS[(i + j) % len(RELATIONS)]
            rows.append((edge + offset, 100.0 + 3 * i + j, relation, downloads))  # across a vertical border
            rows.append((40.0 + 5 * j + i, edge + offset, relation, downloads))  # across a horizontal border
    rows.append((128.1, 127.9, "quantized", 3e6))  # at a corner of four tiles
    rows.append((128.05, 128.02, "merge", 2e5))
    return frame(rows)


@pytest.mark.parametrize("block_tiles", [1, 2, 8])
def test_tiles_are_seamless(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block_tiles: int) -> None:
    # Blocks of one tile put a block border at every tile border: the hardest case for seams.
    monkeypatch.setattr(tiles, "BLOCK_TILES", block_tiles)
    pts = border_points()
    tiles.render_relation_tiles(pts, tmp_path, max_zoom=2, progress=False)
    prepared = tiles._prepare(pts)
    for z in (1, 2):
        level = tiles._level(prepared, z, 2)
        one_shot = rgba(tiles._render_dense(level, (0, 0, level.size_px, level.size_px)))
        assert one_shot[..., 3].any()
        np.testing.assert_array_equal(stitch(tmp_path, z), one_shot)


def test_markers_cross_tile_borders(tmp_path: Path) -> None:
    # A popular model 1 px left of the x=128 border at z1 has a marker that reaches into the next tile.
    tiles.render_relation_tiles(frame([(127.75, 60.0, "base", 5e6)]), tmp_path, max_zoom=1, progress=False)
    radius = radii(1, 1)[-1]
    left, right = read_tile(tmp_path, 1, 0, 0), read_tile(tmp_path, 1, 1, 0)
    assert left[120, 255, 3] > 0 and right[120, :radius, 3].all() and not right[120, radius:, 3].any()


def test_equal_density_gives_equal_colour_in_different_tiles(tmp_path: Path) -> None:
    cluster = [(3.0, 4.0, "finetune", 10.0), (3.2, 4.1, "quantized", 2e4), (5.0, 9.0, "base", np.nan)]
    shifts = [(0.0, 0.0), (128.0, 0.0), (64.0, 192.0)]  # multiples of the z2 tile size, 64 world units
    pts = frame([(x + dx, y + dy, r, d) for dx, dy in shifts for x, y, r, d in cluster])
    pts = pd.concat([pts, frame([(200.0, 100.0, "merge", 1e6)] * 50)])  # a hot spot elsewhere in the level
    tiles.render_relation_tiles(pts, tmp_path, max_zoom=2, progress=False)
    first = read_tile(tmp_path, 2, 0, 0)
    assert first[..., 3].any()
    for dx, dy in shifts[1:]:
        np.testing.assert_array_equal(read_tile(tmp_path, 2, int(dx // 64), int(dy // 64)), first)


@pytest.mark.parametrize("relation", RELATIONS)
def test_lone_point_has_its_legend_colour(tmp_path: Path, relation: str) -> None:
    tiles.render_relation_tiles(frame([(10.5, 10.5, relation, 100.0)]), tmp_path, max_zoom=0, progress=False)
    pixel = read_tile(tmp_path, 0, 0, 0)[10, 10]
    color = next(entry["color"] for entry in relation_legend() if entry["key"] == relation)
    assert pixel[3] >= tiles.MIN_ALPHA
    # Datashader mixes category colours in float32 and truncates: allow 1 level of rounding.
    assert np.abs(pixel[:3].astype(int) - hex_rgb(color)).max() <= 1
    hue = colorsys.rgb_to_hsv(*(c / 255 for c in pixel[:3]))[0]
    assert hue == pytest.approx(colorsys.rgb_to_hsv(*(c / 255 for c in hex_rgb(color)))[0], abs=0.02)


def test_legend_colours_are_distinct() -> None:
    legend = relation_legend()
    assert [entry["key"] for entry in legend] == list(RELATIONS)
    colours = [np.array(hex_rgb(entry["color"]), float) for entry in legend]
    closest = min(np.linalg.norm(a - b) for i, a in enumerate(colours) for b in colours[i + 1 :])
    assert closest > 60


def test_popular_models_are_brighter_and_bigger(tmp_path: Path) -> None:
    pts = frame([(50.5, 50.5, "finetune", np.nan), (150.5, 150.5, "finetune", 5e6)])
    tiles.render_relation_tiles(pts, tmp_path, max_zoom=2, progress=False)
    image = read_tile(tmp_path, 0, 0, 0)
    assert image[150, 150, 3] > image[50, 50, 3]
    deep = read_tile(tmp_path, 2, 0, 0), read_tile(tmp_path, 2, 2, 2)
    assert np.count_nonzero(deep[1][..., 3]) > np.count_nonzero(deep[0][..., 3]) > 1


def test_bad_points_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown relations"):
        tiles.render_relation_tiles(frame([(1.0, 1.0, "sibling", 1.0)]), tmp_path, progress=False)
    with pytest.raises(ValueError, match="lacks columns"):
        tiles.render_relation_tiles(pd.DataFrame({"x": [1.0], "y": [1.0]}), tmp_path, progress=False)


def test_no_points_no_tiles(tmp_path: Path) -> None:
    layer = tiles.render_relation_tiles(frame([]), tmp_path, max_zoom=3, progress=False)
    assert layer["tiles"] == 0 and layer["bytes"] == 0 and tile_files(tmp_path) == set()


def grid(n: int, spacing: float) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    x, y = np.meshgrid(np.arange(n) * spacing + 1.0, np.arange(n) * spacing + 1.0)
    return x.ravel(), y.ravel()


def test_choose_max_zoom() -> None:
    # Grid spacing s world units = s·2^z px: the first zoom with ≥ 16 px is ceil(log2(16 / s)).
    assert tiles.choose_max_zoom(*grid(10, 0.25), max_zoom=10) == 6
    assert tiles.choose_max_zoom(*grid(10, 0.125), max_zoom=10) == 7
    sparse, dense = grid(20, 10.0), grid(100, 0.05)
    assert tiles.choose_max_zoom(*sparse) == 2  # clamped to min_zoom
    assert tiles.choose_max_zoom(*dense) == 8  # clamped to max_zoom
    assert tiles.choose_max_zoom(*grid(10, 0.25), min_zoom=7) == 7
    assert tiles.choose_max_zoom([1.0], [1.0]) == 2
    # Coincident duplicates never separate and must not drag the choice to max_zoom.
    x, y = grid(10, 0.25)
    assert tiles.choose_max_zoom(np.repeat(x, 3), np.repeat(y, 3), max_zoom=10) == 6


def golden_points() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 60
    return pd.DataFrame(
        {
            "x": np.round(rng.uniform(100, 156, n), 3),
            "y": np.round(rng.uniform(100, 156, n), 3),
            "relation": [RELATIONS[i % len(RELATIONS)] for i in range(n)],
            "downloads": np.where(rng.random(n) < 0.2, np.nan, np.floor(10 ** rng.uniform(0, 6.5, n))),
        }
    )


GOLDEN_TILES = [(1, 0, 0), (1, 1, 1), (2, 1, 2)]


def test_golden_tiles(tmp_path: Path) -> None:
    tiles.render_relation_tiles(golden_points(), tmp_path, max_zoom=2, progress=False)
    if os.environ.get("ATLASGEN_UPDATE_GOLDEN"):
        GOLDEN.mkdir(parents=True, exist_ok=True)
        for z, x, y in GOLDEN_TILES:
            np.savez_compressed(GOLDEN / f"relation-{z}-{x}-{y}.npz", rgba=read_tile(tmp_path, z, x, y))
            Image.fromarray(read_tile(tmp_path, z, x, y)).save(GOLDEN / f"relation-{z}-{x}-{y}.png")
    for z, x, y in GOLDEN_TILES:
        np.testing.assert_array_equal(
            read_tile(tmp_path, z, x, y), np.load(GOLDEN / f"relation-{z}-{x}-{y}.npz")["rgba"]
        )
