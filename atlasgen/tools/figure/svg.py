"""A figure plan as SVG: vector circles and lines while the view holds at most ``VECTOR_CAP`` models and
links, otherwise the map raster embedded as a PNG; labels, legend and attribution are always vector text.

Every model id is untrusted input: text goes through ``xml.sax.saxutils.escape`` and attributes through
``quoteattr``, so an id such as ``"><script>`` stays text.
"""

from __future__ import annotations

import base64
from xml.sax.saxutils import escape, quoteattr

import numpy as np

from atlasgen.tiles.layers import EDGE_SPAN, EDGE_STYLE_ALPHA, MIN_ALPHA
from atlasgen.tools.figure.layout import Plan, Swatch, Text
from atlasgen.tools.figure.style import font_family

VECTOR_CAP = 20_000


def _n(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _opacity(weight: np.ndarray, span: tuple[float, float], lo: int, hi: int) -> np.ndarray:
    """What Datashader's log shading gives a lone mark of this weight (alpha from lo to hi within span)."""
    a, b = np.log1p(span[0]), np.log1p(span[1])
    frac = np.clip((np.log1p(weight) - a) / max(b - a, 1e-12), 0.0, 1.0)
    return (lo + (hi - lo) * frac) / 255.0


def _points(plan: Plan, span: tuple[float, float]) -> list[str]:
    p = plan.points.sort_values("weight", kind="stable")  # popular models on top
    opacity = _opacity(p["weight"].to_numpy(), span, MIN_ALPHA, 255)
    r = np.asarray(plan.radii, dtype=np.float64)[p["size"].to_numpy()] + 0.5
    color = np.asarray(plan.legend.colors, dtype=object)[p["code"].to_numpy()]
    return [
        f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{_n(rr)}" fill="{c}" fill-opacity="{_n(o)}"/>'
        for x, y, rr, c, o in zip(p["px"], p["py"], r, color, opacity, strict=True)
    ]


def _edges(plan: Plan) -> list[str]:
    e = plan.edges
    if e.empty:
        return []
    lo, hi = EDGE_STYLE_ALPHA
    opacity = _n(float(_opacity(np.ones(1), EDGE_SPAN, lo, hi)[0]))
    out = []
    for code, color in enumerate(plan.edge_colors):
        part = e[e["code"] == code]
        if part.empty:
            continue
        out.append(f'<g stroke="{color}" stroke-opacity="{opacity}" stroke-width="{plan.edge_width}">')
        out += [
            f'<line x1="{_n(a)}" y1="{_n(b)}" x2="{_n(c)}" y2="{_n(d)}"/>'
            for a, b, c, d in zip(part["x0"], part["y0"], part["x1"], part["y1"], strict=True)
        ]
        out.append("</g>")
    return out


def _swatch(s: Swatch) -> str:
    if s.kind == "disc":
        return f'<circle cx="{_n(s.x)}" cy="{_n(s.y)}" r="{_n(s.r)}" fill="{s.color}"/>'
    if s.kind == "ring":  # a labelled model; its full id shows on hover
        return (
            f'<circle cx="{_n(s.x)}" cy="{_n(s.y)}" r="{_n(s.r)}" fill="none" stroke="{s.color}" '
            f'stroke-width="{_n(s.width)}"><title>{escape(s.key)}</title></circle>'
        )
    return (
        f'<line x1="{_n(s.x - s.r)}" y1="{_n(s.y)}" x2="{_n(s.x + s.r)}" y2="{_n(s.y)}" '
        f'stroke="{s.color}" stroke-width="{_n(s.width)}"/>'
    )


def _text(t: Text, background: str) -> str:
    halo = (
        f' stroke="{background}" stroke-width="{2 * t.halo}" stroke-linejoin="round" paint-order="stroke"'
        if t.halo
        else ""
    )
    anchor = ' text-anchor="end"' if t.anchor == "end" else ""
    return (
        f'<text x="{_n(t.x)}" y="{_n(t.y)}" font-size="{t.size}" fill="{t.color}"{anchor}{halo}>'
        f"{escape(t.text)}</text>"
    )


def svg_document(plan: Plan, span: tuple[float, float], raster_png: bytes | None) -> str:
    """The SVG text. ``raster_png`` (the map box as PNG) is embedded when given; otherwise the map is
    drawn as vector marks (callers pass it when the view is over VECTOR_CAP)."""
    w, h = plan.width, plan.height
    size = (
        f'width="{_n(w / plan.dpi * 25.4)}mm" height="{_n(h / plan.dpi * 25.4)}mm"'
        if plan.dpi
        else f'width="{w}" height="{h}"'
    )
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" {size} viewBox="0 0 {w} {h}">',
        f"<title>{escape(plan.title)}</title>",
        f"<desc>{escape(plan.attribution)}</desc>",
        f'<defs><clipPath id="map-box"><rect x="0" y="0" width="{w}" height="{plan.map_h}"/></clipPath></defs>',
        f'<rect id="background" x="0" y="0" width="{w}" height="{h}" fill="{plan.theme.background}"/>',
        '<g id="map" clip-path="url(#map-box)">',
    ]
    if raster_png is not None:
        data = base64.b64encode(raster_png).decode("ascii")
        out.append(
            f'<image x="0" y="0" width="{w}" height="{plan.map_h}" href="data:image/png;base64,{data}"/>'
        )
    else:
        out += ['<g id="links">', *_edges(plan), "</g>", '<g id="points">', *_points(plan, span), "</g>"]
    out.append("</g>")
    family = quoteattr(font_family(max((t.size for t in plan.texts), default=12)))
    rings = [s for s in plan.swatches if s.kind == "ring"]
    out.append('<g id="labels">')
    out += [_swatch(s) for s in rings]
    out.append(f"<g font-family={family}>")
    out += [_text(t, plan.theme.background) for t in plan.texts if t.role == "label"]
    out += ["</g>", "</g>", f'<g id="legend" font-family={family}>']
    out += [_swatch(s) for s in plan.swatches if s.kind != "ring"]
    out += [_text(t, plan.theme.background) for t in plan.texts if t.role in ("title", "legend")]
    out += ["</g>", f'<g id="attribution" font-family={family}>']
    out += [_text(t, plan.theme.background) for t in plan.texts if t.role == "note"]
    out += ["</g>", "</svg>", ""]
    return "\n".join(out)
