"""Where things go on a figure: the map box, the legend strip under it, and labels that never overlap.

A figure is a :class:`Plan`: pixel geometry and every text, swatch and marker with its position and colour.
The PNG (figure_raster.py) and the SVG (figure_svg.py) both draw the same plan, so the two agree to the
pixel. Text positions are left (or right) ends of the baseline, as both Pillow (anchor ``ls``/``rs``) and
SVG (``text-anchor``) read them; widths are measured with the font the PNG uses (figure_style.font).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from atlasgen.index.labels import label_text
from atlasgen.tiles.palette import SIZE_THRESHOLDS
from atlasgen.tools.figure.style import LABEL_PT, LEGEND_PT, NOTE_PT, Theme, text_px, text_width

Box = tuple[float, float, float, float]  # x0, y0, x1, y1


@dataclass(frozen=True)
class Text:
    x: float
    y: float  # baseline
    text: str
    size: int  # px
    color: str
    role: str  # "label" | "legend" | "title" | "note"
    anchor: str = "start"  # "start" | "end"
    halo: int = 0  # outline width in px, in the background colour


@dataclass(frozen=True)
class Swatch:
    kind: str  # "disc" | "line" | "ring"
    x: float  # centre
    y: float
    r: float  # radius; half length for a line
    color: str
    key: str = ""
    width: float = 1.0  # stroke width of lines and rings


@dataclass(frozen=True)
class Legend:
    """A layer's categories in legend order with (themed) colours and labels."""

    title: str
    keys: tuple[str, ...]
    labels: tuple[str, ...]
    colors: tuple[str, ...]


@dataclass
class Plan:
    width: int
    height: int
    map_h: int  # the map is the box (0, 0, width, map_h); the legend strip is below it
    dpi: float | None  # written into the PNG when set
    ppi: float  # pixels per inch that type and markers are sized with
    theme: Theme
    view: Box  # world rectangle shown in the map box
    scale: float  # pixels per world unit
    legend: Legend
    points: pd.DataFrame  # models in view: id, px, py, code, size, weight, downloads (pixel coordinates)
    radii: tuple[int, ...]  # device-pixel marker radius per download class (tiles_render.disc)
    edges: pd.DataFrame  # x0, y0, x1, y1 (pixels), code into edge_colors
    edge_colors: tuple[str, ...]
    edge_width: int
    texts: list[Text] = field(default_factory=list)
    swatches: list[Swatch] = field(default_factory=list)
    title: str = "Model Atlas"
    attribution: str = ""


# --- the legend strip --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Item:
    """One legend entry: a swatch and its text, optionally preceded by its group's heading."""

    kind: str  # swatch kind
    radius: float
    color: str
    text: str
    heading: str = ""


def size_key(radii: tuple[int, ...]) -> list[tuple[int, str]]:
    """(radius, label) per distinct marker size, merging download classes that share a radius."""
    bounds = [0.0, *SIZE_THRESHOLDS, float("inf")]
    out: list[tuple[int, float, float]] = []
    for cls, r in enumerate(radii):
        if out and out[-1][0] == r:
            out[-1] = (r, out[-1][1], bounds[cls + 1])
        else:
            out.append((r, bounds[cls], bounds[cls + 1]))
    return [(r, _range_label(lo, hi)) for r, lo, hi in out]


def _short(n: float) -> str:
    return f"{n / 1e6:g}M" if n >= 1e6 else f"{n / 1e3:g}k" if n >= 1e3 else f"{n:g}"


def _range_label(lo: float, hi: float) -> str:
    if lo == 0:
        return f"under {_short(hi)}"
    return f"{_short(lo)}+" if hi == float("inf") else f"{_short(lo)} to {_short(hi)}"


def _items(plan: Plan, size: int, edges_label: str | None) -> list[_Item]:
    legend = plan.legend
    heading = legend.title + ":"
    items = [
        _Item("disc", 0.36 * size, color, label, heading if i == 0 else "")
        for i, (label, color) in enumerate(zip(legend.labels, legend.colors, strict=True))
    ]
    if edges_label:
        color = plan.edge_colors[0] if len(plan.edge_colors) == 1 else plan.theme.muted
        items.append(_Item("line", 0.7 * size, color, edges_label))
    key = size_key(plan.radii)
    if len(key) > 1:  # markers of one size need no key
        for i, (r, label) in enumerate(key):
            items.append(_Item("disc", r + 0.5, plan.theme.muted, label, "Downloads:" if i == 0 else ""))
    return items


