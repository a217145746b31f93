"""The index stage: every data file the viewer reads beside the tiles, sized for the whole Hub.

``run`` is the stage's one entry point: it writes the site's ``data/**`` and the published data files and
returns atlas.json's ``data`` section. Everything under ``<site>/data/`` is fetched on demand; only a short
list of id separators (for deep links) goes into atlas.json. All files are compact JSON (``jsonio.dumps``);
numbers travel as varint / fixed-width character streams and strings front-coded (``codec.py``).

* ``data/search/{key}.json`` -- prefix tree over id phrases (``search.py``).
* ``data/words/**`` -- every model by each token of its id, for queries in any word order (``words.py``).
* ``data/names/{block}.json``, ``data/names/sep/{group}.json`` -- ids by vertex, and id -> vertex
  (``names.py``).
* ``data/dict.json``, ``data/detail/{chunk}.json`` -- facts and lineage by vertex (``details.py``).
* ``data/pick/{z}/{x}/{y}.json`` -- nearest model to a click (``pick.py``).
* ``data/near/{z}/{x}/{y}.json`` -- ids, downloads and legend colours of a pick cell's models, for the
  viewer's close-up past the raster's detail (``near.py``).
* ``data/labels.json`` -- map labels (``labels.py``); ``data/licences/*`` -- licence changes
  (``licence_changes.py``).
* ``positions.parquet``, ``lineage.parquet`` -- the published files other tools read (``artifacts.py``).

Vertices are the ``nodes`` index, which is sorted by id: that order is what lets separators resolve ids.
"""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from atlasgen.index.codec import vertex_width
from atlasgen.index.details import write_details
from atlasgen.index.labels import write_labels
from atlasgen.index.licence_changes import write_licence_changes
from atlasgen.index.names import write_names
from atlasgen.index.near import legend_codes, write_near
from atlasgen.index.pick import write_pick
from atlasgen.index.search import write_search
from atlasgen.index.words import write_words
from atlasgen.index.writer import SIZES, Sizes, Writer, counts

__all__ = ["SIZES", "Sizes", "run", "write_index"]


def run(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    xy: np.ndarray,
    out_dir: Path,
    *,
    max_zoom: int | None,
    sizes: Sizes = SIZES,
    world: int = 256,
) -> dict[str, Any]:
    """Write the whole index stage into the site root ``out_dir``; return atlas.json's ``data`` section.
    ``world``: the world square's side (256 unless a map built on a previous one grew).

    ``max_zoom``: the deepest tile zoom (None: the tiles' default for these positions), which the labels
    are placed for. ``sizes`` shards the files (the default suits the whole Hub). Deterministic.
    """
    from atlasgen.artifacts import write_lineage, write_positions

    out_dir = Path(out_dir)
    data = write_index(nodes, edges, xy, out_dir, sizes=sizes, world=world)  # first: it replaces data/
    data["positions"] = write_positions(nodes, xy, out_dir)
    data["lineage"] = write_lineage(nodes["id"], edges, out_dir)
    data.update(write_labels(nodes, edges, xy, out_dir, max_zoom=max_zoom))
    data["licences"] = write_licence_changes(nodes, edges, out_dir)
    return data


def write_index(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    xy: np.ndarray,
    out_dir: Path,
    *,
    sizes: Sizes = SIZES,
    world: int = 256,
) -> dict[str, Any]:
    """Write ``out_dir/data/{search,words,names,dict,detail,pick,near}`` and return their part of atlas.json's ``data``.

    ``nodes`` / ``edges`` follow docs/contracts.md (index = vertex ordinal, sorted by id); ``xy`` is
    ``(N, 2)`` world coordinates in ``[0, world]``. Any previous ``out_dir/data`` is replaced. Output is byte-for-byte
    deterministic.
    """
    n = len(nodes)
    if xy.shape != (n, 2):
        raise ValueError(f"xy has shape {xy.shape}, expected ({n}, 2)")
    ids = [str(i) for i in nodes["id"].tolist()]
    if any(a >= b for a, b in itertools.pairwise(ids)):
        raise ValueError("nodes must be sorted by id, without duplicates (vertex order is id order)")
    data_dir = Path(out_dir) / "data"
    if data_dir.exists():
        shutil.rmtree(data_dir)
    downloads = counts(nodes["downloads"])
    rank = _rank(downloads)
    writer = Writer(data_dir)
    search = write_search(writer, ids, downloads, rank, sizes)
    words = write_words(writer, ids, downloads, rank, sizes)
    names = write_names(writer, ids, sizes)
    details = write_details(writer, nodes, edges, xy, ids, downloads, rank, sizes, world)
    pick = write_pick(writer, xy, sizes, world)
    near = write_near(writer, ids, downloads, xy, pick["zoom"], legend_codes(nodes, xy), world)
    return {
        "format": 2,
        "vertex_width": vertex_width(n),
        "files": sum(writer.files.values()),
        "bytes": sum(writer.bytes.values()),
        "parts": {k: {"files": writer.files[k], "bytes": writer.bytes[k]} for k in sorted(writer.files)},
        "search": search,
        "words": words,
        "names": names,
        "details": details,
        "pick": pick,
        "near": near,
    }


def _rank(downloads: np.ndarray) -> np.ndarray:
    """rank[v] = position of v ordered by downloads (unknown last), then vertex (= id order)."""
    order = np.lexsort((np.arange(len(downloads)), -downloads))
    rank = np.empty(len(downloads), dtype=np.int64)
    rank[order] = np.arange(len(downloads), dtype=np.int64)
    return rank
