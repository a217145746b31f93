"""Focus atlases (`atlasgen build --focus`): only the chosen families, every input row still accounted for."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from atlasgen.cli import cli
from atlasgen.errors import BuildError
from atlasgen.graph.dag import Graph, build_graph
from atlasgen.graph.focus import focus_graph, parse_specs
from atlasgen.ingest.snapshot import read_snapshot
from atlasgen.pipeline.build import build_atlas

# Four families (islands). `acme` has models in the first two; `third/x` is in the second only as the other
# parent of a merge: a relative of acme/root-ft, neither its ancestor nor its descendant.
EDGES = """source,target,relation
acme/base,acme/base-chat,finetune
acme/base,q/base-GGUF,quantized
acme/base-chat,lab/chat-lora,adapter
other/root,acme/root-ft,finetune
other/root,mix/merged,merge
third/x,mix/merged,merge
solo/a,solo/a-ft,finetune
ghost/p,lab/orphan,finetune
"""
FAMILY_A = {"acme/base", "acme/base-chat", "q/base-GGUF", "lab/chat-lora"}
FAMILY_B = {"other/root", "acme/root-ft", "mix/merged", "third/x"}
FAMILY_C = {"solo/a", "solo/a-ft"}
ALL = FAMILY_A | FAMILY_B | FAMILY_C | {"ghost/p", "lab/orphan"}
# With a node CSV, ghost/p is not a model of the snapshot: it becomes a virtual parent.
NODES = "id,author,downloads\n" + "".join(
    f"{mid},{'Acme' if mid.startswith('acme/') else ''},{i}\n"
    for i, mid in enumerate(sorted(ALL - {"ghost/p"}))
)

FAST: dict[str, Any] = {"backend": "cpu", "progress": False, "workers": 1, "max_zoom": 2, "max_iter": 50}


@pytest.fixture(scope="module")
def edges_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("focus") / "edges.csv"
    path.write_text(EDGES, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def graph(edges_csv: Path) -> Graph:
    return build_graph(read_snapshot(edges_csv))


def ids(graph: Graph) -> set[str]:
    return set(graph.nodes["id"])


def links(graph: Graph) -> set[tuple[str, str, str]]:
    names = graph.nodes["id"].to_numpy()
    return {
        (names[s], names[t], r)
        for s, t, r in zip(graph.edges["source"], graph.edges["target"], graph.edges["relation"], strict=True)
    }


def test_an_org_keeps_its_models_with_their_families(graph: Graph) -> None:
    focused, info = focus_graph(graph, ["org:acme"])
    assert ids(focused) == FAMILY_A | FAMILY_B
    assert info == {
        "specs": ["org:acme"],
        "models_kept": 8,
        "models_outside_focus": 4,
        "virtual_outside_focus": 0,
        "edges_outside_focus": 2,
    }
    # Re-indexed: the same links as the full graph's between kept models, rows still sorted by id.
    assert links(focused) == {link for link in links(graph) if link[0] in ids(focused)}
    assert list(focused.nodes["id"]) == sorted(focused.nodes["id"])
    assert focused.edges["source"].max() < len(focused.nodes) and focused.edges["target"].max() < 8
    # Whole families are kept, so each model keeps its relation colour.
    full = graph.nodes.set_index("id")["relation"]
    assert (focused.nodes.set_index("id")["relation"] == full.loc[sorted(ids(focused))]).all()


def test_a_model_keeps_its_whole_family_only(graph: Graph) -> None:
    assert ids(focus_graph(graph, ["lab/chat-lora"])[0]) == FAMILY_A
    # A family is the connected lineage: the other parent of a descendant's merge comes with it.
    assert ids(focus_graph(graph, ["acme/root-ft"])[0]) == FAMILY_B
    assert ids(focus_graph(graph, ["ACME/Root-FT"])[0]) == FAMILY_B  # Hub ids are case-insensitive


def test_specs_union(graph: Graph) -> None:
    focused, info = focus_graph(graph, ["lab/chat-lora", "solo/a-ft", "org:ACME", "solo/a-ft"])
    assert ids(focused) == FAMILY_A | FAMILY_B | FAMILY_C
    assert info["specs"] == ["lab/chat-lora", "solo/a-ft", "org:ACME"]
    report = focused.report
    assert report["models"] == 10 and report["edges"] == 7 and report["focus"]["models_outside_focus"] == 2
    assert report["input_rows"] == report["models"] + report["dropped_total"] + 2
    assert report["edges_by_relation"] == {"adapter": 1, "finetune": 3, "merge": 2, "quantized": 1}
    assert graph.report["models"] == 12 and "focus" not in graph.report  # the input graph is untouched


def test_no_focus_is_the_whole_graph(graph: Graph) -> None:
    assert focus_graph(graph, []) == (graph, {})


def test_an_unknown_model_names_close_ids(graph: Graph) -> None:
    with pytest.raises(BuildError) as err:
        focus_graph(graph, ["acme/base-chta"])
    assert "--focus: model 'acme/base-chta' is not in the snapshot; close: acme/base-chat" in str(err.value)
    with pytest.raises(BuildError, match=r"close: .*solo/a-ft"):
        focus_graph(graph, ["sol/a-ft"])  # a typo in the owner: the same name elsewhere


def test_an_org_without_models_is_an_error(graph: Graph) -> None:
    with pytest.raises(BuildError, match=r"organisation 'acm' has no model in the snapshot; close: acme"):
        focus_graph(graph, ["org:acm"])
    with pytest.raises(BuildError) as err:  # every problem at once
        focus_graph(graph, ["org:nobody", "solo/a", "nobody/model"])
    message = str(err.value)
    assert "organisation 'nobody' has no model" in message and "model 'nobody/model' is not in" in message


def test_malformed_specs_are_errors() -> None:
    assert parse_specs([" org: acme ", "x/y"]) == ("org:acme", "x/y")
    with pytest.raises(BuildError, match="names no organisation"):
        parse_specs(["org:"])
    with pytest.raises(BuildError, match="an empty value"):
        parse_specs([" "])
    with pytest.raises(BuildError, match="has no '/'"):
        parse_specs(["org:acme/base"])


def test_virtual_parents_follow_their_family_but_are_no_org_model(edges_csv: Path, tmp_path: Path) -> None:
    nodes = tmp_path / "nodes.csv"
    nodes.write_text(NODES, encoding="utf-8")
    full = build_graph(read_snapshot(edges_csv, nodes=nodes))
    assert full.report["virtual"] == 1
    focused, info = focus_graph(full, ["ghost/p"])  # named only as a parent: its family still exists
    assert ids(focused) == {"ghost/p", "lab/orphan"} and focused.report["virtual"] == 1
    assert info["models_kept"] == 1 and info["models_outside_focus"] == 10
    focused, info = focus_graph(full, ["org:acme"])
    assert ids(focused) == FAMILY_A | FAMILY_B and info["virtual_outside_focus"] == 1
    with pytest.raises(BuildError, match=r"'ghost' has no model in the snapshot \(1 of its models are only"):
        focus_graph(full, ["org:ghost"])


def test_a_focus_build_says_which_focus_in_atlas_json_and_report(edges_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    args = ["build", str(edges_csv), "--out", str(out), "--focus", "org:acme", "--focus", "solo/a"]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "focus: org:acme, solo/a — 10 of 12 models (2 outside the focus)" in result.output
    manifest = json.loads((out / "atlas.json").read_text(encoding="utf-8"))
    assert manifest["focus"] == {"specs": ["org:acme", "solo/a"], "models": 10, "of": 12}
    assert manifest["counts"]["models"] == 10 and manifest["counts"]["edges"] == 7
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["input_rows"] == 12 and report["models"] == 10 and report["dropped_total"] == 0
    assert report["focus"]["models_outside_focus"] == 2
    assert set(pd.read_parquet(out / "positions.parquet")["id"]) == FAMILY_A | FAMILY_B | FAMILY_C
    # The viewer shows it (footer and provenance panel).
    assert "focus: ${" in (out / "app.js").read_text(encoding="utf-8")


def test_a_full_build_has_no_focus(edges_csv: Path, tmp_path: Path) -> None:
    report = build_atlas(edges_csv, tmp_path / "site", **FAST)
    manifest = json.loads((tmp_path / "site" / "atlas.json").read_text(encoding="utf-8"))
    assert "focus" not in report and "focus" not in manifest and report["models"] == 12


def test_a_bad_focus_stops_the_build_cleanly(edges_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    args = ["build", str(edges_csv), "--out", str(out), "--focus", "acme/base-chta", "--quiet"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "close: acme/base-chat" in result.output and not out.exists()


class Killed(BaseException):
    """Stands for a kill in the last stage."""


def test_resume_rebuilds_the_graph_for_another_focus(
    edges_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import atlasgen.publish.site

    out = tmp_path / "site"

    def interrupted(*focus: str) -> None:
        def die(*args: object, **kwargs: object) -> None:
            raise Killed

        with monkeypatch.context() as patch:
            patch.setattr(atlasgen.publish.site, "write_site", die)
            with pytest.raises(Killed):
                build_atlas(edges_csv, out, **FAST, resume=True, focus=focus)

    interrupted("solo/a")
    report = build_atlas(edges_csv, out, **FAST, resume=True, focus=("lab/chat-lora",))
    assert "graph" not in report.get("resumed", []) and report["models"] == len(FAMILY_A)
    interrupted("solo/a")
    report = build_atlas(edges_csv, out, **FAST, resume=True, focus=("solo/a",))
    assert "graph" in report["resumed"] and report["models"] == len(FAMILY_C)


def test_a_real_model_focus_on_the_embedded_sample_is_fast(tmp_path: Path) -> None:
    start = time.perf_counter()
    report = build_atlas(
        None, tmp_path / "site", backend="cpu", progress=False, focus=("Qwen/Qwen2.5-7B-Instruct",)
    )
    assert time.perf_counter() - start < 30
    assert report["focus"]["models_kept"] == report["models"] < 2_000
    assert report["models"] + report["focus"]["models_outside_focus"] == report["input_rows"] == 29_075
    charted = set(pd.read_parquet(tmp_path / "site" / "positions.parquet")["id"])
    relatives = {
        "Qwen/Qwen2.5-7B",  # its base
        "Qwen/Qwen2.5-7B-Instruct-GGUF",  # quantizations of it
        "Qwen/Qwen2.5-7B-Instruct-AWQ",
        "Qwen/Qwen2.5-Coder-7B",  # the base's other fine-tunes
        "Qwen/Qwen2.5-Math-7B",
    }
    assert relatives <= charted and "Qwen/Qwen2.5-72B-Instruct" not in charted  # another island
