"""Lineage repairs are applied, counted, and every input row is accounted for."""

from __future__ import annotations

import pandas as pd
import pytest

from atlasgen.graph.dag import PRECEDENCE, build_graph
from atlasgen.ingest.frames import LINK_COLUMNS, MODEL_COLUMNS, Snapshot
from atlasgen.relations import ALIASES, EDGE_RELATIONS, RELATIONS, STATED_RELATIONS


def snapshot(
    ids: list[str | None],
    links: list[tuple[str | None, str | None, str | None]],
    rows: list[int] | None = None,
    **source: str,
) -> Snapshot:
    """Models with these ids and these (child, parent, relation) links, each link its own row unless `rows`
    (the model row each link came from) is given."""
    models = pd.DataFrame({"row": range(1, len(ids) + 1), "id": pd.Series(ids, dtype=object)})
    for col in MODEL_COLUMNS[2:]:
        models[col] = float("nan") if col in ("downloads", "likes") else None
    numbers = rows or range(1, len(links) + 1)
    frame = pd.DataFrame(
        [(i, c, p, r) for i, (c, p, r) in zip(numbers, links, strict=True)], columns=LINK_COLUMNS
    ).astype(object)
    return Snapshot(models[MODEL_COLUMNS], frame, dict(source), links_by_model_row=rows is not None)


def edge_set(graph) -> set[tuple[str, str, str]]:
    ids = graph.nodes["id"]
    return {(ids[s], ids[t], r) for s, t, r in graph.edges.itertuples(index=False)}


def test_relations_normalise_and_nodes_take_relation_to_parent() -> None:
    g = build_graph(
        snapshot(
            ["b", "ft", "q", "ad", "mg", "odd"],
            [
                ("ft", "b", "finetuned"),
                ("q", "b", "Quantization"),
                ("ad", "b", "LoRA"),
                ("mg", "ft", "merge"),
                ("mg", "q", "merge"),
                ("odd", "b", "distillation"),
            ],
        )
    )
    rel = dict(zip(g.nodes["id"], g.nodes["relation"], strict=True))
    assert rel == {
        "b": "base",
        "ft": "finetune",
        "q": "quantized",
        "ad": "adapter",
        "mg": "merge",
        "odd": "unknown",
    }
    assert g.report["repairs"] == {"unknown_relations": 1}
    assert g.report["edges_by_relation"] == {
        "adapter": 1,
        "finetune": 1,
        "merge": 2,
        "quantized": 1,
        "unknown": 1,
    }
    assert g.report["without_lineage"] == 1


def test_self_loops_duplicates_and_missing_parents() -> None:
    g = build_graph(
        snapshot(
            ["a", "b"],
            [
                ("a", "a", "finetune"),
                ("b", "a", "finetune"),
                ("b", "a", "finetune"),
                ("b", "ghost/p", "adapter"),
            ],
        )
    )
    assert g.report["repairs"] == {
        "self_loops": 1,
        "duplicate_links": 1,
        "missing_parents_added_as_virtual": 1,
    }
    ghost = g.nodes.set_index("id").loc["ghost/p"]
    assert bool(ghost["virtual"]) and ghost["relation"] == "virtual" and ghost["author"] == "ghost"
    assert ghost["licence"] is None and ghost["pipeline_tag"] is None  # like a model's missing text, not NaN
    assert g.report["models"] == 2 and g.report["virtual"] == 1
    assert edge_set(g) == {("a", "b", "finetune"), ("ghost/p", "b", "adapter")}


def test_several_parents_without_relation_are_a_merge() -> None:
    g = build_graph(
        snapshot(["p1", "p2", "m", "c"], [("m", "p1", None), ("m", "p2", None), ("c", "p1", None)])
    )
    rel = dict(zip(g.nodes["id"], g.nodes["relation"], strict=True))
    assert rel["m"] == "merge" and rel["c"] == "unknown"
    assert g.report["repairs"] == {"missing_relations": 3, "merges_inferred_from_several_parents": 2}


