"""A figure plan as pixels: the map through the tile renderer's own Datashader path, then text and keys
drawn with Pillow; saved as PNG (with its DPI) and PDF (the same pixels on a page of the right size).

**Why Datashader for every figure, even a crop of a few dozen models.** The map's look is additive: where
models overlap their popularity weights sum, and brightness follows the log of the sum within a fixed span
(tiles_render.py). Only that shows density honestly in a region of thousands of models, and drawing every
figure the same way means a crop looks like a piece of the whole and like the site. Markers are stamped
discs at the figure's device resolution (a 300-dpi figure stamps discs of ~10 pixels), which reads as round
in print; the SVG gives true vector circles when a crop has few enough models (figure_svg.py).

Memory stays bounded for any figure size: points are stamped and shaded band by band (only the pixels
their discs cover, as tiles_render.render_points_sparse does for tiles).
"""

from __future__ import annotations

import io
import math
from dataclasses import replace
from pathlib import Path

import datashader as ds
import datashader.transfer_functions as tf
import numpy as np
import numpy.typing as npt
import pandas as pd
from PIL import Image, ImageDraw, PngImagePlugin

from atlasgen import __version__
from atlasgen.tiles.geometry import PixelPoints, level_span
from atlasgen.tiles.layers import EDGE_SPAN, EDGE_STYLE_ALPHA, HOW, MIN_ALPHA
from atlasgen.tiles.render import TILE, LevelSpec, PointsBlock, Style, render_points_sparse
from atlasgen.tools.figure.layout import Plan, Swatch, Text
from atlasgen.tools.figure.style import font, hex_rgb

BAND_PX = 1024  # rows of the map stamped at a time
SUPERSAMPLE = 3  # the map is drawn up to this many times finer and averaged down (antialiasing) ...
SUPERSAMPLE_MAX_PX = 24_000_000  # ... while the finer canvas stays under this many pixels (~3 s)
EDGE_BAND_CELLS = 4_000_000  # pixels × link categories that Datashader aggregates at a time


def _pixels(plan: Plan) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    p = plan.points
    return np.floor(p["px"].to_numpy()).astype(np.int64), np.floor(p["py"].to_numpy()).astype(np.int64)


def point_span(plan: Plan) -> tuple[float, float]:
    """The alpha span of the figure's points, by the tiles' rule (tiles_geometry.level_span)."""
    fx, fy = _pixels(plan)
    p = plan.points
    pts = PixelPoints(fx, fy, p["size"].to_numpy(np.int8), p["weight"].to_numpy(np.float64))
    return level_span(pts)


def _points_layer(plan: Plan) -> npt.NDArray[np.uint8]:
    """The points as straight-alpha RGBA (map_h × width × 4); transparent where there are none."""
    out = np.zeros((plan.map_h, plan.width), np.uint32)
    if plan.points.empty:
        return out.view(np.uint8).reshape(plan.map_h, plan.width, 4)
    style = Style(plan.legend.keys, plan.legend.colors, HOW, MIN_ALPHA, 255)
    zoom = max(math.ceil(math.log2(max(plan.width, plan.map_h) / TILE)), 0)  # global ids need 256·2^z ≥ side
    spec = LevelSpec("figure", "points", zoom, 1, point_span(plan), plan.radii, style)
    fx, fy = _pixels(plan)
    p = plan.points
    code, size = p["code"].to_numpy(np.int8), p["size"].to_numpy(np.int8)
    weight = p["weight"].to_numpy(np.float64)
    reach = max(plan.radii) + 1
    for y0 in range(0, plan.map_h, BAND_PX):
        y1 = min(y0 + BAND_PX, plan.map_h)
        sel = np.flatnonzero((fy >= y0 - reach) & (fy < y1 + reach))
        block = PointsBlock(fx[sel], fy[sel], code[sel], size[sel], weight[sel])
        cells, rgba = render_points_sparse(spec, block, (0, y0, plan.width, y1))
        gy, gx = np.divmod(cells, spec.size_px)
        out[gy, gx] = rgba
    return out.view(np.uint8).reshape(plan.map_h, plan.width, 4)


