"""Static data the viewer reads: search tree, exact-id buckets, detail chunks, pick cells.

Everything lives under ``<site>/data/`` and is fetched on demand; nothing scales with the number of models
up front. Formats (all compact JSON, sorted keys, UTF-8, only JSON's own escaping):

* ``data/search/{key}.json`` -- a prefix tree over *phrases*. A model's phrases are its normalised id
  (lowercase, split on ``/ - _ . space``, tokens joined by one space) read from the first token and from
  each of the first ``MAX_NAME_POSITIONS`` tokens of the name, so ``meta-llama/Llama-3-8B-GGUF`` is found
  by ``meta llama``, ``llama 3 8b gguf``, ``3 8b`` or ``gguf``. A node ``{children, complete, entries}``
  covers all phrases starting with its prefix; a leaf (``complete: true``) lists every matching model, an
  inner node lists the best ``TOP`` models (plus those whose phrase *is* the prefix) and the next
  characters to descend by. ``entries`` are ``[id, downloads, vertex]``, ranked by downloads. ``{key}``
  is the prefix with ``a-z0-9`` kept, space as ``_`` and any other character as ``-xx`` per UTF-8 byte;
  the root is ``_root``.
* ``data/ids/{bucket}.json`` -- ``{id: vertex}`` with ``bucket = fnv1a32(utf8(id)) % buckets``: a deep
  link resolves an exact id with one fetch.
* ``data/detail/{chunk}.json`` -- ``{fields, start, rows}`` for vertices ``start .. start+CHUNK-1``.
* ``data/pick/{z}/{x}/{y}.json`` -- ``{points: [[x, y, vertex], ...]}`` for one cell of a fixed grid at
  zoom ``z``; ``occupied`` in the returned dict is a base64 bitmap of the non-empty cells (bit
  ``y * 2**z + x``, least significant bit first) so the viewer never asks for a missing file.
"""

from __future__ import annotations

import base64
import bisect
import json
import math
import re
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

MAX_NAME_POSITIONS = 8  # phrases start at the owner and at up to this many tokens of the name
LEAF_MAX = 1000  # a search node holding more entries than this is split by the next character
TOP = 50  # best entries kept in an inner search node
MAX_KEY_CHARS = 120  # longer file keys stop splitting (a capped leaf) so names stay within filesystem limits
IDS_PER_BUCKET = 1000
CHUNK = 1000
CHILDREN_CAP = 50
PICK_MAX = 1500  # most points in a pick cell, reached at the smallest grid zoom in PICK_ZOOMS
PICK_ZOOMS = range(2, 10)
DECIMALS = 4
DETAIL_FIELDS = [
    "id",
    "author",
    "relation",
    "virtual",
    "downloads",
    "likes",
    "licence",
    "task",
    "library",
    "created",
    "x",
    "y",
    "parents",
    "children",
    "children_total",
    "children_by_relation",
]

_SEPARATORS = re.compile(r"[/\-_. ]+")


