"""``atlasgen figure``: pixel sizes and DPI, region crops, legend and attribution, escaping, goldens.

Most tests write a tiny atlas directly (positions.parquet, lineage.parquet, atlas.json: what a build
publishes), so every coordinate is known; one builds a tiny atlas through the real pipeline and the CLI.

Golden figures: ``ATLASGEN_UPDATE_GOLDEN=1 pytest tests/test_figure.py -k golden`` rewrites
tests/data/figure/ (a compressed .npz per figure, and the PNG beside it for people). They are drawn with
Pillow's built-in font, so they don't depend on the fonts a machine has.
"""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from PIL import Image

from atlasgen.cli import cli
from atlasgen.errors import AtlasgenError, InputError
from atlasgen.tiles.palette import BACKGROUND, LICENCE, relation_legend
from atlasgen.tools.figure import style as figure_style
from atlasgen.tools.figure import svg as figure_svg
from atlasgen.tools.figure.layout import Plan
from atlasgen.tools.figure.make import (
    FigureOptions,
    parse_bbox,
    parse_formats,
    parse_size,
    plan_figure,
    render,
    run,
)
from atlasgen.tools.figure.scene import encode
from atlasgen.tools.figure.style import contrast, themed_color

GOLDEN = Path(__file__).parent / "data" / "figure"
HOSTILE = '"><script>alert(1)</script>'
SVG = "{http://www.w3.org/2000/svg}"

# id, x, y, relation, task, licence, downloads. A family around (100, 100), a second one at (60, 60) and a
# lone model far away at (200, 200).
MODELS = [
    ("org/base", 100.0, 100.0, "base", "text-generation", "apache-2.0", 5e6),
    ("org/base-instruct", 102.0, 100.0, "finetune", "text-generation", "apache-2.0", 2e5),
    ("q/base-GGUF", 100.0, 103.0, "quantized", None, "apache-2.0", 5e3),
    ("a/base-lora", 97.5, 99.0, "adapter", "text-generation", "mit", 300.0),
    ("m/base-merge", 101.0, 97.0, "merge", "text-generation", "llama3.1", 50.0),
    ("u/base-thing", 98.0, 102.0, "unknown", "fill-mask", "other-licence", None),
    (HOSTILE, 103.5, 102.5, "finetune", "text-generation", None, 1e6),
    ("evil/<b>&amp;</b>", 99.0, 95.5, "finetune", "text-generation", "apache-2.0", 9e5),
    ("other/root", 60.0, 60.0, "base", "image-classification", "cc-by-4.0", 4e4),
    ("other/ft", 61.5, 60.5, "finetune", "image-classification", "cc-by-4.0", 10.0),
    ("far/away", 200.0, 200.0, "base", "translation", "mit", 1e3),
]
LINKS = [
    ("org/base", "org/base-instruct", "finetune"),
    ("org/base", "q/base-GGUF", "quantized"),
    ("org/base", "a/base-lora", "adapter"),
    ("org/base", "m/base-merge", "merge"),
    ("other/root", "m/base-merge", "merge"),
    ("org/base", "u/base-thing", "unknown"),
    ("org/base-instruct", HOSTILE, "finetune"),
    ("org/base", "evil/<b>&amp;</b>", "finetune"),
    ("other/root", "other/ft", "finetune"),
]


