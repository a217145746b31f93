"""Valid snapshots with impossible or outsized values (issue 15 items 7, 10, 11, 12; tests/data/hostile/, written
by make_inputs.py there): each is repaired and counted in the report, the same way in every format, and the
build neither crashes nor grows with what it drops."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from atlasgen.graph.dag import Graph, build_graph
from atlasgen.ingest.parse import MAX_COUNT
from atlasgen.ingest.snapshot import read_snapshot

HOSTILE = Path(__file__).parent / "data" / "hostile"
FAST: dict[str, Any] = {
    "backend": "cpu",
    "workers": 1,
    "max_zoom": 2,
    "layers": ("relation",),
    "max_iter": 50,
    "progress": False,
}


def graph_of(name: str, nodes: str | None = None) -> Graph:
    return build_graph(read_snapshot(HOSTILE / name, nodes=HOSTILE / nodes if nodes else None))


def counts(graph: Graph) -> dict[str, tuple[float, float]]:
    """id -> (downloads, likes) of the real models, NaN where blank."""
    real = graph.nodes[~graph.nodes["virtual"]]
    return {i: (d, lk) for i, d, lk in zip(real["id"], real["downloads"], real["likes"], strict=True)}


# ------------------------------------------------------------------ item 7: counts that are not counts


@pytest.mark.parametrize(
    ("name", "nodes"), [("huge-counts.jsonl", None), ("huge-counts.edges.csv", "huge-counts.nodes.csv")]
)
def test_counts_past_2_to_the_53_are_blanked_and_counted_in_text_formats(
    name: str, nodes: str | None
) -> None:
    graph = graph_of(name, nodes)
    got = counts(graph)
    nan = float("nan")
    want = {
        "big/float": (nan, 3.0),
        "big/int63": (7.0, nan),
        "big/max": (float(MAX_COUNT), nan),  # 2**53 - 1 is kept, 2**53 is not
        "big/neg": (nan, nan),
        "big/nan": (nan, nan),  # NaN is missing (not counted), infinity is invalid
        "big/child": (12.0, 0.0),
    }
    assert got.keys() == want.keys()
    for key, value in want.items():
        np.testing.assert_array_equal(got[key], value, err_msg=key)
    assert graph.report["repairs"]["invalid_downloads"] == 2
    assert graph.report["repairs"]["invalid_likes"] == 4
    assert graph.nodes["downloads"].max() <= MAX_COUNT and graph.nodes["likes"].max() <= MAX_COUNT


def test_counts_past_2_to_the_53_are_blanked_and_counted_in_hub_stats_parquet() -> None:
    graph = graph_of("huge-counts.parquet")
    got = counts(graph)
    assert np.isnan(got["big/int63"][0]) and np.isnan(got["big/pow53"][0]) and got["big/float"][0] == 7
    assert np.isnan(got["big/float"][1]) and np.isnan(got["big/child"][1]) and got["big/int63"][1] == 1
    assert graph.report["repairs"] == {"invalid_downloads": 2, "invalid_likes": 2}


def test_a_build_with_huge_counts_writes_its_index(tmp_path: Path) -> None:
    """Was: ValueError "varints encode non-negative integers only" in the index stage."""
    from atlasgen.pipeline.build import build_atlas

    report = build_atlas(HOSTILE / "huge-counts.jsonl", tmp_path / "site", **FAST)
    assert report["models"] == 6 and report["repairs"]["invalid_downloads"] == 2
    written = json.loads((tmp_path / "site" / "report.json").read_text())
    assert written["repairs"]["invalid_likes"] == 4
    positions = pd.read_parquet(tmp_path / "site" / "positions.parquet")
    assert positions["downloads"].max() == MAX_COUNT
