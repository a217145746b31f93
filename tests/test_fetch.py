"""`atlasgen fetch` against a local Hub (tests/hub_server.py): real HTTP, the real huggingface_hub client."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import logging
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from hub_server import (
    HUB_STATS_FILE,
    HUB_STATS_REPO,
    Fault,
    HubServer,
    RecordedRequest,
    serve_hub,
    skip_reason,
    slice_available,
    slice_models,
)

from atlasgen.errors import AtlasgenError, FetchError
from atlasgen.ingest import fetch_retry
from atlasgen.ingest.fetch import (
    API_EXPAND,
    JSONL_FIELDS,
    RetryPolicy,
    fetch_snapshot,
    manifest_path,
    partial_path,
    state_path,
)

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
    out.parent.mkdir()
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
    assert "1,234 models" in capsys.readouterr().err  # the progress bar counts rows


# -- --source hub-stats ----------------------------------------------------------------------------------


def test_hub_stats_downloads_the_served_bytes(hub: HubServer, tmp_path: Path) -> None:
    out = tmp_path / "snap" / "hub-stats.parquet"
    out.parent.mkdir()
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


# -- faults, retries and resume ---------------------------------------------------------------------------

FAST = RetryPolicy(backoff=0.001, backoff_max=0.004)
SMALL, SMALL_PAGE = 1200, 200
N_PAGES = SMALL // SMALL_PAGE


@pytest.fixture
def small_hub(hub_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HubServer]:
    """The slice's first 1,200 models, 200 a page: quick enough to fail and fetch many times over."""
    with serve_hub(models=list(slice_models()[:SMALL]), page_size=SMALL_PAGE, with_hub_stats=False) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        yield server


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits fetch asks for between retries, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(fetch_retry, "_sleep", recorded.append)  # where `retrying` looks it up
    return recorded


def page_requests(hub: HubServer, page: int) -> list[RecordedRequest]:
    """Requests for one page of /api/models (1-based), by the cursor the server put in its Link header."""
    return [r for r in hub.requests_for("/api/models") if _page_of(r) == page]


def _page_of(request: RecordedRequest) -> int:
    cursor = request.query.get("cursor", [""])[0]
    return int(json.loads(base64.urlsafe_b64decode(cursor))["page"]) if cursor else 1


def assert_exact_listing(hub: HubServer, out: Path) -> None:
    """`out` holds every served model once, in the server's order, and nothing is left beside it."""
    ids = [r["id"] for r in read_jsonl(out)]
    assert len(ids) == len(set(ids)) == len(hub.models)
    assert ids == [m["id"] for m in hub.models]
    manifest = json.loads(manifest_path(out).read_text())
    assert manifest["rows"] == len(hub.models) and manifest["sha256"] == sha256(out)
    assert not partial_path(out).exists() and not state_path(out).exists()


@pytest.mark.parametrize(
    "fault",
    [
        Fault("status", status=429, retry_after="0"),
        Fault("status", status=500),
        Fault("status", status=502),
        Fault("status", status=503),
        Fault("reset"),
        Fault("reset-mid-body"),
        Fault("close"),
        Fault("close-mid-body"),
        Fault("truncate"),
        Fault("slow", seconds=2.0),
        Fault("stall", seconds=2.0),
    ],
    ids=lambda f: f"{f.kind}-{f.status}" if f.kind == "status" else f.kind,
)
def test_each_fault_is_retried(
    small_hub: HubServer, tmp_path: Path, waits: list[float], fault: Fault
) -> None:
    slow = fault.kind in ("slow", "stall")
    times = 1 if slow else 2
    small_hub.inject(fault, page=2, times=times)
    out = tmp_path / "models.jsonl"
    fetch_snapshot(source="api", out=out, progress=False, retry=replace(FAST, timeout=0.5 if slow else 60))
    assert_exact_listing(small_hub, out)
    assert small_hub.fired == [("models", 2, fault.kind)] * times
    assert len(page_requests(small_hub, 2)) == times + 1
    assert all(len(page_requests(small_hub, page)) == 1 for page in (1, 3, N_PAGES))
    assert len(waits) == times
    assert (
        waits == [0.0] * times if fault.retry_after == "0" else all(0 < w <= FAST.backoff_max for w in waits)
    )


