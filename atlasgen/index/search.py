"""The search tree: a prefix tree over the phrases of every id, sharded one node per file.

A model's *phrases* are its normalised id (lowercase, split on ``/ - _ . space``, tokens joined by one space)
read from the first token and from each of the first ``name_positions`` tokens of the name, so
``meta-llama/Llama-3-8B-GGUF`` is found by ``meta llama``, ``llama 3 8b gguf``, ``3 8b`` or ``gguf``.

``data/search/{key}.json`` covers every phrase starting with its prefix (``{key}``: ``encode_key(prefix)``,
the root is ``_root``)::

    {"c": "ab", "k": 0, "n": "<varints>", "t": "<rests>", "v": "<fixed vertex_width>"}

* ``c`` -- the next characters to descend by (one file each); empty in a leaf.
* ``k`` -- 1 when the node lists every model having such a phrase (a leaf), else 0: an inner node lists the
  best ``top`` models of its subtree plus (up to ``leaf_max``) those whose phrase *is* the prefix; a capped
  leaf (too many models share one phrase) lists the best ``leaf_max``.
* entries, sorted by phrase then vertex: the phrases front-coded from the node's prefix (``n`` holds
  ``shared, rest length, downloads + 1`` per entry, 0 = unknown downloads; ``t`` the rests), ``v`` the
  vertices. Ranking (downloads, then vertex) is the viewer's; ids come from the names blocks.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from atlasgen.index.codec import fixed, front_code, varints, vertex_width
from atlasgen.index.writer import SIZES, Sizes, Writer

_SEPARATORS = re.compile(r"[/\-_. ]+")


def tokens(text: str) -> list[str]:
    """Lowercase ``text`` and split it on ``/ - _ . space`` (the viewer does the same)."""
    return [t for t in _SEPARATORS.split(text.lower()) if t]


def phrases(model_id: str, name_positions: int = SIZES.name_positions) -> list[str]:
    """The search phrases of one id: from the first token and from each leading token of the name."""
    toks = tokens(model_id)
    owner = len(tokens(model_id.split("/", 1)[0])) if "/" in model_id else 0
    starts = sorted({0, *range(owner, min(len(toks), owner + name_positions))})
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


def write_search(
    writer: Writer, ids: list[str], downloads: np.ndarray, rank: np.ndarray, sizes: Sizes
) -> dict[str, Any]:
    strings_list: list[str] = []
    verts_list: list[int] = []
    for v, model_id in enumerate(ids):
        ps = phrases(model_id, sizes.name_positions)
        strings_list.extend(ps)
        verts_list.extend([v] * len(ps))
    verts0 = np.asarray(verts_list, dtype=np.int64)
    table = pa.table({"p": pa.array(strings_list, type=pa.large_string()), "r": rank[verts0]})
    del strings_list, verts_list
    order = pc.sort_indices(table, sort_keys=[("p", "ascending"), ("r", "ascending")]).to_numpy()
    strings: list[str] = table.column("p").take(order).to_pylist()
    verts = verts0[order]
    ranks = rank[verts]
    del table, order, verts0
    by_rank = np.argsort(rank)
    width = vertex_width(len(ids))
    dl_plus = np.where(downloads < 0, 0, downloads + 1)

    def node_payload(prefix: str, pairs: list[tuple[str, int]], children: str, complete: bool) -> dict:
        pairs.sort()
        lens, rests = front_code([p for p, _ in pairs], prefix)
        ints = np.empty(3 * len(pairs), dtype=np.int64)
        ints[0::3] = lens[0::2]
        ints[1::3] = lens[1::2]
        vs = np.asarray([v for _, v in pairs], dtype=np.int64)
        ints[2::3] = dl_plus[vs]
        return {"c": children, "k": int(complete), "n": varints(ints), "t": rests, "v": fixed(vs, width)}

    def first_phrase(lo: int, hi: int, wanted: np.ndarray) -> list[tuple[str, int]]:
        """(phrase, vertex) for each wanted vertex: its first phrase in ``strings[lo:hi]``."""
        span = verts[lo:hi]
        hits = np.nonzero(np.isin(span, wanted))[0]
        _, first = np.unique(span[hits], return_index=True)
        return [(strings[lo + int(i)], int(span[i])) for i in hits[first]]

    nodes = 0
    stack: list[tuple[str, int, int]] = [("", 0, len(strings))]
    while stack:
        prefix, lo, hi = stack.pop()
        nodes += 1
        exact_end = bisect.bisect_right(strings, prefix, lo, hi)
        children = list(_runs(strings, prefix, exact_end, hi))
        uniq = np.unique(ranks[lo:hi])  # ranks are unique per vertex: this dedupes models
        key_ok = len(encode_key(prefix)) < sizes.max_key_chars
        if len(uniq) <= sizes.leaf_max or not children or not key_ok:
            complete = len(uniq) <= sizes.leaf_max
            if complete:
                pairs = [(strings[i], int(verts[i])) for i in range(lo, hi)]
            else:
                pairs = first_phrase(lo, hi, by_rank[uniq[: sizes.leaf_max]])
            node = node_payload(prefix, pairs, "", complete)
        else:
            exact = np.unique(ranks[lo:exact_end])[: sizes.leaf_max]
            top = np.setdiff1d(uniq[: sizes.top], exact)
            pairs = [(prefix, int(v)) for v in by_rank[exact]]
            pairs += first_phrase(exact_end, hi, by_rank[top])
            node = node_payload(prefix, pairs, "".join(c for c, _, _ in children), False)
            stack.extend((prefix + c, a, b) for c, a, b in children)
        writer.write(f"search/{encode_key(prefix)}.json", node)
    return {
        "template": "data/search/{key}.json",
        "root": "_root",
        "nodes": nodes,
        "leaf_max": sizes.leaf_max,
        "top": sizes.top,
        "name_positions": sizes.name_positions,
    }


def _runs(strings: list[str], prefix: str, lo: int, hi: int) -> Iterator[tuple[str, int, int]]:
    """(next character, start, end) of each run of ``strings[lo:hi]`` sharing ``prefix`` + one character."""
    depth = len(prefix)
    while lo < hi:
        ch = strings[lo][depth]
        end = bisect.bisect_left(strings, prefix + chr(ord(ch) + 1), lo, hi)
        yield ch, lo, end
        lo = end