def _edges_layer(plan: Plan) -> npt.NDArray[np.uint8] | None:
    """The links as straight-alpha RGBA, shaded like the map's edge tiles (fixed span, so bands agree);
    thickened at print resolutions (a one-pixel line at 300 dpi is a hairline that print loses). Drawn in
    bands of rows with a margin for the thickening, which keeps Datashader's per-category arrays small."""
    e = plan.edges
    if e.empty:
        return None
    keys = list(f"c{i}" for i in range(len(plan.edge_colors)))
    frame = e[["x0", "y0", "x1", "y1"]].assign(
        cat=pd.Categorical.from_codes(e["code"].to_numpy(np.int8), dtype=pd.CategoricalDtype(keys))
    )
    ya, yb = e["y0"].to_numpy(np.float64), e["y1"].to_numpy(np.float64)
    lo_y, hi_y = np.minimum(ya, yb), np.maximum(ya, yb)
    out = np.zeros((plan.map_h, plan.width), np.uint32)
    margin = plan.edge_width // 2 + 1
    rows = max(EDGE_BAND_CELLS // (plan.width * len(keys)), 64)
    for y0 in range(0, plan.map_h, rows):
        y1 = min(y0 + rows, plan.map_h)
        sel = (hi_y >= y0 - margin) & (lo_y <= y1 + margin)
        if sel.any():
            band = _shade_edges(plan, frame[sel], keys, y0 - margin, y1 + margin)
            out[y0:y1] = band[margin : margin + y1 - y0]
    return out.view(np.uint8).reshape(plan.map_h, plan.width, 4)


def _shade_edges(
    plan: Plan, frame: pd.DataFrame, keys: list[str], y0: int, y1: int
) -> npt.NDArray[np.uint32]:
    canvas = ds.Canvas(plot_width=plan.width, plot_height=y1 - y0, x_range=(0, plan.width), y_range=(y0, y1))
    agg = canvas.line(frame, x=["x0", "x1"], y=["y0", "y1"], axis=1, agg=ds.by("cat", ds.count()))
    lo, hi = EDGE_STYLE_ALPHA
    img = tf.shade(
        agg,
        color_key=dict(zip(keys, plan.edge_colors, strict=True)),
        how=HOW,
        span=list(EDGE_SPAN),
        min_alpha=lo,
        alpha=hi,
        color_baseline=0,
    )
    if plan.edge_width > 1:
        img = tf.spread(img, px=plan.edge_width // 2)
    packed = np.asarray(img.data, dtype=np.uint32)
    return np.where(packed >> 24 > 0, packed, np.uint32(0))


def map_layer(plan: Plan) -> Image.Image:
    """The map box's content (links under points) on a transparent background, rendered at SUPERSAMPLE
    times the resolution where that stays small and averaged down: smooth disc and line edges."""
    fits = [k for k in range(SUPERSAMPLE, 1, -1) if plan.width * plan.map_h * k * k <= SUPERSAMPLE_MAX_PX]
    factor = fits[0] if fits else 1
    big = supersampled(plan, factor) if factor > 1 else plan
    layer = Image.new("RGBA", (big.width, big.map_h), (0, 0, 0, 0))
    edges = _edges_layer(big)
    if edges is not None:
        layer = Image.alpha_composite(layer, Image.fromarray(edges, "RGBA"))
    layer = Image.alpha_composite(layer, Image.fromarray(_points_layer(big), "RGBA"))
    if factor == 1:
        return layer
    return layer.convert("RGBa").reduce(factor).convert("RGBA")  # premultiplied: no dark fringes


def supersampled(plan: Plan, factor: int) -> Plan:
    """The plan's map at ``factor`` times the pixels: same view, markers and lines as large on paper."""
    points = plan.points.assign(px=plan.points["px"] * factor, py=plan.points["py"] * factor)
    edges = plan.edges.assign(**{c: plan.edges[c] * factor for c in ("x0", "y0", "x1", "y1")})
    radii = tuple(round((r + 0.5) * factor - 0.5) for r in plan.radii)
    return replace(
        plan,
        width=plan.width * factor,
        height=plan.height * factor,
        map_h=plan.map_h * factor,
        scale=plan.scale * factor,
        points=points,
        radii=radii,
        edges=edges,
        edge_width=plan.edge_width * factor,
        texts=[],
        swatches=[],
    )


def map_png(layer: Image.Image) -> bytes:
    """The map box alone as a PNG with transparency: what an SVG embeds when it has too many models."""
    buffer = io.BytesIO()
    layer.save(buffer, format="PNG")
    return buffer.getvalue()


def _draw_swatch(image: Image.Image, s: Swatch) -> None:
    """A disc, ring or line, drawn SUPERSAMPLE times finer on a small patch and averaged down (Pillow's
    own shapes are not antialiased)."""
    k = SUPERSAMPLE
    pad = s.width + 2
    x0, y0 = math.floor(s.x - s.r - pad), math.floor(s.y - (s.r if s.kind != "line" else 0) - pad)
    x1, y1 = math.ceil(s.x + s.r + pad), math.ceil(s.y + (s.r if s.kind != "line" else 0) + pad)
    patch = Image.new("RGBA", ((x1 - x0) * k, (y1 - y0) * k), (0, 0, 0, 0))
    draw = ImageDraw.Draw(patch)
    color = (*hex_rgb(s.color), 255)
    cx, cy, r, width = (s.x - x0) * k, (s.y - y0) * k, s.r * k, max(round(s.width * k), 1)
    if s.kind == "disc":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=color)
    elif s.kind == "ring":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=color, width=width)
    else:
        draw.rectangle((cx - r, cy - width / 2, cx + r, cy + width / 2), fill=color)
    small = patch.convert("RGBa").reduce(k).convert("RGBA")
    image.alpha_composite(small, (max(x0, 0), max(y0, 0)), (max(-x0, 0), max(-y0, 0)))  # clipped at the edge


