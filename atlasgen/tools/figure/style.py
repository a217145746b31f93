"""How figures look: themes, type sizes and fonts, the light theme's colours, marker radii.

**Light is the default theme.** Papers print on white: a dark page wastes toner, turns muddy in print and
is often inverted by journals' production. The dark theme (``--theme dark``) is the site's own look, for
slides next to the live map.

**Colours come from the map** (atlas.json's legends, i.e. ``atlasgen/palette.py``). They were picked for the
site's near-black background, where a colour's prominence is its contrast with the background: roots are
near-white (brightest), missing parents dim grey (recede). On white the same colours would invert that
order and the near-white roots would vanish, so the light theme re-derives each colour: hue and chroma
kept (so greys stay grey), lightness chosen so that its contrast with white is its contrast with the dark
background, less one, times ``LIGHT_CONTRAST_SCALE``, plus one. Prominence order is kept (roots become the darkest ink, missing
parents a pale grey) and the bright hues darken into ones that read on paper.

**Type and markers have physical sizes.** Text is set in points and markers in CSS pixels at the site's
scale, both converted with the figure's pixels per inch: ``--dpi`` when given, otherwise the figure is taken
to be ``ASSUMED_WIDTH_IN`` wide (a two-column journal figure), so a figure's text reads the same at any
pixel size.
"""

from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass
from functools import cache

from PIL import ImageFont

from atlasgen.tiles.palette import BACKGROUND, radii

# Contrast above 1:1 is scaled by this: 17:1 roots -> 6.6:1 dark grey, 7-11:1 hues -> 3.2-4.4:1 (vivid yet
# legible on paper), 3.2:1 missing parents -> 1.8:1 pale grey.
LIGHT_CONTRAST_SCALE = 0.35
ASSUMED_WIDTH_IN = 180 / 25.4
CSS_PPI = 96.0  # the map's pixels: marker radii in palette.py are CSS pixels
LABEL_PT = 6.5
LEGEND_PT = 7.0
NOTE_PT = 6.0
MIN_TEXT_PX = 9.0  # below this nothing is legible on any screen
MAX_MARKER_GROWTH = 4.0  # past the map's deepest zoom markers grow with the zoom, up to this factor
# Fonts tried in order (Pillow also searches the system font folders for a bare file name). DejaVu Sans is
# on nearly every Linux and covers most scripts in model ids; Pillow's built-in font (Aileron) is the
# fallback, which has ASCII only.
FONT_FILES: tuple[str, ...] = ("DejaVuSans.ttf", "Arial.ttf", "LiberationSans-Regular.ttf")


@dataclass(frozen=True)
class Theme:
    name: str
    background: str
    ink: str  # labels and legend text
    muted: str  # attribution line, link lines on non-relation layers
    rule: str  # the line between map and legend


THEMES: dict[str, Theme] = {
    "light": Theme("light", "#ffffff", "#1b1f24", "#5f6670", "#d5d8dc"),
    "dark": Theme("dark", BACKGROUND, "#e8e6e1", "#9aa0a6", "#2a2f3a"),
}


def _luminance(rgb: tuple[float, float, float]) -> float:
    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def hex_rgb(color: str) -> tuple[int, int, int]:
    h = color.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def _unit(color: str) -> tuple[float, float, float]:
    r, g, b = hex_rgb(color)
    return r / 255, g / 255, b / 255


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two hex colours (1 to 21)."""
    la, lb = sorted((_luminance(_unit(a)), _luminance(_unit(b))), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@cache
def themed_color(color: str, theme: str) -> str:
    """The colour a map colour takes in a theme: itself on dark; on light, see the module docstring."""
    if theme == "dark":
        return color.lower()
    target = 1.05 / (1 + (contrast(color, BACKGROUND) - 1) * LIGHT_CONTRAST_SCALE) - 0.05
    h, lightness, s = colorsys.rgb_to_hls(*_unit(color))
    chroma = s * (1 - abs(2 * lightness - 1))

    def at(level: float) -> tuple[float, float, float]:
        # Same hue and chroma (capped): greys stay grey and pale tints don't turn into browns when darkened.
        return colorsys.hls_to_rgb(h, level, min(chroma / max(1 - abs(2 * level - 1), 1e-9), 1.0))

    lo, hi = 0.0, 1.0  # luminance grows with lightness at a fixed hue: bisect
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _luminance(at(mid)) < target else (lo, mid)
    return "#{:02x}{:02x}{:02x}".format(*(round(c * 255) for c in at(lo)))


def text_px(points: float, ppi: float) -> int:
    return max(round(points * ppi / 72), int(MIN_TEXT_PX))


@cache
def font(size_px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for name in FONT_FILES:
        try:
            return ImageFont.truetype(name, size_px)
        except OSError:
            continue
    return ImageFont.load_default(size_px)


def font_family(size_px: int) -> str:
    """The CSS font-family for SVG text: the font that was measured first, then look-alikes."""
    face = font(size_px)
    name = face.getname()[0] if isinstance(face, ImageFont.FreeTypeFont) else None
    if name == "DejaVu Sans":
        return "'DejaVu Sans', Verdana, sans-serif"
    if name:
        return f"'{name}', Helvetica, Arial, sans-serif"
    return "sans-serif"


def text_width(text: str, size_px: int) -> float:
    return float(font(size_px).getlength(text))


def marker_radii(px_per_world: float, ppi: float, design_zoom: int) -> tuple[int, ...]:
    """Device-pixel marker radius per download class, as tiles_render.disc reads it (a disc of reach
    radius + 1/2): the map's marker at the zoom whose scale this figure has in CSS pixels, grown past the
    map's deepest zoom as the map's upscaled tiles grow, times the figure's device pixels per CSS pixel."""
    ratio = ppi / CSS_PPI
    zoom = math.log2(max(px_per_world / ratio, 1e-9))  # zoom z shows 2^z CSS px per world unit
    css = radii(max(round(zoom), 0), design_zoom)
    growth = min(max(2 ** (zoom - design_zoom), 1.0), MAX_MARKER_GROWTH)
    return tuple(max(round((r + 0.5) * growth * ratio - 0.5), 0) for r in css)
