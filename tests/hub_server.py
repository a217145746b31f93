"""A local HTTP server that speaks the slice of the Hugging Face Hub API atlasgen uses.

Real HTTP on 127.0.0.1, driven by the real ``huggingface_hub`` client (point ``HF_ENDPOINT`` at ``url``):

- ``GET /api/models?limit=&expand=&cursor=``: model dicts in the Hub's camelCase shape, ``page_size`` per
  page (or ``limit`` if smaller), cursor pagination through a ``Link: <...>; rel="next"`` header. Like the
  Hub, only ``id``/``_id`` and the ``expand``-ed properties are returned.
- ``HEAD``/``GET /{datasets/|spaces/|}{repo_id}/resolve/{revision}/{filename}``: the served files, with the
  headers ``hf_hub_download`` reads (``X-Repo-Commit``, ``ETag``, ``Content-Length``) and no Xet headers,
  so the client always takes the plain-HTTP path.
- ``GET /api/datasets/{repo_id}/revision/{revision}`` and ``/api/datasets/{repo_id}``: minimal repo info.
- ``GET /api/agent-harnesses``: ``HubServer.agent_harnesses`` as JSON (huggingface_hub asks for this registry
  and caches it for 24 h in ``HF_HOME``); 404 while it is None.
- Unknown repo / revision / file: 404 with the ``X-Error-Code`` the client maps to its typed errors.

``HubServer.link_base`` (default: the server's own URL) is where the next-page links point: another server's
URL sends the client across origins.

  ``GET`` honours ``Range: bytes=N-`` (206 with ``Content-Range``), so a dropped download can resume.

Every request is recorded (method, path, query, Authorization and Range headers) in ``HubServer.requests``.

Faults: by default every request is answered correctly. ``HubServer.inject(Fault(kind, ...), ...)`` plans a
failure for the model listing (``target="models"``, ``page=`` a 1-based page number or None for any page)
or for the file downloads (``target="resolve"``, ``method="HEAD"``/``"GET"`` or None), ``times`` times in a
row (None: forever). The kinds:

- ``status``: answer with ``Fault.status`` (a JSON error body, or ``Fault.body``), with ``Retry-After: <retry_after>`` when
  given and any extra ``headers`` (e.g. the Hub's ``RateLimit``);
- ``reset``: close the connection with a TCP reset (RST), without an answer;
- ``reset-mid-body``: send the status line, the headers (full ``Content-Length``) and half the body, then
  reset;
- ``close``, ``close-mid-body``: the same with an orderly close (FIN) instead of a reset (httpx then
  reports a protocol error rather than a read error, and huggingface_hub resumes a download cut that way);
- ``truncate``: the right status, but only half the body, with a ``Content-Length`` that matches the cut
  (for ``/api/models``: truncated JSON);
- ``slow``: wait ``seconds`` before answering; ``stall``: send half the body, wait ``seconds``, send the
  rest;
- ``echo``: answer ``Fault.status`` echoing every request header, as a debugging proxy or a careless server
  does (credentials included): as JSON in ``X-Error-Message`` and as raw lines in a text body.

Waits end early when the server stops. ``HubServer.fired`` lists the faults that fired, in order.

Usage::

    with serve_hub(page_size=500) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        hub.inject(Fault("status", status=429, retry_after="3"), page=2)
        ...
        assert hub.requests_for("/api/models")
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
HUB_STATS_SLICE = (
    SHARED / "data/hub-stats-slice/evaleval-eval-card-registry/2b227945f13a/curation/hub_stats_frozen.parquet"
)
HUB_STATS_REPO = "cfahlgren1/hub-stats"
HUB_STATS_FILE = "models.parquet"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
MODEL_FIELDS = (
    "author",
    "createdAt",
    "downloads",
    "likes",
    "tags",
    "pipeline_tag",
    "library_name",
    "cardData",
    "baseModels",
)


def slice_available() -> bool:
    return HUB_STATS_SLICE.is_file()


def skip_reason() -> str:
    return f"hub-stats slice not found at {HUB_STATS_SLICE} (CI keeps it at ../shared beside the repo clone)"


@functools.cache
def slice_models() -> tuple[dict[str, Any], ...]:
    """The slice's rows in the Hub API's camelCase shape (all fields; `/api/models` filters by `expand`)."""
    import pyarrow.parquet as pq

    columns = ["id", *MODEL_FIELDS]
    rows = pq.read_table(HUB_STATS_SLICE, columns=columns).to_pylist()
    return tuple(_api_shape(i, row) for i, row in enumerate(rows))


def _api_shape(index: int, row: dict[str, Any]) -> dict[str, Any]:
    model: dict[str, Any] = {"_id": f"{index:024x}", **row}
    created = row["createdAt"]
    model["createdAt"] = _iso(created) if isinstance(created, datetime) else created
    model["cardData"] = json.loads(row["cardData"]) if row["cardData"] else None
    base = row["baseModels"]
    if base is not None:
        model["baseModels"] = {
            "relation": base["relation"],
            "models": [{"id": m["id"]} for m in base["models"]],
        }
    return {key: value for key, value in model.items() if value is not None}


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


FAULT_KINDS = (
    "status",
    "reset",
    "reset-mid-body",
    "close",
    "close-mid-body",
    "truncate",
    "slow",
    "stall",
    "echo",
)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    authorization: str | None
    range: str | None = None


@dataclass(frozen=True)
class Fault:
    """One injected failure; the kinds are described in the module docstring."""

    kind: str
    status: int = 503
    retry_after: str | None = None
    seconds: float = 0.0
    headers: tuple[tuple[str, str], ...] = ()
    body: Any = None  # for ``status``: the JSON body instead of {"error": "injected HTTP <status>"}

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r} (choose from {', '.join(FAULT_KINDS)})")


@dataclass
class _Planned:
    fault: Fault
    target: str
    page: int | None
    method: str | None
    remaining: int | None


@dataclass
class HubServer:
    """State shared with the handler threads; `url` is set once the server listens."""

    models: list[dict[str, Any]]
    files: dict[tuple[str, str, str, str], bytes]
    page_size: int = 500
    requests: list[RecordedRequest] = field(default_factory=list)
    fired: list[tuple[str, int | str | None, str]] = field(default_factory=list)
    url: str = ""
    link_base: str | None = None
    agent_harnesses: Any = None
    _plan: list[_Planned] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: threading.Event = field(default_factory=threading.Event)

    def inject(
        self,
        fault: Fault,
        *,
        target: str = "models",
        page: int | None = None,
        method: str | None = None,
        times: int | None = 1,
    ) -> None:
        """Plan `fault` for the next `times` matching requests (None: every one); see the module docstring."""
        if target not in ("models", "resolve"):
            raise ValueError(f"unknown fault target {target!r}")
        with self._lock:
            self._plan.append(_Planned(fault, target, page, method, times))

    def clear_faults(self) -> None:
        with self._lock:
            self._plan.clear()

    def take_fault(self, target: str, *, page: int | None = None, method: str = "GET") -> Fault | None:
        """The first planned fault that matches this request, counted as used; None if none does."""
        with self._lock:
            for planned in self._plan:
                if planned.target != target or planned.remaining == 0:
                    continue
                if planned.page not in (None, page) or planned.method not in (None, method):
                    continue
                if planned.remaining is not None:
                    planned.remaining -= 1
                self.fired.append((target, page if target == "models" else method, planned.fault.kind))
                return planned.fault
        return None

    def wait(self, seconds: float) -> None:
        """Sleep for a slow fault without holding up shutdown (and without `time.sleep`, which tests patch)."""
        self._stopping.wait(seconds)

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def requests_for(self, path: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def add_file(
        self, repo_type: str, repo_id: str, filename: str, data: bytes, revision: str = "main"
    ) -> None:
        self.files[(repo_type, repo_id, revision, filename)] = data

    def has_repo(self, repo_type: str, repo_id: str) -> bool:
        return any(key[:2] == (repo_type, repo_id) for key in self.files)


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeHub/1.0"
    hub: HubServer  # set on the subclass made per server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._dispatch(head=False)

    def do_HEAD(self) -> None:
        self._dispatch(head=True)

    def _dispatch(self, *, head: bool) -> None:
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        query = parse_qs(parts.query)
        self.hub.record(
            RecordedRequest(
                self.command, path, query, self.headers.get("Authorization"), self.headers.get("Range")
            )
        )
        try:
            if path == "/api/models" and not head:
                self._list_models(query)
            elif "/resolve/" in path:
                self._resolve(path, head=head)
            elif path == "/api/agent-harnesses" and self.hub.agent_harnesses is not None:
                self._send_json(200, self.hub.agent_harnesses)
            elif path.startswith("/api/datasets/") and not head:
                self._repo_info(path.removeprefix("/api/datasets/"))
            else:
                self._send_json(404, {"error": "Not Found"})
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout) during a slow fault
            self.close_connection = True

    # -- /api/models -------------------------------------------------------------------------------------
    def _list_models(self, query: dict[str, list[str]]) -> None:
        offset, page_number = _decode_cursor(query.get("cursor", [""])[0])
        fault = self.hub.take_fault("models", page=page_number)
        limit = int(query["limit"][0]) if "limit" in query else None
        size = min(self.hub.page_size, limit) if limit else self.hub.page_size
        expand = set(query.get("expand", []) + query.get("expand[]", []))
        page = [_project(m, expand) for m in self.hub.models[offset : offset + size]]
        headers = {}
        if offset + size < len(self.hub.models):
            next_query = {k: v for k, v in query.items() if k != "cursor"}
            next_query["cursor"] = [_encode_cursor(offset + size, page_number + 1)]
            base = self.hub.link_base or self.hub.url
            headers["Link"] = f'<{base}/api/models?{urlencode(next_query, doseq=True)}>; rel="next"'
        self._deliver(200, json.dumps(page).encode(), "application/json; charset=utf-8", headers, fault=fault)

    # -- resolve ------------------------------------------------------------------------------------------
    def _resolve(self, path: str, *, head: bool) -> None:
        repo_part, _, rest = path.lstrip("/").partition("/resolve/")
        repo_type, repo_id = _split_repo(repo_part)
        revision, _, filename = rest.partition("/")
        if not self.hub.has_repo(repo_type, repo_id):
            self._send_error(404, "RepoNotFound", "Repository not found", head=head)
            return
        if revision not in ("main", COMMIT):
            self._send_error(404, "RevisionNotFound", "Invalid rev id", head=head)
            return
        data = self.hub.files.get((repo_type, repo_id, "main", filename))
        if data is None:
            self._send_error(404, "EntryNotFound", "Entry not found", head=head, commit=True)
            return
        fault = self.hub.take_fault("resolve", method=self.command)
        headers = {
            "ETag": f'"{hashlib.sha256(data).hexdigest()}"',
            "X-Repo-Commit": COMMIT,
            "Accept-Ranges": "bytes",
        }
        status, start = 200, None if head else _range_start(self.headers.get("Range"), len(data))
        if start:
            status = 206
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
            data = data[start:]
        self._deliver(status, data, "application/octet-stream", headers, head=head, fault=fault)

    def _repo_info(self, rest: str) -> None:
        repo_id = rest.split("/revision/")[0]
        if not self.hub.has_repo("dataset", repo_id):
            self._send_error(404, "RepoNotFound", "Repository not found", head=False)
            return
        names = sorted(key[3] for key in self.hub.files if key[:2] == ("dataset", repo_id))
        self._send_json(200, {"id": repo_id, "sha": COMMIT, "siblings": [{"rfilename": n} for n in names]})

    # -- faults -------------------------------------------------------------------------------------------
    def _deliver(
        self,
        status: int,
        data: bytes,
        content_type: str,
        headers: dict[str, str],
        *,
        head: bool = False,
        fault: Fault | None = None,
    ) -> None:
        """Answer with `data`, or fail the way `fault` says."""
        kind = fault.kind if fault else None
        if fault is None or kind in ("slow", "truncate"):
            if fault is not None and kind == "slow":
                self.hub.wait(fault.seconds)
            body = data[: len(data) // 2] if kind == "truncate" else data
            self._send_raw(status, body, content_type, headers, head)
        elif kind == "status":
            extra = dict(fault.headers)
            if fault.retry_after is not None:
                extra["Retry-After"] = fault.retry_after
            answer = {"error": f"injected HTTP {fault.status}"} if fault.body is None else fault.body
            self._send_json(fault.status, answer, extra, head)
        elif kind == "echo":  # the headers as JSON in X-Error-Message and as raw lines in a text body
            text = f"bad request {self.command} {self.path}\n{self.headers}".encode()
            extra = {"X-Error-Message": json.dumps({"headers": dict(self.headers)})}
            self._send_raw(fault.status, text, "text/plain; charset=utf-8", extra, head)
        elif kind in ("reset", "close"):
            self._drop(reset=kind == "reset")
        else:  # *-mid-body, stall: the headers promise the whole body, half of it comes
            self._send_raw(status, b"", content_type, {**headers, "Content-Length": str(len(data))}, True)
            if not head:
                self.wfile.write(data[: len(data) // 2])
            if kind in ("reset-mid-body", "close-mid-body"):
                self._drop(reset=kind == "reset-mid-body")
                return
            self.hub.wait(fault.seconds)
            if not head:
                self.wfile.write(data[len(data) // 2 :])

    def _drop(self, *, reset: bool) -> None:
        """Drop the connection: a TCP RST (SO_LINGER 0, as a crashed proxy would) or an orderly FIN."""
        self.close_connection = True
        if reset:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        else:
            self.connection.shutdown(socket.SHUT_RDWR)

    # -- helpers ------------------------------------------------------------------------------------------
    def _send_error(self, status: int, code: str, message: str, *, head: bool, commit: bool = False) -> None:
        headers = {"X-Error-Code": code, "X-Error-Message": message}
        if commit:
            headers["X-Repo-Commit"] = COMMIT
        self._send_json(status, {"error": message}, headers, head=head)

    def _send_json(
        self, status: int, body: Any, headers: dict[str, str] | None = None, head: bool = False
    ) -> None:
        self._send_raw(status, json.dumps(body).encode(), "application/json; charset=utf-8", headers, head)

    def _send_raw(
        self,
        status: int,
        data: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
        head: bool = False,
    ) -> None:
        headers = {"Content-Length": str(len(data)), **(headers or {})}
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if not head:
            self.wfile.write(data)


def _split_repo(repo_part: str) -> tuple[str, str]:
    for prefix, repo_type in (("datasets/", "dataset"), ("spaces/", "space")):
        if repo_part.startswith(prefix):
            return repo_type, repo_part.removeprefix(prefix)
    return "model", repo_part


def _project(model: dict[str, Any], expand: set[str]) -> dict[str, Any]:
    keep = expand or {"likes", "downloads", "tags", "pipeline_tag", "library_name", "createdAt"}
    return {k: v for k, v in model.items() if k in ("_id", "id") or k in keep}


def _range_start(header: str | None, size: int) -> int | None:
    """N of a ``bytes=N-`` Range header when 0 <= N < size; None for no header or any other form."""
    if not header or not header.startswith("bytes=") or not header.endswith("-"):
        return None
    first = header.removeprefix("bytes=").removesuffix("-")
    return int(first) if first.isdigit() and int(first) < size else None


def _encode_cursor(offset: int, page: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset, "page": page}).encode()).decode()


def _decode_cursor(cursor: str) -> tuple[int, int]:
    """(offset, 1-based page number) of an opaque cursor; the first page has none."""
    if not cursor:
        return 0, 1
    state = json.loads(base64.urlsafe_b64decode(cursor))
    return int(state["offset"]), int(state["page"])


@contextmanager
def serve_hub(
    *,
    models: list[dict[str, Any]] | None = None,
    page_size: int = 500,
    with_hub_stats: bool = True,
) -> Iterator[HubServer]:
    """Start a fake Hub on 127.0.0.1 (free port) in a thread; stop it on exit.

    `models` defaults to the hub-stats slice (callers should skip when `slice_available()` is false);
    `with_hub_stats` serves the slice parquet as `datasets/cfahlgren1/hub-stats/resolve/main/models.parquet`.
    """
    hub = HubServer(models=list(slice_models()) if models is None else models, files={}, page_size=page_size)
    if with_hub_stats:
        hub.add_file("dataset", HUB_STATS_REPO, HUB_STATS_FILE, HUB_STATS_SLICE.read_bytes())
    handler = type("Handler", (_Handler,), {"hub": hub})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    hub.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), name="fake-hub", daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        hub._stopping.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