def test_cycles_are_broken_deterministically_and_counted() -> None:
    links = [("b", "a", "finetune"), ("c", "b", "finetune"), ("a", "c", "finetune"), ("d", "c", "quantized")]
    first = build_graph(snapshot(["a", "b", "c", "d"], links))
    again = build_graph(snapshot(["a", "b", "c", "d"], list(reversed(links))))
    assert first.report["repairs"] == {"cycle_links_removed": 1}
    # the cycle's first model (by id) loses its in-link from the cycle and becomes the root
    assert (
        edge_set(first)
        == edge_set(again)
        == {("a", "b", "finetune"), ("b", "c", "finetune"), ("c", "d", "quantized")}
    )
    assert first.nodes.set_index("id").loc["a", "relation"] == "base"


def test_bad_rows_are_dropped_with_row_and_reason() -> None:
    g = build_graph(snapshot(["a", None, "a", "b"], [("b", "a", "finetune"), (None, "a", "finetune")]))
    assert g.report["input_rows"] == 4 and g.report["models"] == 2 and g.report["dropped_total"] == 2
    assert g.report["dropped_rows"] == [
        {"row": 2, "id": None, "reason": "missing id"},
        {"row": 3, "id": "a", "reason": "duplicate id (first row kept)"},
    ]
    assert g.report["repairs"] == {"incomplete_links_dropped": 1}


def test_nodes_sorted_by_id_with_contract_columns() -> None:
    g = build_graph(snapshot(["z", "m", "a"], [("z", "a", "merge")]))
    assert list(g.nodes["id"]) == ["a", "m", "z"]
    assert list(g.nodes.columns) == [
        "id",
        "author",
        "relation",
        "virtual",
        "downloads",
        "likes",
        "licence",
        "pipeline_tag",
        "library_name",
        "created_at",
    ]
    assert g.edges.dtypes["source"].kind == "i" and g.edges.dtypes["target"].kind == "i"


def test_embedded_sample_accounts_for_every_model() -> None:
    from atlasgen.ingest.snapshot import read_snapshot

    g = build_graph(read_snapshot(None))
    assert g.report["models"] == 29_075 and g.report["dropped_total"] == 0
    assert g.report["repairs"] == {"self_loops": 45}
    assert g.report["without_lineage"] == 3_659  # the snapshot's documented roots
    assert g.report["edges"] == 28_155 - 45


@pytest.mark.parametrize("n", [1, 50])
def test_long_chain_stays_acyclic(n: int) -> None:
    ids = [f"m{i:03d}" for i in range(n)]
    g = build_graph(snapshot(ids, [(ids[i + 1], ids[i], "finetune") for i in range(n - 1)]))
    assert g.report["edges"] == n - 1 and "cycle_links_removed" not in g.report["repairs"]


def test_a_dropped_rows_links_go_with_it_where_links_come_from_model_rows() -> None:
    """The graph stage asks the Snapshot how its links are numbered, never which format it came from."""
    ids, links = ["a", "p", "a"], [("a", "p", "finetune"), ("a", "q", "adapter")]
    by_row = build_graph(snapshot(ids, links, rows=[1, 3], format="csv"))  # a name that says otherwise
    assert edge_set(by_row) == {("p", "a", "finetune")}  # q came with the duplicate row 3: dropped with it
    assert by_row.report["repairs"] == {"links_of_dropped_rows": 1}
    edge_list = build_graph(snapshot(ids, links, format="jsonl"))
    assert edge_set(edge_list) == {("p", "a", "finetune"), ("q", "a", "adapter")}
    assert "links_of_dropped_rows" not in edge_list.report["repairs"]


def test_the_relation_vocabulary_is_consistent() -> None:
    assert set(ALIASES.values()) == set(STATED_RELATIONS) and all(ALIASES[r] == r for r in STATED_RELATIONS)
    assert sorted(PRECEDENCE) == sorted(EDGE_RELATIONS)
    links = [(raw, "b", raw) for raw in ALIASES] + [("u", "v/x", "distilled")]
    g = build_graph(snapshot(["b", "u", *ALIASES], links))
    assert set(g.edges["relation"]) == set(EDGE_RELATIONS)  # every spelling lands in the vocabulary
    assert set(g.nodes["relation"]) == set(RELATIONS)
