"""Tile layers: file layout, orientation, seams (points and lines), fixed-span shading, colours, WebP encoding,
worker/Dask independence, retina tiles, max-zoom choice, golden tiles per layer.

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

from atlasgen.tiles import pyramid as tiles
from atlasgen.tiles import render as tiles_render
from atlasgen.tiles.palette import (
    EDGES,
    LICENCE,
    RELATIONS,
    licence_codes,
    licence_family,
    radii,
    relation_legend,
    task_encoding,
)

GOLDEN = Path(__file__).parent / "data" / "tiles"
Pixels = npt.NDArray[np.uint8]


def frame(rows: list[tuple[float, float, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["x", "y", "relation", "downloads"])


def read_tile(out: Path, z: int, x: int, y: int, layer: str = "relation", size: int = 256) -> Pixels:
    with Image.open(out / "tiles" / layer / str(z) / str(x) / f"{y}.webp") as im:
        assert im.mode in ("P", "RGBA") and im.size == (size, size)
        return np.asarray(im.convert("RGBA"))


def tile_files(out: Path, layer: str = "relation") -> set[tuple[int, int, int]]:
    root = out / "tiles" / layer
    return {tuple(int(p) for p in f.relative_to(root).with_suffix("").parts) for f in root.rglob("*.webp")}  # type: ignore[misc]


def stitch(out: Path, z: int, layer: str = "relation", size: int = 256) -> Pixels:
    n = 2**z
    full = np.zeros((size * n, size * n, 4), np.uint8)
    for _, x, y in {t for t in tile_files(out, layer) if t[0] == z}:
        full[size * y : size * (y + 1), size * x : size * (x + 1)] = read_tile(out, z, x, y, layer, size)
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
    files = list((tmp_path / "tiles" / "relation").rglob("*.webp"))
    assert layer["tiles"] == len(files) == len(expected)
    assert layer["bytes"] == sum(f.stat().st_size for f in files)
    assert layer["max_zoom"] == 2 and layer["min_zoom"] == 0 and layer["tile_size"] == 256
    assert layer["url"] == "tiles/relation/{z}/{x}/{y}.webp" and layer["id"] == "relation"
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
    monkeypatch.setattr(tiles, "BLOCK_PX", 256 * block_tiles)
    pts = border_points()
    tiles.render_relation_tiles(pts, tmp_path, max_zoom=2, progress=False, workers=1)
    for z in (1, 2):
        one_shot = rgba(tiles.render_level_dense(pts, None, "relation", z, design_zoom=2))
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
    with pytest.raises(ValueError, match="unknown relation values"):
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


# --- the other layers, encoding, workers, Dask, retina ----------------------------------------------------


def atlas(n: int = 60, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A tiny atlas with every attribute: golden_points plus tasks, licences and parent -> child edges."""
    rng = np.random.default_rng(seed)
    pts = (
        golden_points()
        if n == 60 and seed == 7
        else golden_points().sample(n, replace=True, random_state=seed)
    )
    pts = pts.reset_index(drop=True)
    tasks = np.array(
        ["text-generation", "fill-mask", "image-classification", None, "translation"], dtype=object
    )
    licences = np.array(["apache-2.0", "mit", "llama3.1", None, "cc-by-nc-4.0", "gemma", "weird", "openrail"])
    pts["pipeline_tag"] = tasks[np.arange(len(pts)) % len(tasks)]
    pts["licence"] = licences[np.arange(len(pts)) % len(licences)]
    child = np.flatnonzero(pts["relation"].isin(["finetune", "adapter", "quantized", "merge", "unknown"]))
    parent = rng.integers(0, len(pts), len(child))
    edges = pd.DataFrame(
        {
            "x0": pts["x"].to_numpy()[parent],
            "y0": pts["y"].to_numpy()[parent],
            "x1": pts["x"].to_numpy()[child],
            "y1": pts["y"].to_numpy()[child],
            "relation": pts["relation"].to_numpy()[child],
        }
    )
    return pts, edges


GOLDEN_LAYER_TILES = {
    "task": [(1, 0, 0), (2, 1, 2)],
    "licence": [(1, 1, 1), (2, 1, 2)],
    "edges": [(1, 0, 0), (2, 1, 2)],
}


def test_golden_tiles_per_layer(tmp_path: Path) -> None:
    pts, edges = atlas()
    result = tiles.render_layers(pts, edges, tmp_path, max_zoom=2, workers=1, progress=False)
    assert [layer["id"] for layer in result["layers"]] == ["relation", "edges", "task", "licence"]
    for layer, wanted in GOLDEN_LAYER_TILES.items():
        for z, x, y in wanted:
            name = f"{layer}-{z}-{x}-{y}"
            tile = read_tile(tmp_path, z, x, y, layer)
            if os.environ.get("ATLASGEN_UPDATE_GOLDEN"):
                np.savez_compressed(GOLDEN / f"{name}.npz", rgba=tile)
                Image.fromarray(tile).save(GOLDEN / f"{name}.png")
            np.testing.assert_array_equal(tile, np.load(GOLDEN / f"{name}.npz")["rgba"])


