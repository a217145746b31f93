"""Secrets in `atlasgen fetch` (atlasgen/ingest/fetch_secrets.py): credentials go only to the endpoint's
origin, never into an error, a log line, the checkpoint or the manifest; and a failing Hub call, including
one that huggingface_hub's own caches break, is always the one-line fetch error.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hub_server import Fault, HubServer, serve_hub, skip_reason, slice_available, slice_models
from test_fetch import hub_env, read_jsonl, waits

from atlasgen.cli import cli
from atlasgen.errors import FetchError
from atlasgen.ingest.fetch import RetryPolicy, fetch_snapshot, manifest_path, state_path
from atlasgen.ingest.fetch_secrets import origin, public_url, redact, scoped

pytestmark = pytest.mark.skipif(not slice_available(), reason=skip_reason())
__all__ = ["hub_env", "waits"]  # fixtures, used by name

TOKEN = "hf_S3cretT0kenOfTheUser"
PASSWORD = "pa55-w0rd"
BASIC = base64.b64encode(f"user:{PASSWORD}".encode()).decode()
SECRETS = (TOKEN, PASSWORD, BASIC)
FAST = RetryPolicy(retries=0, backoff=0.001)
# Hostile Hub answers (tests/data/hostile/README.md).
ANSWERS = Path(__file__).parent / "data" / "hostile" / "hub"


def answer(name: str) -> Any:
    return json.loads((ANSWERS / name).read_text(encoding="utf-8"))


def with_credentials(url: str) -> str:
    return url.replace("http://", f"http://user:{PASSWORD}@")


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


@pytest.fixture
def models() -> list[dict[str, Any]]:
    return list(slice_models()[:6])


@pytest.fixture
def two_hubs(hub_env: Path, models: list[dict[str, Any]]) -> Iterator[tuple[HubServer, HubServer]]:
    """Two servers on 127.0.0.1, two ports (two origins); page 2's link goes to the second, page 3's back."""
    with (
        serve_hub(models=models, page_size=2, with_hub_stats=False) as endpoint,
        serve_hub(models=models, page_size=2, with_hub_stats=False) as elsewhere,
    ):
        endpoint.link_base, elsewhere.link_base = elsewhere.url, endpoint.url
        yield endpoint, elsewhere


def authorizations(hub: HubServer) -> list[str | None]:
    return [r.authorization for r in hub.requests_for("/api/models")]


@pytest.mark.parametrize("credentials", ["token", "user:password@"])
def test_credentials_go_only_to_the_endpoint_origin(
    two_hubs: tuple[HubServer, HubServer],
    models: list[dict[str, Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    credentials: str,
) -> None:
    endpoint, elsewhere = two_hubs
    if credentials == "token":
        monkeypatch.setenv("HF_TOKEN", TOKEN)
        monkeypatch.setenv("HF_ENDPOINT", endpoint.url)
        expected = f"Bearer {TOKEN}"
    else:
        monkeypatch.setenv("HF_ENDPOINT", with_credentials(endpoint.url))
        expected = f"Basic {BASIC}"
    out = tmp_path / "models.jsonl"
    manifest = fetch_snapshot(source="api", out=out, progress=False)
    assert [r["id"] for r in read_jsonl(out)] == [m["id"] for m in models]  # every page, across origins
    assert authorizations(endpoint) == [expected, expected]  # pages 1 and 3
    assert authorizations(elsewhere) == [None]  # page 2
    assert manifest["endpoint"] == endpoint.url
    assert_no_secret(manifest_path(out).read_text(encoding="utf-8"))


def test_an_error_body_that_echoes_the_headers_is_redacted(
    hub_env: Path, models: list[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serve_hub(models=models, page_size=2, with_hub_stats=False) as hub:
        monkeypatch.setenv("HF_ENDPOINT", with_credentials(hub.url))
        monkeypatch.setenv("HF_TOKEN", TOKEN)
        hub.inject(Fault("echo", status=400), page=1)
        with pytest.raises(FetchError) as caught:
            fetch_snapshot(source="api", out=tmp_path / "models.jsonl", progress=False, retry=FAST)
        hub.inject(Fault("echo", status=400), page=1)
        cli_run = CliRunner().invoke(cli, ["fetch", "--source", "api", "-o", str(tmp_path / "m.jsonl"), "-q"])
    message = caught.value.message
    assert "HTTP 400 from http://***@127.0.0.1" in message and "authorization" in message.lower()
    assert "\n" not in message
    assert_no_secret(message)
    assert cli_run.exit_code == 1 and "Traceback" not in cli_run.output
    assert_no_secret(cli_run.output)


def test_the_checkpoint_and_the_messages_never_hold_the_endpoint_password(
    hub_env: Path,
    models: list[dict[str, Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    out = tmp_path / "models.jsonl"
    with serve_hub(models=models, page_size=2, with_hub_stats=False) as hub:
        monkeypatch.setenv("HF_ENDPOINT", with_credentials(hub.url))
        hub.inject(Fault("status", status=503), page=2, times=None)
        with pytest.raises(FetchError) as caught:
            fetch_snapshot(source="api", out=out, progress=False, retry=FAST)
        state = state_path(out).read_text(encoding="utf-8")
        assert json.loads(state)["rows"] == 2  # page 1 is kept: the checkpoint is a real one
        hub.clear_faults()
        manifest = fetch_snapshot(source="api", out=out, progress=False, resume=True)
    assert "(gave up after 1 attempt)" in caught.value.message
    for text in (caught.value.message, state, caplog.text, json.dumps(manifest)):
        assert_no_secret(text)
        assert "user:" not in text
    assert len(read_jsonl(out)) == len(models)


def test_an_error_body_that_is_a_json_list_is_a_one_line_error(
    hub_env: Path, models: list[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serve_hub(models=models, page_size=2, with_hub_stats=False) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        hub.inject(Fault("status", status=400, body=answer("error-body.json")), page=1)
        with pytest.raises(FetchError, match=r"listing models from http://127\.0\.0\.1:\d+: huggingface_hub"):
            fetch_snapshot(source="api", out=tmp_path / "models.jsonl", progress=False, retry=FAST)


def run_fetch(home: Path, endpoint: str, source: str, out: Path) -> subprocess.CompletedProcess[str]:
    """`atlasgen fetch` in a fresh process (huggingface_hub reads HF_HOME and HF_ENDPOINT at import), with
    telemetry on as by default: it asks the endpoint for /api/agent-harnesses."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING_FACE_"))}
    env |= {"HF_HOME": str(home), "HF_ENDPOINT": endpoint}
    command = [sys.executable, "-m", "atlasgen", "fetch", "--source", source, "-o", str(out), "-q"]
    return subprocess.run([*command, "--retries", "0"], env=env, capture_output=True, text=True, timeout=120)


