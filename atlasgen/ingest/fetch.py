"""`atlasgen fetch`: take a snapshot of the Hub's models.

Two sources:

- ``hub-stats`` (default, fast): the ``models.parquet`` of the ``cfahlgren1/hub-stats`` dataset, downloaded
  with ``hf_hub_download`` into a throw-away cache beside ``out``, checked to be a parquet with an ``id``
  column, then copied onto ``out``.
- ``api`` (slow, the whole Hub is ~2,000 pages): ``HfApi.list_models(expand=...)`` paged through, one JSON
  object per line with the ``ModelInfo`` fields in ``JSONL_FIELDS`` (snake_case, datetimes as ISO strings).

Both honour ``HF_TOKEN`` (huggingface_hub reads it when ``token`` is None) and ``HF_ENDPOINT``, read from the
environment at call time (huggingface_hub itself reads it once, at import). ``out`` is replaced atomically
(a complete file in the same folder, fsync, ``os.replace``) and a manifest is written beside it as
``<out>.manifest.json``; on any error, or a ``kill -9``, ``out`` is left as it was. Every failure of a Hub
call becomes a one-line :class:`~atlasgen.errors.FetchError` naming the URL and the status. Credentials (the
token, a ``user:password@`` in ``HF_ENDPOINT``) go only to the endpoint's origin and are redacted from every
message, the manifest and the checkpoint (:mod:`atlasgen.ingest.fetch_secrets`).

Failures that may pass (HTTP 408/429/5xx, a reset or dropped connection, a timeout, a truncated body) are
retried as :class:`RetryPolicy` says: ``Retry-After`` honoured up to a cap, else exponential back-off with
jitter, a bounded number of times. An ``api`` fetch checkpoints page by page into ``<out>.partial`` and
``<out>.partial.state.json``, so ``resume=True`` (``--resume``) goes on where a failed or killed run stopped,
with no row twice and none missing. huggingface_hub resumes a ``hub-stats`` download whose connection drops
within the run (HTTP Range); since 2.x it never reuses another process's partial download, so a killed
``hub-stats`` fetch downloads the file again. The retry loop and the Hub error mapping live in
:mod:`atlasgen.ingest.fetch_retry`, the atomic writes and the page checkpoint in :mod:`atlasgen.ingest.fetch_checkpoint`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import shutil
from dataclasses import asdict, is_dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlencode

from atlasgen import __version__
from atlasgen.errors import AtlasgenError, FetchError
from atlasgen.ingest.fetch_checkpoint import CHUNK, Partial, atomic_writer, partial_path, state_path
from atlasgen.ingest.fetch_retry import RETRY_STATUSES, MalformedResponse, RetryPolicy, hub_errors, retrying
from atlasgen.ingest.fetch_secrets import known_secrets, public_url, scoped

if TYPE_CHECKING:
    from huggingface_hub import ModelInfo

SOURCES = ("hub-stats", "api")
# Properties asked of /api/models. With `expand`, the Hub returns only `id` and these, so `author` is asked
# for explicitly (huggingface_hub 2.x accepts it; `expand` can't be combined with full/cardData/fetch_config).
API_EXPAND = (
    "author",
    "baseModels",
    "cardData",
    "createdAt",
    "downloads",
    "likes",
    "library_name",
    "pipeline_tag",
    "tags",
)
# The ModelInfo attributes written per JSONL line, in this order.
JSONL_FIELDS = (
    "id",
    "author",
    "created_at",
    "downloads",
    "likes",
    "tags",
    "pipeline_tag",
    "library_name",
    "card_data",
    "base_models",
)
log = logging.getLogger("atlasgen.ingest.fetch")

# What callers import from here; the retry and checkpoint machinery is in fetch_retry and fetch_checkpoint.
__all__ = [
    "API_EXPAND",
    "JSONL_FIELDS",
    "RETRY_STATUSES",
    "SOURCES",
    "MalformedResponse",
    "RetryPolicy",
    "atomic_writer",
    "fetch_snapshot",
    "hub_endpoint",
    "hub_errors",
    "jsonl_line",
    "manifest_path",
    "model_record",
    "partial_path",
    "state_path",
]


def fetch_snapshot(
    *,
    source: str,
    out: Path,
    token: str | None = None,
    limit: int | None = None,
    repo_id: str = "cfahlgren1/hub-stats",
    filename: str = "models.parquet",
    revision: str = "main",
    progress: bool = True,
    resume: bool = False,
    retry: RetryPolicy | None = None,
) -> dict[str, Any]:
    """Fetch a snapshot into ``out`` (parquet for ``hub-stats``, JSONL for ``api``); return the manifest.

    ``token=None`` lets huggingface_hub use ``HF_TOKEN`` or the saved login. ``limit`` caps the number of
    models listed (``api`` only). ``repo_id``/``filename``/``revision`` name the hub-stats file. ``resume``
    (``api``) goes on from the checkpoint a failed or killed fetch into the same ``out`` left; without it
    such a checkpoint is discarded. ``retry`` defaults to ``RetryPolicy()``.
    """
    _validate(source=source, limit=limit)
    policy = retry or RetryPolicy()
    out = Path(out)
    if not out.parent.is_dir():  # as every command: a typo in a path must not create folders
        raise AtlasgenError(f"{out.parent}: no such folder")
    endpoint = hub_endpoint()
    secrets = known_secrets(endpoint, token)
    if source == "hub-stats":
        if resume:
            log.info("hub-stats: nothing to resume across runs; the download starts again")
        rows, digest = _fetch_hub_stats(
            out=out,
            endpoint=endpoint,
            token=token,
            repo_id=repo_id,
            filename=filename,
            revision=revision,
            progress=progress,
            policy=policy,
            secrets=secrets,
        )
        origin: dict[str, Any] = {"repo_id": repo_id, "filename": filename, "revision": revision}
    else:
        rows, digest = _fetch_api(
            out=out,
            endpoint=endpoint,
            token=token,
            limit=limit,
            progress=progress,
            resume=resume,
            policy=policy,
            secrets=secrets,
        )
        origin = {"expand": list(API_EXPAND), "limit": limit}
    manifest = {
        "source": source,
        "endpoint": public_url(endpoint),  # never the endpoint's user:password
        **origin,
        "fetched_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "rows": rows,
        "file": out.name,
        "sha256": digest,
        "generator": f"atlasgen {__version__}",
    }
    with atomic_writer(manifest_path(out)) as f:
        f.write((json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    return manifest


def manifest_path(out: Path) -> Path:
    """Where the manifest of a fetched ``out`` lives: ``<out>.manifest.json``."""
    return out.with_name(out.name + ".manifest.json")


def hub_endpoint() -> str:
    """The Hub endpoint: ``HF_ENDPOINT`` as set now, else huggingface_hub's (which read it at import)."""
    from huggingface_hub import constants

    return (os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")


def _validate(*, source: str, limit: int | None) -> None:
    problems = []
    if source not in SOURCES:
        problems.append(f"unknown source {source!r} (choose from {', '.join(SOURCES)})")
    if limit is not None and source == "hub-stats":
        problems.append("--limit applies to --source api only (hub-stats is one file)")
    if limit is not None and limit < 1:
        problems.append(f"--limit must be at least 1, got {limit}")
    if problems:
        raise AtlasgenError("; ".join(problems))


# -- hub-stats -------------------------------------------------------------------------------------------


def _fetch_hub_stats(
    *,
    out: Path,
    endpoint: str,
    token: str | None,
    repo_id: str,
    filename: str,
    revision: str,
    progress: bool,
    policy: RetryPolicy,
    secrets: list[str],
) -> tuple[int, str]:
    """Download the hub-stats parquet into a scratch cache beside ``out``, check it, copy it onto ``out``.

    huggingface_hub retries some failures itself (the HEAD, a 429, a connection dropped mid-file, which it
    resumes with a Range request) but not a 5xx on the download or a file that came short; ``retrying``
    repeats the whole ``hf_hub_download`` for those. The scratch folder has a fixed name, so one left by a
    killed run is found and removed by the next.
    """
    url = f"{public_url(endpoint)}/datasets/{repo_id}/resolve/{revision}/{filename}"  # for messages
    scratch = out.with_name(f".{out.name}.download")
    if scratch.exists():
        log.warning("removing %s, left by an interrupted fetch", scratch)
        shutil.rmtree(scratch, ignore_errors=True)
    action = f"downloading dataset file {repo_id}/{filename}@{revision}"
    download = functools.partial(_download, endpoint, token, repo_id, filename, revision, scratch, progress)
    try:
        local = retrying(action, url, policy, download, repo_id=repo_id, secrets=secrets)
        rows = _parquet_rows(local, url)
        with atomic_writer(out) as f, local.open("rb") as src:
            digest = _copy_hashing(src, f)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return rows, digest


def _download(
    endpoint: str,
    token: str | None,
    repo_id: str,
    filename: str,
    revision: str,
    cache_dir: Path,
    progress: bool,
) -> Path:
    from huggingface_hub import hf_hub_download

    from atlasgen.progress import bar_class

    _connect_once(endpoint)
    path = hf_hub_download(
        repo_id,
        filename,
        repo_type="dataset",
        revision=revision,
        token=token,
        endpoint=endpoint,
        cache_dir=cache_dir,
        library_name="atlasgen",
        library_version=__version__,
        tqdm_class=bar_class(progress),  # its own bar on a terminal, one line in a log, or none
    )
    return Path(path).resolve()


def _connect_once(endpoint: str) -> None:
    """One TCP connection to the endpoint, so that an unreachable one fails at once, as our retry policy says.

    hf_hub_download's first request goes through huggingface_hub's ``http_backoff``, which retries a refused
    connection five times with waits of 1-8 s (about 23 s), whatever ``--retries`` says, and offers no
    setting to stop it. A refused or unresolvable endpoint raises httpx's ConnectError here instead: a
    network error that ``retrying`` counts as one attempt and the user sees as the one-line fetch error.
    """
    import socket
    from urllib.parse import urlsplit

    import httpx2

    parts = urlsplit(endpoint)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((host, port), timeout=10).close()
    except OSError as err:
        raise httpx2.ConnectError(f"cannot connect to {host}:{port} ({err.strerror or err})") from err


def _parquet_rows(path: Path, url: str) -> int:
    """Rows of a downloaded parquet; FetchError naming the file unless it reads and has an ``id`` column."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
        names = parquet.schema_arrow.names
        rows = parquet.metadata.num_rows
    except (pa.ArrowException, OSError) as err:
        raise FetchError(f"{url} is not a readable parquet file: {err}") from err
    if "id" not in names:
        raise FetchError(f"{url} has no 'id' column (columns: {', '.join(names[:12])})")
    return int(rows)


def _copy_hashing(src: IO[bytes], dst: IO[bytes]) -> str:
    digest = hashlib.sha256()
    while chunk := src.read(CHUNK):
        digest.update(chunk)
        dst.write(chunk)
    return digest.hexdigest()


# -- api -------------------------------------------------------------------------------------------------


def _fetch_api(
    *,
    out: Path,
    endpoint: str,
    token: str | None,
    limit: int | None,
    progress: bool,
    resume: bool,
    policy: RetryPolicy,
    secrets: list[str],
) -> tuple[int, str]:
    """Page through /api/models into ``<out>.partial``, checkpointing each page; move it onto ``out``.

    This is ``HfApi.list_models`` (same request, same ``ModelInfo``s) with the pages in our hands: its
    iterator retries each page with ``http_backoff``, but an error it gives up on ends the iteration and the
    cursor of the next page is lost with it, so nothing could resume. Here each page is fetched by
    ``_get_page`` inside ``retrying``, and once its rows are on disk the next page's URL (the Hub's opaque
    cursor) is checkpointed, without any ``user:password@`` (fetch_secrets.py). Each page is requested with
    the endpoint's credentials only if it is on the endpoint's origin: a next-page link elsewhere gets none.
    """
    from atlasgen.progress import bar

    params: dict[str, Any] = {"expand": list(API_EXPAND)}
    if limit is not None:
        params["limit"] = limit
    shown = public_url(endpoint)
    first = f"{shown}/api/models?{urlencode(params, doseq=True)}"
    with hub_errors(f"listing models from {shown}", url=first, secrets=secrets):
        headers = _hub_headers(token)  # huggingface_hub reads its caches here: it can fail too
    with (
        Partial(out, first, resume=resume) as partial,
        bar(
            total=limit,
            initial=partial.done.rows,
            unit=" models",
            desc="Listing models",
            enabled=progress,
        ) as listing,
    ):
        try:
            while partial.done.next and (limit is None or partial.done.rows < limit):
                url = partial.done.next
                get = functools.partial(_get_page, *scoped(url, endpoint, headers), policy.timeout)
                action = f"listing models from {shown}"
                records, next_url = retrying(action, url, policy, get, secrets=secrets)
                records = records if limit is None else records[: limit - partial.done.rows]
                partial.append(b"".join(map(jsonl_line, records)), next_url and public_url(next_url))
                listing.update(len(records))
        except FetchError as err:
            raise FetchError(
                f"{err.message}. The {partial.done.rows:,} models listed so far are kept in {partial.rows_path}: "
                "run again with --resume to go on from there"
            ) from err.__cause__
        return partial.finish()


def _hub_headers(token: str | None) -> dict[str, str]:
    from huggingface_hub.utils import build_hf_headers

    return build_hf_headers(token=token, library_name="atlasgen", library_version=__version__)


def _get_page(url: str, headers: dict[str, str], timeout: float) -> tuple[list[dict[str, Any]], str | None]:
    """One page of /api/models through huggingface_hub's HTTP session: (the models' JSONL records, URL of
    the next page). The records are made here, inside the error wrapper: an item ModelInfo rejects is a
    failed call too."""
    from huggingface_hub.utils import get_session, hf_raise_for_status

    response = get_session().get(url, headers=headers, timeout=timeout)
    hf_raise_for_status(response)
    items = response.json()
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise MalformedResponse(f"expected a JSON list of models, got {type(items).__name__}")
    return [model_record(_model_info(item)) for item in items], response.links.get("next", {}).get("url")


def _model_info(item: dict[str, Any]) -> ModelInfo:
    """What ``HfApi.list_models`` makes of one item."""
    from huggingface_hub import ModelInfo

    item.setdefault("siblings", None)
    return ModelInfo(**item)


def model_record(info: ModelInfo) -> dict[str, Any]:
    """The JSONL record of one ModelInfo: ``JSONL_FIELDS``, created_at as ISO string, card_data a plain dict."""
    record: dict[str, Any] = {name: getattr(info, name, None) for name in JSONL_FIELDS}
    if isinstance(record["created_at"], datetime | date):
        record["created_at"] = record["created_at"].isoformat()
    card = record["card_data"]
    if card is not None and hasattr(card, "to_dict"):
        record["card_data"] = card.to_dict()
    return record


def jsonl_line(record: dict[str, Any]) -> bytes:
    """One compact, key-sorted JSON line; anything not JSON-native is made so by `_json_default`."""
    return (json.dumps(record, sort_keys=True, separators=(",", ":"), default=_json_default) + "\n").encode()


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)
