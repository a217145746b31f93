"""Static data the viewer reads: search tree, names, details, pick cells -- sized for the whole Hub.

Everything lives under ``<site>/data/`` and is fetched on demand; only a short list of id separators (for
deep links) goes into atlas.json. All files are compact JSON (sorted keys, UTF-8, only JSON's own escaping);
numbers travel as varint / fixed-width character streams and strings front-coded (``index_codec``).

* ``data/search/{key}.json`` -- prefix tree over id phrases (``index_search``).
* ``data/names/{block}.json``, ``data/names/sep/{group}.json`` -- ids by vertex, and id -> vertex
  (``index_names``).
* ``data/dict.json``, ``data/detail/{chunk}.json`` -- facts and lineage by vertex (``index_details``).
* ``data/pick/{z}/{x}/{y}.json`` -- nearest model to a click (``index_pick``).

Vertices are the ``nodes`` index, which is sorted by id: that order is what lets separators resolve ids.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from atlasgen.index.codec import vertex_width
from atlasgen.index.details import write_details
from atlasgen.index.names import write_names
from atlasgen.index.pick import pick_zoom, write_pick
from atlasgen.index.search import write_search

__all__ = ["SIZES", "Sizes", "dumps", "encode_key", "phrases", "pick_zoom", "tokens", "write_index"]


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


SIZES = Sizes()

_SEPARATORS = re.compile(r"[/\-_. ]+")


def dumps(obj: Any) -> str:
    """The one JSON encoding of every data file: sorted keys, compact, UTF-8, no NaN."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def tokens(text: str) -> list[str]:
    """Lowercase ``text`` and split it on ``/ - _ . space`` (the viewer does the same)."""
    return [t for t in _SEPARATORS.split(text.lower()) if t]


def phrases(model_id: str, name_positions: int | None = None) -> list[str]:
    """The search phrases of one id: from the first token and from each leading token of the name."""
    positions = SIZES.name_positions if name_positions is None else name_positions
    toks = tokens(model_id)
    owner = len(tokens(model_id.split("/", 1)[0])) if "/" in model_id else 0
    starts = sorted({0, *range(owner, min(len(toks), owner + positions))})
    return list(dict.fromkeys(" ".join(toks[s:]) for s in starts if s < len(toks)))


def encode_key(prefix: str) -> str:
    """File key of a search prefix: ``a-z0-9`` kept, space -> ``_``, anything else -> ``-xx`` per byte."""
    if not prefix:
        return "_root"
    out = []
    for ch in prefix:
        if "a" <= ch <= "z" or "0" <= ch <= "9":
            out.append(ch)
        elif ch == " ":
            out.append("_")
        else:
            out.extend(f"-{b:02x}" for b in ch.encode("utf-8", "surrogatepass"))
    return "".join(out)


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


def write_index(nodes: pd.DataFrame, edges: pd.DataFrame, xy: np.ndarray, out_dir: Path) -> dict:
    """Write ``out_dir/data/**`` (``out_dir`` is the site root) and return the ``data`` dict of atlas.json.

    ``nodes`` / ``edges`` follow docs/contracts.md (index = vertex ordinal, sorted by id); ``xy`` is
    ``(N, 2)`` world coordinates. Any previous ``out_dir/data`` is replaced. Output is byte-for-byte
    deterministic.
    """
    sizes = SIZES
    n = len(nodes)
    if xy.shape != (n, 2):
        raise ValueError(f"xy has shape {xy.shape}, expected ({n}, 2)")
    ids = [str(i) for i in nodes["id"].tolist()]
    if any(a >= b for a, b in itertools.pairwise(ids)):
        raise ValueError("nodes must be sorted by id, without duplicates (vertex order is id order)")
    data_dir = Path(out_dir) / "data"
    if data_dir.exists():
        shutil.rmtree(data_dir)
    downloads = _counts(nodes["downloads"])
    rank = _rank(downloads)
    writer = Writer(data_dir)
    search = write_search(writer, ids, downloads, rank, sizes)
    names = write_names(writer, ids, sizes)
    details = write_details(writer, nodes, edges, xy, ids, downloads, rank, sizes)
    pick = write_pick(writer, xy, sizes)
    return {
        "format": 2,
        "vertex_width": vertex_width(n),
        "files": sum(writer.files.values()),
        "bytes": sum(writer.bytes.values()),
        "parts": {k: {"files": writer.files[k], "bytes": writer.bytes[k]} for k in sorted(writer.files)},
        "search": search,
        "names": names,
        "details": details,
        "pick": pick,
    }


def _counts(values: pd.Series) -> np.ndarray:
    """Non-negative integer counts, -1 where unknown."""
    arr = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    out = np.full(len(arr), -1, dtype=np.int64)
    ok = ~np.isnan(arr)
    out[ok] = np.maximum(arr[ok], 0).astype(np.int64)
    return out


def _rank(downloads: np.ndarray) -> np.ndarray:
    """rank[v] = position of v ordered by downloads (unknown last), then vertex (= id order)."""
    order = np.lexsort((np.arange(len(downloads)), -downloads))
    rank = np.empty(len(downloads), dtype=np.int64)
    rank[order] = np.arange(len(downloads), dtype=np.int64)
    return rank


def ceil_div(a: int, b: int) -> int:
    return max(1, math.ceil(a / b))
