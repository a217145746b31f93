"""The relation layer's visual encoding: categories, colours, legend, popularity weights and marker sizes.

Encoding follows the Model Atlas paper: colour = relation to the parent; brightness and marker size grow with
downloads. Colours are picked for the site's dark background (#0b0e14) from the Okabe-Ito colour-blind-safe
set (lightened where the original is too dark to read on near-black); roots are near-white, models with an
unstated relation plain grey, virtual (missing) parents a dim grey so they recede.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

BACKGROUND = "#0b0e14"

# Category order is part of the contract: the legend, the tile colour key and the viewer all use it.
RELATIONS: tuple[str, ...] = ("base", "finetune", "adapter", "quantized", "merge", "unknown", "virtual")

_COLORS: dict[str, str] = {
    "base": "#f4f1e8",  # near-white: roots stand out as the brightest points of a family
    "finetune": "#56b4e9",  # Okabe-Ito sky blue
    "adapter": "#2bd9a6",  # Okabe-Ito bluish green, lightened for the dark background
    "quantized": "#f0a202",  # Okabe-Ito orange
    "merge": "#e07bc0",  # Okabe-Ito reddish purple, lightened
    "unknown": "#9aa0a6",  # neutral grey
    "virtual": "#5c6370",  # dim grey: referenced parents missing from the snapshot
}

_LABELS: dict[str, str] = {
    "base": "Base model (no parent)",
    "finetune": "Fine-tune",
    "adapter": "Adapter",
    "quantized": "Quantization",
    "merge": "Merge",
    "unknown": "Unstated relation",
    "virtual": "Parent missing from snapshot",
}

# Download thresholds of the size classes. Fixed numbers rather than quantiles, so that a model keeps its
# marker size between snapshots unless its own downloads change.
SIZE_THRESHOLDS: tuple[float, ...] = (1_000.0, 100_000.0)
N_SIZES = len(SIZE_THRESHOLDS) + 1

# Spread radius (px) per size class, by depth below the pyramid's deepest zoom: markers grow as one zooms in
# so that at max zoom a single model is a visible, clickable disc (5 px across at least).
_RADII: tuple[tuple[int, ...], ...] = ((2, 3, 5), (1, 2, 4), (1, 2, 3), (1, 1, 2), (1, 1, 2), (0, 1, 2))
MAX_RADIUS = max(max(r) for r in _RADII)

# Weight of one model with 10^6 downloads; the alpha span never ends below it, so at deep zooms (one model
# per pixel) a very popular model is the brightest thing on the map.
POPULAR_WEIGHT = 1.0 + np.log10(1.0 + 1e6)


def relation_color(relation: str) -> str:
    """Hex colour of a relation (a key of RELATIONS)."""
    return _COLORS[relation]


def relation_legend() -> list[dict[str, str]]:
    """Legend entries in RELATIONS order: ``{"key", "label", "color"}``; the viewer draws this."""
    return [{"key": r, "label": _LABELS[r], "color": _COLORS[r]} for r in RELATIONS]


def popularity_weight(downloads: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Aggregation weight: 1 + log10(1 + downloads); unknown (NaN) or negative downloads weigh 1.

    Logarithmic because downloads span seven orders of magnitude; the +1 floor keeps every model visible.
    """
    d = np.asarray(downloads, dtype=np.float64)
    d = np.where(np.isfinite(d) & (d > 0), d, 0.0)
    return 1.0 + np.log10(1.0 + d)


def size_class(downloads: npt.ArrayLike) -> npt.NDArray[np.int8]:
    """0 (unknown or < 1k downloads), 1 (< 100k), 2 (more)."""
    d = np.asarray(downloads, dtype=np.float64)
    d = np.where(np.isfinite(d), d, 0.0)
    return np.searchsorted(np.asarray(SIZE_THRESHOLDS), d, side="right").astype(np.int8)


def radii(zoom: int, max_zoom: int) -> tuple[int, ...]:
    """Marker radius in pixels for each size class at ``zoom`` of a pyramid ending at ``max_zoom``."""
    depth = min(max(max_zoom - zoom, 0), len(_RADII) - 1)
    return _RADII[depth]