def _draw_text(draw: ImageDraw.ImageDraw, t: Text, background: str) -> None:
    draw.text(
        (t.x, t.y),
        t.text,
        font=font(t.size),
        fill=hex_rgb(t.color),
        anchor="ls" if t.anchor == "start" else "rs",
        stroke_width=t.halo,
        stroke_fill=hex_rgb(background),
    )


def render(plan: Plan, layer: Image.Image) -> Image.Image:
    """The whole figure as an RGB image: background, the map ``layer``, label rings, labels, legend strip."""
    image = Image.new("RGBA", (plan.width, plan.height), (*hex_rgb(plan.theme.background), 255))
    image.alpha_composite(layer)
    for swatch in plan.swatches:
        _draw_swatch(image, swatch)
    image = image.convert("RGB")
    draw = ImageDraw.Draw(image)
    for text in plan.texts:
        _draw_text(draw, text, plan.theme.background)
    return image


def save_png(image: Image.Image, path: Path, plan: Plan) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Title", plan.title)
    info.add_text("Source", plan.attribution)
    info.add_text("Software", f"atlasgen {__version__}")
    options = {"dpi": (plan.dpi, plan.dpi)} if plan.dpi else {}
    image.save(path, format="PNG", pnginfo=info, **options)


def save_pdf(image: Image.Image, path: Path, plan: Plan) -> None:
    """The raster on a page of the figure's physical size (``ppi``): at 300 dpi text and markers print
    sharp, and no PDF library is needed."""
    image.save(
        path,
        format="PDF",
        resolution=plan.ppi,
        title=plan.title,
        subject=plan.attribution,
        creator="atlasgen",
    )
