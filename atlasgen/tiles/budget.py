"""The site's size budget: parse ``--budget``, preview tile-set sizes cheaply, and the rule that spends it.

GitHub Pages publishes sites up to 1 GB, and every file counts: the tiles get what the rest of the site
leaves (``reserved``: the index, the viewer, atlas.json and report.json as they would be without tile
layers, the trends page, snapshot.json), and each layer kept also pays for its entry in atlas.json and
report.json (its ``overhead``, charged with its first level). The rule, applied to *actual* rendered sizes:

1. **Depth first, shared.** The first layer in priority order (the layer table's ``priority``: relation >
   new > edges > task > licence) gets the deepest zoom whose levels 0..Z all fit; every other layer stops at
   the same Z (a layer ending earlier than the map would vanish while zooming in). Marker sizes follow the
   unbudgeted design depth, so cutting levels never changes the levels that stay.
2. **Then layers, whole.** Each further layer, in priority order, is kept if all its levels up to Z fit in
   what is left, else dropped whole; a smaller later layer may still fit after a bigger one is dropped
   (so a budget never costs a layer for nothing; a layer never loses room to a later one).

A budget that cannot hold the first layer's zoom 0 would publish a site without a map: that is an error
naming the smallest budget that works (``too_small``), never a site. Where that can be seen before the long
stages, it is: ``below_viewer`` before any work, ``below_index`` before the layout (a floor per model).

Rendering is what knows a level's size, so the policy and the renderer take turns: a ``LayerAccount`` says
which zoom of a layer to render next, the renderer (pyramid.render_layers) renders it and ``record``s its
size, and the account keeps the level, cuts the depth there or drops the layer ("...: the estimate was
off"), listing what the renderer must delete. The estimate here only spares renders that clearly cannot fit
(more than PRUNE × what is left): it counts the non-empty tiles of a level exactly from the partition and
models bytes per tile from the covered pixels, scaled by what the layer's already-rendered levels measured.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from atlasgen.errors import OptionError

DEFAULT_BUDGET = "1GB"
PRUNE = 1.5  # skip rendering when the estimate exceeds what is left by this factor
# Bytes of one tile before the model's calibration: WebP framing (RIFF, VP8L header; a one-pixel tile is 48 B)
# plus the compressed pixels. On the embedded sample WebP tiles are 0.51-0.64x the PNGs that measured
# ~0.9 B per covered pixel, hence ~0.5 B. Calibration against rendered levels corrects the rest.
TILE_OVERHEAD = 50.0
BYTES_PER_PIXEL = 0.5
# The fewest bytes a model takes in the index (search, names, details, pick cells, positions and lineage
# files): measured 114 B on the 2M-model synthetic Hub, 155 B on 20k, 192 B on the embedded sample, and
# positions.parquet alone takes ~25 B. Only for refusing a hopeless budget before the layout, so it errs low.
INDEX_FLOOR = 32

_UNITS = {
    "": 1,
    "b": 1,
    "k": 10**3,
    "kb": 10**3,
    "m": 10**6,
    "mb": 10**6,
    "g": 10**9,
    "gb": 10**9,
    "t": 10**12,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}


def parse_size(text: str | int) -> int:
    """ "600MB", "1GB", "1.5 GiB", "250k", 12345 -> bytes. Decimal units (MB = 10^6) as GitHub states
    its limits; binary ones (MiB = 2^20) when asked for."""
    if isinstance(text, int):
        if text < 0:
            raise ValueError(f"size must be ≥ 0, got {text}")
        return text
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*", str(text))
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _UNITS:
        raise ValueError(f"cannot read {text!r} as a size; use e.g. 600MB, 1GB, 1.5GiB")
    return round(float(match.group(1)) * _UNITS[unit])


def format_size(n: float) -> str:
    for unit, factor in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= factor:
            return f"{n / factor:.1f} {unit}"
    return f"{n:.0f} B"


def format_size_up(n: float) -> str:
    """``n`` bytes in four significant digits, rounded *up*: a size that holds ``n`` (and reads back with
    ``parse_size``), for naming the smallest budget that works."""
    for unit, factor in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= factor:
            value = n / factor
            decimals = 3 - len(str(int(value))) + 1
            return f"{math.ceil(round(value * 10**decimals, 6)) / 10**decimals:.{decimals}f} {unit}"
    return f"{math.ceil(n)} B"


def below_viewer(budget: int, viewer: int) -> OptionError | None:
    """Before any work: a budget the viewer alone fills cannot hold a site."""
    if budget >= viewer:
        return None
    return OptionError(
        [
            (
                "budget",
                f"{format_size(budget)} cannot hold even the viewer ({format_size(viewer)}); the index and "
                "the map's first tiles come on top",
            )
        ]
    )


def below_index(budget: int, viewer: int, models: int) -> OptionError | None:
    """Before the layout: a budget that cannot hold the viewer and the least index ``models`` can have."""
    floor = viewer + models * INDEX_FLOOR
    if budget >= floor:
        return None
    return OptionError(
        [
            (
                "budget",
                f"{format_size(budget)} cannot hold an atlas of {models:,} models: the viewer takes "
                f"{format_size(viewer)} and their index at least {format_size(models * INDEX_FLOOR)} "
                f"({INDEX_FLOOR} B a model), so it needs more than {format_size_up(floor)}; the smallest "
                "budget that works is named once the index is written",
            )
        ]
    )


def too_small(budget: int, reserved: int, layer: str, first_level: float) -> OptionError:
    """The tiles stage found that not even ``layer``'s zoom 0 (``first_level`` bytes with its atlas.json
    entry) fits beside the ``reserved`` bytes of the rest of the site."""
    return OptionError(
        [
            (
                "budget",
                f"{format_size(budget)} cannot hold a site that loads: its files besides the tiles take "
                f"{format_size(reserved)} and the map's first level ({layer} zoom 0, with its entry in "
                f"atlas.json) {format_size(first_level)}; the smallest budget that works is "
                f"{format_size_up(reserved + first_level)}",
            )
        ]
    )


def tree_bytes(root: Path) -> int:
    """Every file under ``root``, as a static host counts a site (0 for a missing folder)."""
    return sum(f.stat().st_size for f in root.rglob("*") if f.is_file())


def estimate_tiles_bytes(tiles: int, covered_px: float) -> float:
    """Uncalibrated size of a tile set: ``tiles`` WebP tiles covering about ``covered_px`` pixels in all."""
    return TILE_OVERHEAD * tiles + BYTES_PER_PIXEL * covered_px


def covered_pixels(points_per_tile: npt.NDArray[np.int64], disc_area: float, tile_px: int) -> float:
    """Pixels markers cover, tile by tile, capped at a full tile (overlaps make it an upper bound)."""
    return float(np.minimum(points_per_tile * disc_area, tile_px * tile_px).sum())


@dataclass
class Ledger:
    """Running account of a budgeted render: what is spent, what was dropped and why."""

    available: float  # budget minus reserved; inf without a budget
    depth: int  # deepest zoom any layer renders: the design depth until the first layer is cut short
    spent: int = 0
    exhausted: bool = False  # even the first layer's first level did not fit: render nothing more
    needed: float = 0.0  # then: the bytes that first level needs (with its layer's overhead)
    dropped: list[str] = field(default_factory=list)
    # per layer: actual / estimated bytes over its rendered levels (1.0 until something was rendered)
    calibration: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def left(self) -> float:
        return self.available - self.spent

    def factor(self, layer: str, fallback: str = "relation") -> float:
        actual, est = self.calibration.get(layer) or self.calibration.get(fallback) or (1.0, 1.0)
        return actual / est if est > 0 else 1.0

    def learn(self, layer: str, actual: int, estimate: float) -> None:
        a, e = self.calibration.get(layer, (0.0, 0.0))
        self.calibration[layer] = (a + actual, e + estimate)

    def hopeless(self, layer: str, estimate: float, extra: float = 0.0) -> bool:
        """True when even a generous reading of the calibrated estimate (plus ``extra`` known bytes) cannot
        fit in what is left."""
        return estimate * self.factor(layer) + extra > PRUNE * self.left

    @property
    def budgeted(self) -> bool:
        return math.isfinite(self.available)

    def account(
        self,
        name: str,
        min_zoom: int,
        *,
        first: bool,
        estimate: Callable[[int], float],
        overhead: int = 0,
    ) -> LayerAccount:
        """A layer's turn: zooms ``min_zoom``..depth as they fit. ``first``: this layer fixes the depth.
        ``estimate(zoom)``: the level's uncalibrated bytes, asked only under a budget. ``overhead``: what
        keeping the layer costs besides its tiles (its manifest entries), charged with its first level."""
        return LayerAccount(self, name, range(min_zoom, self.depth + 1), first, estimate, overhead)


@dataclass
class LayerAccount:
    """One layer against the ledger. Iterate for the zooms to render and ``record`` each one's size before
    asking for the next; afterwards ``levels`` holds what was kept and ``discarded`` the rendered levels
    that must be deleted."""

    ledger: Ledger
    name: str
    zooms: range
    first: bool
    estimate: Callable[[int], float]
    overhead: int = 0
    levels: dict[int, tuple[int, int]] = field(default_factory=dict)  # zoom -> (tiles, bytes)
    discarded: list[int] = field(default_factory=list)
    _size: tuple[int, int] | None = None

    def record(self, tiles: int, nbytes: int) -> None:
        self._size = (tiles, nbytes)

    def __iter__(self) -> Iterator[int]:
        ledger = self.ledger
        if not self.first and ledger.budgeted and self._hopeless_layer():
            return
        spent = self.overhead if ledger.budgeted else 0
        for zoom in self.zooms:
            est = self.estimate(zoom) if ledger.budgeted else 0.0
            if self.first and ledger.budgeted and zoom > 0 and ledger.hopeless(self.name, est):
                self._cut(
                    zoom, f"~{format_size(est * ledger.factor(self.name))}", ledger.left, " (estimated)"
                )
                break
            self._size = None
            yield zoom
            if self._size is None:
                raise RuntimeError(f"{self.name} z{zoom}: record() its size before asking for the next zoom")
            tiles, nbytes = self._size
            ledger.learn(self.name, nbytes, est)
            if spent + nbytes > ledger.left:
                self.discarded.append(zoom)
                if not self.first:
                    self._drop(spent + nbytes - ledger.left)
                    return
                off = " (the estimate was off)" if est * ledger.factor(self.name) <= ledger.left else ""
                self._cut(zoom, f"is {format_size(nbytes)}", ledger.left - spent, off)
                break
            self.levels[zoom] = (tiles, nbytes)
            spent += nbytes
        if self.first and not self.levels:
            ledger.exhausted = True
            ledger.needed = spent + (self._size[1] if self._size else 0)
            return
        if self.levels:
            ledger.spent += spent

    def _hopeless_layer(self) -> bool:
        """A later layer whose whole estimate cannot fit is dropped unrendered."""
        ledger = self.ledger
        est = sum(self.estimate(z) for z in self.zooms)
        if not ledger.hopeless(self.name, est, self.overhead):
            return False
        over = est * ledger.factor(self.name) + self.overhead - ledger.left
        ledger.dropped.append(f"{self.name} layer dropped: ~{format_size(over)} over budget (estimated)")
        return True

    def _cut(self, zoom: int, size: str, left: float, note: str) -> None:
        """The first layer's level ``zoom`` does not fit: the pyramid ends one level up, for every layer."""
        self.ledger.dropped.append(
            f"zoom {zoom}+ dropped: {self.name} z{zoom} {size}, {format_size(max(left, 0))} left{note}"
        )
        self.ledger.depth = zoom - 1

    def _drop(self, over: float) -> None:
        """A later layer overflowed: all of it goes."""
        self.ledger.dropped.append(f"{self.name} layer dropped: {format_size(over)}+ over budget")
        self.discarded.extend(self.levels)
        self.levels.clear()
