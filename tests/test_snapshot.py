"""The snapshot formats read into the same frames; bad input names the file and row; a format is one registry
entry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from atlasgen.errors import AtlasgenError, InputError
from atlasgen.graph.dag import build_graph
from atlasgen.ingest.frames import LINK_COLUMNS, Snapshot, bare_models
from atlasgen.ingest.hubschema import SCHEMA
from atlasgen.ingest.parse import Scrub
from atlasgen.ingest.snapshot import (
    FORMATS,
    SAMPLE,
    SnapshotFormat,
    detect_format,
    read_snapshot,
    register,
    snapshot_formats,
    unregister,
)


def write_hub_stats(path: Path, rows: list[dict]) -> Path:
    schema = SCHEMA.append(pa.field("cardData", pa.string()))  # the Hub's card, a JSON string
    full = [{name: row.get(name) for name in schema.names} for row in rows]
    pq.write_table(pa.Table.from_pylist(full, schema=schema), path)
    return path


def links_of(snap) -> set[tuple[str, str, str | None]]:
    return {(c, p, r) for c, p, r in snap.links[["child", "parent", "relation"]].itertuples(index=False)}


def test_hub_stats_lineage_from_base_models_tags_and_card(tmp_path: Path) -> None:
    path = write_hub_stats(
        tmp_path / "models.parquet",
        [
            {
                "id": "org/base",
                "downloads": 100,
                "tags": ["license:apache-2.0"],
                "pipeline_tag": "text-generation",
            },
            {"id": "a/ft", "baseModels": {"relation": "finetune", "models": [{"id": "org/base"}]}},
            {"id": "b/q", "tags": ["base_model:org/base", "base_model:quantized:org/base", "license:mit"]},
            {"id": "c/plain", "tags": ["base_model:org/base"]},
            {"id": "d/card", "cardData": json.dumps({"base_model": ["a/ft", "b/q"], "license": "gemma"})},
        ],
    )
    snap = read_snapshot(path)
    assert snap.source["format"] == "hub-stats"
    assert list(snap.models["id"]) == ["org/base", "a/ft", "b/q", "c/plain", "d/card"]
    assert list(snap.models["licence"]) == ["apache-2.0", None, "mit", None, "gemma"]
    assert snap.models["downloads"].iloc[0] == 100 and pd.isna(snap.models["downloads"].iloc[1])
    assert links_of(snap) == {
        ("a/ft", "org/base", "finetune"),
        ("b/q", "org/base", "quantized"),
        ("c/plain", "org/base", None),
        ("d/card", "a/ft", None),
        ("d/card", "b/q", None),
    }


def test_jsonl_accepts_modelinfo_and_api_keys(tmp_path: Path) -> None:
    path = tmp_path / "snap.jsonl"
    lines = [
        {"id": "org/base", "created_at": "2024-01-02T03:04:05.000Z", "downloads": 5, "likes": 1},
        {
            "id": "x/child",
            "base_models": {"relation": "adapter", "models": [{"id": "org/base"}]},
            "card_data": {"license": "llama3.1"},
        },
        {
            "modelId": "y/camel",
            "createdAt": "2023-05-06",
            "baseModels": {"relation": "merge", "models": [{"id": "org/base"}, {"id": "x/child"}]},
            "pipeline_tag": "text-generation",
        },
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    snap = read_snapshot(path)
    assert list(snap.models["id"]) == ["org/base", "x/child", "y/camel"]
    assert list(snap.models["created_at"]) == ["2024-01-02", None, "2023-05-06"]
    assert snap.models["licence"].iloc[1] == "llama3.1"
    assert links_of(snap) == {
        ("x/child", "org/base", "adapter"),
        ("y/camel", "org/base", "merge"),
        ("y/camel", "x/child", "merge"),
    }


def test_jsonl_garbage_line_names_file_and_row(tmp_path: Path) -> None:
    path = tmp_path / "snap.jsonl"
    path.write_text('{"id": "a/b"}\n{"id": "c/d"\n', encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_snapshot(path)
    assert "snap.jsonl, row 2" in err.value.message


def test_edge_csv_with_and_without_node_csv(tmp_path: Path) -> None:
    edges = tmp_path / "edges.csv"
    edges.write_text(
        "\ufeffsource,target,relation\nbase/m,ft/m,finetuned\nbase/m,q/m,GGUF\n", encoding="utf-8"
    )
    snap = read_snapshot(edges)
    assert set(snap.models["id"]) == {"base/m", "ft/m", "q/m"}
    assert links_of(snap) == {("ft/m", "base/m", "finetuned"), ("q/m", "base/m", "GGUF")}
    nodes = tmp_path / "nodes.csv"
    nodes.write_text("id,downloads,license\nft/m,12,mit\nbase/m,oops,\n", encoding="utf-8")
    snap = read_snapshot(edges, nodes=nodes)
    by_id = snap.models.set_index("id")
    assert by_id.loc["ft/m", "licence"] == "mit" and by_id.loc["ft/m", "downloads"] == 12
    assert pd.isna(by_id.loc["base/m", "downloads"])
    assert snap.notes == {"invalid_downloads": 1, "children_only_in_edges": 1}  # q/m is only in edges


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("e.csv", "", "empty file"),
        ("e.csv", "parent,child\na,b\n", "missing column(s) source, target"),
        ("m.parquet", "not parquet", "not a readable parquet file"),
        ("m.txt", "x", "cannot tell the snapshot format from the file name (hub-stats: .parquet; jsonl:"),
    ],
)
def test_bad_files_get_clear_errors(tmp_path: Path, name: str, content: str, expected: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_snapshot(path)
    assert str(path) in err.value.message and expected in err.value.message


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_snapshot(tmp_path / "nope.parquet")


def test_embedded_sample_is_the_real_snapshot() -> None:
    assert SAMPLE.is_file()
    snap = read_snapshot(None)
    assert len(snap.models) == 29_075 and snap.models["id"].is_unique
    assert len(snap.links) == 28_155  # every edge of hf-snapshot c952a70, self-loops included
    assert snap.source["path"].startswith("embedded:")
    llama = snap.models.set_index("id").loc["meta-llama/Llama-3.1-8B"]
    assert llama["licence"] == "llama3.1" and llama["downloads"] > 0


def test_errors_speak_of_values_not_of_command_line_flags(tmp_path: Path) -> None:
    hub = write_hub_stats(tmp_path / "m.parquet", [{"id": "org/a"}])
    nodes = tmp_path / "nodes.csv"
    nodes.write_text("id\norg/a\n", encoding="utf-8")
    with pytest.raises(AtlasgenError, match="format 'xml' is not one of hub-stats, jsonl, csv") as err:
        read_snapshot(hub, fmt="xml")
    with pytest.raises(
        InputError, match="a node file goes only with a csv snapshot, not with hub-stats"
    ) as err2:
        read_snapshot(hub, nodes=nodes)
    with pytest.raises(InputError, match="cannot tell") as err3:
        detect_format(tmp_path / "m.txt")
    for message in (err.value.message, err2.value.message, err3.value.message):
        assert "--" not in message


def test_the_registry_lists_the_built_in_formats_in_order() -> None:
    assert FORMATS == ("hub-stats", "jsonl", "csv")
    assert tuple(f.name for f in snapshot_formats()) == FORMATS
    assert [detect_format(Path(f"x{suffix.upper()}")) for suffix in (".parquet", ".jsonl.gz", ".csv")] == [
        *FORMATS
    ]
    assert (
        snapshot_formats()[0].describe() == "hub-stats (.parquet): the Hub's hub-stats models table (parquet)"
    )
    with pytest.raises(ValueError, match="already registered"):
        register(snapshot_formats()[0])


# -------------------------------------------------------------------- a format of a test's own, registered


def read_tsv_edges(path: Path, nodes: Path | None = None) -> Snapshot:
    """A tab-separated edge list `parent<TAB>child<TAB>relation`, no header: what a new format's reader does."""
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines() if line]
    notes: dict[str, int] = {}
    scrub = Scrub(notes)
    links = pd.DataFrame(
        [
            (i, scrub.ident(c, "child"), scrub.ident(p, "parent"), scrub.text(r, "relation"))
            for i, (p, c, r) in enumerate(rows, 1)
        ],
        columns=LINK_COLUMNS,
        dtype=object,
    ).astype({"row": "int64"})
    ids = list(dict.fromkeys(pd.concat([links["parent"], links["child"]]).dropna()))
    return Snapshot(bare_models(ids, start=1), links, {"separator": "tab"}, notes)


