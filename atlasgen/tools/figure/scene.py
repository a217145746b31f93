"""What a figure reads from an atlas directory (through `artifacts.read_atlas`): positions, the layer's legend
and codes, links, the region.

Colours and categories are the map's: the legend comes from atlas.json when the site has the layer (else
from the layer table, tiles/table.py, which produced it), and raw values map to legend categories with the
table's own rules.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from atlasgen.errors import InputError
from atlasgen.ids import resolve
from atlasgen.tiles.table import TABLE, LayerDef

Box = tuple[float, float, float, float]  # x0, y0, x1, y1
DEFAULT_RADIUS = 8.0  # world units around --center: a large family and its neighbours
PADDING = 0.03  # the whole-atlas view leaves this share of the extent around the models


class UnknownModel(InputError):
    """The model a figure is centred on is not in the atlas; `close` are ids like it."""

    def __init__(self, path: Path, model: str, close: list[str], detail: str | None = None) -> None:
        self.detail = detail or f"no model {model!r} in this atlas" + (
            f"; close ids: {', '.join(close)}" if close else ""
        )
        super().__init__(path, self.detail)


@dataclass
class Scene:
    """An atlas as a figure needs it: positions, the chosen layer's codes and legend, links if wanted."""

    atlas: Path
    positions: pd.DataFrame
    manifest: dict[str, Any]
    codes: np.ndarray
    legend: list[dict[str, str]]
    design_zoom: int
    edges: pd.DataFrame | None  # parent/child world coordinates and relation


def load_scene(atlas: Path, layer: str, *, edges: bool) -> Scene:
    """Read an atlas directory for a figure of ``layer`` (with its parent→child links if ``edges``)."""
    from atlasgen.artifacts import read_atlas
    from atlasgen.tiles.pyramid import choose_max_zoom

    read = read_atlas(atlas, need=("id", "x", "y", "relation"), lineage=edges)
    positions, manifest = read.positions, read.manifest
    positions["id"] = positions["id"].astype(str)
    codes, legend = encode(layer, manifest, positions)
    zooms = [
        int(e["max_zoom"])
        for e in manifest.get("layers", [])
        if e.get("id") == "relation" and "max_zoom" in e
    ]
    design_zoom = zooms[0] if zooms else choose_max_zoom(positions["x"], positions["y"])
    links = None if read.edges is None else _links(read.xy, read.edges)
    return Scene(atlas, positions, manifest, codes, legend, design_zoom, links)


def _links(xy: np.ndarray, edges: pd.DataFrame) -> pd.DataFrame:
    """Each link's parent and child world coordinates and its relation (links to unplaced models left out)."""
    parent, child = xy[edges["source"].to_numpy()], xy[edges["target"].to_numpy()]
    ok = np.isfinite(parent).all(axis=1) & np.isfinite(child).all(axis=1)
    return pd.DataFrame(
        {"x0": parent[ok, 0], "y0": parent[ok, 1], "x1": child[ok, 0], "y1": child[ok, 1]}
    ).assign(relation=edges["relation"].to_numpy()[ok])


def _layer_legend(layer: LayerDef, manifest: dict[str, Any], values: pd.Series) -> list[dict[str, str]]:
    """The map's legend for the layer: atlas.json's when the site has that layer, else the layer table's."""
    for entry in manifest.get("layers", []):
        if entry.get("id") == layer.id and entry.get("legend"):
            return list(entry["legend"])
    return layer.legend(values)


def _values(layer: LayerDef, positions: pd.DataFrame) -> pd.Series:
    """The published column a layer encodes (its node column under its positions.parquet name); all None
    where the atlas lacks it."""
    from atlasgen.artifacts import ATTRIBUTES

    name = next((k for k, v in ATTRIBUTES.items() if v == layer.column), layer.column)
    if name in positions:
        return positions[name].astype(object)
    return pd.Series([None] * len(positions), index=positions.index, dtype=object)


def encode(
    layer: str, manifest: dict[str, Any], positions: pd.DataFrame
) -> tuple[np.ndarray, list[dict[str, str]]]:
    """Each model's category code into the layer's legend, and the legend (map colours), with the layer
    table's rules (tiles/table.py): what the tiles of a site with that legend show for each model."""
    entry = TABLE[layer]
    values = _values(entry, positions)
    legend = _layer_legend(entry, manifest, values)
    codes = entry.codes(values, [e["key"] for e in legend])
    if (codes < 0).any():
        bad = sorted(set(values[codes < 0].astype(str)))[:5]
        raise InputError("positions.parquet", f"{layer} values {bad} are not in the map's legend")
    return codes.astype(np.int8), legend


def _center(positions: pd.DataFrame, model: str, atlas: Path) -> tuple[float, float]:
    """Where `model` is, exactly else in any case (ids.resolve); UnknownModel names close or ambiguous ids."""
    match = resolve(positions["id"], model)
    if match.index is not None:
        row = positions.iloc[match.index]
        return float(row["x"]), float(row["y"])
    if match.ambiguous:
        raise UnknownModel(atlas / "positions.parquet", model, [], match.problem(model))
    ids = positions["id"].tolist()
    name = model.rsplit("/", 1)[-1].lower()
    pool = [i for i in ids if name and name in i.lower()] or ids
    lowered = {i.lower(): i for i in pool}
    close = [lowered[c] for c in difflib.get_close_matches(model.lower(), list(lowered), n=5, cutoff=0.5)]
    raise UnknownModel(atlas / "positions.parquet", model, close)


def region(scene: Scene, *, bbox: Box | None, center: str | None, radius: float | None) -> Box:
    """The world rectangle asked for: the box, the square of ``radius`` around ``center``, or every model
    with a margin."""
    positions = scene.positions
    if bbox is not None:
        return bbox
    if center is not None:
        cx, cy = _center(positions, center, scene.atlas)
        r = radius or DEFAULT_RADIUS
        return (cx - r, cy - r, cx + r, cy + r)
    x, y = positions["x"].to_numpy(), positions["y"].to_numpy()
    pad = PADDING * max(float(np.ptp(x)), float(np.ptp(y)), 1.0)
    return (float(x.min()) - pad, float(y.min()) - pad, float(x.max()) + pad, float(y.max()) + pad)


def expand(region: Box, aspect: float) -> Box:
    """The smallest box with the given width/height ratio that holds ``region``, centred on it."""
    cx, cy = (region[0] + region[2]) / 2, (region[1] + region[3]) / 2
    hw, hh = (region[2] - region[0]) / 2, (region[3] - region[1]) / 2
    hw, hh = max(hw, hh * aspect), max(hh, hw / aspect)
    return (cx - hw, cy - hh, cx + hw, cy + hh)


def numeric(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def attribution(manifest: dict[str, Any]) -> str:
    """The attribution line: the Hub's metadata for Hub snapshots, the file's name for a private registry."""
    snap = manifest.get("snapshot", {})
    source = snap.get("label") if snap.get("format") == "csv" else None
    line = f"Model Atlas · atlasgen · data: {source or 'Hugging Face Hub metadata'}"
    return f"{line}, snapshot {snap['date']}" if snap.get("date") else line
