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


# ------------------------------------------------------------------ item 11: ids in another case

MSC = Path(__file__).resolve().parents[2] / "shared" / "data" / "msc-weekly"


def links_of(graph: Graph) -> set[tuple[str, str, str]]:
    ids = graph.nodes["id"].to_numpy()
    edges = graph.edges
    return set(zip(ids[edges["source"]], ids[edges["target"]], edges["relation"], strict=True))


def test_a_parent_named_in_another_case_is_its_model_and_exact_ids_win() -> None:
    graph = graph_of("case-ids.jsonl")
    assert links_of(graph) == {
        ("Org/Base-Model", "a/lower-child", "finetune"),  # was: a virtual org/base-model
        ("Org/Base-Model", "a/exact-child", "quantized"),
        ("X/DUP", "a/ambiguous-child", "adapter"),  # X/Dup or x/dup? neither: a missing parent
        ("x/dup", "a/exact-dup-child", "adapter"),  # exact, though X/Dup differs only in case
    }
    virtual = set(graph.nodes.loc[graph.nodes["virtual"], "id"])
    assert virtual == {"X/DUP"}
    assert graph.report["repairs"] == {
        "case_insensitive_parents": 2,  # org/base-model, and self/model ...
        "self_loops": 1,  # ... which makes Self/Model its own parent
        "missing_parents_added_as_virtual": 1,
    }
    # counted, not merged: X/Dup, x/dup and the virtual X/DUP; café as NFC and as NFD
    assert graph.report["lookalike_ids"] == {"case": 3, "unicode": 2}
    assert {"caf\u00e9/model", "cafe\u0301/model"} <= set(graph.nodes["id"])


def test_renamed_models_children_find_them_in_real_weekly_data() -> None:
    """Two real Hub models renamed in case (msc-weekly, as of 2025-04-30) whose children name the old
    spelling: each child keeps its link to the renamed model, none becomes a missing parent."""
    graph = graph_of("case-renames.edges.csv", "case-renames.nodes.csv")
    assert graph.report["repairs"] == {"case_insensitive_parents": 2}
    assert graph.report["virtual"] == 0 and graph.report["edges"] == 11
    parents = {p for p, _, _ in links_of(graph)}
    assert parents == {"wwwtwwwt/whisper-tiny-no-specific-topic-V2", "nidum/Nidum-Gemma-3-4B-it-Uncensored"}


@pytest.mark.skipif(not MSC.is_dir(), reason="needs ../shared/data/msc-weekly")
def test_a_real_week_of_the_hub_resolves_its_parents_named_in_another_case(tmp_path: Path) -> None:
    """The Hub as of 2025-06-04 (315,238 models): 8 of the 8,134 parents missing as spelled are a model
    named in another case; the other 8,126 stay missing parents."""
    weeks = sorted(p.stem[-4:] for p in MSC.glob("added_model_*.csv"))
    added = pd.concat([pd.read_csv(MSC / f"added_model_{w}.csv", dtype=str) for w in weeks])
    deleted = pd.concat([pd.read_csv(MSC / f"deleted_model_{w}.csv", dtype=str) for w in weeks])
    rows = added[~added["Model ID"].isin(set(deleted["Model ID"]))].drop_duplicates("Model ID")
    links = rows.assign(p=rows["Base Model"].fillna("").str.split(", ")).explode("p").query("p != ''")
    edges = pd.DataFrame({"source": links["p"], "target": links["Model ID"], "relation": links["Type"]})
    edges.to_csv(tmp_path / "week.csv", index=False)
    rows[["Model ID"]].set_axis(["id"], axis=1).to_csv(tmp_path / "nodes.csv", index=False)
    graph = build_graph(read_snapshot(tmp_path / "week.csv", nodes=tmp_path / "nodes.csv"))
    assert graph.report["models"] == 315_238
    assert graph.report["repairs"]["case_insensitive_parents"] == 8
    assert graph.report["repairs"]["missing_parents_added_as_virtual"] == 8_126


def test_an_edge_list_without_nodes_links_a_parent_only_spelling_to_its_child_model(tmp_path: Path) -> None:
    """The shared hf-snapshot's one case, by hand: a parent-only id that differs only in case from a model
    that is a child of its own is that model (was: two models, one of them only a spelling)."""
    (tmp_path / "e.csv").write_text(
        "source,target,relation\nq/base,e/Model-0.5b,finetune\ne/Model-0.5B,k/child,finetune\n"
    )
    graph = build_graph(read_snapshot(tmp_path / "e.csv"))
    assert sorted(graph.nodes["id"]) == ["e/Model-0.5b", "k/child", "q/base"]
    assert ("e/Model-0.5b", "k/child", "finetune") in links_of(graph)
    assert graph.report["repairs"]["case_insensitive_parents"] == 1


