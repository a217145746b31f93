"""Same snapshot, same seed, CPU backend -> the same site, byte for byte, for any number of tile workers.

report.json is the one file compared without the run's facts (pipeline.RUN_FACTS: ``timings_s``, ``resumed``
and the layout's ``seconds*``); the test checks that those are the only keys in which two builds' reports
differ. Everything else (atlas.json, snapshot.json, positions.parquet, lineage.parquet, data/**, tiles/**,
the viewer) is compared by its SHA-256.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from atlasgen.pipeline.build import build_atlas
from atlasgen.publish.manifest import reproducible

MODELS = 3000  # enough for zooms 0-4, the edges layer from z2, and every index part


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from atlasgen.ingest.synth import write_synthetic_hub

    path = tmp_path_factory.mktemp("snap") / "hub.parquet"
    write_synthetic_hub(MODELS, path, seed=0)
    return path


def site_digests(site: Path) -> dict[str, str]:
    """SHA-256 of every file in a site by relative path; report.json's without the run's facts."""
    digests = {}
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        rel = path.relative_to(site).as_posix()
        data = path.read_bytes()
        if rel == "report.json":
            data = json.dumps(reproducible(json.loads(data)), sort_keys=True).encode("utf-8")
        digests[rel] = hashlib.sha256(data).hexdigest()
    return digests


def differing_keys(a: dict, b: dict, prefix: str = "") -> set[str]:
    keys = set()
    for key in a.keys() | b.keys():
        left, right = a.get(key), b.get(key)
        if isinstance(left, dict) and isinstance(right, dict):
            keys |= differing_keys(left, right, f"{prefix}{key}.")
        elif left != right:
            keys.add(prefix + key)
    return keys


def test_two_builds_and_any_worker_count_give_identical_files(snapshot: Path, tmp_path: Path) -> None:
    sites = {}
    for name, workers in (("first", 2), ("again", 2), ("serial", 1)):
        sites[name] = tmp_path / name
        build_atlas(snapshot, sites[name], seed=7, backend="cpu", workers=workers, progress=False)
    manifest = json.loads((sites["first"] / "atlas.json").read_text(encoding="utf-8"))
    # The comparison covers what matters: several zooms, every default layer, every index part.
    assert {layer["id"] for layer in manifest["layers"]} == {"relation", "edges", "task", "licence"}
    assert manifest["layers"][0]["max_zoom"] >= 3
    assert set(manifest["data"]["parts"]) >= {"search", "names", "detail", "pick", "dict"}
    digests = {name: site_digests(site) for name, site in sites.items()}
    assert len(digests["first"]) > 500
    for name in ("again", "serial"):
        different = sorted(
            k
            for k in digests["first"].keys() | digests[name].keys()
            if digests["first"].get(k) != digests[name].get(k)
        )
        assert not different, f"{name} build differs in {different[:10]}"
    reports = [json.loads((site / "report.json").read_text(encoding="utf-8")) for site in sites.values()]
    for other in reports[1:]:
        assert differing_keys(reports[0], other) <= {
            "timings_s." + stage for stage in reports[0]["timings_s"]
        } | {"layout." + key for key in reports[0]["layout"] if key.startswith("seconds")}