@pytest.fixture
def tsv_format() -> Iterator[SnapshotFormat]:
    """Registered for one test only, so no other test sees it."""
    fmt = SnapshotFormat(
        "tsv",
        (".tsv",),
        read_tsv_edges,
        links_by_model_row=False,
        takes_nodes=False,
        description="a tab-separated edge list",
    )
    register(fmt)
    try:
        yield fmt
    finally:
        unregister(fmt.name)
    assert "tsv" not in (f.name for f in snapshot_formats())


def test_a_registered_format_is_detected_read_and_built_with_no_other_change(
    tmp_path: Path, tsv_format: SnapshotFormat
) -> None:
    path = tmp_path / "Lineage.TSV"
    path.write_text(
        "org/base\tx/ft\tfine-tuned\norg/base\t y/q \tGGUF\nx/ft\tz/m\tmerged\n", encoding="utf-8"
    )
    snap = read_snapshot(path)
    assert snap.source == {"path": str(path), "format": "tsv", "label": "Lineage.TSV", "separator": "tab"}
    assert not snap.links_by_model_row and snap.notes == {}
    graph = build_graph(snap)
    rel = dict(zip(graph.nodes["id"], graph.nodes["relation"], strict=True))
    assert rel == {"org/base": "base", "x/ft": "finetune", "y/q": "unknown", "z/m": "merge"}
    assert graph.report["repairs"] == {"unknown_relations": 1}
    with pytest.raises(InputError, match="a node file goes only with a csv snapshot, not with tsv"):
        read_snapshot(path, nodes=path)
