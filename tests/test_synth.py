"""The synthetic Hub generator: deterministic, schema-exact, repair-free, and near the calibration targets."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from atlasgen.errors import AtlasgenError
from atlasgen.graph.dag import build_graph
from atlasgen.ingest.snapshot import SAMPLE, read_snapshot
from atlasgen.ingest.synth import CHILD_MIX, describe, synthesize_hub, write_synthetic_hub
from atlasgen.relations import SYNTH_RELATIONS

N = 20_000


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("synth") / "hub.parquet"
    return out, write_synthetic_hub(N, out, seed=7)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_deterministic_for_a_seed_and_different_across_seeds(tmp_path: Path) -> None:
    a, b, c = (tmp_path / f"{x}.parquet" for x in "abc")
    write_synthetic_hub(3000, a, seed=1)
    write_synthetic_hub(3000, b, seed=1)
    write_synthetic_hub(3000, c, seed=2)
    assert _digest(a) == _digest(b)
    assert _digest(a) != _digest(c)
    assert not list(tmp_path.glob(".*.tmp"))  # the temp file was renamed into place


def test_schema_equals_the_embedded_sample(hub: tuple[Path, dict]) -> None:
    assert pq.read_schema(hub[0]).equals(pq.read_schema(SAMPLE))
    assert pq.ParquetFile(hub[0]).metadata.row_group(0).column(0).compression == "ZSTD"


def test_reads_and_builds_with_no_repairs(hub: tuple[Path, dict]) -> None:
    snap = read_snapshot(hub[0])
    graph = build_graph(snap)
    assert graph.report["repairs"] == {}
    assert graph.report["dropped_total"] == 0
    assert graph.report["models"] == N
    assert graph.report["virtual"] == 0
    assert graph.report["edges"] == hub[1]["edges"]
    assert set(graph.report["edges_by_relation"]) == set(SYNTH_RELATIONS)  # every one, and only those


def test_ids_unique_and_parents_created_first(hub: tuple[Path, dict]) -> None:
    stats = hub[1]
    assert stats["ids_unique"] and stats["parents_before_children"]
    assert stats["models"] == N


def test_lineage_statistics_near_targets(hub: tuple[Path, dict]) -> None:
    stats = hub[1]
    assert stats["share_without_lineage"] == pytest.approx(0.6, abs=0.005)
    target = np.array(CHILD_MIX) / sum(CHILD_MIX)
    for rel, share in zip(SYNTH_RELATIONS, target, strict=True):
        assert stats["relation_nodes"][rel] == pytest.approx(share, abs=0.02)
    # each child has ~1.1 parents (HFS): edges/model ≈ (1 - no_lineage) · 1.1
    assert 0.4 * 1.02 <= stats["edges_per_model"] <= 0.4 * 1.2
    depth = [stats["depth_hist"][d] for d in range(1, 5)]
    assert depth == sorted(depth, reverse=True)
    assert stats["multi_parent_per_1k"] >= 1
    assert 0.7 <= stats["family_share_no_children"] <= 0.9


def test_edges_per_model_follows_the_no_lineage_share() -> None:
    stats = describe(synthesize_hub(5000, seed=3, no_lineage=0.815))
    assert stats["edges_per_model"] == pytest.approx(0.2, abs=0.02)


def test_max_fanout_grows_with_n() -> None:
    small = describe(synthesize_hub(2000, seed=0))["max_fanout"]
    large = describe(synthesize_hub(N, seed=0))["max_fanout"]
    assert large > 2 * small


def test_popularity_heavy_tailed(hub: tuple[Path, dict]) -> None:
    stats = hub[1]
    assert stats["downloads_median"] * 100 < stats["downloads_mean"]
    assert 0.5 < stats["downloads_share_zero"] < 0.95
    assert 0.003 < stats["downloads_share_ge_1193"] < 0.03  # TOP: the top ~1% reach 1,193 downloads


def test_families_are_mostly_text_generation(hub: tuple[Path, dict]) -> None:
    table = pq.read_table(hub[0], columns=["pipeline_tag", "baseModels"])
    task = np.array(table.column("pipeline_tag").to_pylist(), dtype=object)
    child = table.column("baseModels").is_valid().to_numpy(zero_copy_only=False)
    assert (task[child] == "text-generation").mean() > 0.7
    assert (task[~child] == "text-generation").mean() < 0.55
    assert len(set(task[~child])) > 15


@pytest.mark.parametrize("models", [0, -3, True, 2.5])
def test_bad_model_count_is_a_user_error(tmp_path: Path, models: object) -> None:
    with pytest.raises(AtlasgenError, match="number of models must be a whole number of at least 1") as err:
        write_synthetic_hub(models, tmp_path / "x.parquet")  # type: ignore[arg-type]
    assert "--" not in err.value.message  # library errors speak of values, not of command-line flags


def test_unwritable_out_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(AtlasgenError):
        write_synthetic_hub(10, tmp_path / "missing" / "x.parquet")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if not (locked / "probe").parent.stat().st_mode & 0o200:
        try:
            (locked / "probe").touch()
            pytest.skip("running as root: permissions are not enforced")
        except PermissionError:
            pass
    with pytest.raises(AtlasgenError):
        write_synthetic_hub(10, locked / "x.parquet")


def test_tiny_hubs() -> None:
    for models in (1, 2, 5):
        stats = describe(synthesize_hub(models))
        assert stats["models"] == models and stats["ids_unique"]
