"""Visual encodings of the tile layers: categories, colours, legends, popularity weights and marker sizes.

The relation layer's encoding follows the Model Atlas paper: colour = relation to the parent; brightness and
marker size grow with downloads. Colours are picked for the site's dark background (#0b0e14) from the Okabe-Ito colour-blind-safe
set (lightened where the original is too dark to read on near-black); roots are near-white, models with an
unstated relation plain grey, virtual (missing) parents a dim grey so they recede. The task, licence and
edge layers (end of the file) keep the same dark-background rules.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from atlasgen.graph.licences import FAMILIES, licence_family
from atlasgen.relations import EDGE_RELATIONS, RELATIONS

BACKGROUND = "#0b0e14"

# The relations and their order (the legend's, the colour key's, the viewer's) live in atlasgen/relations.py;
# the palette only colours and labels them.

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


# ---------------------------------------------------------------------------------------------------------
# Other layers. Each is a categorical encoding: categories in legend order, a colour and a label for each.


@dataclass(frozen=True)
class Encoding:
    """A tile layer's legend: its title and categories (in the legend's and the colour key's order) with their
    colours and labels. The layer itself (its id, column, kind...) is its entry in table.py."""

    title: str
    categories: tuple[str, ...]
    colors: dict[str, str]
    labels: dict[str, str]

    def legend(self) -> list[dict[str, str]]:
        return [{"key": c, "label": self.labels[c], "color": self.colors[c]} for c in self.categories]


RELATION = Encoding("Relation to parent", RELATIONS, _COLORS, _LABELS)

# Tasks: the most common ones get these colours in order of frequency. A qualitative set (Tableau 10's hues)
# lifted in lightness so each reads on #0b0e14; no hue is reused by "other" (warm light grey) or "unknown"
# (dim grey, like the relation layer's missing parents), which recede.
TASK_TITLE = "Task"
TOP_TASKS = 10
TASK_COLORS: tuple[str, ...] = (
    "#5ba3f5",  # blue
    "#ffa94d",  # orange
    "#5fd068",  # green
    "#ff6b6b",  # red
    "#b197fc",  # violet
    "#d9a66c",  # tan
    "#f783ac",  # pink
    "#e9e35a",  # yellow
    "#3bc9db",  # cyan
    "#a9b8ff",  # periwinkle
)
OTHER_COLOR = "#c9bfae"
UNKNOWN_COLOR = "#5c6370"


def task_encoding(tags: pd.Series) -> tuple[Encoding, npt.NDArray[np.int8]]:
    """The task layer for these models' ``pipeline_tag`` values: the encoding and each model's category code.

    The TOP_TASKS most frequent tags (ties by name, so the legend is deterministic) get their own colour;
    other tags are "other", missing ones "unknown".
    """
    known = tags.dropna().astype(str)
    counts = known.value_counts()
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    top = tuple(str(tag) for tag, _ in ranked[:TOP_TASKS])
    categories = (*top, "other", "unknown")
    colors = {tag: TASK_COLORS[i] for i, tag in enumerate(top)} | {
        "other": OTHER_COLOR,
        "unknown": UNKNOWN_COLOR,
    }
    labels = {tag: tag for tag in top} | {"other": "Other tasks", "unknown": "No task stated"}
    return Encoding(TASK_TITLE, categories, colors, labels), task_codes(tags, categories)


def task_codes(tags: pd.Series, categories: tuple[str, ...]) -> npt.NDArray[np.int8]:
    """Each tag's code in a task legend (``task_encoding``'s, or a built map's): the tags in rank order, then
    "other" (any other stated tag) and "unknown" (none stated)."""
    top = categories[:-2]
    codes = pd.Index(top).get_indexer(pd.Index(tags.astype(object)))
    codes = np.where(codes >= 0, codes, len(top))  # any other stated tag
    codes = np.where(tags.isna().to_numpy(), len(top) + 1, codes)
    return codes.astype(np.int8)


# Licence families (which licences, in which legend order, under which label) are licence rules and live in
# graph/licences.py; the palette only colours them.
LICENCE_COLORS: dict[str, str] = {
    "apache": "#ff8a5c",
    "mit": "#5fd068",
    "llama": "#5ba3f5",
    "gemma": "#b197fc",
    "qwen": "#3bc9db",
    "cc-by": "#e9e35a",
    "openrail": "#f783ac",
    "other": OTHER_COLOR,
    "unknown": UNKNOWN_COLOR,
}
LICENCE = Encoding(
    "Licence",
    tuple(key for key, _, _ in FAMILIES),
    {key: LICENCE_COLORS[key] for key, _, _ in FAMILIES},
    {key: label for key, label, _ in FAMILIES},
)


def licence_codes(licences: pd.Series) -> npt.NDArray[np.int8]:
    """Category code (into LICENCE.categories) per model; each distinct value is classified once."""
    codes, uniques = pd.factorize(licences.astype(object), use_na_sentinel=True)
    lookup = np.array([LICENCE.categories.index(licence_family(u)) for u in uniques], dtype=np.int8)
    unknown = LICENCE.categories.index("unknown")
    return np.where(codes >= 0, lookup[np.maximum(codes, 0)] if len(lookup) else unknown, unknown).astype(
        np.int8
    )


# Edges: parent -> child lines, coloured by the child's relation with the relation palette. Faint: their job
# is to show the lineage structure under the points, not to cover them.
EDGES = Encoding(
    "Parent → child links",
    EDGE_RELATIONS,
    {r: _COLORS[r] for r in EDGE_RELATIONS},
    {r: _LABELS[r] for r in EDGE_RELATIONS},
)


# New since the previous atlas (``build --previous``): an overlay of only the models that were not in it, in a
# red no relation colour comes near, so this week's additions stand out over the base layers.
NEW = Encoding("New since the previous atlas", ("new",), {"new": "#ff3b3b"}, {"new": "new model"})