def test_retry_after_is_honoured_and_capped(small_hub: HubServer, tmp_path: Path, waits: list[float]) -> None:
    in_30_s = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    small_hub.inject(Fault("status", status=429, retry_after="7"), page=2)
    small_hub.inject(Fault("status", status=503, retry_after="9999"), page=3)
    small_hub.inject(Fault("status", status=429, headers=(("RateLimit", '"api";r=0;t=12'),)), page=4)
    small_hub.inject(Fault("status", status=503, retry_after=in_30_s), page=5)
    small_hub.inject(Fault("status", status=503), page=6, times=4)
    policy = RetryPolicy(backoff=0.5, backoff_max=1.5, retry_after_max=60)
    out = tmp_path / "models.jsonl"
    fetch_snapshot(source="api", out=out, progress=False, retry=policy)
    assert_exact_listing(small_hub, out)
    assert waits[:3] == [7.0, 60.0, 12.0]  # Retry-After; capped at retry_after_max; the Hub's RateLimit reset
    assert 25 < waits[3] <= 30  # an HTTP date
    # No header: exponential back-off with jitter, between half and all of 0.5, 1, 2 (capped at 1.5), 4 (1.5)
    backoff = waits[4:]
    assert len(backoff) == 4
    assert [c / 2 <= w <= c for w, c in zip(backoff, (0.5, 1.0, 1.5, 1.5), strict=True)] == [True] * 4


def test_retry_policy_waits() -> None:
    policy = RetryPolicy(backoff=1, backoff_max=10, retry_after_max=100)
    for retry, ceiling in [(1, 1), (2, 2), (3, 4), (4, 8), (5, 10), (9, 10)]:
        seen = [policy.wait(retry) for _ in range(200)]
        assert all(ceiling / 2 <= w <= ceiling for w in seen)
        assert max(seen) - min(seen) > ceiling / 10  # jittered, not one fixed value
    assert [policy.wait(1, 3.5), policy.wait(1, 1e6), policy.wait(1, -2)] == [3.5, 100, 0]
    with pytest.raises(AtlasgenError, match=r"retries must be at least 0.*timeout must be positive"):
        RetryPolicy(retries=-1, timeout=0)


@pytest.mark.parametrize(
    ("fault", "message", "attempts"),
    [
        (Fault("status", status=503), r"HTTP 503 from http://127\.0\.0\.1:\d+/api/models\?\S*cursor=", 4),
        (Fault("reset"), r"could not reach http://127\.0\.0\.1:\d+/api/models\?\S*cursor=\S*: ReadError", 4),
        (Fault("truncate"), r"malformed JSON from http://127\.0\.0\.1:\d+/api/models\?\S*cursor=", 4),
        (Fault("status", status=403), r"HTTP 403 from http://127\.0\.0\.1:\d+/api/models\?\S*cursor=", 1),
    ],
    ids=["503", "reset", "truncated", "403"],
)
def test_too_many_failures_keep_the_previous_snapshot(
    small_hub: HubServer, tmp_path: Path, waits: list[float], fault: Fault, message: str, attempts: int
) -> None:
    small_hub.inject(fault, page=2, times=None)
    out = tmp_path / "snap" / "models.jsonl"
    out.parent.mkdir()
    out.write_text('{"id": "previous/snapshot"}\n')
    manifest_path(out).write_text('{"rows": 1}\n')
    with pytest.raises(FetchError, match=message) as caught:
        fetch_snapshot(source="api", out=out, progress=False, retry=replace(FAST, retries=3))
    gave_up = f"(gave up after {attempts} attempts)"
    assert (gave_up in caught.value.message) == (attempts > 1)
    assert f"{SMALL_PAGE} models listed so far are kept in" in caught.value.message
    assert "--resume" in caught.value.message
    assert len(page_requests(small_hub, 2)) == attempts
    assert len(waits) == attempts - 1
    # The old snapshot and manifest are untouched; the first page waits in the checkpoint for --resume.
    assert out.read_text() == '{"id": "previous/snapshot"}\n'
    assert manifest_path(out).read_text() == '{"rows": 1}\n'
    assert [r["id"] for r in read_jsonl(partial_path(out))] == [
        m["id"] for m in small_hub.models[:SMALL_PAGE]
    ]
    state = json.loads(state_path(out).read_text())
    assert state["rows"] == SMALL_PAGE and state["size"] == partial_path(out).stat().st_size
    assert parse_qs(urlsplit(state["next"]).query)["cursor"] == page_requests(small_hub, 2)[0].query["cursor"]
    assert leftovers(out.parent) == sorted(
        [
            "models.jsonl",
            "models.jsonl.manifest.json",
            "models.jsonl.partial",
            "models.jsonl.partial.state.json",
        ]
    )


