"""Model facts and lineage by vertex: one shared dictionary and chunked detail files.

* ``data/dict.json`` -- ``{"licence": [...], "library": [...], "relation": [...], "task": [...]}``: code
  ``0`` is unknown, code ``i`` is ``list[i - 1]`` (most frequent first).
* ``data/detail/{chunk}.json`` -- vertices ``chunk * chunk_size ...``::

      {"a": [...authors...], "n": "<varints>", "v": "<fixed vertex_width>", "xy": "<fixed 3>"}

  ``xy``: x, y per model, ``round(c / world * (64**3 - 1))`` (world: 256 unless the map grew). ``n``, per model in order:
  ``(relation * 2 + virtual) * 2 + has_author``, downloads + 1, likes + 1 (0 = unknown), licence, task,
  library (codes), created (days since ``first_day`` + 1; 0 = unknown; ``first_day`` counts from
  1970-01-01), ``listed + (children_cap + 1) * parents`` (parents, and children listed: the most downloaded, at most
  ``children_cap``), a relation per parent, ``relation, downloads + 1`` per listed child; when ``listed``
  is ``children_cap``, the number of children left out and, when that is not 0, the number of relations
  then ``relation, count`` pairs over *all* children (otherwise the counts follow from the listed ones).
  ``has_author``: the author differs from the id's owner and is the next entry of ``a``. ``v`` holds the
  parents' then the listed children's vertices.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from atlasgen.index.codec import fixed, varints, vertex_width
from atlasgen.index.writer import Sizes, Writer, ceil_div, counts

XY_WIDTH = 3
XY_STEPS = 64**XY_WIDTH - 1
_EPOCH = dt.date(1970, 1, 1)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
DICT_COLUMNS = {"licence": "licence", "task": "pipeline_tag", "library": "library_name"}


def _text(value: object) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    return str(value)


def _codes(values: Sequence[str | None]) -> tuple[list[str], dict[str | None, int]]:
    freq = Counter(v for v in values if v is not None)
    table = sorted(freq, key=lambda v: (-freq[v], v))
    code: dict[str | None, int] = {v: i + 1 for i, v in enumerate(table)}
    code[None] = 0
    return table, code


def _day(value: str | None) -> int:
    if value is None:
        return 0
    if not _DATE.fullmatch(value):
        raise ValueError(f"created_at is not an ISO date: {value!r}")
    return (dt.date.fromisoformat(value) - _EPOCH).days + 1


def quantise_xy(xy: np.ndarray, world: int = 256) -> np.ndarray:
    scaled = np.rint(np.asarray(xy, dtype=np.float64) / float(world) * XY_STEPS)
    return np.clip(scaled, 0, XY_STEPS).astype(np.int64)


def write_details(
    writer: Writer,
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    xy: np.ndarray,
    ids: list[str],
    downloads: np.ndarray,
    rank: np.ndarray,
    sizes: Sizes,
    world: int = 256,
) -> dict[str, Any]:
    n = len(ids)
    columns = {name: [_text(v) for v in nodes[col].tolist()] for name, col in DICT_COLUMNS.items()}
    relations = [str(r) for r in nodes["relation"].tolist()]
    edge_rel = [str(r) for r in edges["relation"].tolist()]
    tables = {name: _codes(values) for name, values in columns.items()}
    tables["relation"] = _codes(relations + edge_rel)
    writer.write("dict.json", {name: table for name, (table, _) in sorted(tables.items())})
    rel_code = tables["relation"][1]

    src = edges["source"].to_numpy(dtype=np.int64)
    tgt = edges["target"].to_numpy(dtype=np.int64)
    erel = np.asarray([rel_code[r] for r in edge_rel], dtype=np.int64)
    by_child = np.lexsort((src, tgt))  # parents of each child, by vertex
    by_parent = np.lexsort((rank[tgt], src))  # children of each parent, most downloaded first
    p_start = np.searchsorted(tgt[by_child], np.arange(n + 1))
    c_start = np.searchsorted(src[by_parent], np.arange(n + 1))

    likes = counts(nodes["likes"])
    virtual = nodes["virtual"].to_numpy(dtype=bool)
    authors = [_text(a) for a in nodes["author"].tolist()]
    codes = {name: [tables[name][1][v] for v in values] for name, values in columns.items()}
    days = [_day(_text(v)) for v in nodes["created_at"].tolist()]
    first_day = min((d for d in days if d), default=1)
    created = [d - first_day + 1 if d else 0 for d in days]
    q = quantise_xy(xy, world)
    cap = sizes.children_cap
    width = vertex_width(n)

    chunks = ceil_div(n, sizes.chunk)
    for c in range(chunks):
        ints: list[int] = []
        refs: list[int] = []
        extra_authors: list[str] = []
        lo, hi = c * sizes.chunk, min(n, (c + 1) * sizes.chunk)
        for v in range(lo, hi):
            author = authors[v]
            own = author is None or author == ids[v].split("/", 1)[0]
            if not own:
                extra_authors.append(str(author))
            parents = by_child[p_start[v] : p_start[v + 1]]
            kids = by_parent[c_start[v] : c_start[v + 1]]
            shown = kids[:cap]
            ints += [
                (rel_code[relations[v]] * 2 + int(virtual[v])) * 2 + int(not own),
                int(downloads[v]) + 1,
                int(likes[v]) + 1,
                codes["licence"][v],
                codes["task"][v],
                codes["library"][v],
                created[v],
                len(shown) + (cap + 1) * len(parents),
            ]
            ints += erel[parents].tolist()
            refs += src[parents].tolist()
            for e in shown.tolist():
                ints += [int(erel[e]), int(downloads[tgt[e]]) + 1]
            refs += tgt[shown].tolist()
            if len(shown) == cap and len(kids) > cap:
                by_relation = Counter(erel[kids].tolist())
                ints += [len(kids) - cap, len(by_relation)]
                for code in sorted(by_relation):
                    ints += [code, by_relation[code]]
            elif len(shown) == cap:
                ints.append(0)
        writer.write(
            f"detail/{c}.json",
            {
                "a": extra_authors,
                "n": varints(ints),
                "v": fixed(refs, width),
                "xy": fixed(q[lo:hi].ravel(), XY_WIDTH),
            },
        )
    out = {
        "template": "data/detail/{chunk}.json",
        "dict": "data/dict.json",
        "chunk_size": sizes.chunk,
        "chunks": chunks,
        "children_cap": cap,
        "xy_steps": XY_STEPS,
        "first_day": first_day - 1,
    }
    if world != 256:  # positions are in [0, world]: the viewer reads 256 when absent
        out["world"] = world
    return out
