"""`atlasgen diff`: real snapshots against variants derived from them (so every count is known), hand-made
graphs for families and movement, hand-made atlases, the CLI's output and its errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from atlasgen.artifacts import write_lineage, write_positions
from atlasgen.cli import cli
from atlasgen.errors import InputError
from atlasgen.graph.dag import build_graph
from atlasgen.ingest.snapshot import SAMPLE, read_snapshot
from atlasgen.layout.stable import displacement
from atlasgen.tools.diff import diff_frames, new_since, render, run, text_lines

HF_EDGES = (
    Path(__file__).resolve().parents[2]
    / "shared/data/hf-snapshot/hakanotal-hf-dep-network-analysis/c952a70d68df/network_data/edges.csv"
)
KEYS = {
    "schema",
    "old",
    "new",
    "models",
    "virtual",
    "edges",
    "families",
    "movement",
}


def nodes(
    *ids: str, virtual: tuple[str, ...] = (), downloads: dict[str, float] | None = None
) -> pd.DataFrame:
    downloads = downloads or {}
    return pd.DataFrame(
        {
            "id": list(ids),
            "virtual": [i in virtual for i in ids],
            "downloads": [downloads.get(i, np.nan) for i in ids],
            "relation": ["virtual" if i in virtual else "base" for i in ids],
        }
    )


def edges(frame: pd.DataFrame, *pairs: str) -> pd.DataFrame:
    """Edges 'parent>child[:relation]' by id, as row numbers into `frame`."""
    index = pd.Index(frame["id"])
    links = [(p.split(">")[0], *[*p.split(">")[1].split(":"), "finetune"][:2]) for p in pairs]
    return pd.DataFrame(
        {
            "source": index.get_indexer([p for p, _, _ in links]),
            "target": index.get_indexer([c for _, c, _ in links]),
            "relation": [r for _, _, r in links],
        }
    )


# ------------------------------------------------------------------------------------- real snapshots


def test_embedded_sample_against_derived_variants(tmp_path: Path) -> None:
    """OLD lacks every 10th row of the real sample, NEW every 13th: what came and went is known exactly."""
    frame = pd.read_parquet(SAMPLE)
    rows = np.arange(len(frame))
    frame[rows % 10 != 0].to_parquet(tmp_path / "old.parquet")
    frame[rows % 13 != 0].to_parquet(tmp_path / "new.parquet")
    ids = frame["id"].to_numpy()
    added, removed = (
        set(ids[(rows % 13 != 0) & (rows % 10 == 0)]),
        set(ids[(rows % 10 != 0) & (rows % 13 == 0)]),
    )
    full = build_graph(read_snapshot(SAMPLE))  # a link comes with its child's row: it lives and dies with it
    names = full.nodes["id"].to_numpy()
    child = pd.Series(names[full.edges["target"]])
    old_models = set(ids) - set(ids[rows % 10 == 0])
    parents_in_old = set(names[full.edges["source"][child.isin(old_models)]])

    result = run(tmp_path / "old.parquet", tmp_path / "new.parquet", top=None)

    assert set(result) == KEYS and result["movement"] is None
    assert result["models"]["added"] == len(added) == 2_908 - 224
    assert result["models"]["removed"] == len(removed) == 2_237 - 224
    assert result["models"]["kept"] == len(frame) - 2_908 - len(removed)
    assert {row["id"] for row in result["models"]["added_models"]} == added
    assert {row["id"] for row in result["models"]["removed_models"]} == removed
    by_relation = full.edges["relation"].to_numpy()
    for side, chosen in (("added", added), ("removed", removed)):
        mask = child.isin(chosen).to_numpy()
        assert result["edges"][side] == int(mask.sum())
        assert result["edges"][f"{side}_by_relation"] == dict(
            sorted(pd.Series(by_relation[mask]).value_counts().to_dict().items())
        )
    assert result["edges"]["relation_changed"] == 0
    assert result["old"]["virtual"] == len(parents_in_old - old_models)
    assert result["virtual"]["became_models"] == len((parents_in_old - old_models) & added)
    downloads = [row["downloads"] for row in result["models"]["added_models"]]
    assert downloads == sorted(downloads, key=lambda d: -1 if d is None else d, reverse=True)


@pytest.mark.skipif(not HF_EDGES.is_file(), reason=f"shared data not found at {HF_EDGES}")
def test_real_edge_csv_against_a_variant_with_edges_dropped_and_added(tmp_path: Path) -> None:
    table = pd.read_csv(HF_EDGES).rename(columns={"edge": "relation"})
    table.to_csv(tmp_path / "old.csv", index=False)
    base, other = "meta-llama/Llama-3.1-8B", "Qwen/Qwen2.5-7B"
    extra = pd.DataFrame(
        {
            "source": [base, base, "new-lab/ft-1", base, other],
            "target": ["new-lab/ft-1", "new-lab/ft-2", "new-lab/ft-1-GGUF", "new-lab/merge", "new-lab/merge"],
            "relation": ["finetuned", "finetuned", "quantized", "merged", "merged"],
        }
    )
    pd.concat([table.iloc[:-300], extra]).to_csv(tmp_path / "new.csv", index=False)
    gone = table.iloc[-300:]
    left = pd.concat([table.iloc[:-300]["source"], table.iloc[:-300]["target"], extra["source"]])
    vanished = set(gone["source"]) | set(gone["target"])
    vanished -= set(left)

    result = CliRunner().invoke(
        cli, ["diff", str(tmp_path / "old.csv"), str(tmp_path / "new.csv"), "--format", "json", "--all"]
    )

    assert result.exit_code == 0, result.output
    diff = json.loads(result.output)
    loops = int((gone["source"] == gone["target"]).sum())
    assert diff["edges"]["added"] == 5 and diff["edges"]["removed"] == 300 - loops
    assert diff["edges"]["added_by_relation"] == {"finetune": 2, "merge": 2, "quantized": 1}
    assert diff["models"]["added"] == 4 and diff["models"]["removed"] == len(vanished)
    assert {row["id"] for row in diff["models"]["removed_models"]} == vanished
    grew = {fam["family"]: fam for fam in diff["families"]["grew"]}
    assert grew[base]["added"] == 4 and not grew[base]["new"]  # the merge joins Qwen2.5-7B's family to it
    assert len(grew) == 1


# ------------------------------------------------------------------------------------- hand-made graphs


def test_families_grow_by_new_models_and_are_named_by_their_main_root() -> None:
    old = nodes("a", "b", "c", "d", "r")
    new = nodes("a", "b", "c", "d", "e", "f", "r", "x", "y", "g", downloads={"r": 9e9, "x": 1, "y": 5})
    result = diff_frames(
        old,
        edges(old, "a>b", "c>d"),
        new,
        edges(new, "a>b", "a>e", "e>f:quantized", "r>e:merge", "c>d", "x>y", "y>x"),
        top=None,
    )
    grew = result["families"]["grew"]
    # a reaches b, e, f by first parents (r is only e's second parent), so it names the family despite r's
    # downloads; in the cycle x<->y (repairs break them) each is its own root: y has more downloads; g has no
    # edge: no family.
    assert grew == [
        {"family": "a", "added": 2, "models": 5, "new": False},
        {"family": "y", "added": 2, "models": 2, "new": True},
    ]
    assert (
        result["old"]["families"] == 2 and result["new"]["families"] == 3 and result["families"]["new"] == 1
    )
    assert result["models"]["added"] == 5 and result["edges"]["added"] == 5
    assert result["edges"]["added_by_relation"] == {"finetune": 3, "merge": 1, "quantized": 1}


def test_ties_between_roots_go_to_downloads() -> None:
    frame = nodes("p", "q", "m", "n", downloads={"q": 10})
    result = diff_frames(nodes(), edges(nodes()), frame, edges(frame, "p>m", "q>n", "q>m:merge"))
    assert result["families"]["grew"][0]["family"] == "q"  # p and q reach one model each: q is downloaded


def test_virtual_parents_are_counted_apart_from_models() -> None:
    old = nodes("base", "ft", "gone", virtual=("base",))
    new = nodes("base", "ft", "gone", "ghost", "kid", virtual=("gone", "ghost"))
    result = diff_frames(
        old, edges(old, "base>ft"), new, edges(new, "base>ft", "gone>kid:adapter", "ghost>ft")
    )
    assert result["models"] | {"added_models": [], "removed_models": []} == {
        "added": 2,  # base became a model, kid is new
        "removed": 1,  # gone is only named as a parent now
        "kept": 1,
        "added_models": [],
        "removed_models": [],
    }
    assert result["virtual"] == {"added": 1, "removed": 0, "became_models": 1, "models_now_virtual": 1}
    assert result["old"]["virtual"] == 1 and result["new"]["virtual"] == 2


def test_edges_compare_by_id_and_relation_changes_are_counted() -> None:
    old = nodes("a", "b", "c")
    new = nodes("z", "c", "b", "a")  # other row order: ids, not rows, are compared
    result = diff_frames(old, edges(old, "a>b", "b>c"), new, edges(new, "a>b:quantized", "a>c", "z>a"))
    assert result["edges"] | {"added_by_relation": None, "removed_by_relation": None} == {
        "added": 2,
        "removed": 1,
        "kept": 1,
        "relation_changed": 1,
        "added_by_relation": None,
        "removed_by_relation": None,
    }


def test_movement_is_the_build_reports_stability_plus_max_and_movers() -> None:
    old = nodes("a", "b", "c", "d", "gone")
    new = nodes("new", "d", "c", "b", "a")
    old_xy = np.array([[0.0, 0], [1, 0], [2, 0], [3, 0], [9, 9]])
    new_xy = np.array([[10.0, 10], [3, 0], [2, 0], [1, 3], [0, 4]])
    result = diff_frames(old, edges(old), new, edges(new), old_xy, new_xy, top=1)
    move = result["movement"]
    assert move["survivors"] == 4 and move["extent"] == 10.0
    assert move["max"] == 0.4 and move["median"] == pytest.approx(0.15)
    assert move["top_movers"] == [{"id": "a", "moved": 0.4, "from": [0.0, 0.0], "to": [0.0, 4.0]}]
    aligned = np.full((5, 2), np.nan)  # what `build --previous` measures: old positions aligned to NEW
    aligned[1:] = old_xy[[3, 2, 1, 0]]
    stability = displacement(new_xy, aligned)
    assert (move["median"], move["p95"]) == (stability["median"], stability["p95"])
    alone = nodes("z")
    none = diff_frames(old, edges(old), alone, edges(alone), old_xy, np.zeros((1, 2)))["movement"]
    assert set(none) | {"by_cause"} == set(move) and none["survivors"] == 0 and none["median"] is None


def test_new_since_marks_models_absent_before() -> None:
    assert new_since(["a", "b"], ["b", "c", "a", "d"]).tolist() == [False, True, False, True]


# ------------------------------------------------------------------------------------- atlases and CLI


def atlas(
    folder: Path, frame: pd.DataFrame, links: pd.DataFrame, xy: np.ndarray, lineage: bool = True
) -> Path:
    folder.mkdir()
    write_positions(frame, xy, folder)
    if lineage:
        write_lineage(frame["id"], links, folder)
    (folder / "atlas.json").write_text("{}", encoding="utf-8")
    (folder / "snapshot.json").write_text('{"label": "hub.parquet", "date": "2026-05-01"}', encoding="utf-8")
    return folder


@pytest.fixture
def atlases(tmp_path: Path) -> tuple[Path, Path]:
    old = nodes("org/base", "org/ft", "q/ft-GGUF", "old/gone", downloads={"org/base": 1000, "old/gone": 7})
    new = nodes("org/base", "org/ft", "q/ft-GGUF", "lab/ft-2", downloads={"org/base": 1200, "lab/ft-2": 30})
    xy = np.array([[0.0, 0], [10, 0], [20, 0], [40, 40]])
    first = atlas(tmp_path / "w1", old, edges(old, "org/base>org/ft", "org/ft>q/ft-GGUF:quantized"), xy)
    links = edges(new, "org/base>org/ft", "org/ft>q/ft-GGUF:quantized", "org/base>lab/ft-2")
    return first, atlas(tmp_path / "w2", new, links, xy + np.array([[0, 0], [0, 0], [0, 5], [-20, -40]]))


def test_cli_text_output_reads_as_a_summary(atlases: tuple[Path, Path], tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["diff", *map(str, atlases)], catch_exceptions=False)
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == (
        f"old: atlas {atlases[0]} (hub.parquet, 2026-05-01): 4 models, 0 virtual parents, 2 edges, 1 families"
    )
    assert "models: +1 added, -1 removed, 3 in both" in lines
    assert "  + lab/ft-2 (base, 30 downloads)" in lines and "  - old/gone (base, 7 downloads)" in lines
    assert "edges: +1 added (finetune 1)" in lines and "edges: -0 removed (none)" in lines
    assert "families: 1 -> 1 (0 new); grew most:" in lines and "  org/base: +1 models (4 now)" in lines
    assert lines[-4].startswith("movement of the 3 ids in both atlases") and "max 25.00%" in lines[-4]
    assert lines[-3] == "  families joined by new links: 0"  # then the moves by cause (issue 13)
    assert lines[-2].startswith("  kept: 3 models, median 0.00%") and "max 25.00%" in lines[-2]
    assert lines[-1] == "  q/ft-GGUF: 25.00%"  # 5 of a 20-wide map; the others did not move
    assert text_lines(run(*atlases)) == lines and render(run(*atlases)) == result.output


def test_cli_json_to_a_file_has_stable_keys(atlases: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "diff.json"
    result = CliRunner().invoke(
        cli, ["diff", *map(str, atlases), "--format", "json", "-o", str(out), "--top", "0"]
    )
    assert result.exit_code == 0 and result.output == ""
    diff = json.loads(out.read_text(encoding="utf-8"))
    assert set(diff) == KEYS and diff["schema"] == 1
    assert set(diff["old"]) == {"source", "models", "virtual", "edges", "families"}
    assert diff["old"]["source"] == {
        "kind": "atlas",
        "path": str(atlases[0]),
        "label": "hub.parquet",
        "date": "2026-05-01",
    }
    assert set(diff["models"]) == {"added", "removed", "kept", "added_models", "removed_models"}
    assert set(diff["virtual"]) == {"added", "removed", "became_models", "models_now_virtual"}
    assert set(diff["edges"]) == {
        "added",
        "removed",
        "kept",
        "relation_changed",
        "added_by_relation",
        "removed_by_relation",
    }
    assert set(diff["families"]) == {"grew", "new"}
    assert set(diff["movement"]) == {"survivors", "extent", "median", "p95", "max", "top_movers", "by_cause"}
    assert diff["models"]["added_models"] == diff["movement"]["top_movers"] == []


def test_an_atlas_against_a_snapshot_compares_ids_and_edges(
    atlases: tuple[Path, Path], tmp_path: Path
) -> None:
    (tmp_path / "edges.csv").write_text(
        "source,target,relation\norg/base,org/ft,finetune\norg/ft,q/ft-GGUF,quantized\n", encoding="utf-8"
    )
    result = run(tmp_path / "edges.csv", atlases[1] / "positions.parquet")
    assert result["old"]["source"]["kind"] == "snapshot" and result["new"]["source"]["kind"] == "atlas"
    assert result["models"]["added"] == 1 and result["edges"]["added"] == 1 and result["movement"] is None


def test_bad_inputs_are_all_reported_at_once_without_a_traceback(
    atlases: tuple[Path, Path], tmp_path: Path
) -> None:
    frame = nodes("a")
    stale = atlas(tmp_path / "stale", frame, edges(frame), np.zeros((1, 2)), lineage=False)
    args = ["diff", str(tmp_path / "nope.parquet"), str(stale), "--new-nodes", str(tmp_path / "n.csv")]
    result = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "no" / "diff.json")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    for problem in (
        "nope.parquet: no such file or atlas directory",
        "stale: atlas without lineage.parquet",
        "--new-nodes",
        "n.csv: no such file",
        "no directory",
    ):
        assert problem in result.output
    result = CliRunner().invoke(cli, ["diff", str(tmp_path), str(SAMPLE), "--old-nodes", str(SAMPLE)])
    assert result.exit_code == 1
    assert f"{tmp_path}: a directory but not an atlas (no atlas.json)" in result.output
    assert (
        "--old-nodes" not in result.output
    )  # SAMPLE exists; what it goes with is OLD's problem, not a CSV's
    result = CliRunner().invoke(cli, ["diff", str(atlases[0]), str(SAMPLE), "--new-nodes", str(SAMPLE)])
    assert result.exit_code == 1
    assert f"--new-nodes goes with an edge CSV snapshot, but NEW ({SAMPLE}) is hub-stats" in result.output
    (tmp_path / "snap.txt").write_text("id\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["diff", str(tmp_path / "snap.txt"), str(atlases[0])])
    assert result.exit_code == 1 and "snap.txt: cannot tell the snapshot format" in result.output
    assert "; pass --snapshot-format hub-stats|jsonl|csv" in result.output
    with pytest.raises(InputError, match="cannot tell the snapshot format") as err:  # the library: no flags
        run(tmp_path / "snap.txt", atlases[0])
    assert "--" not in err.value.message


def test_an_atlas_whose_lineage_names_unknown_models_is_refused(tmp_path: Path) -> None:
    frame = nodes("org/a")
    broken = atlas(tmp_path / "broken", frame, edges(frame), np.zeros((1, 2)), lineage=False)
    ghost = pd.DataFrame({"source": [1], "target": [0], "relation": ["finetune"]})
    write_lineage(pd.Series(["org/a", "org/ghost"]), ghost, broken)
    result = CliRunner().invoke(cli, ["diff", str(broken), str(broken)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "lineage.parquet: 1 links name models absent from positions.parquet" in result.output