def layout_legend(plan: Plan, *, edges_label: str | None, count: int) -> tuple[int, list[Text], list[Swatch]]:
    """Flow the legend under the map box (the layer's categories, the link key, the marker size key, then
    the attribution line with the number of models shown): the strip's height, its texts and swatches."""
    size, note = text_px(LEGEND_PT, plan.ppi), text_px(NOTE_PT, plan.ppi)
    pad, line, gap, space = 1.0 * size, 1.7 * size, 0.5 * size, 1.2 * size
    base = plan.map_h + pad + 0.75 * size
    texts: list[Text] = []
    swatches = [Swatch("line", plan.width / 2, plan.map_h + 0.5, plan.width / 2, plan.theme.rule, "rule")]
    x, row = pad, 0
    items = _items(plan, size, edges_label)
    widths = [
        (text_width(item.heading, size) + gap if item.heading else 0.0)
        + 2 * item.radius
        + gap
        + text_width(item.text, size)
        for item in items
    ]
    for i, (item, width) in enumerate(zip(items, widths, strict=True)):
        head = text_width(item.heading, size) + gap if item.heading else 0.0
        group = width  # a group (heading and its entries) starts a new row rather than split, if it fits one
        for j in range(i + 1, len(items)) if item.heading else ():
            if items[j].heading or items[j].kind == "line":
                break
            group += space + widths[j]
        if x > pad and (x + width > plan.width - pad or (x + group > plan.width - pad >= pad + group)):
            x, row = pad, row + 1
        elif item.heading and x > pad:
            x += 0.5 * space  # a little more room before a new group
        y = base + row * line
        if item.heading:
            texts.append(Text(x, y, item.heading, size, plan.theme.ink, "title"))
        left = x + head
        stroke = max(size / 8, 1.0)
        swatches.append(
            Swatch(
                item.kind, left + item.radius, y - 0.35 * size, item.radius, item.color, f"legend-{i}", stroke
            )
        )
        texts.append(Text(left + 2 * item.radius + gap, y, item.text, size, plan.theme.ink, "legend"))
        x += width + space
    y_note = base + row * line + 1.5 * note
    lines = wrap(plan.attribution, note, plan.width - 2 * pad)
    for k, text in enumerate(lines):
        texts.append(Text(pad, y_note + k * 1.35 * note, text, note, plan.theme.muted, "note"))
    shown = f"{count:,} models shown"
    if text_width(lines[-1], note) + text_width(shown, note) + 3 * note < plan.width - 2 * pad:
        texts.append(Text(plan.width - pad, texts[-1].y, shown, note, plan.theme.muted, "note", anchor="end"))
    return int(np.ceil(texts[-1].y + 0.3 * note + pad - plan.map_h)), texts, swatches


def wrap(text: str, size: int, width: float) -> list[str]:
    """Break a line that is wider than ``width`` after its separators (" · " and ", ")."""
    parts = text.replace(" · ", " ·\0").replace(", ", ",\0").split("\0")
    lines = [parts[0]]
    for part in parts[1:]:
        joined = f"{lines[-1]} {part}"
        if text_width(joined, size) <= width:
            lines[-1] = joined
        else:
            lines.append(part)
    return lines


# --- labels ------------------------------------------------------------------------------------------------


def _overlaps(box: Box, boxes: list[Box]) -> bool:
    return any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in boxes)


def place_labels(plan: Plan, n: int, *, tries: int = 20) -> None:
    """Label up to ``n`` models in view, most downloaded first, each beside its marker (right, left, above or
    below, whichever is first clear) so that no label overlaps another label, a labelled marker or the map
    box's edge. A model whose label fits nowhere is skipped for the next, up to ``tries`` per label."""
    if n <= 0 or plan.points.empty:
        return
    size = text_px(LABEL_PT, plan.ppi)
    halo = max(round(size / 7), 1)
    known = plan.points[(plan.points["downloads"] > 0) & plan.points["in_view"]]
    order = known.sort_values(["downloads", "id"], ascending=[False, True], kind="stable").head(n * tries)
    boxes: list[Box] = []
    markers: list[Box] = []
    margin = 0.4 * size
    limits = (margin, margin, plan.width - margin, plan.map_h - margin)
    columns = (order["id"].astype(str), order["px"], order["py"], order["size"])
    for model, px, py, cls in zip(*columns, strict=True):
        if len(markers) >= n:
            break
        text = label_text(model)
        r = plan.radii[int(cls)] + 0.5 + halo
        mark = (px - r, py - r, px + r, py + r)
        for x, y in _spots(float(px), float(py), r, text_width(text, size), size):
            box = (
                x - halo,
                y - 0.76 * size - halo,
                x + text_width(text, size) + halo,
                y + 0.24 * size + halo,
            )
            inside = (
                box[0] >= limits[0] and box[1] >= limits[1] and box[2] <= limits[2] and box[3] <= limits[3]
            )
            if inside and not _overlaps(box, boxes + markers) and not _overlaps(mark, boxes):
                boxes.append(box)
                markers.append(mark)
                plan.texts.append(Text(x, y, text, size, plan.theme.ink, "label", halo=halo))
                plan.swatches.append(Swatch("ring", px, py, r, plan.theme.ink, model, max(size / 10, 1.0)))
                break


def _spots(px: float, py: float, r: float, w: float, size: int) -> list[tuple[float, float]]:
    """Where a label may go (left end of its baseline): right of the marker, left, above, below."""
    gap, ascent, descent = 0.3 * size, 0.76 * size, 0.24 * size
    mid = py + (ascent - descent) / 2  # the baseline that centres the text on the marker
    return [
        (px + r + gap, mid),
        (px - r - gap - w, mid),
        (px - w / 2, py - r - gap - descent),
        (px - w / 2, py + r + gap + ascent),
    ]
