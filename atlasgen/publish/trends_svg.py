"""Hand-written SVG bar charts for the trends report (trends_page.py).

Why not matplotlib: the report is a handful of bar charts, not worth a heavy plotting dependency in the
generator; and SVG written here keeps every label real, selectable text that we escape ourselves (model ids
are untrusted), styled with the site's palette and sized by a viewBox so a chart scales to a 375 px phone.
Every string that reaches the markup goes through ``html.escape``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

WIDTH = 400  # viewBox units; the chart is drawn at 100% of its column
TEXT = "#e6e9ef"
MUTED = "#a3abbd"  # 8:1 on the #0b0e14 page
GRID = "#242b3b"
AXIS = "#4a5468"
INK = "#0b0e14"  # text on the light bar colours
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


def compact(value: float) -> str:
    """1234 -> "1.2k", 28110 -> "28k", 3.4e6 -> "3.4M"."""
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= div:
            scaled = value / div
            text = f"{scaled:.1f}" if abs(scaled) < 10 else f"{scaled:.0f}"
            return text.removesuffix(".0") + suffix
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2g}"


def nice_ticks(top: float, count: int = 4, integer: bool = False) -> list[float]:
    """0 .. a round number >= top, in ``count`` round steps (1, 2, 2.5 or 5 x 10^k; whole if ``integer``)."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    step = max(round(step), 1) if integer else step
    return [i * step for i in range(math.ceil(top / step - 1e-9) + 1)]


def _svg(key: str, height: float, title: str, desc: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" id="chart-{escape(key)}" class="chart" '
        f'viewBox="0 0 {WIDTH} {height:.0f}" width="100%" role="img" '
        f'aria-labelledby="chart-{escape(key)}-t chart-{escape(key)}-d" font-family="{escape(FONT)}">'
        f'<title id="chart-{escape(key)}-t">{escape(title)}</title>'
        f'<desc id="chart-{escape(key)}-d">{escape(desc)}</desc>' + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, text: str, *, size: float = 13, fill: str = MUTED, anchor: str = "start",
          extra: str = "") -> str:  # fmt: skip
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{fill}" text-anchor="{anchor}"{extra}>'
        f"{escape(text)}</text>"
    )


def _rect(x: float, y: float, w: float, h: float, fill: str) -> str:
    return f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{h:.1f}" fill="{escape(fill)}"/>'


def vbars(
    key: str,
    categories: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    desc: str,
    x_label: str,
    y_label: str,
    color: str,
    fmt: str = "count",
) -> str:
    """A vertical bar chart: one bar per category, value labels when there is room, thinned x labels."""
    left, right, top, bottom, plot_h = 58, 10, 24, 50, 190
    plot_w = WIDTH - left - right
    ticks = nice_ticks(max(values, default=0), integer=fmt == "count")
    scale = plot_h / ticks[-1]
    slot = plot_w / max(len(values), 1)
    label_w = 6.0 * max((len(c) for c in categories), default=1) + 6  # 11.5 px text, with a gap
    every = math.ceil(len(values) / max(plot_w // label_w, 1))
    body = []
    for tick in ticks:
        y = top + plot_h - tick * scale
        body.append(f'<line x1="{left}" x2="{WIDTH - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        body.append(_text(left - 6, y + 4, _fmt(tick, fmt), size=12, anchor="end"))
    for i, (cat, value) in enumerate(zip(categories, values, strict=True)):
        x = left + i * slot
        h = value * scale
        body.append(_rect(x + slot * 0.14, top + plot_h - h, slot * 0.72, h, color))
        if len(values) <= 14 and value:
            body.append(_text(x + slot / 2, top + plot_h - h - 5, _fmt(value, fmt), size=12, fill=TEXT,
                              anchor="middle"))  # fmt: skip
        if i % every == 0:
            mid, anchor = x + slot / 2, "middle"
            if mid + label_w / 2 > WIDTH:  # the last label would be cut by the edge
                mid, anchor = WIDTH, "end"
            body.append(_text(mid, top + plot_h + 17, cat, size=11.5, anchor=anchor))
    base = top + plot_h
    body.append(f'<line x1="{left}" x2="{WIDTH - right}" y1="{base}" y2="{base}" stroke="{AXIS}"/>')
    body.append(_text(left + plot_w / 2, base + 42, x_label, anchor="middle", fill=TEXT))
    cy = top + plot_h / 2
    body.append(
        _text(15, cy, y_label, anchor="middle", fill=TEXT, extra=f' transform="rotate(-90 15 {cy:.1f})"')
    )
    return _svg(key, top + plot_h + bottom, title, desc, body)


def hbars(
    key: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    desc: str,
    x_label: str,
    color: str,
    fmt: str = "count",
    maximum: float | None = None,
) -> str:
    """Horizontal bars, each with its (long) label on a line above it: readable on a phone."""
    row, top, value_w = 40, 8, 64
    span = WIDTH - value_w
    biggest = maximum or max(values, default=0) or 1
    body = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + i * row
        body.append(_text(0, y + 13, _clip(label, 52), fill=TEXT))
        w = span * value / biggest
        body.append(_rect(0, y + 19, w, 14, color))
        body.append(_text(w + 6, y + 31, _fmt(value, fmt), size=12))
    bottom = top + len(values) * row
    body.append(_text(0, bottom + 16, x_label, size=12))
    return _svg(key, bottom + 24, title, desc, body)


def stacked(
    key: str,
    labels: Sequence[str],
    parts: Sequence[tuple[str, str, Sequence[float]]],
    *,
    title: str,
    desc: str,
    x_label: str,
) -> str:
    """100% stacked horizontal bars: ``parts`` are (legend name, colour, value per label); a legend on top,
    each bar's label and total above it, the share written inside segments wide enough to hold it."""
    body, x, y = [], 0.0, 14.0
    for name, color, _ in parts:  # the legend, wrapping
        width = 22 + 7.2 * len(name)
        if x + width > WIDTH:
            x, y = 0.0, y + 20
        body.append(_rect(x, y - 10, 12, 12, color))
        body.append(_text(x + 17, y, name, size=12))
        x += width + 12
    top, row = y + 14, 44
    totals = [sum(float(p[2][i]) for p in parts) for i in range(len(labels))]
    for i, label in enumerate(labels):
        y = top + i * row
        body.append(_text(0, y + 13, f"{_clip(label, 40)} · n = {totals[i]:,.0f}", fill=TEXT))
        x = 0.0
        for _, color, values in parts:
            share = float(values[i]) / totals[i] if totals[i] else 0.0
            body.append(_rect(x, y + 19, share * WIDTH, 18, color))
            if share >= 0.09:
                body.append(_text(x + share * WIDTH / 2, y + 32, f"{share:.0%}", size=11.5, fill=INK,
                                  anchor="middle"))  # fmt: skip
            x += share * WIDTH
    bottom = top + len(labels) * row
    for q in (0, 0.25, 0.5, 0.75, 1):
        anchor = "start" if q == 0 else "end" if q == 1 else "middle"
        body.append(_text(q * WIDTH, bottom + 8, f"{q:.0%}", size=11.5, anchor=anchor))
    body.append(_text(WIDTH / 2, bottom + 28, x_label, size=12, anchor="middle"))
    return _svg(key, bottom + 36, title, desc, body)


def _fmt(value: float, fmt: str) -> str:
    return f"{value:.0%}" if fmt == "share" else compact(value)


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