def fail_at_page(hub: HubServer, out: Path, page: int, **options: Any) -> None:
    """A fetch into `out` that fails for good at `page`, leaving the pages before it in the checkpoint."""
    hub.inject(Fault("status", status=503), page=page, times=None)
    with pytest.raises(FetchError, match="run again with --resume"):
        fetch_snapshot(source="api", out=out, progress=False, retry=replace(FAST, retries=0), **options)
    hub.clear_faults()
    hub.requests.clear()


def test_resume_goes_on_from_the_checkpoint(
    small_hub: HubServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "models.jsonl"
    fail_at_page(small_hub, out, 4)
    # A kill while a page was being appended: rows past the checkpoint, the last one torn.
    torn = b'{"id":"weqweasdas/RM-Gemma-7B"}\n{"id":"torn/hal'
    with partial_path(out).open("ab") as f:
        f.write(torn)
    with caplog.at_level(logging.INFO, logger="atlasgen.ingest.fetch"):
        fetch_snapshot(source="api", out=out, progress=False, resume=True, retry=FAST)
    assert_exact_listing(small_hub, out)
    assert [_page_of(r) for r in small_hub.requests_for("/api/models")] == list(range(4, N_PAGES + 1))
    assert f"dropping {len(torn)} bytes" in caplog.text and "at model 601" in caplog.text


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc/self/fd to name fsync'd files")
def test_rows_are_durable_before_their_checkpoint(
    small_hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each page is fsync'd into the partial file before the checkpoint that counts it replaces the old one."""
    events: list[str] = []
    fsync, replace_file = os.fsync, os.replace

    def recording_fsync(fd: int) -> None:
        events.append("fsync " + Path(os.readlink(f"/proc/self/fd/{fd}")).name)
        fsync(fd)

    def recording_replace(src: Any, dst: Any) -> None:
        events.append("replace " + Path(dst).name)
        replace_file(src, dst)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    monkeypatch.setattr(os, "replace", recording_replace)
    out = tmp_path / "models.jsonl"
    fetch_snapshot(source="api", out=out, progress=False)
    assert_exact_listing(small_hub, out)
    state = "replace models.jsonl.partial.state.json"
    page = ["fsync models.jsonl.partial", state]
    wanted = [state, *page * N_PAGES, "replace models.jsonl", "replace models.jsonl.manifest.json"]
    assert [e for e in events if e == "fsync models.jsonl.partial" or e.startswith("replace ")] == wanted


def test_without_resume_the_checkpoint_is_discarded(
    small_hub: HubServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "models.jsonl"
    fail_at_page(small_hub, out, 3)
    with caplog.at_level(logging.WARNING, logger="atlasgen.ingest.fetch"):
        fetch_snapshot(source="api", out=out, progress=False, retry=FAST)
    assert_exact_listing(small_hub, out)
    assert [_page_of(r) for r in small_hub.requests_for("/api/models")] == list(range(1, N_PAGES + 1))
    assert f"discarding the unfinished fetch in {partial_path(out)}" in caplog.text


def test_resume_with_other_options_or_nothing_to_resume_starts_over(
    small_hub: HubServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "models.jsonl"
    fail_at_page(small_hub, out, 3)
    with caplog.at_level(logging.WARNING, logger="atlasgen.ingest.fetch"):
        manifest = fetch_snapshot(source="api", out=out, limit=300, progress=False, resume=True, retry=FAST)
    assert manifest["rows"] == 300
    assert [r["id"] for r in read_jsonl(out)] == [m["id"] for m in small_hub.models[:300]]
    assert [_page_of(r) for r in small_hub.requests_for("/api/models")] == [1, 2]
    assert "was fetched with other options" in caplog.text

    fresh = tmp_path / "fresh.jsonl"
    with caplog.at_level(logging.WARNING, logger="atlasgen.ingest.fetch"):
        fetch_snapshot(source="api", out=fresh, limit=10, progress=False, resume=True)
    assert len(read_jsonl(fresh)) == 10
    assert "nothing to resume" in caplog.text


def test_kill_9_then_resume(small_hub: HubServer, tmp_path: Path) -> None:
    """A real `atlasgen fetch --source api` killed with SIGKILL mid-listing, then run again with --resume."""
    small_hub.page_size = 50
    pages = math.ceil(len(small_hub.models) / small_hub.page_size)
    small_hub.inject(Fault("slow", seconds=0.1), times=None)
    out = tmp_path / "models.jsonl"
    out.write_bytes(b'{"id": "previous/snapshot"}\n')
    previous = out.read_bytes()
    command = [sys.executable, "-m", "atlasgen", "fetch", "--source", "api", "--out", str(out), "-q"]
    env = {**os.environ, "HF_ENDPOINT": small_hub.url}
    assert "HF_HUB_OFFLINE" not in env

    seen: set[str] = set()  # what `out` looked like to a reader polling it throughout
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            try:
                seen.add("previous" if out.read_bytes() == previous else f"other:{sha256(out)}")
            except FileNotFoundError:
                seen.add("absent")
            time.sleep(0.002)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        with subprocess.Popen(command, env=env, cwd=tmp_path, stderr=subprocess.PIPE) as first:
            deadline = time.monotonic() + 60
            rows = 0
            while rows < 400 and time.monotonic() < deadline and first.poll() is None:
                time.sleep(0.01)
                with contextlib.suppress(OSError, ValueError, KeyError):
                    rows = json.loads(state_path(out).read_text())["rows"]
            first.send_signal(signal.SIGKILL)
            _, stderr = first.communicate(timeout=10)
        assert first.returncode == -signal.SIGKILL, stderr.decode()
        assert 400 <= rows < len(small_hub.models)
        assert out.read_bytes() == previous
        assert seen == {"previous"}
        killed_at = json.loads(state_path(out).read_text())["rows"]

        small_hub.clear_faults()
        # The second run's requests are told apart by its token: the killed run's last one may land late.
        env["HF_TOKEN"] = "hf_second_run"
        second = subprocess.run(
            [*command, "--resume"], env=env, cwd=tmp_path, capture_output=True, timeout=60
        )
        assert second.returncode == 0, second.stderr.decode()
    finally:
        stop.set()
        watcher.join(timeout=5)
    assert f"{len(small_hub.models):,} models written to {out}" in second.stdout.decode()
    assert_exact_listing(small_hub, out)
    assert seen <= {"previous", f"other:{sha256(out)}"}  # never anything but the old or the finished file
    second_run = [
        r for r in small_hub.requests_for("/api/models") if r.authorization == "Bearer hf_second_run"
    ]
    resumed = [_page_of(r) for r in second_run]
    assert resumed == list(range(killed_at // small_hub.page_size + 1, pages + 1))


# -- hub-stats faults ------------------------------------------------------------------------------------


CHUNK = 64 << 10


@pytest.fixture
def hf_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """huggingface_hub's own waits (1 s per retry, hard-coded), recorded instead of slept.

    Its download chunk shrinks from 10 MB to 64 KiB, so that the 1.7 MB slice is downloaded in chunks and a
    download cut halfway has some to resume from.
    """
    from huggingface_hub import constants

    recorded: list[float] = []
    monkeypatch.setattr(time, "sleep", recorded.append)
    monkeypatch.setattr(constants, "DOWNLOAD_CHUNK_SIZE", CHUNK)
    return recorded


@pytest.mark.parametrize(
    ("method", "fault", "ours"),
    [
        # huggingface_hub retries these itself: a 429 on the GET, a 503 on the HEAD, and a download cut by an
        # orderly close, which it resumes with a Range request.
        ("GET", Fault("status", status=429, retry_after="0"), False),
        ("HEAD", Fault("status", status=503, retry_after="0"), False),
        ("GET", Fault("close-mid-body"), False),
        # It gives up on these, and our loop runs the whole hf_hub_download again.
        ("GET", Fault("status", status=500), True),
        ("GET", Fault("truncate"), True),  # a short file: its size check fails
        ("GET", Fault("reset-mid-body"), True),  # a read error is not among the errors it resumes on
        ("HEAD", Fault("reset"), True),
    ],
    ids=[
        "get-429",
        "head-503",
        "get-close-mid-body",
        "get-500",
        "get-truncated",
        "get-reset-mid-body",
        "head-reset",
    ],
)
def test_hub_stats_faults_are_retried(
    hub: HubServer,
    tmp_path: Path,
    waits: list[float],
    hf_waits: list[float],
    method: str,
    fault: Fault,
    ours: bool,
) -> None:
    hub.inject(fault, target="resolve", method=method)
    out = tmp_path / "hub-stats.parquet"
    manifest = fetch_snapshot(source="hub-stats", out=out, progress=False, retry=FAST)
    served = hub.files[("dataset", HUB_STATS_REPO, "main", HUB_STATS_FILE)]
    assert out.read_bytes() == served
    assert manifest["sha256"] == hashlib.sha256(served).hexdigest()
    assert hub.fired == [("resolve", method, fault.kind)]
    heads = [r for r in hub.requests_for(RESOLVE) if r.method == "HEAD"]
    gets = [r.range for r in hub.requests_for(RESOLVE) if r.method == "GET"]
    assert len(heads) == (2 if ours or method == "HEAD" else 1)
    assert len(waits) == (1 if ours else 0)
    if fault.kind == "close-mid-body":  # resumed after the last whole chunk it had written
        assert gets[0] is None and gets[1] == f"bytes={len(served) // 2 // CHUNK * CHUNK}-" != "bytes=0-"
    else:
        assert gets == [None] * (1 if method == "HEAD" else 2)
    assert leftovers(tmp_path) == ["hub-stats.parquet", "hub-stats.parquet.manifest.json"]


def test_hub_stats_gives_up_and_keeps_the_previous_snapshot(
    hub: HubServer,
    tmp_path: Path,
    waits: list[float],
    hf_waits: list[float],
    caplog: pytest.LogCaptureFixture,
) -> None:
    hub.inject(Fault("status", status=502), target="resolve", method="GET", times=None)
    out = tmp_path / "hub-stats.parquet"
    out.write_bytes(b"previous snapshot")
    (tmp_path / ".hub-stats.parquet.download" / "blobs").mkdir(parents=True)  # left by a killed run
    with (
        caplog.at_level(logging.WARNING, logger="atlasgen.ingest.fetch"),
        pytest.raises(FetchError) as caught,
    ):
        fetch_snapshot(source="hub-stats", out=out, progress=False, retry=replace(FAST, retries=2))
    assert re.search(
        r"HTTP 502 from http://127\.0\.0\.1:\d+/datasets/cfahlgren1/hub-stats/resolve/main/models\.parquet.*"
        r"\(gave up after 3 attempts\)",
        caught.value.message,
    )
    assert "removing" in caplog.text and ".hub-stats.parquet.download" in caplog.text
    assert len([r for r in hub.requests_for(RESOLVE) if r.method == "GET"]) == 3
    assert out.read_bytes() == b"previous snapshot"
    assert leftovers(tmp_path) == ["hub-stats.parquet"]


def test_cli_resume_and_retries(small_hub: HubServer, tmp_path: Path, waits: list[float]) -> None:
    from click.testing import CliRunner

    from atlasgen.cli import cli

    out = tmp_path / "models.jsonl"
    small_hub.inject(Fault("status", status=503), page=3, times=None)
    failed = CliRunner().invoke(cli, ["fetch", "--source", "api", "-o", str(out), "-q", "--retries", "2"])
    assert failed.exit_code == 1
    assert "gave up after 3 attempts" in failed.output and "--resume" in failed.output
    assert "Traceback" not in failed.output
    assert len(page_requests(small_hub, 3)) == 3
    small_hub.clear_faults()
    small_hub.requests.clear()
    resumed = CliRunner().invoke(cli, ["fetch", "--source", "api", "-o", str(out), "-q", "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert_exact_listing(small_hub, out)
    assert [_page_of(r) for r in small_hub.requests_for("/api/models")] == list(range(3, N_PAGES + 1))


def test_options_are_validated_before_any_request(hub: HubServer, tmp_path: Path) -> None:
    with pytest.raises(AtlasgenError, match="unknown source 'everything'"):
        fetch_snapshot(source="everything", out=tmp_path / "x", progress=False)
    with pytest.raises(AtlasgenError, match="--limit applies to --source api only"):
        fetch_snapshot(source="hub-stats", out=tmp_path / "x", limit=3, progress=False)
    with pytest.raises(AtlasgenError, match="at least 1"):
        fetch_snapshot(source="api", out=tmp_path / "x", limit=0, progress=False)
    for source in ("api", "hub-stats"):  # a missing folder is a typo: nothing is created
        with pytest.raises(AtlasgenError, match=r"^\S+/nowhere/d: no such folder$"):
            fetch_snapshot(source=source, out=tmp_path / "nowhere" / "d" / "x", progress=False)
    assert not hub.requests
    assert leftovers(tmp_path) == []


def test_an_unreachable_endpoint_fails_at_once_as_the_retry_policy_says(
    hub_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A closed port with --retries 0 is one attempt and one line (huggingface_hub alone retried it ~23 s)."""
    import socket

    from click.testing import CliRunner

    from atlasgen.cli import cli

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    out = tmp_path / "hub.parquet"
    result = CliRunner().invoke(
        cli, ["fetch", "--source", "hub-stats", "-o", str(out), "-q", "--retries", "0"]
    )
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and f"cannot connect to 127.0.0.1:{port}" in lines[0], result.output
    assert "(gave up after 1 attempt)" in lines[0] and not out.exists()