def dumps(obj: Any) -> str:
    """The one JSON encoding of every data file: sorted keys, compact, UTF-8, no NaN."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def tokens(text: str) -> list[str]:
    """Lowercase ``text`` and split it on ``/ - _ . space`` (the viewer does the same)."""
    return [t for t in _SEPARATORS.split(text.lower()) if t]


def phrases(model_id: str) -> list[str]:
    """The search phrases of one id: from the first token and from each leading token of the name."""
    toks = tokens(model_id)
    owner = len(tokens(model_id.split("/", 1)[0])) if "/" in model_id else 0
    starts = sorted({0, *range(owner, min(len(toks), owner + MAX_NAME_POSITIONS))})
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
            out.extend(f"-{b:02x}" for b in ch.encode("utf-8"))
    return "".join(out)


def fnv1a32(text: str) -> int:
    """32-bit FNV-1a of the UTF-8 bytes (mirrored in the viewer's ``normalise.js``)."""
    h = 0x811C9DC5
    for b in text.encode("utf-8"):
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def write_index(nodes: pd.DataFrame, edges: pd.DataFrame, xy: np.ndarray, out_dir: Path) -> dict:
    """Write ``out_dir/data/**`` (``out_dir`` is the site root) and return the ``data`` dict of atlas.json.

    ``nodes`` / ``edges`` follow docs/contracts.md (index = vertex ordinal); ``xy`` is ``(N, 2)`` world
    coordinates. Any previous ``out_dir/data`` is replaced. Output is byte-for-byte deterministic.
    """
    n = len(nodes)
    if xy.shape != (n, 2):
        raise ValueError(f"xy has shape {xy.shape}, expected ({n}, 2)")
    data_dir = Path(out_dir) / "data"
    if data_dir.exists():
        shutil.rmtree(data_dir)
    ids = [str(i) for i in nodes["id"].tolist()]
    downloads = _ints(nodes["downloads"])
    rank = _rank(ids, downloads)
    writer = _Writer(data_dir)
    search = _write_search(writer, ids, downloads, rank)
    id_buckets = _write_ids(writer, ids)
    details = _write_details(writer, nodes, edges, xy, ids, downloads, rank)
    pick = _write_pick(writer, xy)
    return {
        "format": 1,
        "files": writer.files,
        "bytes": writer.bytes,
        "search": search,
        "ids": id_buckets,
        "details": details,
        "pick": pick,
    }


class _Writer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.files = 0
        self.bytes = 0

    def write(self, rel: str, obj: Any) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = dumps(obj).encode("utf-8")
        path.write_bytes(payload)
        self.files += 1
        self.bytes += len(payload)


def _ints(values: pd.Series) -> list[int | None]:
    return [None if v is None or (isinstance(v, float) and math.isnan(v)) else int(v) for v in values]


def _rank(ids: list[str], downloads: list[int | None]) -> np.ndarray:
    """rank[v] = position of v when ordered by downloads (unknown last), then id."""
    known = [-1 if d is None else d for d in downloads]
    order = sorted(range(len(ids)), key=lambda v: (-known[v], ids[v]))
    rank = np.empty(len(ids), dtype=np.int64)
    rank[order] = np.arange(len(ids), dtype=np.int64)
    return rank


# -- search -------------------------------------------------------------------------------------------------


def _write_search(writer: _Writer, ids: list[str], downloads: list[int | None], rank: np.ndarray) -> dict:
    pairs = sorted((p, int(rank[v]), v) for v in range(len(ids)) for p in phrases(ids[v]))
    strings = [p for p, _, _ in pairs]
    verts = np.array([v for _, _, v in pairs], dtype=np.int64)
    ranks = rank[verts] if len(verts) else np.empty(0, dtype=np.int64)

    def entries(vs: Iterable[int]) -> list[list[Any]]:
        return [[ids[v], downloads[v], v] for v in sorted(set(vs), key=lambda v: rank[v])]

    order_by_rank = np.argsort(rank)
    nodes = 0
    stack: list[tuple[str, int, int]] = [("", 0, len(strings))]
    while stack:
        prefix, lo, hi = stack.pop()
        nodes += 1
        exact_end = bisect.bisect_right(strings, prefix, lo, hi)
        children = list(_runs(strings, prefix, exact_end, hi))
        uniq = np.unique(ranks[lo:hi])  # ranks are unique per vertex, so this dedupes vertices
        key_ok = len(encode_key(prefix)) < MAX_KEY_CHARS
        if len(uniq) <= LEAF_MAX or not children or not key_ok:
            top = [int(v) for v in order_by_rank[uniq[:LEAF_MAX]]]
            node = {"children": [], "complete": len(uniq) <= LEAF_MAX, "entries": entries(top)}
        else:
            exact = np.unique(ranks[lo:exact_end])[:LEAF_MAX]
            keep = [int(v) for v in order_by_rank[np.union1d(uniq[:TOP], exact)]]
            node = {"children": [c for c, _, _ in children], "complete": False, "entries": entries(keep)}
            stack.extend((prefix + c, a, b) for c, a, b in children)
        writer.write(f"search/{encode_key(prefix)}.json", node)
    return {
        "template": "data/search/{key}.json",
        "root": "_root",
        "nodes": nodes,
        "leaf_max": LEAF_MAX,
        "top": TOP,
        "name_positions": MAX_NAME_POSITIONS,
        "entry": ["id", "downloads", "vertex"],
    }


def _runs(strings: list[str], prefix: str, lo: int, hi: int) -> Iterator[tuple[str, int, int]]:
    """(next character, start, end) of each run of ``strings[lo:hi]`` sharing ``prefix`` + one character."""
    depth = len(prefix)
    while lo < hi:
        ch = strings[lo][depth]
        end = bisect.bisect_left(strings, prefix + chr(ord(ch) + 1), lo, hi)
        yield ch, lo, end
        lo = end


# -- exact ids ----------------------------------------------------------------------------------------------


def _write_ids(writer: _Writer, ids: list[str]) -> dict:
    buckets = max(1, math.ceil(len(ids) / IDS_PER_BUCKET))
    groups: dict[int, dict[str, int]] = {}
    for v, model_id in enumerate(ids):
        groups.setdefault(fnv1a32(model_id) % buckets, {})[model_id] = v
    for b in range(buckets):
        writer.write(f"ids/{b}.json", groups.get(b, {}))
    return {"template": "data/ids/{bucket}.json", "buckets": buckets, "hash": "fnv1a32(utf8(id)) % buckets"}


# -- details ------------------------------------------------------------------------------------------------


def _write_details(
    writer: _Writer,
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    xy: np.ndarray,
    ids: list[str],
    downloads: list[int | None],
    rank: np.ndarray,
) -> dict:
    n = len(ids)
    parents: list[list[list[Any]]] = [[] for _ in range(n)]
    children: list[list[tuple[int, str]]] = [[] for _ in range(n)]
    for s, t, rel in zip(
        edges["source"].tolist(), edges["target"].tolist(), edges["relation"].tolist(), strict=True
    ):
        parents[int(t)].append([int(s), ids[int(s)], str(rel)])
        children[int(s)].append((int(t), str(rel)))
    likes = _ints(nodes["likes"])
    cols = {
        c: [_text(v) for v in nodes[c].tolist()]
        for c in ("licence", "pipeline_tag", "library_name", "created_at")
    }
    rows = []
    for v in range(n):
        kids = sorted(children[v], key=lambda c: rank[c[0]])
        by_rel: dict[str, int] = {}
        for _, rel in kids:
            by_rel[rel] = by_rel.get(rel, 0) + 1
        rows.append(
            [
                ids[v],
                str(nodes["author"].iat[v]),
                str(nodes["relation"].iat[v]),
                bool(nodes["virtual"].iat[v]),
                downloads[v],
                likes[v],
                cols["licence"][v],
                cols["pipeline_tag"][v],
                cols["library_name"][v],
                cols["created_at"][v],
                round(float(xy[v, 0]), DECIMALS),
                round(float(xy[v, 1]), DECIMALS),
                sorted(parents[v]),
                [[c, ids[c], rel, downloads[c]] for c, rel in kids[:CHILDREN_CAP]],
                len(kids),
                by_rel,
            ]
        )
    chunks = max(1, math.ceil(n / CHUNK))
    for c in range(chunks):
        writer.write(
            f"detail/{c}.json",
            {"fields": DETAIL_FIELDS, "start": c * CHUNK, "rows": rows[c * CHUNK : (c + 1) * CHUNK]},
        )
    return {
        "template": "data/detail/{chunk}.json",
        "chunk_size": CHUNK,
        "chunks": chunks,
        "children_cap": CHILDREN_CAP,
        "fields": DETAIL_FIELDS,
    }


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return str(value)


# -- pick cells ---------------------------------------------------------------------------------------------


def pick_zoom(xy: np.ndarray) -> int:
    """Smallest grid zoom whose fullest cell holds at most PICK_MAX points (the last zoom otherwise)."""
    for z in PICK_ZOOMS:
        cx, cy = _cells(xy, z)
        if len(cx) == 0 or np.unique(cx * (1 << z) + cy, return_counts=True)[1].max() <= PICK_MAX:
            return z
    return PICK_ZOOMS[-1]


def _cells(xy: np.ndarray, z: int) -> tuple[np.ndarray, np.ndarray]:
    side = 1 << z
    scaled = np.floor(np.asarray(xy, dtype=np.float64) * side / 256.0).astype(np.int64)
    scaled = np.clip(scaled, 0, side - 1)
    return scaled[:, 0], scaled[:, 1]


def _write_pick(writer: _Writer, xy: np.ndarray) -> dict:
    z = pick_zoom(xy)
    side = 1 << z
    cx, cy = _cells(xy, z)
    cell = cy * side + cx
    order = np.lexsort((np.arange(len(cell)), cell))
    bits = bytearray((side * side + 7) // 8)
    cells = 0
    for c in np.unique(cell):
        members = order[np.searchsorted(cell[order], c) : np.searchsorted(cell[order], c, side="right")]
        pts = [[round(float(xy[v, 0]), DECIMALS), round(float(xy[v, 1]), DECIMALS), int(v)] for v in members]
        writer.write(f"pick/{z}/{int(c) % side}/{int(c) // side}.json", {"points": pts})
        bits[int(c) >> 3] |= 1 << (int(c) & 7)
        cells += 1
    return {
        "template": "data/pick/{z}/{x}/{y}.json",
        "zoom": z,
        "cells": cells,
        "max_points": PICK_MAX,
        "occupied": base64.b64encode(bytes(bits)).decode("ascii"),
    }