def long_edges() -> pd.DataFrame:
    """Lines crossing tile borders at every angle, through corners, along borders, and a zero-length one."""
    rows = [
        (3.0, 5.0, 250.0, 251.0, "finetune"),
        (250.0, 4.0, 4.0, 250.0, "merge"),
        (64.0, 10.0, 64.0, 200.0, "adapter"),  # on the z2 border x = 64
        (10.0, 128.0, 240.0, 128.0, "quantized"),  # on the z1 border y = 128
        (100.0, 100.0, 156.0, 156.0, "unknown"),  # through the centre corner
        (127.9, 60.2, 128.3, 190.7, "finetune"),
        (70.0, 70.0, 70.0, 70.0, "merge"),
        (30.0, 190.0, 200.0, 20.0, "finetune"),
    ]
    return pd.DataFrame(rows, columns=["x0", "y0", "x1", "y1", "relation"])


@pytest.mark.parametrize("block_px", [256, 1024])
def test_edge_tiles_are_seamless(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block_px: int) -> None:
    monkeypatch.setattr(tiles, "EDGE_BLOCK_PX", block_px)
    pts, edges = frame([(20.0, 20.0, "base", 1.0)]), long_edges()
    pts = pts.assign(pipeline_tag=None, licence=None)
    tiles.render_layers(pts, edges, tmp_path, max_zoom=3, layers=["edges"], workers=1, progress=False)
    for z in (0, 1, 2, 3):
        one_shot = rgba(tiles.render_level_dense(pts, edges, "edges", z, design_zoom=3))
        assert one_shot[..., 3].any()
        np.testing.assert_array_equal(stitch(tmp_path, z, "edges"), one_shot)


def test_edges_start_where_they_are_legible(tmp_path: Path) -> None:
    pts, edges = atlas()
    length = np.median(np.hypot(edges["x1"] - edges["x0"], edges["y1"] - edges["y0"]))
    expected = max(0, int(np.ceil(np.log2(tiles.EDGE_MIN_MEDIAN_PX / length))))
    result = tiles.render_layers(
        pts,
        edges.assign(x1=edges["x0"] + 0.001, y1=edges["y0"]),
        tmp_path,
        max_zoom=2,
        layers=["edges"],
        workers=1,
        progress=False,
    )
    assert result["layers"] == [] and "edges layer skipped" in result["dropped"][0]
    result = tiles.render_layers(
        pts, edges, tmp_path, max_zoom=2, layers=["edges"], workers=1, progress=False
    )
    (layer,) = result["layers"]
    assert layer["min_zoom"] == expected and layer["legend"] == EDGES.legend() and layer["overlay"]
    assert {z for z, _, _ in tile_files(tmp_path, "edges")} == set(range(expected, 3))
    # Faint: even where lines pile up, alpha stays at the style's maximum.
    assert stitch(tmp_path, 2, "edges")[..., 3].max() <= tiles.EDGE_STYLE_ALPHA[1]


def decode(data: bytes) -> np.ndarray:
    with Image.open(__import__("io").BytesIO(data)) as im:
        assert im.format == "WEBP"
        return np.asarray(im.convert("RGBA")).reshape(-1, 4).view(np.uint32).ravel()


def test_sparse_tiles_decode_to_exactly_the_rendered_rgba() -> None:
    rng = np.random.default_rng(3)
    for n_colours in (1, 3, 17, 256, 300):
        colours = rng.integers(1, 2**32, n_colours, dtype=np.uint64).astype(np.uint32) | np.uint32(1 << 24)
        offsets = np.unique(rng.integers(0, 256 * 256, 2000))
        values = colours[rng.integers(0, n_colours, len(offsets))]
        data = tiles_render.encode_tile(offsets, values, 256)
        expected = np.zeros(256 * 256, np.uint32)
        expected[offsets] = values
        np.testing.assert_array_equal(decode(data), expected)


