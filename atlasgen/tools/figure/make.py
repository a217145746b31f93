"""``atlasgen figure``: a print-quality figure of an atlas region, as PNG, SVG and PDF.

Reads what every built atlas publishes (``positions.parquet``, ``lineage.parquet``, ``atlas.json``; see
atlasgen/artifacts.py), so a figure of last week's atlas needs no rebuild. A figure is the map of one layer
(colours from atlas.json's legend, so they match the site; themed by style.py), optionally the
parent→child links under the points, labels for the most-downloaded models in view, and a legend strip
with the snapshot date and the attribution line.

Steps: the caller (the CLI) checks the options and builds a :class:`FigureOptions` (``parse_size``,
``parse_bbox``, ``parse_formats`` read the text forms); :func:`run` loads the atlas (scene.py, through
``artifacts.read_atlas``), fits the view and the pixel size (layout.py), hands one plan to the PNG/PDF writer
(raster.py) and the SVG writer (svg.py), writes the files and returns what it wrote and measured;
:func:`render` says so in a line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from atlasgen.errors import AtlasgenError
from atlasgen.tiles.palette import EDGE_RELATIONS, RELATION, popularity_weight, size_class
from atlasgen.tiles.table import TABLE
from atlasgen.tools.figure.layout import Legend, Plan, layout_legend, place_labels
from atlasgen.tools.figure.scene import Box, Scene, attribution, expand, load_scene, numeric, region
from atlasgen.tools.figure.style import ASSUMED_WIDTH_IN, THEMES, marker_radii, themed_color

FORMATS = ("png", "svg", "pdf")
DEFAULT_SIZE = "180mm"  # a two-column journal figure
DEFAULT_DPI = 300.0
DEFAULT_LABELS = 10
MAX_SIDE_PX = 20_000
UNITS = {"mm": 25.4, "cm": 2.54, "in": 1.0}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:[x×]\s*(\d+(?:\.\d+)?))?\s*(mm|cm|in)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class FigureOptions:
    """A validated figure request (see the README's ``atlasgen figure`` for each option)."""

    atlas: Path
    out: Path  # output path without suffix; each format adds its own
    center: str | None = None
    radius: float | None = None
    bbox: Box | None = None
    width: int | None = None
    height: int | None = None
    size: tuple[float, float | None] | None = None  # inches
    dpi: float | None = None
    layer: str = "relation"
    edges: bool = False
    labels: int = DEFAULT_LABELS
    theme: str = "light"
    formats: tuple[str, ...] = FORMATS


def parse_size(text: str) -> tuple[float, float | None]:
    """``180mm``, ``7in``, ``18cm`` or ``180x120mm`` -> (width, height or None) in inches."""
    match = _SIZE.match(text)
    if not match or float(match[1]) <= 0 or (match[2] is not None and float(match[2]) <= 0):
        raise ValueError(f"cannot read {text!r} as a print size; use e.g. 180mm, 7in or 180x120mm")
    unit = UNITS[match[3].lower()]
    return float(match[1]) / unit, float(match[2]) / unit if match[2] else None


def parse_bbox(text: str) -> Box:
    """``x0,y0,x1,y1`` in world coordinates (y grows downward) with x0 < x1 and y0 < y1."""
    try:
        x0, y0, x1, y1 = (float(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"cannot read {text!r} as X0,Y0,X1,Y1 (four numbers)") from None
    if not all(np.isfinite([x0, y0, x1, y1])) or x0 >= x1 or y0 >= y1:
        raise ValueError(f"{text!r}: need finite numbers with X0 < X1 and Y0 < Y1")
    return (x0, y0, x1, y1)


def parse_formats(text: str) -> tuple[str, ...]:
    """``png,svg`` -> ("png", "svg"): a comma-separated list of FORMATS."""
    formats = tuple(f.strip().lower() for f in text.split(","))
    if not formats or any(f not in FORMATS for f in formats):
        raise ValueError(f"a comma-separated list of {', '.join(FORMATS)}, got {text!r}")
    return formats


def stem(out: Path) -> Path:
    """The output name without a format's suffix: ``fig.png`` and ``fig`` both give ``fig``."""
    return out.with_suffix("") if out.suffix.lower().lstrip(".") in FORMATS else out


# --- fitting the view and the pixels ----------------------------------------------------------------------


def _plan(
    opts: FigureOptions, scene: Scene, size: tuple[int, int, float | None], area: Box, seen: set[int]
) -> Plan:
    """A plan for a map box of width × map_h over ``area`` (expanded to the box's shape); its legend holds
    the categories in view plus ``seen``, which grows while the strip height is being settled."""
    width, map_h, dpi = size
    ppi = dpi or width / ASSUMED_WIDTH_IN
    view = expand(area, width / map_h)
    scale = width / (view[2] - view[0])
    pos = scene.positions
    x, y = pos["x"].to_numpy(), pos["y"].to_numpy()
    radii = marker_radii(scale, ppi, scene.design_zoom)
    margin = (max(radii) + 1) / scale  # models just outside still show part of their disc
    inside = (
        (x >= view[0] - margin) & (x <= view[2] + margin) & (y >= view[1] - margin) & (y <= view[3] + margin)
    )
    seen |= set(np.unique(scene.codes[inside]).tolist())
    wanted = sorted(seen)
    theme = THEMES[opts.theme]
    legend = _legend(opts.layer, [scene.legend[i] for i in wanted], theme.name)
    remap = np.full(len(scene.legend), -1, np.int8)
    remap[wanted] = np.arange(len(wanted))
    downloads = numeric(pos, "downloads")[inside]
    xs, ys = x[inside], y[inside]
    points = pd.DataFrame(
        {
            "id": pos["id"].to_numpy()[inside],
            "px": (xs - view[0]) * scale,
            "py": (ys - view[1]) * scale,
            "code": remap[scene.codes[inside]],
            "size": size_class(downloads),
            "weight": popularity_weight(downloads),
            "downloads": np.nan_to_num(downloads, nan=0.0),
            "in_view": (xs >= view[0]) & (xs < view[2]) & (ys >= view[1]) & (ys < view[3]),
        }
    )
    edges, edge_colors = _edges(opts, scene, view, scale, theme.name)
    return Plan(
        width,
        map_h,
        map_h,
        dpi,
        ppi,
        theme,
        view,
        scale,
        legend,
        points,
        radii,
        edges,
        edge_colors,
        edge_width=max(round(ppi / 150), 1),
        attribution=attribution(scene.manifest),
    )


def _legend(layer: str, entries: list[dict[str, str]], theme: str) -> Legend:
    return Legend(
        TABLE[layer].title,
        tuple(e["key"] for e in entries),
        tuple(e["label"] for e in entries),
        tuple(themed_color(e["color"], theme) for e in entries),
    )


def _edges(
    opts: FigureOptions, scene: Scene, view: Box, scale: float, theme: str
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Links whose bounding box meets the view, in pixels. On the relation layer they keep the map's
    relation colours; on the others they are one neutral colour, so one figure has one colour key."""
    empty = pd.DataFrame({c: np.empty(0) for c in ("x0", "y0", "x1", "y1")} | {"code": np.empty(0, np.int8)})
    if scene.edges is None:
        return empty, ()
    e = scene.edges
    lo_x, hi_x = np.minimum(e["x0"], e["x1"]), np.maximum(e["x0"], e["x1"])
    lo_y, hi_y = np.minimum(e["y0"], e["y1"]), np.maximum(e["y0"], e["y1"])
    e = e[(hi_x >= view[0]) & (lo_x <= view[2]) & (hi_y >= view[1]) & (lo_y <= view[3])]
    out = pd.DataFrame(
        {c: (e[c].to_numpy() - view[0 if c[0] == "x" else 1]) * scale for c in ("x0", "y0", "x1", "y1")}
    )
    if opts.layer != "relation":
        out["code"] = np.zeros(len(out), np.int8)
        return out, (THEMES[theme].muted,)
    codes = pd.Index(EDGE_RELATIONS).get_indexer(pd.Index(e["relation"].astype(str)))
    out["code"] = np.where(codes >= 0, codes, EDGE_RELATIONS.index("unknown")).astype(np.int8)
    return out, tuple(themed_color(RELATION.colors[r], theme) for r in EDGE_RELATIONS)


def _target(opts: FigureOptions) -> tuple[int | None, int | None, float | None]:
    """(width, height, dpi to record): pixels asked for; a print size is converted at --dpi (default 300)."""
    if opts.width is not None or opts.height is not None:
        return opts.width, opts.height, opts.dpi
    w_in, h_in = opts.size or parse_size(DEFAULT_SIZE)
    dpi = opts.dpi or DEFAULT_DPI
    return round(w_in * dpi), round(h_in * dpi) if h_in else None, dpi


def _strip(plan: Plan, opts: FigureOptions) -> int:
    return layout_legend(plan, edges_label=_edges_label(opts), count=int(plan.points["in_view"].sum()))[0]


def _fit(opts: FigureOptions, scene: Scene, area: Box) -> Plan:
    """The plan whose pixel size is what was asked for. Only one side given: the other follows the area's
    shape. Both given: the area grows to the map box's shape, and the legend strip's height (which
    depends on the categories in view) is settled by iterating; the legend keeps every category seen."""
    width, height, dpi = _target(opts)
    aspect = (area[2] - area[0]) / (area[3] - area[1])
    if width is None and height is not None:  # the width whose legend leaves a map of the region's shape
        width = max(round(height * aspect), 64)
        for _ in range(4):
            guess = _plan(opts, scene, (width, max(round(width / aspect), 1), dpi), area, set())
            width = max(round((height - _strip(guess, opts)) * aspect), 64)
    assert width is not None
    if height is None and width / aspect > MAX_SIDE_PX:
        raise AtlasgenError(f"this region at {width} pixels wide would be over {MAX_SIDE_PX} pixels tall")
    if height is None:
        plan = _plan(opts, scene, (width, max(round(width / aspect), 1), dpi), area, set())
        plan.height = plan.map_h + _strip(plan, opts)
        return plan
    seen: set[int] = set()
    strip = _strip(_plan(opts, scene, (width, height, dpi), area, set()), opts)
    for _ in range(8):
        if height - strip < max(height // 4, 16):
            raise AtlasgenError(
                f"a {width}x{height}-pixel figure leaves no room for the map above its legend"
            )
        plan = _plan(opts, scene, (width, height - strip, dpi), area, seen)
        settled = _strip(plan, opts)
        if settled == strip:
            break
        strip = settled
    plan.height = height
    return plan


def _edges_label(opts: FigureOptions) -> str | None:
    if not opts.edges:
        return None
    return (
        "Parent-child link (colour: the child's relation)"
        if opts.layer == "relation"
        else "Parent-child link"
    )


def plan_figure(opts: FigureOptions) -> Plan:
    """Everything on the figure, placed: the view, the models and links in it, labels, legend."""
    scene = load_scene(opts.atlas, opts.layer, edges=opts.edges)
    box = region(scene, bbox=opts.bbox, center=opts.center, radius=opts.radius)
    plan = _fit(opts, scene, box)
    shown = int(plan.points["in_view"].sum())
    if not shown:
        x, y = scene.positions["x"], scene.positions["y"]
        raise AtlasgenError(
            f"no models in the region {tuple(round(v, 2) for v in box)}; this atlas spans "
            f"x {x.min():.1f}..{x.max():.1f}, y {y.min():.1f}..{y.max():.1f}"
        )
    _, texts, swatches = layout_legend(plan, edges_label=_edges_label(opts), count=shown)
    place_labels(plan, opts.labels)
    plan.texts += texts
    plan.swatches += swatches
    return plan


def run(opts: FigureOptions) -> dict[str, Any]:
    """Render the figure and write each requested format; returns what was written and measured."""
    from atlasgen.tools.figure import raster as figure_raster
    from atlasgen.tools.figure import svg as figure_svg

    plan = plan_figure(opts)
    written: list[Path] = []
    layer = figure_raster.map_layer(plan)
    if "png" in opts.formats or "pdf" in opts.formats:
        image = figure_raster.render(plan, layer)
        for fmt, save in (("png", figure_raster.save_png), ("pdf", figure_raster.save_pdf)):
            if fmt in opts.formats:
                written.append(opts.out.parent / f"{opts.out.name}.{fmt}")
                save(image, written[-1], plan)
    if "svg" in opts.formats:
        vector = len(plan.points) <= figure_svg.VECTOR_CAP and len(plan.edges) <= figure_svg.VECTOR_CAP
        raster = None if vector else figure_raster.map_png(layer)
        written.append(opts.out.parent / f"{opts.out.name}.svg")
        text = figure_svg.svg_document(plan, figure_raster.point_span(plan), raster)
        written[-1].write_text(text, encoding="utf-8")
    return {
        "files": written,
        "size": (plan.width, plan.height),
        "map_height": plan.map_h,
        "dpi": plan.dpi,
        "models": int(plan.points["in_view"].sum()),
        "links": len(plan.edges),
        "view": plan.view,
        "labels": [t.text for t in plan.texts if t.role == "label"],
    }


def render(result: dict[str, Any], fmt: str = "text") -> str:
    """What :func:`run` wrote: one line for people, or JSON (sorted keys) for tools."""
    if fmt == "json":
        return json.dumps(result, indent=1, sort_keys=True, default=str) + "\n"
    w, h = result["size"]
    dpi = f" at {result['dpi']:g} dpi" if result["dpi"] else ""
    return f"{result['models']:,} models, {w}x{h} px{dpi}: " + ", ".join(map(str, result["files"])) + "\n"
