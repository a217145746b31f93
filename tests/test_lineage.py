"""`atlasgen lineage`: hand-made DAGs (merges, virtual parents, a repaired cycle, licence changes), exit codes,
suggestions for unknown ids, the JSON schema, the embedded sample and a hand-made atlas."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner, Result

from atlasgen.artifacts import write_lineage, write_positions
from atlasgen.cli import cli
from atlasgen.errors import InputError
from atlasgen.graph.dag import build_graph
from atlasgen.ingest.snapshot import read_snapshot
from atlasgen.tools import lineage as tool
from atlasgen.tools.lineage import EXIT_LICENCE_CHANGE, licence_changes, lineage_of, load, suggest

EDGES = """source,target,relation
meta/base,meta/instruct,finetune
meta/instruct,org/ft-a,finetune
meta/instruct,org/ft-b,finetune
org/ft-a,org/merged,merge
org/ft-b,org/merged,merge
org/ft-a,org/ft-a-q,quantized
org/merged,org/merged-gguf,quantized
org/merged,org/merged-ft,finetune
org/merged-ft,org/merged-ft-gguf,quantized
ghost/base,org/adapter,adapter
org/ft-a,org/shortcut,merge
meta/base,org/shortcut,merge
cyc/a,cyc/b,finetune
cyc/b,cyc/c,finetune
cyc/c,cyc/a,finetune
"""
# ghost/base is named as a parent only: a virtual node. org/merged declares no licence; org/adapter declares
# "unknown" (no licence either); org/ft-a-q differs from its parent only in case.
NODES = """id,downloads,licence
meta/base,1000,llama3.1
meta/instruct,5000,llama3.1
org/ft-a,10,apache-2.0
org/ft-b,20,llama3
org/merged,30,
org/ft-a-q,5,Apache-2.0
org/merged-gguf,50,
org/merged-ft,500,mit
org/merged-ft-gguf,1,
org/adapter,3,unknown
org/shortcut,1,
cyc/a,,
cyc/b,,mit
cyc/c,,mit
"""
KEYS = {"schema", "model", "ancestors", "roots", "licence_changes", "descendants", "repairs", "source"}
ENTRY = {
    "id",
    "relation",
    "licence",
    "licence_family",
    "virtual",
    "downloads",
    "depth",
    "parents",
    "parent_relations",
}
CHANGE = {
    "child",
    "parent",
    "child_licence",
    "parent_licence",
    "child_licence_family",
    "parent_licence_family",
    "families_differ",
}


@pytest.fixture
def snapshot(tmp_path: Path) -> list[str]:
    (tmp_path / "edges.csv").write_text(EDGES, encoding="utf-8")
    (tmp_path / "nodes.csv").write_text(NODES, encoding="utf-8")
    return ["--snapshot", str(tmp_path / "edges.csv"), "--nodes", str(tmp_path / "nodes.csv")]


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["lineage", *args])


def as_json(*args: str) -> dict[str, Any]:
    result = run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_merge_shows_every_parent_and_a_shared_ancestor_once(snapshot: list[str]) -> None:
    out = as_json("org/merged", *snapshot)
    assert out["model"]["parents"] == ["org/ft-a", "org/ft-b"]
    assert out["model"]["parent_relations"] == ["merge", "merge"]
    assert [(a["id"], a["depth"]) for a in out["ancestors"]] == [
        ("org/ft-a", 1),
        ("org/ft-b", 1),
        ("meta/instruct", 2),
        ("meta/base", 3),
    ]
    assert out["roots"] == ["meta/base"]
    text = run("org/merged", *snapshot).output
    assert text.count("fine-tuned from meta/instruct  licence llama3.1") == 1  # expanded once ...
    assert text.count("fine-tuned from meta/instruct  (shown above)") == 1  # ... and referenced after
    assert text.count("meta/base") == 2  # the roots line and its one place in the tree
    assert "├─ merged from org/ft-a" in text and "└─ merged from org/ft-b" in text


def test_a_root_says_it_has_no_documented_parent(snapshot: list[str]) -> None:
    out = as_json("meta/base", *snapshot)
    assert out["ancestors"] == [] and out["roots"] == ["meta/base"]  # the JSON schema is unchanged
    lines = run("meta/base", *snapshot).output.splitlines()
    assert lines[2:5] == [
        "ancestors: none (meta/base has no documented parent: a root)",
        "meta/base  licence llama3.1",
        "declared licence changes along the ancestry: none (no documented parent, no ancestry)",
    ]


def test_virtual_parents_are_marked_and_undeclared_licences_are_not_changes(snapshot: list[str]) -> None:
    out = as_json("org/adapter", *snapshot)
    (ghost,) = out["ancestors"]
    assert ghost == {
        "id": "ghost/base",
        "relation": "virtual",
        "virtual": True,
        "licence": None,
        "licence_family": "unknown",
        "downloads": None,
        "depth": 1,
        "parents": [],
        "parent_relations": [],
    }
    assert out["model"]["licence"] is None  # "unknown" in the node CSV declares nothing
    assert out["roots"] == ["ghost/base"] and out["licence_changes"] == []
    text = run("org/adapter", *snapshot).output
    assert "adapter of ghost/base  licence not declared · virtual: named as a parent" in text


def test_a_repaired_cycle_is_shown_as_the_dag_and_the_repair_is_named(snapshot: list[str]) -> None:
    out = as_json("cyc/c", *snapshot)
    assert [a["id"] for a in out["ancestors"]] == ["cyc/b", "cyc/a"] and out["roots"] == ["cyc/a"]
    assert out["repairs"]["graph"]["cycle_links_removed"] == 1
    assert out["repairs"]["removed_links"] == [{"child": "cyc/a", "parent": "cyc/c"}]
    text = run("cyc/c", *snapshot).output
    assert "the input also names cyc/c as a parent of cyc/a: removed by a repair" in text
    assert "cycle_links_removed 1" in text
    elsewhere = as_json("org/merged", *snapshot)["repairs"]  # the repair is not in this lineage
    assert elsewhere["removed_links"] == [] and elsewhere["graph"]["cycle_links_removed"] == 1


def test_licence_changes_compare_families_and_declared_values(snapshot: list[str]) -> None:
    changes = as_json("org/merged", *snapshot)["licence_changes"]
    assert changes == [
        {
            "child": "org/ft-a",
            "parent": "meta/instruct",
            "child_licence": "apache-2.0",
            "parent_licence": "llama3.1",
            "child_licence_family": "apache",
            "parent_licence_family": "llama",
            "families_differ": True,
        },
        {
            "child": "org/ft-b",
            "parent": "meta/instruct",
            "child_licence": "llama3",
            "parent_licence": "llama3.1",
            "child_licence_family": "llama",
            "parent_licence_family": "llama",
            "families_differ": False,
        },
    ]  # org/merged declares none: no change to either parent
    assert [c["child"] for c in as_json("org/ft-a-q", *snapshot)["licence_changes"]] == ["org/ft-a"]
    text = run("org/merged", *snapshot).output
    assert (
        "org/ft-a (parent meta/instruct): declared licence differs from its parent's: apache-2.0 vs llama3.1 "
        "(as declared in Hub metadata; not a legal assessment); licence families differ: apache vs llama"
    ) in text
    assert "same licence family (llama), different declared values" in text
    assert "declared licence differs from the child's (see below)" in text
    assert "1 of 5 models on it declare none" in text


def test_licence_changes_of_entries_directly() -> None:
    def entry(i: str, licence: str | None, family: str, *parents: str) -> dict[str, Any]:
        return {"id": i, "licence": licence, "licence_family": family, "parents": list(parents)}

    entries = [
        entry("c", "MIT", "mit", "p", "q"),
        entry("p", "license:mit", "mit"),
        entry("q", None, "unknown"),
    ]
    assert licence_changes(entries) == []  # case and prefix don't count; an undeclared parent is no change


@pytest.mark.parametrize(
    ("model", "fail_on", "code"),
    [
        ("org/merged", "licence-change", EXIT_LICENCE_CHANGE),
        ("org/merged", "licence-family-change", EXIT_LICENCE_CHANGE),
        ("org/ft-b", "licence-change", EXIT_LICENCE_CHANGE),
        ("org/ft-b", "licence-family-change", 0),  # llama3 under llama3.1: same family
        ("org/adapter", "licence-change", 0),
        ("org/merged", None, 0),
    ],
)
def test_fail_on_exit_codes(snapshot: list[str], model: str, fail_on: str | None, code: int) -> None:
    result = run(model, *snapshot, *(["--fail-on", fail_on] if fail_on else []))
    assert result.exit_code == code, result.output
    assert "ancestors:" in result.stdout  # the report is printed either way
    assert ("declared-licence change(s) in the ancestry" in result.stderr) == bool(code)


def test_an_unknown_id_is_a_clean_error_with_the_closest_ids(snapshot: list[str]) -> None:
    result = run("org/merge", *snapshot)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "no model 'org/merge'; closest ids: org/merged" in result.output
    assert "closest ids: org/merged," in run("ORG/MERGE", *snapshot).output  # case-insensitive match first
    assert run("ORG/MERGED", *snapshot).exit_code == 0  # as on the Hub, an id in another case is the model


def test_suggestions_stay_fast_on_a_hub_sized_id_list() -> None:
    ids = np.array([f"user{i % 40_000}/model-{i}" for i in range(1_000_000)] + ["meta-llama/Llama-3.1-8B"])
    started = time.perf_counter()
    assert suggest(ids, "meta-llama/llama-3.1-8b")[0] == "meta-llama/Llama-3.1-8B"
    assert suggest(ids, "meta-lama/Llama-3.1-8B") == ["meta-llama/Llama-3.1-8B"]
    assert time.perf_counter() - started < 10


def test_descendants_summary(snapshot: list[str]) -> None:
    desc = as_json("org/merged", *snapshot, "--children", "1")["descendants"]
    assert desc == {
        "total": 3,
        "children": 2,
        "by_relation": {"finetune": 1, "quantized": 2},
        "max_depth": 2,
        "top_children": [{"id": "org/merged-ft", "relation": "finetune", "licence": "mit", "downloads": 500}],
    }
    assert as_json("meta/base", *snapshot)["descendants"]["total"] == 9


def test_an_ancestor_on_routes_of_two_lengths_is_listed_once_at_its_nearest_depth(
    snapshot: list[str],
) -> None:
    out = as_json("org/shortcut", *snapshot)
    assert [(a["id"], a["depth"]) for a in out["ancestors"]] == [
        ("meta/base", 1),
        ("org/ft-a", 1),
        ("meta/instruct", 2),
    ]
    text = run("org/shortcut", *snapshot).output
    assert "├─ merged from meta/base  licence llama3.1 · root" in text
    assert "      └─ fine-tuned from meta/base  (shown above)" in text


def test_json_schema(snapshot: list[str]) -> None:
    result = run("org/merged", *snapshot, "--format", "json")
    out = json.loads(result.stdout)
    assert result.stdout == json.dumps(out, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    assert set(out) == KEYS and out["schema"] == 1
    assert set(out["model"]) == ENTRY and all(set(a) == ENTRY for a in out["ancestors"])
    assert all(set(c) == CHANGE for c in out["licence_changes"])
    assert set(out["descendants"]) == {"total", "children", "by_relation", "max_depth", "top_children"}
    assert set(out["repairs"]) == {"graph", "removed_links"}
    assert out["source"]["kind"] == "snapshot" and out["source"]["format"] == "csv"


def test_bad_options_are_all_reported_at_once(tmp_path: Path) -> None:
    result = run("x", "--snapshot", str(tmp_path / "no.csv"), "--atlas", str(tmp_path), "--nodes", "n.csv")
    assert result.exit_code == 1
    for problem in ("exclude each other", "not an atlas directory", "no.csv: no such file", "n.csv: no such"):
        assert problem in result.output
    result = run("x", "--nodes", "n.csv", "--snapshot-format", "csv")
    assert "--snapshot-format and --nodes go with --snapshot" in result.output


def test_embedded_sample_merge_with_licence_changes_and_a_long_chain() -> None:
    """Real models: a merge of four Llama 3.1 derivatives declared apache-2.0, and a 15-hop chain."""
    result = run("T145/Llama-3.1-8B-Instruct-Zeus", "--fail-on", "licence-family-change")
    assert result.exit_code == EXIT_LICENCE_CHANGE
    assert "├─ merged from arcee-ai/Llama-3.1-SuperNova-Lite  licence llama3" in result.stdout
    assert "└─ merged from meta-llama/Llama-3.1-8B-Instruct  (shown above)" in result.stdout
    out = as_json("T145/Llama-3.1-8B-Instruct-Zeus")
    assert out["model"]["relation"] == "merge" and len(out["model"]["parents"]) == 4
    assert len({a["id"] for a in out["ancestors"]}) == len(out["ancestors"]) == 5
    assert "meta-llama/Llama-3.1-8B" in out["roots"]
    changes = out["licence_changes"]
    assert len(changes) == 5 and sum(c["families_differ"] for c in changes) == 4
    assert out["source"]["path"] == "embedded:hub-sample.parquet"
    chain = lineage_of(load(), "VortexHunter23/LeoPARD-Coder-0.8.1-4bit")
    assert max(a["depth"] for a in chain["ancestors"]) == 15
    assert chain["roots"] == ["deepseek-ai/DeepSeek-R1-Distill-Qwen-14B"]


def test_an_atlas_gives_the_same_lineage_as_its_snapshot(tmp_path: Path, snapshot: list[str]) -> None:
    graph = build_graph(read_snapshot(Path(snapshot[1]), nodes=Path(snapshot[3])))
    folder = tmp_path / "atlas"
    folder.mkdir()
    write_positions(graph.nodes, np.zeros((len(graph.nodes), 2)), folder)
    write_lineage(graph.nodes["id"], graph.edges, folder)
    (folder / "atlas.json").write_text("{}", encoding="utf-8")
    (folder / "report.json").write_text(json.dumps({"repairs": graph.report["repairs"]}), encoding="utf-8")
    for model in ("org/merged", "org/adapter", "cyc/c"):
        from_atlas, from_snapshot = as_json(model, "--atlas", str(folder)), as_json(model, *snapshot)
        assert from_atlas["source"]["kind"] == "atlas"
        assert from_atlas["repairs"]["removed_links"] == []  # an atlas keeps only the repaired links
        for key in ("model", "ancestors", "roots", "licence_changes", "descendants"):
            assert from_atlas[key] == from_snapshot[key], key
        assert from_atlas["repairs"]["graph"] == from_snapshot["repairs"]["graph"]
    with pytest.raises(InputError, match="closest ids: org/merged"):
        lineage_of(load(atlas=folder), "org/mergd")
    for fmt in ("text", "json"):  # the command is run, then render
        shown = CliRunner().invoke(cli, ["lineage", "org/merged", "--atlas", str(folder), "--format", fmt])
        assert shown.stdout == tool.render(tool.run("org/merged", atlas=folder), fmt)
