"""Ids by vertex (names blocks) and id -> vertex (separators): each id is stored once in the whole index.

* ``data/names/{block}.json`` -- ``{"n": "<varints>", "t": "<rests>"}``: the ids of vertices
  ``block * names_block ...`` front-coded (``n``: shared, rest length per id; ``t``: the rests).
* ``data/names/sep/{group}.json`` -- the same encoding for the *separators* of blocks
  ``group * names_group ...``: the separator of a block is the shortest prefix of its first id that sorts
  after the previous block's last id (the first block's is ``""``), so an id lives in the last block whose
  separator is ``<=`` it (code-point order, as Python sorts). atlas.json's ``names.top`` lists the first
  separator of every group: a deep link reads one separator file, then one names block.
"""

from __future__ import annotations

from typing import Any

from atlasgen.index.codec import front_code, varints
from atlasgen.index.writer import Sizes, Writer, ceil_div


def separator(before: str, first: str) -> str:
    """Shortest prefix of ``first`` that sorts after ``before`` (``before < first``)."""
    for end in range(1, len(first) + 1):
        if first[:end] > before:
            return first[:end]
    raise ValueError(f"ids out of order: {before!r} >= {first!r}")


def write_names(writer: Writer, ids: list[str], sizes: Sizes) -> dict[str, Any]:
    nb = sizes.names_block
    blocks = ceil_div(len(ids), nb)
    for b in range(blocks):
        lens, rests = front_code(ids[b * nb : (b + 1) * nb])
        writer.write(f"names/{b}.json", {"n": varints(lens), "t": rests})
    seps = [""] + [separator(ids[b * nb - 1], ids[b * nb]) for b in range(1, blocks)]
    ng = sizes.names_group
    groups = ceil_div(blocks, ng)
    for g in range(groups):
        lens, rests = front_code(seps[g * ng : (g + 1) * ng])
        writer.write(f"names/sep/{g}.json", {"n": varints(lens), "t": rests})
    return {
        "template": "data/names/{block}.json",
        "separators": "data/names/sep/{group}.json",
        "block": nb,
        "blocks": blocks,
        "group": ng,
        "top": [seps[g * ng] for g in range(groups)],
    }