def test_lineage_and_figure_find_an_id_typed_in_another_case(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from atlasgen.cli import cli

    runner = CliRunner()
    lineage = ["lineage", "--snapshot", str(HOSTILE / "case-ids.jsonl")]
    found = runner.invoke(cli, [*lineage, "ORG/BASE-MODEL", "--format", "json"])
    assert found.exit_code == 0, found.output
    assert json.loads(found.stdout)["model"]["id"] == "Org/Base-Model"
    assert runner.invoke(cli, [*lineage, "x/dup", "--format", "json"]).exit_code == 0  # exact
    ambiguous = runner.invoke(cli, [*lineage, "x/DUP"])
    assert ambiguous.exit_code == 1
    assert "'x/DUP' matches several ids that differ only in case: X/DUP, X/Dup, x/dup" in ambiguous.output
    site = _grid_atlas(tmp_path / "site", "case-ids.jsonl")
    figure = ["figure", "--atlas", str(site), "--out", str(tmp_path / "f.png"), "--width", "200"]
    drawn = runner.invoke(cli, [*figure, "--center", "org/base-model", "--radius", "20"])
    assert drawn.exit_code == 0, drawn.output
    refused = runner.invoke(cli, [*figure, "--center", "x/DUP"])
    assert refused.exit_code == 1 and "--center: 'x/DUP' matches several ids" in refused.output


def _grid_atlas(out: Path, snapshot: str) -> Path:
    """A snapshot's graph published on a grid (no layout): what `figure` and `lineage --atlas` read."""
    from atlasgen.artifacts import write_lineage, write_positions

    snap = read_snapshot(HOSTILE / snapshot)
    graph = build_graph(snap)
    n = len(graph.nodes)
    xy = np.column_stack([100 + 3.0 * (np.arange(n) % 5), 100 + 3.0 * (np.arange(n) // 5)])
    out.mkdir()
    write_positions(graph.nodes, xy, out)
    write_lineage(graph.nodes["id"], graph.edges, out)
    manifest = {"snapshot": {k: snap.source[k] for k in ("label", "format")}, "layers": []}
    (out / "atlas.json").write_text(json.dumps(manifest), encoding="utf-8")
    return out


def test_build_focus_names_the_ids_a_spelling_matches_in_other_cases() -> None:
    from atlasgen.errors import BuildError
    from atlasgen.graph.focus import focus_graph

    graph = graph_of("case-ids.jsonl")
    kept, _ = focus_graph(graph, ["org/base-model"])
    assert set(kept.nodes["id"]) == {"Org/Base-Model", "a/lower-child", "a/exact-child"}
    with pytest.raises(
        BuildError, match="'x/DUP' matches several ids that differ only in case: X/DUP, X/Dup"
    ):
        focus_graph(graph, ["x/DUP"])


# ------------------------------------------------------------------ item 12: small input, large output


def _inputs() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_inputs", HOSTILE / "make_inputs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_95_byte_gzip_of_blank_lines_makes_a_small_report() -> None:
    """Was: every one of 45,000 dropped rows listed, a 3 MB report.json."""
    path = HOSTILE / "blank-lines-45k.jsonl.gz"
    assert path.stat().st_size < 120
    report = graph_of(path.name).report
    assert report["input_rows"] == 45_001 and report["models"] == 1
    assert report["dropped"] == {"missing id": 45_000} and report["dropped_total"] == 45_000
    assert report["dropped_rows"][:2] == [
        {"row": 2, "id": None, "reason": "missing id"},
        {"row": 3, "id": None, "reason": "missing id"},
    ]
    assert len(report["dropped_rows"]) == 100 and report["dropped_rows"][-1]["row"] == 101
    assert report["dropped_rows_unlisted"] == {"missing id": 44_900}
    assert len(json.dumps(report)) < 20_000


def test_blank_lines_cost_no_memory_per_line(tmp_path: Path) -> None:
    """Was: 1.3 KB per blank line (the rows held, then listed); 450,000 of them now cost what 45,000 do."""
    import tracemalloc

    peaks = []
    for lines in (45_000, 450_000):
        path = tmp_path / f"blank-{lines}.jsonl.gz"
        path.write_bytes(_inputs().blank_lines(lines))
        tracemalloc.start()
        report = build_graph(read_snapshot(path)).report
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert report["dropped_rows_unlisted"] == {"missing id": lines - 100}
    assert peaks[1] < peaks[0] + 5_000_000, peaks  # 405,000 more lines: was ~500 MB more


def test_dropped_rows_are_listed_in_row_order_across_blank_and_idless_lines(tmp_path: Path) -> None:
    """Lines with nothing read are not held, yet listed in their place among the other rows without an id."""
    lines = ['{"id": "a/b"}', "", '{"id": null}', "{}", '{"id": "a/b"}', '{"other": 1}', '{"id": " "}']
    (tmp_path / "mixed.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = build_graph(read_snapshot(tmp_path / "mixed.jsonl")).report
    assert [(r["row"], r["reason"]) for r in report["dropped_rows"]] == [
        (2, "missing id"),
        (3, "missing id"),
        (4, "missing id"),
        (6, "missing id"),
        (7, "missing id"),
        (5, "duplicate id (first row kept)"),
    ]
    assert report["input_rows"] == 7 and report["dropped_rows_unlisted"] == {}


@pytest.mark.parametrize(
    ("name", "nodes"),
    [
        ("impossible-dates.jsonl", None),
        ("impossible-dates.parquet", None),
        ("impossible-dates.edges.csv", "impossible-dates.nodes.csv"),
    ],
)
def test_one_date_rule_for_every_format(name: str, nodes: str | None) -> None:
    """Was: JSON Lines blanked 0001-01-01, 9999-12-31 and 2262-04-12 (as invalid) while parquet kept them."""
    graph = graph_of(name, nodes)
    created = dict(zip(graph.nodes["id"], graph.nodes["created_at"], strict=True))
    assert created == {
        "base/model": "2023-01-02",
        "old/adapter": None,
        "future/adapter": None,
        "far/adapter": None,
        "real/adapter": "2024-05-01",
    }
    assert graph.report["repairs"]["impossible_created_at"] == 3
    assert "invalid_created_at" not in graph.report["repairs"]


def test_the_date_rule_follows_the_day_of_the_build() -> None:
    from atlasgen.ingest.parse import dates

    notes: dict[str, int] = {}
    raw = ["2015-12-31", "2016-01-01", "2026-01-02T23:00:00-05:00", "2026-01-05", "2025-02-30", "soon"]
    got = dates(raw, len(raw), notes, today=pd.Timestamp("2026-01-03", tz="UTC"))
    assert got.tolist() == [None, "2016-01-01", "2026-01-03", None, None, None]
    assert notes == {"impossible_created_at": 2, "invalid_created_at": 2}


def test_impossible_dates_do_not_stretch_the_trends_chart(tmp_path: Path) -> None:
    """Was: 99,900 monthly bars (a 6.7 MB trends.html) between 0001 and 9999. Nodes that did not come
    through a reader (a library caller's frame) are guarded too: their impossible dates are left out."""
    from atlasgen.graph.trends import compute
    from atlasgen.publish.trends_page import write_trends

    graph = graph_of("impossible-dates.jsonl")
    nodes = graph.nodes.copy()
    by_id = {"old/adapter": "0001-01-01", "future/adapter": "9999-12-31", "far/adapter": "2262-04-12"}
    nodes["created_at"] = nodes["id"].map(by_id).fillna(nodes["created_at"])
    trends = compute(nodes, graph.edges)
    assert trends.impossible_dates == 3 and trends.adapters_by_month.index.tolist() == ["2024-05"]
    page = (tmp_path / write_trends(nodes, graph.edges, tmp_path)).read_text(encoding="utf-8")
    assert page.count("<rect") < 100 and len(page) < 60_000
    assert "3 impossible createdAt values (before 2016-01-01 or in the future) are left out" in page


def test_one_row_naming_300000_parents_keeps_the_first_256(tmp_path: Path) -> None:
    """Was: 300,000 virtual parents, 518 s and 2.3 GB to build. The real data's most is 65."""
    from atlasgen.graph.dag import MAX_PARENTS
    from atlasgen.pipeline.build import build_atlas

    tags = [f"base_model:merge:p{i % 997}/m-{i}" for i in range(300_000)]
    rows = [{"id": "big/merge", "tags": tags}, {"id": "p0/m-0"}, {"id": "small/merge", "tags": tags[:65]}]
    path = tmp_path / "many-parents.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    graph = build_graph(read_snapshot(path))
    assert MAX_PARENTS == 256
    parents = graph.edges.groupby("target").size()
    ids = graph.nodes["id"].to_numpy()
    assert dict(zip(ids[parents.index.to_numpy()], parents, strict=True)) == {
        "big/merge": 256,
        "small/merge": 65,
    }
    kept = {
        ids[s]
        for s, t in zip(graph.edges["source"], graph.edges["target"], strict=True)
        if ids[t] == "big/merge"
    }
    assert kept == {f"p{i % 997}/m-{i}" for i in range(256)}  # the first ones stated
    assert graph.report["repairs"]["parents_over_limit"] == 300_000 - 256
    report = build_atlas(path, tmp_path / "site", **FAST)
    assert report["models"] == 3 and report["virtual"] == 255  # small/merge names 65 of the same parents
    assert report["repairs"]["parents_over_limit"] == 299_744


# ------------------------------------------------------------------ minor: tabs inside CSV ids


def test_tabs_inside_csv_ids_are_removed_and_counted_never_silently() -> None:
    """The rule for every control character in every format (README "Ids are kept as data"): removed, each
    value changed counted; an id that then spells another row's id is that row's duplicate, dropped and
    listed."""
    graph = graph_of("tabs-in-ids.edges.csv", "tabs-in-ids.nodes.csv")
    assert graph.report["repairs"]["control_characters_removed"] == 3  # two edge ends, one node id
    assert graph.report["dropped_rows"] == [
        {"row": 3, "id": "org/ab", "reason": "duplicate id (first row kept)"}
    ]
    downloads = dict(zip(graph.nodes["id"], graph.nodes["downloads"], strict=True))
    assert downloads["org/ab"] == 2  # the first row kept: the one written with a tab
    assert {"org/ab", "org/cd"} <= {p for p, _, _ in links_of(graph)}
