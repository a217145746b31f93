"""The word index (atlasgen/index/words.py): every token's list, read back from the files as the viewer reads
them, is exactly the ranks of the models whose id has that token; rare tokens live in the shard of the
longest key they start with; ranks lead back to vertices and downloads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from atlasgen.index.codec import decode_fixed, decode_varints, front_decode, vertex_width
from atlasgen.index.search import encode_key, tokens
from atlasgen.index.stage import _rank
from atlasgen.index.words import postings, write_words
from atlasgen.index.writer import Sizes, Writer

IDS = sorted(
    [
        "meta-llama/Llama-3.1-8B",
        "meta-llama/Llama-3.1-8B-Instruct",
        "bartowski/Meta-Llama-3.1-8B-Instruct-GGUF",
        "lmstudio-community/Meta-Llama-3.1-8B-Instruct-GGUF",
        "TheBloke/Llama-2-7B-GGUF",
        "google-bert/bert-base-uncased",
        "someone/bert-gguf-test",
        "x/" + "ü" * 50,  # a token whose file key would be too long
        *(f"org{i % 7}/model-{i}-llama-gguf" for i in range(40)),
    ]
)
SMALL = Sizes(words_rare=5, words_page=4, words_shard=40, words_block=8, max_key_chars=60)


def _read(root: Path, rel: str) -> Any:
    return json.loads((root / "data" / rel).read_text(encoding="utf-8"))


def _cumulative(gaps: list[int]) -> list[int]:
    return np.cumsum(gaps).tolist() if gaps else []


def _lists_from_files(root: Path) -> dict[str, list[int]]:
    """Every token's list as the viewer reads it: common tokens' pages, rare tokens' shards."""
    head = _read(root, "words/index.json")
    ints = decode_varints(head["n"])
    common = front_decode([x for i in range(0, len(ints), 4) for x in ints[i : i + 2]], head["t"])
    firsts = decode_varints(head["f"])
    lists: dict[str, list[int]] = {}
    page = 0
    for i, token in enumerate(common):
        ranks: list[int] = []
        for k in range(ints[4 * i + 3]):
            part = _cumulative(decode_varints(_read(root, f"words/c/{encode_key(token)}.{k}.json")["r"]))
            assert part[0] == firsts[page + k]
            ranks += part
        page += ints[4 * i + 3]
        assert len(ranks) == ints[4 * i + 2]
        lists[token] = ranks
    keys = front_decode(decode_varints(head["s"]), head["u"])
    for key in keys:
        shard = _read(root, f"words/r/{encode_key(key)}.json")
        n = decode_varints(shard["n"])
        names = front_decode([x for i in range(0, len(n), 3) for x in n[i : i + 2]], shard["t"])
        gaps = decode_varints(shard["r"])
        at = 0
        for i, token in enumerate(names):
            assert token.startswith(key) and max((k for k in keys if token.startswith(k)), key=len) == key
            lists[token] = _cumulative(gaps[at : at + n[3 * i + 2]])
            at += n[3 * i + 2]
    return lists


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, np.ndarray, dict[str, Any]]:
    downloads = np.array([(i * 7919) % 1000 - 1 for i in range(len(IDS))], dtype=np.int64)  # some unknown
    rank = _rank(downloads)
    info = write_words(Writer(tmp_path / "data"), IDS, downloads, rank, SMALL)
    return tmp_path, downloads, info


def test_every_list_reads_back_exactly(built: tuple[Path, np.ndarray, dict[str, Any]]) -> None:
    root, downloads, info = built
    want = {t: r.tolist() for t, r in postings(IDS, _rank(downloads)).items()}
    got = _lists_from_files(root)
    assert got == want
    assert info["common_tokens"] > 0 and info["shards"] > 1  # both kinds, and shards split
    assert "ü" * 50 in got and info["tokens"] == len(want)


def test_ranks_lead_to_vertices_and_downloads(built: tuple[Path, np.ndarray, dict[str, Any]]) -> None:
    root, downloads, info = built
    rank = _rank(downloads)
    width = vertex_width(len(IDS))
    for r in range(len(IDS)):
        block = _read(root, f"words/rank/{r // info['block']}.json")
        vertex = decode_fixed(block["v"], width)[r % info["block"]]
        plus = decode_varints(block["d"])[r % info["block"]]
        assert rank[vertex] == r and plus == (0 if downloads[vertex] < 0 else downloads[vertex] + 1)


def test_all_words_in_any_order_by_intersecting_lists(built: tuple[Path, np.ndarray, dict[str, Any]]) -> None:
    root, downloads, _ = built
    lists = _lists_from_files(root)
    rank = _rank(downloads)
    for query in ["llama 3 8b gguf", "gguf 8b llama 3", "bert gguf", "8b instruct meta"]:
        words = tokens(query)
        hits = sorted(set.intersection(*(set(lists.get(w, [])) for w in words)))
        brute = sorted(int(rank[v]) for v, i in enumerate(IDS) if set(words) <= set(tokens(i)))
        assert hits == brute and hits, query
