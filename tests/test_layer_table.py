"""The layer table (atlasgen/tiles/table.py): one entry makes a layer, and everything reads the table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from atlasgen.tiles.palette import NEW, Encoding, task_encoding
from atlasgen.tiles.pyramid import MIN_ALPHA, render_layers
from atlasgen.tiles.table import (
    DEFAULT_LAYERS,
    LAYERS,
    PRIORITY,
    TABLE,
    Categories,
    LayerDef,
    figure_layers,
    layer_help,
    points_frame,
)

# A layer that exists only in this test: models coloured by library, two categories.
LIBRARY = Encoding(
    "Library",
    ("transformers", "diffusers"),
    {"transformers": "#3bc9db", "diffusers": "#ff6b6b"},
    {"transformers": "Transformers", "diffusers": "Diffusers"},
)
LIBRARY_LAYER = LayerDef(
    "library",
    "points",
    "library_name",
    Categories(LIBRARY),
    "library (colour: the model's library)",
    priority=9,
)


def read_tile(out: Path, layer: str, z: int, x: int, y: int) -> np.ndarray:
    with Image.open(out / "tiles" / layer / str(z) / str(x) / f"{y}.webp") as im:
        return np.asarray(im.convert("RGBA"))


def hex_rgb(color: str) -> np.ndarray:
    return np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)])


def test_a_new_entry_is_a_renderable_layer(tmp_path: Path) -> None:
    table = TABLE.with_layer(LIBRARY_LAYER)
    points = pd.DataFrame(
        {
            "x": [10.5, 200.5],
            "y": [10.5, 60.5],
            "relation": ["base", "finetune"],
            "downloads": [100.0, 100.0],
            "library_name": ["transformers", "diffusers"],
        }
    )
    result = render_layers(
        points,
        None,
        tmp_path,
        max_zoom=1,
        layers=("relation", "library"),
        workers=1,
        progress=False,
        table=table,
    )
    (entry,) = (e for e in result["layers"] if e["id"] == "library")
    assert entry["title"] == "Library" and entry["legend"] == LIBRARY.legend() and "overlay" not in entry
    files = {
        p.relative_to(tmp_path / "tiles" / "library").as_posix() for p in tmp_path.rglob("library/**/*.webp")
    }
    assert files == {"0/0/0.webp", "1/0/0.webp", "1/1/0.webp"}
    tile = read_tile(tmp_path, "library", 0, 0, 0)
    for (row, col), key in (((10, 10), "transformers"), ((60, 200), "diffusers")):
        pixel = tile[row, col]
        assert pixel[3] >= MIN_ALPHA
        assert np.abs(pixel[:3].astype(int) - hex_rgb(LIBRARY.colors[key])).max() <= 1, key
    # The table is the one list of names: without the entry the layer does not exist.
    with pytest.raises(ValueError, match="unknown layers"):
        render_layers(points, None, tmp_path, max_zoom=1, layers=("library",), workers=1, progress=False)


def test_the_new_overlay_draws_only_new_models_and_names_the_date(tmp_path: Path) -> None:
    points = pd.DataFrame(
        {"x": [10.5, 200.5], "y": [10.5, 60.5], "relation": ["base", "base"], "downloads": [1.0, 1.0]}
    ).assign(new=[False, True])
    result = render_layers(
        points,
        None,
        tmp_path,
        max_zoom=0,
        layers=("new",),
        since_date="2025-06-01",
        workers=1,
        progress=False,
    )
    (entry,) = result["layers"]
    assert entry["title"] == "New since 2025-06-01" and entry["overlay"] is True
    tile = read_tile(tmp_path, "new", 0, 0, 0)
    assert tile[10, 10, 3] == 0 and tile[60, 200, 3] >= MIN_ALPHA
    assert np.abs(tile[60, 200, :3].astype(int) - hex_rgb(NEW.colors["new"])).max() <= 1
    undated = render_layers(points, None, tmp_path, max_zoom=0, layers=("new",), workers=1, progress=False)
    assert undated["layers"][0]["title"] == NEW.title


def test_every_list_of_layers_comes_from_the_table() -> None:
    assert LAYERS == ("relation", "edges", "task", "licence", "new")
    assert DEFAULT_LAYERS == ("relation", "edges", "task", "licence")
    assert PRIORITY == ("relation", "new", "edges", "task", "licence")
    assert TABLE.required == ("relation",)
    assert [spec.id for spec in figure_layers()] == ["relation", "task", "licence"]
    assert [spec.id for spec in TABLE if spec.overlay] == ["edges", "new"]
    assert TABLE.with_layer(LIBRARY_LAYER).priority[-1] == "library"
    with pytest.raises(ValueError, match="unique"):
        TABLE.with_layer(TABLE["task"])


def test_layer_help_names_every_layer_and_the_budget_order() -> None:
    text = layer_help()
    assert "relation required" in text
    for spec in TABLE:
        assert spec.help in text and spec.help.startswith(spec.id)
    assert "models added since --previous; added by default with it" in text
    assert text.endswith("priority: relation, new, edges, task, licence.")


def test_figure_codes_follow_a_built_maps_legend() -> None:
    tags = pd.Series(["a", "b", "a", None, "z"], dtype=object)
    legend = [{"key": k} for k in ("b", "a", "other", "unknown")]  # a built map's legend order, not ours
    assert TABLE["task"].codes(tags, [e["key"] for e in legend]).tolist() == [1, 0, 1, 3, 2]
    assert TABLE["task"].legend(tags) == task_encoding(tags)[0].legend()
    licences = pd.Series(["mit", "apache-2.0", None, "gpl-3.0"], dtype=object)
    keys = ["unknown", "other", "mit", "apache"]  # families in another order
    assert TABLE["licence"].codes(licences, keys).tolist() == [2, 3, 0, 1]
    relation = pd.Series(["merge", "base", "sibling"])
    assert TABLE["relation"].codes(relation, ["base", "merge"]).tolist() == [1, 0, -1]


def test_points_frame_carries_what_the_layers_encode() -> None:
    nodes = pd.DataFrame(
        {
            "id": ["a", "b"],
            "relation": ["base", "finetune"],
            "downloads": [1.0, np.nan],
            "pipeline_tag": ["fill-mask", None],
            "licence": [None, "mit"],
            "likes": [3, 4],
        }
    )
    xy = np.array([[1.0, 2.0], [3.0, 4.0]])
    frame = points_frame(nodes, xy, {"new": np.array([False, True])})
    assert set(frame.columns) == {"x", "y", "downloads", "relation", "pipeline_tag", "licence", "new"}
    assert frame["x"].tolist() == [1.0, 3.0] and frame["new"].tolist() == [False, True]
    assert points_frame(nodes, xy)["new"].tolist() == [False, False]  # no previous atlas: nothing is new
    with pytest.raises(ValueError, match=r"nodes lack columns \['licence'\]"):
        points_frame(nodes.drop(columns="licence"), xy)
