"""Valid snapshots with impossible or outsized values (issue 15 items 7, 10, 11, 12; tests/data/hostile/, written
by make_inputs.py there): each is repaired and counted in the report, the same way in every format, and the
build neither crashes nor grows with what it drops."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
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


# ------------------------------------------------------------------ item 10: CSV columns under other names


def test_an_edge_csvs_relation_column_may_be_called_edge_and_unread_columns_are_named(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Was: every link of the hf-snapshot's shape (`source,target,edge`) "unknown" or an inferred merge."""
    with caplog.at_level(logging.WARNING, logger="atlasgen.ingest"):
        graph = graph_of("edge-column.edges.csv", "edge-column.nodes.csv")
    assert graph.report["edges_by_relation"] == {"adapter": 1, "finetune": 1, "merge": 2, "quantized": 1}
    assert "missing_relations" not in graph.report["repairs"]
    assert "unknown_relations" not in graph.report["repairs"]
    authors = dict(zip(graph.nodes["id"], graph.nodes["author"], strict=True))
    assert authors["lora/one"] == "lora"  # the node file's `owner` column
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warned == [
        f"{HOSTILE / 'edge-column.edges.csv'}: column(s) Weight not used (read: Source, Target, Edge)",
        f"{HOSTILE / 'edge-column.nodes.csv'}: column(s) type, architecture not used (read: id, owner)",
    ]


def test_a_column_named_relation_comes_before_its_other_names(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="atlasgen.ingest"):
        graph = graph_of("two-relation-columns.csv")
    assert graph.report["edges_by_relation"] == {"quantized": 1}
    assert "column(s) type not used (read: source, target, relation)" in caplog.text


def test_the_cli_shows_the_unread_columns(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "atlasgen", "lineage", "--snapshot", str(HOSTILE / "edge-column.edges.csv"),
         "--nodes", str(HOSTILE / "edge-column.nodes.csv"), "quant/one"],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (
        "column(s) Weight not used" in done.stderr and "column(s) type, architecture not used" in done.stderr
    )
    assert "quantized" in done.stdout and "fine/one" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--nodes", "edge-column.nodes.csv"], "a node file goes with a snapshot file (the embedded sample"),
        (
            ["huge-counts.jsonl", "--nodes", "edge-column.nodes.csv"],
            "a node file goes only with a csv snapshot",
        ),
        (["--format", "csv"], "format 'csv' given without a snapshot file"),
    ],
)
def test_a_node_file_without_an_edge_csv_is_one_error_line(
    tmp_path: Path, args: list[str], message: str
) -> None:
    """Was: `build --nodes FILE` without a snapshot charted the sample and ignored FILE without a word."""
    done = subprocess.run(
        [sys.executable, "-m", "atlasgen", "build", *args, "--out", str(tmp_path / "site"), "-q"],
        capture_output=True, text=True, check=False, cwd=HOSTILE,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.startswith("Error: ") and message in done.stderr
    assert done.stderr.count("\n") == 1 and not (tmp_path / "site").exists()