def test_a_malformed_agent_registry_makes_every_later_fetch_a_one_line_error(
    tmp_path: Path, models: list[dict[str, Any]]
) -> None:
    home = tmp_path / "hf-home"
    with serve_hub(models=models) as poisoner, serve_hub(models=models) as other:
        poisoner.agent_harnesses = answer("agent-harnesses.json")
        results = [
            run_fetch(home, poisoner.url, "api", tmp_path / "a.jsonl"),
            run_fetch(home, other.url, "api", tmp_path / "b.jsonl"),  # cached for 24 h: any endpoint
            run_fetch(home, other.url, "hub-stats", tmp_path / "c.parquet"),
        ]
        assert poisoner.requests_for("/api/agent-harnesses") and not other.requests_for(
            "/api/agent-harnesses"
        )
    registry = home / ".agent_harnesses.json"
    assert json.loads(registry.read_text(encoding="utf-8")) == answer("agent-harnesses.json")
    for result in results:
        assert result.returncode == 1, result.stderr
        assert result.stdout == "" and "Traceback" not in result.stderr
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error: "), result.stderr
        assert f"{registry} is malformed" in result.stderr and "delete that file" in result.stderr


def test_redaction_and_origins() -> None:
    echoed = (
        'HTTP 400 from http://me:pw@h/x: {"authorization": "Bearer abc", "Cookie": "a=b; c=d"}\n'
        "Authorization: Basic dXNlcg==\nCookie: sid=1; other=2\nX-Api-Key: k1\nhf_AbCdEfGhIjKl token=t&page=2"
    )
    clean = redact(echoed, ["k1"])
    assert clean == (
        'HTTP 400 from http://***@h/x: {"authorization": "***", "Cookie": "***"} '
        "Authorization: *** *** Cookie: *** X-Api-Key: *** *** token=***&page=2"
    )
    assert redact("42 models; see https://huggingface.co/api/models?cursor=abc") == (
        "42 models; see https://huggingface.co/api/models?cursor=abc"
    )
    assert len(redact("x" * 10_000)) == 500
    assert origin("HTTP://Hub.example") == origin("http://hub.example:80") != origin("http://hub.example:81")
    assert origin("https://hub.example") != origin("http://hub.example:443")
    assert public_url("http://u:p@h:1/a@b?c=d") == "http://h:1/a@b?c=d"
    headers = {"authorization": "Bearer t", "Cookie": "c", "user-agent": "a"}
    assert scoped("http://h:5/p?c=1", "http://u:p@h:5", headers) == ("http://u:p@h:5/p?c=1", headers)
    assert scoped("http://u2:p2@h:6/p", "http://u:p@h:5", headers) == ("http://h:6/p", {"user-agent": "a"})
