"""`atlasgen fetch` against a local Hub (tests/hub_server.py): real HTTP, the real huggingface_hub client."""

from __future__ import annotations

import hashlib
import io
import json
import math
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hub_server import HUB_STATS_FILE, HUB_STATS_REPO, HubServer, serve_hub, skip_reason, slice_available

from atlasgen.errors import AtlasgenError, FetchError
from atlasgen.fetch import API_EXPAND, JSONL_FIELDS, fetch_snapshot, manifest_path

pytestmark = pytest.mark.skipif(not slice_available(), reason=skip_reason())

PAGE = 500
RESOLVE = f"/datasets/{HUB_STATS_REPO}/resolve/main/{HUB_STATS_FILE}"


@pytest.fixture
def hub_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A clean Hub environment: HF_HOME in tmp_path, no token, no telemetry, not offline."""
    from huggingface_hub import constants

    home = tmp_path / "hf-home"
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    for name in ("HF_HUB_OFFLINE", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_OIDC_RESOURCE", "HF_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    # huggingface_hub reads these once, at import: mirror the environment above in case it was imported first.
    # (With telemetry on it would also fetch {ENDPOINT}/api/agent-harnesses from the import-time endpoint.)
    imported_at_start = {
        "HF_HOME": str(home),
        "HF_HUB_CACHE": str(home / "hub"),
        "HF_TOKEN_PATH": str(home / "token"),
        "HF_STORED_TOKENS_PATH": str(home / "stored_tokens"),
        "AGENT_HARNESSES_PATH": str(home / ".agent_harnesses.json"),
        "HF_HUB_DISABLE_TELEMETRY": True,
        "HF_HUB_OFFLINE": False,
    }
    for name, value in imported_at_start.items():
        if hasattr(constants, name):
            monkeypatch.setattr(constants, name, value)
    return home


@pytest.fixture
def hub(hub_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HubServer]:
    with serve_hub(page_size=PAGE) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        yield server


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def leftovers(folder: Path) -> list[str]:
    """What a fetch left in `folder` (the fixture's HF_HOME aside)."""
    return sorted(p.name for p in folder.iterdir() if p.name != "hf-home")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- --source api ----------------------------------------------------------------------------------------


def test_api_lists_every_model_once(hub: HubServer, tmp_path: Path) -> None:
    out = tmp_path / "snap" / "models.jsonl"
    manifest = fetch_snapshot(source="api", out=out, progress=False)

    records = read_jsonl(out)
    ids = [r["id"] for r in records]
    assert ids == [m["id"] for m in hub.models]
    assert len(set(ids)) == len(ids) == len(hub.models)
    pages = hub.requests_for("/api/models")
    assert len(pages) == math.ceil(len(hub.models) / PAGE) > 1
    assert all(sorted(p.query["expand"]) == sorted(API_EXPAND) for p in pages)
    assert all(list(r) == sorted(JSONL_FIELDS) for r in records)

    assert manifest == json.loads(manifest_path(out).read_text())
    assert manifest["source"] == "api"
    assert manifest["endpoint"] == hub.url
    assert manifest["rows"] == len(records)
    assert manifest["file"] == "models.jsonl"
    assert manifest["sha256"] == sha256(out)
    assert manifest["generator"].startswith("atlasgen ")
    datetime.fromisoformat(manifest["fetched_at"])
    assert sorted(p.name for p in out.parent.iterdir()) == ["models.jsonl", "models.jsonl.manifest.json"]


def test_api_records_keep_fields_and_lineage(hub: HubServer, tmp_path: Path) -> None:
    out = tmp_path / "models.jsonl"
    fetch_snapshot(source="api", out=out, progress=False)
    records = {r["id"]: r for r in read_jsonl(out)}
    served = {m["id"]: m for m in hub.models}

    with_parents = [i for i, m in served.items() if "baseModels" in m]
    assert len(with_parents) > 100
    assert all(records[i]["base_models"] == served[i]["baseModels"] for i in with_parents)
    assert all(records[i]["base_models"] is None for i in served.keys() - set(with_parents))

    for model_id in list(served)[:300]:
        got, want = records[model_id], served[model_id]
        assert got["author"] == want["author"]
        assert got["downloads"] == want["downloads"]
        assert got["likes"] == want["likes"]
        assert got["tags"] == want["tags"]
        assert got["pipeline_tag"] == want.get("pipeline_tag")
        assert got["library_name"] == want.get("library_name")
        assert datetime.fromisoformat(got["created_at"]) == datetime.fromisoformat(want["createdAt"])
        if want.get("cardData"):
            assert isinstance(got["card_data"], dict)
            assert got["card_data"].get("license") == want["cardData"].get("license")


def test_api_limit_stops_paging(hub: HubServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "models.jsonl"
    manifest = fetch_snapshot(source="api", out=out, limit=1234, progress=True)
    assert manifest["rows"] == 1234 == len(read_jsonl(out))
    assert manifest["limit"] == 1234
    pages = hub.requests_for("/api/models")
    assert len(pages) == 3
    assert all(p.query["limit"] == ["1234"] for p in pages)
    assert "1234" in capsys.readouterr().err  # the progress bar counts rows


# -- --source hub-stats ----------------------------------------------------------------------------------


def test_hub_stats_downloads_the_served_bytes(hub: HubServer, tmp_path: Path) -> None:
    out = tmp_path / "snap" / "hub-stats.parquet"
    manifest = fetch_snapshot(source="hub-stats", out=out, progress=False)

    served = hub.files[("dataset", HUB_STATS_REPO, "main", HUB_STATS_FILE)]
    assert out.read_bytes() == served
    assert manifest["sha256"] == hashlib.sha256(served).hexdigest()
    assert manifest == json.loads(manifest_path(out).read_text())
    assert manifest["source"] == "hub-stats"
    assert manifest["repo_id"] == HUB_STATS_REPO
    assert manifest["rows"] == len(hub.models)
    assert manifest["file"] == "hub-stats.parquet"
    assert [r.method for r in hub.requests_for(RESOLVE)] == ["HEAD", "GET"]
    # The scratch cache is gone; nothing but the snapshot and its manifest remains.
    assert sorted(p.name for p in out.parent.iterdir()) == [
        "hub-stats.parquet",
        "hub-stats.parquet.manifest.json",
    ]


def test_unknown_repo_names_the_repo(hub: HubServer, tmp_path: Path) -> None:
    out = tmp_path / "hub-stats.parquet"
    with pytest.raises(FetchError, match=r"nobody/nothing.*not found.*HTTP 404"):
        fetch_snapshot(source="hub-stats", out=out, repo_id="nobody/nothing", progress=False)
    assert leftovers(tmp_path) == []


def test_unknown_file_is_a_fetch_error(hub: HubServer, tmp_path: Path) -> None:
    out = tmp_path / "x.parquet"
    with pytest.raises(FetchError, match=r"file not found.*HTTP 404.*datasets.parquet"):
        fetch_snapshot(source="hub-stats", out=out, filename="datasets.parquet", progress=False)
    assert not out.exists()


@pytest.mark.parametrize(
    ("payload", "message"),
    [(b"PAR1 but not really", "not a readable parquet"), ("no-id", "no 'id' column")],
)
def test_served_file_must_be_a_parquet_with_ids(
    hub: HubServer, tmp_path: Path, payload: bytes | str, message: str
) -> None:
    if payload == "no-id":
        import pyarrow as pa
        import pyarrow.parquet as pq

        buffer = io.BytesIO()
        pq.write_table(pa.table({"name": ["a", "b"]}), buffer)
        payload = buffer.getvalue()
    assert isinstance(payload, bytes)
    hub.add_file("dataset", "someone/stats", HUB_STATS_FILE, payload)
    out = tmp_path / "snap" / "hub-stats.parquet"
    out.parent.mkdir()
    out.write_bytes(b"previous snapshot")
    with pytest.raises(FetchError, match=message):
        fetch_snapshot(source="hub-stats", out=out, repo_id="someone/stats", progress=False)
    assert out.read_bytes() == b"previous snapshot"
    assert [p.name for p in out.parent.iterdir()] == ["hub-stats.parquet"]


# -- environment -----------------------------------------------------------------------------------------


def test_hf_token_reaches_the_server(hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_from_environment")
    fetch_snapshot(source="api", out=tmp_path / "models.jsonl", limit=600, progress=False)
    fetch_snapshot(source="hub-stats", out=tmp_path / "hub-stats.parquet", progress=False)
    used = hub.requests_for("/api/models") + hub.requests_for(RESOLVE)
    assert len(used) == 4
    assert {r.authorization for r in used} == {"Bearer hf_from_environment"}


def test_explicit_token_wins(hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_from_environment")
    fetch_snapshot(source="api", out=tmp_path / "models.jsonl", limit=5, token="hf_explicit", progress=False)
    assert {r.authorization for r in hub.requests_for("/api/models")} == {"Bearer hf_explicit"}


def test_hf_endpoint_is_read_at_call_time(
    hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import constants

    with serve_hub(page_size=PAGE) as other:
        monkeypatch.setenv("HF_ENDPOINT", other.url + "/")
        assert other.url != constants.ENDPOINT  # huggingface_hub read HF_ENDPOINT before this test set it
        api = fetch_snapshot(source="api", out=tmp_path / "models.jsonl", limit=10, progress=False)
        stats = fetch_snapshot(source="hub-stats", out=tmp_path / "hub-stats.parquet", progress=False)
    assert api["endpoint"] == stats["endpoint"] == other.url
    assert other.requests_for("/api/models") and other.requests_for(RESOLVE)
    assert not hub.requests


# -- atomicity -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (
            500,
            r"HTTP 500 from http://127\.0\.0\.1:\d+/api/models\?",
        ),  # retried 5 times (1 s each), then fails
        (403, r"HTTP 403 from http://127\.0\.0\.1:\d+/api/models\?"),
        ("garbage", r"malformed JSON from http://127\.0\.0\.1:\d+/api/models"),
    ],
)
def test_failure_mid_listing_keeps_previous_output(
    hub: HubServer, tmp_path: Path, fault: int | str, message: str
) -> None:
    hub.faults = {2: fault}
    out = tmp_path / "snap" / "models.jsonl"
    out.parent.mkdir()
    out.write_text('{"id": "previous/snapshot"}\n')
    with pytest.raises(FetchError, match=message):
        fetch_snapshot(source="api", out=out, progress=False)
    assert out.read_text() == '{"id": "previous/snapshot"}\n'
    assert [p.name for p in out.parent.iterdir()] == ["models.jsonl"]  # no temp file, no manifest
    second_page = [r for r in hub.requests_for("/api/models") if "cursor" in r.query]
    assert len(second_page) == (6 if fault == 500 else 1)


def test_options_are_validated_before_any_request(hub: HubServer, tmp_path: Path) -> None:
    with pytest.raises(AtlasgenError, match="unknown source 'everything'"):
        fetch_snapshot(source="everything", out=tmp_path / "x", progress=False)
    with pytest.raises(AtlasgenError, match="--limit applies to --source api only"):
        fetch_snapshot(source="hub-stats", out=tmp_path / "x", limit=3, progress=False)
    with pytest.raises(AtlasgenError, match="at least 1"):
        fetch_snapshot(source="api", out=tmp_path / "x", limit=0, progress=False)
    assert not hub.requests
    assert leftovers(tmp_path) == []
