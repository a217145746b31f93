"""The word index: every model listed under each token of its id, so a query's words match in any order.

A list holds *ranks* -- a model's position by downloads, most first, ties in id order (the stage's ``rank``)
-- ascending, so the viewer (``site/src/words.js``) intersects the lists of a query's words from the most
downloaded model down and stops at the first results, reading a page of a long list only when the walk
reaches it. Tokens are those of the phrase tree (``search.tokens``).

* ``data/words/index.json`` -- what every word query reads first::

      {"page": P, "n": "<varints>", "t": "<rests>", "f": "<varints>", "s": "<varints>", "u": "<rests>"}

  ``n``/``t``: the *common* tokens (more than ``words_rare`` models), sorted and front-coded, each with
  ``shared, rest length, models, pages``; ``f``: the first rank of every page of every common token, in
  token order; ``s``/``u``: the keys of the rare-token shards, sorted and front-coded.
* ``data/words/c/{key}.{page}.json`` -- ``{"r": "<varints>"}``: page ``page`` (``P`` ranks) of a common
  token's list (``key``: ``encode_key(token)``), the first rank whole, each next as the difference.
* ``data/words/r/{key}.json`` -- ``{"n": "<varints>", "t": "<rests>", "r": "<varints>"}``: the rare tokens
  of the shard ``key``, sorted and front-coded with ``shared, rest length, models`` each, and their lists
  one after another, each as differences from 0. A shard holds the tokens starting with its key that no
  longer key takes; a token's shard is the longest key it starts with. Shards split by the next character
  while they hold more than about ``words_shard`` characters.
* ``data/words/rank/{block}.json`` -- ``{"v": "<fixed vertex_width>", "d": "<varints>"}``: the vertex and
  downloads + 1 (0 = unknown) of ranks ``block * words_block ...``, for the models a query returns.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from atlasgen.index.codec import fixed, front_code, varints, vertex_width
from atlasgen.index.search import encode_key, tokens
from atlasgen.index.writer import Sizes, Writer, ceil_div

RANK_CHARS = 3  # about, per rank in a rare token's list (differences up to 32767): for sizing shards


def postings(ids: list[str], rank: np.ndarray) -> dict[str, np.ndarray]:
    """Token -> the ranks of the models whose id has it, ascending."""
    lists: dict[str, list[int]] = defaultdict(list)
    for v, model_id in enumerate(ids):
        r = int(rank[v])
        for token in dict.fromkeys(tokens(model_id)):
            lists[token].append(r)
    return {t: np.sort(np.asarray(rs, dtype=np.int64)) for t, rs in lists.items()}


def write_words(
    writer: Writer, ids: list[str], downloads: np.ndarray, rank: np.ndarray, sizes: Sizes
) -> dict[str, Any]:
    lists = postings(ids, rank)
    # a token too long for a file name (hostile ids) is listed with the rare ones whatever its count
    paged = {
        t
        for t, rs in lists.items()
        if len(rs) > sizes.words_rare and len(encode_key(t)) < sizes.max_key_chars
    }
    common = sorted(paged)
    rare = sorted(t for t in lists if t not in paged)
    head, firsts = _write_common(writer, common, lists, sizes.words_page)
    keys = _write_rare(writer, rare, lists, sizes)
    k_lens, k_rests = front_code(keys)
    head.update({"f": varints(firsts), "s": varints(k_lens), "u": k_rests})
    writer.write("words/index.json", head)
    _write_ranks(writer, downloads, rank, sizes.words_block)
    return {
        "index": "data/words/index.json",
        "common": "data/words/c/{key}.{page}.json",
        "rare": "data/words/r/{key}.json",
        "ranks": "data/words/rank/{block}.json",
        "block": sizes.words_block,
        "tokens": len(lists),
        "common_tokens": len(common),
        "shards": len(keys),
    }


def _write_common(
    writer: Writer, common: list[str], lists: dict[str, np.ndarray], page: int
) -> tuple[dict[str, Any], list[int]]:
    """The paged lists of the common tokens; the index's head for them and every page's first rank."""
    lens, rests = front_code(common)
    ints: list[int] = []
    firsts: list[int] = []
    for i, token in enumerate(common):
        ranks = lists[token]
        pages = ceil_div(len(ranks), page)
        ints += [lens[2 * i], lens[2 * i + 1], len(ranks), pages]
        for k in range(pages):
            part = ranks[k * page : (k + 1) * page]
            firsts.append(int(part[0]))
            writer.write(f"words/c/{encode_key(token)}.{k}.json", {"r": varints(np.diff(part, prepend=0))})
    return {"page": page, "n": varints(ints), "t": rests}, firsts


def _write_rare(writer: Writer, rare: list[str], lists: dict[str, np.ndarray], sizes: Sizes) -> list[str]:
    """The rare tokens' shards; their keys, sorted."""
    keys = []
    for key, members in _shards(rare, lists, sizes):
        keys.append(key)
        lens, rests = front_code(members)
        n = [x for i, t in enumerate(members) for x in (lens[2 * i], lens[2 * i + 1], len(lists[t]))]
        gaps = np.concatenate([np.diff(lists[t], prepend=0) for t in members])
        writer.write(f"words/r/{encode_key(key)}.json", {"n": varints(n), "t": rests, "r": varints(gaps)})
    return keys


def _shards(rare: list[str], lists: dict[str, np.ndarray], sizes: Sizes) -> list[tuple[str, list[str]]]:
    """(key, tokens) of every shard, by key: a prefix's tokens split by their next character while too big
    (the token equal to the prefix, if any, stays under the prefix's own key)."""
    size = {t: len(t) + RANK_CHARS * len(lists[t]) for t in rare}
    out = []
    stack: list[tuple[str, list[str]]] = [("", rare)] if rare else []
    while stack:
        prefix, members = stack.pop()
        if (
            sum(size[t] for t in members) <= sizes.words_shard
            or len(encode_key(prefix)) >= sizes.max_key_chars
        ):
            out.append((prefix, members))
            continue
        groups: dict[str, list[str]] = defaultdict(list)
        for t in members:
            if t == prefix:
                out.append((prefix, [t]))
            else:
                groups[t[len(prefix)]].append(t)
        stack.extend((prefix + c, ts) for c, ts in groups.items())
    return sorted(out)


def _write_ranks(writer: Writer, downloads: np.ndarray, rank: np.ndarray, block: int) -> None:
    n = len(rank)
    by_rank = np.empty(n, dtype=np.int64)
    by_rank[rank] = np.arange(n, dtype=np.int64)
    width = vertex_width(n)
    plus = np.where(downloads < 0, 0, downloads + 1)
    for b in range(ceil_div(n, block)):
        vs = by_rank[b * block : (b + 1) * block]
        writer.write(f"words/rank/{b}.json", {"v": fixed(vs, width), "d": varints(plus[vs])})