def write_atlas(out: Path, models: list[tuple] = MODELS, links: list[tuple] = LINKS) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    columns = ["id", "x", "y", "relation", "task", "licence", "downloads"]
    frame = pd.DataFrame(models, columns=columns).assign(likes=0.0, created_at=None, virtual=False)
    frame.to_parquet(out / "positions.parquet")
    pd.DataFrame(links, columns=["parent", "child", "relation"]).to_parquet(out / "lineage.parquet")
    manifest = {
        "generator": {"name": "atlasgen", "version": "test"},
        "snapshot": {"label": "test", "format": "hub-stats", "date": "2025-06-11"},
        "layers": [{"id": "relation", "legend": relation_legend(), "max_zoom": 4, "background": BACKGROUND}],
    }
    (out / "atlas.json").write_text(json.dumps(manifest), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def atlas(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_atlas(tmp_path_factory.mktemp("figure") / "atlas")


@pytest.fixture
def builtin_font(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Pillow's built-in font, so pixels don't depend on the machine's fonts."""
    monkeypatch.setattr(figure_style, "FONT_FILES", ())
    figure_style.font.cache_clear()
    yield
    figure_style.font.cache_clear()


def request(
    *,
    atlas: Path,
    out: Path,
    bbox: str | None = None,
    size: str | None = None,
    formats: str = "png,svg,pdf",
    **options: object,
) -> FigureOptions:
    """A figure request as a library user builds one: the text forms through the library's parsers."""
    return FigureOptions(
        atlas,
        out,
        bbox=None if bbox is None else parse_bbox(bbox),
        size=None if size is None else parse_size(size),
        formats=parse_formats(formats),
        **options,  # type: ignore[arg-type]
    )


def figure(atlas: Path, out: Path, **options: object) -> dict:
    return run(request(atlas=atlas, out=out / "fig", **options))  # type: ignore[arg-type]


def rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


# --- sizes -------------------------------------------------------------------------------------------------


def test_width_and_height_are_exact_and_carry_no_dpi(atlas: Path, tmp_path: Path) -> None:
    result = figure(atlas, tmp_path, width=420, height=300, labels=2)
    with Image.open(tmp_path / "fig.png") as im:
        assert im.size == (420, 300) and "dpi" not in im.info
    root = ET.parse(tmp_path / "fig.svg").getroot()
    assert (root.get("width"), root.get("height"), root.get("viewBox")) == ("420", "300", "0 0 420 300")
    assert result["size"] == (420, 300) and result["map_height"] < 300


def test_one_side_gives_the_other_from_the_region(atlas: Path, tmp_path: Path) -> None:
    result = figure(atlas, tmp_path, bbox="50,50,150,100", width=400, formats="png")
    assert result["size"][0] == 400 and result["map_height"] == 200  # the 2:1 box, legend below
    assert result["view"] == pytest.approx((50, 50, 150, 100))
    tall = figure(atlas, tmp_path, bbox="50,50,150,100", height=500, formats="png")
    assert tall["size"][1] == 500 and tall["size"][0] == pytest.approx(2 * tall["map_height"], abs=1)


@pytest.mark.parametrize(
    ("size", "dpi", "pixels"),
    [
        ("60mm", 150, (354, None)),
        ("60x40mm", 150, (354, 236)),
        ("2in", 300, (600, None)),
        ("6x4cm", 150, (354, 236)),
    ],
)
def test_print_size_and_dpi(atlas: Path, tmp_path: Path, size: str, dpi: int, pixels: tuple) -> None:
    result = figure(atlas, tmp_path, size=size, dpi=dpi, labels=3)
    with Image.open(tmp_path / "fig.png") as im:
        assert im.info["dpi"] == pytest.approx((dpi, dpi), abs=0.05)  # stored as dots per metre
        assert im.size[0] == pixels[0] and (pixels[1] is None or im.size[1] == pixels[1])
        assert result["size"] == im.size
    width_mm = im.size[0] / dpi * 25.4
    root = ET.parse(tmp_path / "fig.svg").getroot()
    assert float(root.get("width", "").removesuffix("mm")) == pytest.approx(width_mm, abs=0.01)
    pdf = (tmp_path / "fig.pdf").read_bytes()
    box = re.search(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert pdf.startswith(b"%PDF") and box, "a PDF with its page size"
    assert float(box[1]) == pytest.approx(im.size[0] / dpi * 72, abs=0.5)  # points: the physical size


def test_default_is_180mm_at_300_dpi(atlas: Path, tmp_path: Path) -> None:
    result = figure(atlas, tmp_path, formats="png")
    assert result["size"][0] == round(180 / 25.4 * 300) and result["dpi"] == 300
    w, h = result["size"]
    assert render(result) == f"{result['models']:,} models, {w}x{h} px at 300 dpi: {tmp_path / 'fig.png'}\n"
    assert json.loads(render(result, "json"))["files"] == [str(tmp_path / "fig.png")]


def test_parse_size() -> None:
    assert parse_size("180mm") == pytest.approx((180 / 25.4, None))
    assert parse_size("7 x 5 in") == pytest.approx((7, 5))
    for bad in ("180", "0mm", "12px", "axbmm", "10x0mm"):
        with pytest.raises(ValueError):
            parse_size(bad)


# --- options and errors ------------------------------------------------------------------------------------


def test_every_option_problem_is_reported_at_once(atlas: Path, tmp_path: Path) -> None:
    args = ["figure", "--atlas", str(tmp_path / "nope"), "--out", str(tmp_path / "fig"), "--size", "180mm"]
    args += ["--width", "100", "--bbox", "1,2,3", "--radius", "5", "--labels", "-1", "--format", "png,gif"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1 and "Traceback" not in result.output
    for part in (
        "--atlas",
        "--size and --width",
        "--bbox: cannot read '1,2,3' as X0,Y0,X1,Y1",
        "--radius needs --center",
        "--labels",
        "--format: a comma-separated list of png, svg, pdf, got 'png,gif'",
    ):
        assert part in result.output, part
    for parse, text in ((parse_bbox, "1,2,3"), (parse_formats, "png,gif"), (parse_size, "12px")):
        with pytest.raises(ValueError, match=text) as err:  # the library speaks of values, not flags
            parse(text)
        assert "--" not in str(err.value)


def test_unknown_center_names_close_ids(atlas: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        figure(atlas, tmp_path, center="org/bse", radius=5)
    assert "no model 'org/bse'" in err.value.message and "org/base" in err.value.message
    assert "--center" not in err.value.message  # the command line adds its flag


def test_empty_region_is_an_error(atlas: Path, tmp_path: Path) -> None:
    with pytest.raises(AtlasgenError, match="no models in the region"):
        figure(atlas, tmp_path, bbox="0,0,10,10", width=200)


# --- what is drawn -----------------------------------------------------------------------------------------


def test_center_and_radius_crop_to_the_right_models(atlas: Path, tmp_path: Path) -> None:
    opts = request(atlas=atlas, out=tmp_path / "fig", center="org/base", radius=5, width=300, height=300)
    plan = plan_figure(opts)
    x0, y0, x1, y1 = plan.view
    assert x0 <= 95 and x1 >= 105 and y0 <= 95 and y1 >= 105, "the view holds the disc asked for"
    assert (x1 - x0) / (y1 - y0) == pytest.approx(300 / plan.map_h)
    expected = {m[0] for m in MODELS if x0 <= m[1] < x1 and y0 <= m[2] < y1}
    assert set(plan.points.loc[plan.points["in_view"], "id"]) == expected
    assert {"org/base", HOSTILE, "evil/<b>&amp;</b>"} <= expected and "far/away" not in expected
    assert "other/root" not in set(plan.points["id"])
    result = run(opts)
    assert result["models"] == len(expected)
    root = ET.parse(tmp_path / "fig.svg").getroot()
    circles = root.findall(f".//{SVG}g[@id='points']/{SVG}circle")
    assert len(circles) == len(plan.points)


def test_legend_lists_each_category_in_view(atlas: Path, tmp_path: Path) -> None:
    result = figure(atlas, tmp_path, center="org/base", radius=6, width=900, height=700, edges=True)
    root = ET.parse(tmp_path / "fig.svg").getroot()
    legend = root.find(f".//{SVG}g[@id='legend']")
    assert legend is not None
    texts = {t.text for t in legend.iter(f"{SVG}text")}
    labels = {e["key"]: e["label"] for e in relation_legend()}
    for key in ("base", "finetune", "adapter", "quantized", "merge", "unknown"):
        assert labels[key] in texts
    assert labels["virtual"] not in texts, "no category the view lacks"
    assert any(t and t.startswith("Parent-child link") for t in texts)
    assert "Downloads:" in texts
    pixels = rgb(tmp_path / "fig.png")
    strip = pixels[result["map_height"] + 2 :]
    assert (np.abs(strip.astype(int) - 255).sum(axis=2) > 100).mean() > 0.01, "the PNG has a legend"
    base = figure_style.hex_rgb(themed_color(relation_legend()[0]["color"], "light"))
    assert (np.abs(strip.astype(int) - base).sum(axis=2) < 30).any(), "with the base colour's swatch"


def test_attribution_and_snapshot_date(atlas: Path, tmp_path: Path) -> None:
    figure(atlas, tmp_path, width=800, height=600)
    root = ET.parse(tmp_path / "fig.svg").getroot()
    note = root.find(f".//{SVG}g[@id='attribution']")
    assert note is not None
    line = " ".join(t.text or "" for t in note.iter(f"{SVG}text"))
    assert "Model Atlas · atlasgen · data: Hugging Face Hub metadata, snapshot 2025-06-11" in line
    with Image.open(tmp_path / "fig.png") as im:
        assert "snapshot 2025-06-11" in im.info["Source"]


def test_hostile_ids_are_escaped_in_the_svg(atlas: Path, tmp_path: Path) -> None:
    result = figure(atlas, tmp_path, center="org/base", radius=6, width=1000, height=800, labels=10)
    svg = (tmp_path / "fig.svg").read_text(encoding="utf-8")
    assert "<script>" not in svg and "<b>" not in svg
    assert "&lt;script&gt;" in svg and "&lt;b&gt;&amp;amp;&lt;/b&gt;" in svg
    root = ET.fromstring(svg)  # well-formed
    labels = {t.text for t in root.iter(f"{SVG}text")}
    assert "<b>&amp;</b>" in labels, "the label shows the id's name as written"
    titles = {t.text for t in root.iter(f"{SVG}title")}
    assert HOSTILE in titles, "a labelled model's full id is its ring's tooltip"
    assert len(result["labels"]) >= 4


def test_labels_never_overlap(atlas: Path, tmp_path: Path) -> None:
    opts = request(atlas=atlas, out=tmp_path / "fig", center="org/base", radius=4, width=500, height=400)
    plan = plan_figure(opts)
    labels = [t for t in plan.texts if t.role == "label"]
    assert labels and labels[0].text == "base", "the most-downloaded model is labelled first"
    boxes = [(t.x, t.y - t.size, t.x + figure_style.text_width(t.text, t.size), t.y) for t in labels]
    for i, a in enumerate(boxes):
        assert a[0] >= 0 and a[2] <= plan.width and a[1] >= 0 and a[3] <= plan.map_h
        for b in boxes[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    assert not [
        t for t in plan_figure(request(atlas=atlas, out=tmp_path / "f", labels=0)).texts if t.role == "label"
    ]


def test_large_views_embed_the_raster_in_the_svg(
    atlas: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(figure_svg, "VECTOR_CAP", 3)
    figure(atlas, tmp_path, width=400, height=300, formats="svg")
    root = ET.parse(tmp_path / "fig.svg").getroot()
    image = root.find(f".//{SVG}g[@id='map']/{SVG}image")
    assert image is not None and image.get("href", "").startswith("data:image/png;base64,")
    assert root.find(f".//{SVG}g[@id='points']") is None
    assert root.find(f".//{SVG}g[@id='legend']") is not None
    assert not (tmp_path / "fig.png").exists(), "only the formats asked for"


def test_layer_encodings_use_the_maps_categories(atlas: Path) -> None:
    positions = pd.read_parquet(atlas / "positions.parquet")
    codes, legend = encode("licence", {}, positions)
    keys = [legend[c]["key"] for c in codes]
    assert legend == LICENCE.legend()
    assert keys[:6] == ["apache", "apache", "apache", "mit", "llama", "other"] and keys[6] == "unknown"
    codes, legend = encode("task", {}, positions)
    keys = [legend[c]["key"] for c in codes]
    assert keys[0] == "text-generation" and keys[2] == "unknown"


def test_light_theme_keeps_each_colours_prominence() -> None:
    colors = [e["color"] for e in relation_legend()]
    dark = [contrast(c, BACKGROUND) for c in colors]
    light = [contrast(themed_color(c, "light"), "#ffffff") for c in colors]
    assert np.argsort(dark).tolist() == np.argsort(light).tolist()
    assert max(light) > 6 and min(light) < 2, "roots are dark ink, missing parents pale"
    assert themed_color("#56b4e9", "dark") == "#56b4e9"


def published_atlas(out: Path) -> Path:
    """tests/data/tiny through the real snapshot, graph and publishing code (positions.py), on a grid
    instead of a ForceAtlas2 layout (which would cost seconds of JIT here)."""
    from atlasgen.artifacts import write_lineage, write_positions
    from atlasgen.graph.dag import build_graph
    from atlasgen.ingest.snapshot import read_snapshot

    snap = read_snapshot(Path(__file__).parent / "data" / "tiny" / "edges.csv")
    graph = build_graph(snap)
    n = len(graph.nodes)
    xy = np.column_stack([100 + 3.0 * (np.arange(n) % 5), 100 + 3.0 * (np.arange(n) // 5)])
    out.mkdir()
    write_positions(graph.nodes, xy, out)
    write_lineage(graph.nodes["id"], graph.edges, out)
    snapshot = {k: snap.source[k] for k in ("label", "format")}
    (out / "atlas.json").write_text(json.dumps({"snapshot": snapshot, "layers": []}), encoding="utf-8")
    return out


def test_the_cli_draws_a_published_atlas(tmp_path: Path) -> None:
    site = published_atlas(tmp_path / "site")
    args = ["figure", "--atlas", str(site), "--out", str(tmp_path / "f.png"), "--width", "500", "--edges"]
    result = CliRunner().invoke(cli, [*args, "--center", "meta-llama/Meta-Llama-3-8B", "--theme", "dark"])
    assert result.exit_code == 0, result.output
    assert all((tmp_path / f"f.{ext}").is_file() for ext in ("png", "svg", "pdf"))
    assert re.search(r"\d+ models, 500x\d+ px", result.output)
    svg = (tmp_path / "f.svg").read_text(encoding="utf-8")
    assert "data: edges.csv" in svg and "Hugging Face" not in svg, "a private registry is not the Hub"
    bad = CliRunner().invoke(cli, [*args, "--center", "meta-llama/Meta-Llama-3-8c", "--layer", "task"])
    assert bad.exit_code == 1 and "close ids: meta-llama/Meta-Llama-3-8B" in bad.output
    assert "positions.parquet: --center: no model 'meta-llama/Meta-Llama-3-8c'" in bad.output
    other_case = CliRunner().invoke(cli, [*args, "--center", "meta-llama/meta-llama-3-8b"])
    assert other_case.exit_code == 0, other_case.output  # as on the Hub, an id in another case is the model
    assert "Traceback" not in bad.output
    usage = CliRunner().invoke(cli, [*args, "--size", "7in", "--bbox", "1,2"])
    assert usage.exit_code == 1 and "--size and --width" in usage.output and "--bbox" in usage.output


# --- goldens -----------------------------------------------------------------------------------------------

GOLDENS = {
    "light-relation-edges": {"center": "org/base", "radius": 7, "edges": True, "labels": 3},
    "dark-licence": {"bbox": "55,55,110,110", "layer": "licence", "theme": "dark", "labels": 2},
}


def text_mask(plan: Plan) -> np.ndarray:
    """Pixels under the plan's texts (with their halo and a margin)."""
    mask = np.zeros((plan.height, plan.width), bool)
    for t in plan.texts:
        width = figure_style.text_width(t.text, t.size)
        x0 = t.x - width if t.anchor == "end" else t.x
        pad = t.halo + 2
        y0, y1 = int(t.y - t.size - pad), int(t.y + 0.4 * t.size + pad)
        mask[max(y0, 0) : y1, max(int(x0 - pad), 0) : int(x0 + width + pad)] = True
    return mask


@pytest.mark.usefixtures("builtin_font")
@pytest.mark.parametrize("name", sorted(GOLDENS))
def test_golden_figures(atlas: Path, tmp_path: Path, name: str) -> None:
    opts = request(atlas=atlas, out=tmp_path / "fig", width=360, height=300, formats="png", **GOLDENS[name])
    run(opts)
    got = rgb(tmp_path / "fig.png")
    if os.environ.get("ATLASGEN_UPDATE_GOLDEN"):
        GOLDEN.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(GOLDEN / f"{name}.npz", rgb=got)
        Image.fromarray(got).save(GOLDEN / f"{name}.png")
    want = np.load(GOLDEN / f"{name}.npz")["rgb"]
    assert got.shape == want.shape
    diff = np.abs(got.astype(int) - want.astype(int)).max(axis=2)
    text = text_mask(plan_figure(opts))
    assert text.mean() < 0.5
    assert not diff[~text].any(), f"{(diff[~text] > 0).sum()} pixels of the map, markers or keys differ"
    # Text is rasterised by FreeType, whose antialiasing may shift a little between versions.
    assert (diff[text] > 48).mean() < 0.01, f"{(diff[text] > 48).sum()} text pixels differ"