def test_dense_overview_tiles_are_reduced_smaller_and_look_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The overview of a big Hub: 150k models in 300 families on one tile, a texture of many models per pixel."""
    rng = np.random.default_rng(5)
    n = 150_000
    centres = rng.uniform(20, 236, (300, 2))
    xy = np.clip(centres[rng.integers(0, 300, n)] + rng.normal(0, 6, (n, 2)), 0, 255.9)
    pts = pd.DataFrame(
        {
            "x": xy[:, 0],
            "y": xy[:, 1],
            "relation": np.array(RELATIONS)[rng.integers(0, len(RELATIONS), n)],
            "downloads": np.floor(10 ** rng.uniform(0, 6, n)),
        }
    )
    tiles.render_relation_tiles(pts, tmp_path / "reduced", max_zoom=0, workers=1, progress=False)
    monkeypatch.setattr(tiles_render, "DENSE_BYTES", 10**9)
    tiles.render_relation_tiles(pts, tmp_path / "exact", max_zoom=0, workers=1, progress=False)
    reduced, exact = (tmp_path / d / "tiles/relation/0/0/0.webp" for d in ("reduced", "exact"))
    assert b"VP8L" in reduced.read_bytes()  # still a lossless bitstream: no chroma subsampling
    assert reduced.stat().st_size < tiles_render.DENSE_GAIN * exact.stat().st_size
    a, b = (decode(f.read_bytes()).view(np.uint8).reshape(-1, 4).astype(float) for f in (reduced, exact))
    assert len(np.unique(decode(reduced.read_bytes()))) <= tiles_render.DENSE_COLOURS
    assert len(np.unique(decode(exact.read_bytes()))) > 4 * tiles_render.DENSE_COLOURS
    # What the eye sees at this density holds: the same pixels covered, colours close over the background.
    assert np.array_equal(a[:, 3] > 0, b[:, 3] > 0)
    background = np.array([11, 14, 20], float)
    over = [x[:, :3] * x[:, 3:] / 255 + background * (1 - x[:, 3:] / 255) for x in (a, b)]
    assert np.abs(over[0] - over[1]).mean() < 8  # per pixel, of 255
    assert np.abs(over[0].mean(axis=0) - over[1].mean(axis=0)).max() < 2  # the tile's overall colour


def test_worker_count_does_not_change_tiles(tmp_path: Path) -> None:
    pts, edges = atlas()
    serial = tiles.render_layers(pts, edges, tmp_path / "one", max_zoom=3, workers=1, progress=False)
    pooled = tiles.render_layers(pts, edges, tmp_path / "two", max_zoom=3, workers=2, progress=False)
    assert serial == pooled
    assert_same_files(tmp_path / "one", tmp_path / "two")


def assert_same_files(a: Path, b: Path) -> None:
    files = sorted(p.relative_to(a) for p in a.rglob("*.webp"))
    assert files and files == sorted(p.relative_to(b) for p in b.rglob("*.webp"))
    for f in files:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f


def test_dask_cluster_renders_the_same_tiles(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    pts, edges = atlas()
    serial = tiles.render_layers(pts, edges, tmp_path / "one", max_zoom=2, workers=1, progress=False)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        remote = tiles.render_layers(
            pts,
            edges,
            tmp_path / "dask",
            max_zoom=2,
            dask_scheduler=cluster.scheduler_address,
            progress=False,
        )
    assert serial == remote
    assert_same_files(tmp_path / "one", tmp_path / "dask")


def test_retina_tiles_cover_the_same_world_at_twice_the_pixels(tmp_path: Path) -> None:
    pts = frame([(70.3, 200.2, "finetune", 100.0)])
    result = tiles.render_layers(
        pts, None, tmp_path, max_zoom=2, layers=["relation"], retina=True, workers=1, progress=False
    )
    (layer,) = result["layers"]
    assert layer["tile_size"] == 256 and layer["retina"]["url"] == "tiles/relation@2x/{z}/{x}/{y}.webp"
    assert tile_files(tmp_path, "relation@2x") == tile_files(tmp_path) == {(0, 0, 0), (1, 0, 1), (2, 1, 3)}
    assert layer["tiles"] == 6
    one, two = read_tile(tmp_path, 2, 1, 3), read_tile(tmp_path, 2, 1, 3, "relation@2x", 512)
    assert two[64, 50, 3] > 0 and np.array_equal(one[32, 25], two[64, 50])  # same place, same colour
    assert np.count_nonzero(two[..., 3]) > 3 * np.count_nonzero(one[..., 3])  # same size in CSS px


def test_task_and_licence_encodings() -> None:
    tags = pd.Series([f"t{i % 12}" for i in range(120)] + ["t0"] * 5 + [None] * 3, dtype=object)
    enc, codes = task_encoding(tags)
    assert (
        enc.categories[0] == "t0"
        and len(enc.categories) == 12
        and enc.categories[-2:] == ("other", "unknown")
    )
    assert codes[-1] == 11 and (codes[tags == "t9"] == 10).all() and (codes[tags == "t10"] == 2).all()
    cases = {
        "apache-2.0": "apache",
        "MIT": "mit",
        "llama2": "llama",
        "llama3.2": "llama",
        "gemma": "gemma",
        "qwen": "qwen",
        "tongyi-qianwen-research": "qwen",
        "cc-by-nc-sa-4.0": "cc-by",
        "creativeml-openrail-m": "openrail",
        "openrail++": "openrail",
        "gpl-3.0": "other",
        "other": "other",
        "unknown": "unknown",
        None: "unknown",
    }
    for licence, family in cases.items():
        assert licence_family(licence) == family, licence
    codes = licence_codes(pd.Series(list(cases), dtype=object))
    assert [LICENCE.categories[c] for c in codes] == list(cases.values())
    colours = [np.array(hex_rgb(c), float) for c in [*LICENCE.colors.values(), *enc.colors.values()][:9]]
    assert min(np.linalg.norm(a - b) for i, a in enumerate(colours) for b in colours[i + 1 :]) > 40
