"""What every index writer shares: the file sizing, the counting file writer and small numeric helpers.

The writers (search, names, details, pick) import this module and the stage (stage.py) imports them, so
there is no path back from a writer to the stage.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from atlasgen.jsonio import dumps


@dataclass(frozen=True)
class Sizes:
    """File sizing. The defaults keep every fetch small at 2M models; tests shrink them to force sharding."""

    name_positions: int = 8  # phrases start at the owner and at up to this many tokens of the name
    leaf_max: int = 600  # a search node holding more models than this is split by the next character
    top: int = 20  # best models kept in an inner search node
    max_key_chars: int = 120  # longer file keys stop splitting (a capped leaf): names stay within FS limits
    names_block: int = 128  # ids per names file
    names_group: int = 128  # names blocks per separator file
    chunk: int = 1024  # models per detail file
    children_cap: int = 30  # children listed per model (the most downloaded)
    pick_max: int = 1500  # most points in a pick cell, reached at the smallest grid zoom in pick_zooms
    pick_zooms: tuple[int, ...] = tuple(range(2, 10))
    words_rare: int = 600  # a token of at most this many models shares a shard file with others
    words_page: int = 4096  # ranks per page of a common token's list
    words_shard: int = 12_000  # characters, about, above which a shard of rare tokens is split
    words_block: int = 1024  # ranks per rank block (rank -> vertex, downloads)


SIZES = Sizes()


class Writer:
    """Writes data files under one root, counting files and bytes per top-level folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: dict[str, int] = {}
        self.bytes: dict[str, int] = {}

    def write(self, rel: str, obj: Any) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = dumps(obj).encode("utf-8")
        path.write_bytes(payload)
        part = rel.split("/", 1)[0].removesuffix(".json")
        self.files[part] = self.files.get(part, 0) + 1
        self.bytes[part] = self.bytes.get(part, 0) + len(payload)


def counts(values: pd.Series) -> np.ndarray:
    """Non-negative integer counts (downloads, likes), -1 where unknown."""
    arr = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    out = np.full(len(arr), -1, dtype=np.int64)
    ok = ~np.isnan(arr)
    out[ok] = np.maximum(arr[ok], 0).astype(np.int64)
    return out


def ceil_div(a: int, b: int) -> int:
    """Files needed for ``a`` items at ``b`` per file: at least one, so an empty atlas still has its files."""
    return max(1, math.ceil(a / b))
