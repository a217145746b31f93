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
``<out>.manifest.json``; on any error, or a ``kill -9``, ``out`` is left as it was. Network and HTTP
failures become :class:`~atlasgen.errors.FetchError` naming the URL or endpoint and the status.

Failures that may pass (HTTP 408/429/5xx, a reset or dropped connection, a timeout, a truncated body) are
retried as :class:`RetryPolicy` says: ``Retry-After`` honoured up to a cap, else exponential back-off with
jitter, a bounded number of times. An ``api`` fetch checkpoints page by page into ``<out>.partial`` and
``<out>.partial.state.json``, so ``resume=True`` (``--resume``) goes on where a failed or killed run stopped,
with no row twice and none missing. huggingface_hub resumes a ``hub-stats`` download whose connection drops
within the run (HTTP Range); since 2.x it never reuses another process's partial download, so a killed
``hub-stats`` fetch downloads the file again.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import os
import random
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, is_dataclass, replace
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode

from atlasgen import __version__
from atlasgen.errors import AtlasgenError, FetchError

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
# Statuses worth another try (huggingface_hub's own list for `http_backoff`); anything else fails at once.
RETRY_STATUSES = (408, 429, 500, 502, 503, 504)
_CHUNK = 1 << 20
log = logging.getLogger("atlasgen.fetch")
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How a fetch retries a request that failed in a way that may pass.

    Retried: HTTP 408, 429, 500, 502, 503 and 504; a refused, reset or dropped connection; a timeout; a body
    cut short or not JSON. Anything else (401, 403, 404, offline mode) fails at once.

    Retry n waits what the server asked for, ``Retry-After`` (seconds or an HTTP date) or on a 429 the Hub's
    ``RateLimit`` reset, at most ``retry_after_max`` seconds; without one, a random time between half and all
    of ``backoff * 2**(n - 1)``, at most ``backoff_max`` (exponential back-off with jitter, so clients that
    failed together do not come back together). After ``retries`` retries the last failure is raised as a
    FetchError that says how many attempts were made. ``timeout`` bounds each wait for a page of
    ``/api/models`` (huggingface_hub's ``HF_HUB_ETAG_TIMEOUT`` and ``HF_HUB_DOWNLOAD_TIMEOUT`` govern
    hub-stats downloads, which it also retries on its own).

    Operating advice: the defaults ride out about half a minute of errors, the Hub's rate-limit windows
    (5 minutes) included; a whole-Hub ``api`` fetch that still fails goes on from its last page with
    ``--resume``. Tests set ``backoff`` to milliseconds.
    """

    retries: int = 5
    backoff: float = 1.0
    backoff_max: float = 30.0
    retry_after_max: float = 300.0
    timeout: float = 60.0

    def __post_init__(self) -> None:
        problems = [
            f"{n} must be at least 0, got {getattr(self, n)}" for n in _NON_NEGATIVE if getattr(self, n) < 0
        ]
        if self.timeout <= 0:
            problems.append(f"timeout must be positive, got {self.timeout}")
        if problems:
            raise AtlasgenError("retry policy: " + "; ".join(problems))

    def wait(self, retry: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.retry_after_max)
        ceiling = min(self.backoff_max, self.backoff * 2 ** (retry - 1))
        return random.uniform(ceiling / 2, ceiling)


_NON_NEGATIVE = ("retries", "backoff", "backoff_max", "retry_after_max")


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
    out.parent.mkdir(parents=True, exist_ok=True)
    endpoint = hub_endpoint()
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
        )
        origin = {"expand": list(API_EXPAND), "limit": limit}
    manifest = {
        "source": source,
        "endpoint": endpoint,
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


def partial_path(out: Path) -> Path:
    """The rows an unfinished ``api`` fetch of ``out`` has so far: ``<out>.partial`` (JSON Lines)."""
    return out.with_name(out.name + ".partial")


def state_path(out: Path) -> Path:
    """Its checkpoint: ``<out>.partial.state.json`` (next page URL, rows and bytes of the partial so far)."""
    return out.with_name(out.name + ".partial.state.json")


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


# -- atomic writes ---------------------------------------------------------------------------------------


@contextmanager
def atomic_writer(path: Path) -> Iterator[IO[bytes]]:
    """A binary file that replaces ``path`` only if the block completes; otherwise nothing changes."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        tmp.chmod(0o644)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # not supported on this platform / filesystem
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


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
) -> tuple[int, str]:
    """Download the hub-stats parquet into a scratch cache beside ``out``, check it, copy it onto ``out``.

    huggingface_hub retries some failures itself (the HEAD, a 429, a connection dropped mid-file, which it
    resumes with a Range request) but not a 5xx on the download or a file that came short; ``_retrying``
    repeats the whole ``hf_hub_download`` for those. The scratch folder has a fixed name, so one left by a
    killed run is found and removed by the next.
    """
    url = f"{endpoint}/datasets/{repo_id}/resolve/{revision}/{filename}"
    scratch = out.with_name(f".{out.name}.download")
    if scratch.exists():
        log.warning("removing %s, left by an interrupted fetch", scratch)
        shutil.rmtree(scratch, ignore_errors=True)
    action = f"downloading dataset file {repo_id}/{filename}@{revision}"
    download = functools.partial(_download, endpoint, token, repo_id, filename, revision, scratch, progress)
    try:
        local = _retrying(action, url, policy, download, repo_id=repo_id)
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
        tqdm_class=None if progress else _silent_bar_class(),
    )
    return Path(path).resolve()


def _silent_bar_class() -> type[Any]:
    """A tqdm class that never draws (huggingface_hub passes custom classes no `disable` of its own)."""
    from tqdm.auto import tqdm

    class SilentBar(tqdm):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **{**kwargs, "disable": True})

    return SilentBar


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
    while chunk := src.read(_CHUNK):
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
) -> tuple[int, str]:
    """Page through /api/models into ``<out>.partial``, checkpointing each page; move it onto ``out``.

    This is ``HfApi.list_models`` (same request, same ``ModelInfo``s) with the pages in our hands: its
    iterator retries each page with ``http_backoff``, but an error it gives up on ends the iteration and the
    cursor of the next page is lost with it, so nothing could resume. Here each page is fetched by
    ``_get_page`` inside ``_retrying``, and once its rows are on disk the next page's URL (the Hub's opaque
    cursor) is checkpointed.
    """
    from tqdm.auto import tqdm

    params: dict[str, Any] = {"expand": list(API_EXPAND)}
    if limit is not None:
        params["limit"] = limit
    first = f"{endpoint}/api/models?{urlencode(params, doseq=True)}"
    headers = _hub_headers(token)
    with (
        _Partial(out, first, resume=resume) as partial,
        tqdm(
            total=limit,
            initial=partial.done.rows,
            unit=" models",
            desc="Listing models",
            disable=not progress,
        ) as bar,
    ):
        try:
            while partial.done.next and (limit is None or partial.done.rows < limit):
                url = partial.done.next
                get = functools.partial(_get_page, url, headers, policy.timeout)
                items, next_url = _retrying(f"listing models from {endpoint}", url, policy, get)
                items = items if limit is None else items[: limit - partial.done.rows]
                partial.append(b"".join(jsonl_line(model_record(_model_info(i))) for i in items), next_url)
                bar.update(len(items))
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
    """One page of /api/models through huggingface_hub's HTTP session: (models, URL of the next page)."""
    from huggingface_hub.utils import get_session, hf_raise_for_status

    response = get_session().get(url, headers=headers, timeout=timeout)
    hf_raise_for_status(response)
    items = response.json()
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise MalformedResponse(f"expected a JSON list of models, got {type(items).__name__}")
    return items, response.links.get("next", {}).get("url")


def _model_info(item: dict[str, Any]) -> ModelInfo:
    """What ``HfApi.list_models`` makes of one item."""
    from huggingface_hub import ModelInfo

    item.setdefault("siblings", None)
    return ModelInfo(**item)


class MalformedResponse(ValueError):
    """A 200 whose body is JSON but not what the endpoint returns."""


@dataclass(frozen=True)
class _Checkpoint:
    query: str  # the first page's URL: the endpoint and every option that shapes the rows
    next: str | None  # the page to fetch next; None once the last page is in
    rows: int  # rows in the partial file up to `size`
    size: int  # bytes of the partial file that are checkpointed; anything past them is dropped on resume


class _Partial:
    """``<out>.partial`` (JSON Lines, appended and fsync'd page by page) and ``<out>.partial.state.json``
    (a ``_Checkpoint``, replaced atomically once a page's rows are durable).

    A kill leaves at most one page past the checkpoint, which ``resume`` cuts off; ``finish`` checks the
    line count, moves the file onto ``out`` and removes the checkpoint.
    """

    def __init__(self, out: Path, query: str, *, resume: bool) -> None:
        self.out, self.rows_path, self.state_path = out, partial_path(out), state_path(out)
        found = self._resumable(query) if resume else None
        if not resume and (self.rows_path.exists() or self.state_path.exists()):
            log.warning("discarding the unfinished fetch in %s (--resume goes on from it)", self.rows_path)
        self.done = found or _Checkpoint(query=query, next=query, rows=0, size=0)
        self.file = self.rows_path.open("r+b" if found else "wb")
        self.file.truncate(self.done.size)
        self.file.seek(self.done.size)
        self._save()

    def __enter__(self) -> _Partial:
        return self

    def __exit__(self, *exc: object) -> None:
        self.file.close()

    def _resumable(self, query: str) -> _Checkpoint | None:
        if not self.state_path.exists():
            log.warning("nothing to resume in %s: starting from the first page", self.state_path)
            return None
        try:
            state = json.loads(self.state_path.read_text(encoding="utf-8"))
            done = _Checkpoint(**{key: state[key] for key in ("query", "next", "rows", "size")})
            have = self.rows_path.stat().st_size
        except (OSError, ValueError, KeyError, TypeError) as err:
            log.warning("cannot resume from %s (%s): starting from the first page", self.state_path, err)
            return None
        if done.query != query:
            log.warning(
                "%s was fetched with other options (%s): starting from the first page",
                self.rows_path,
                done.query,
            )
            return None
        if have < done.size:
            log.warning("%s is shorter than its checkpoint: starting from the first page", self.rows_path)
            return None
        if have > done.size:
            log.info(
                "dropping %d bytes of %s written after its last checkpoint", have - done.size, self.rows_path
            )
        log.info("resuming %s at model %d", self.out, done.rows + 1)
        return done

    def append(self, data: bytes, next_url: str | None) -> None:
        """Make a page's rows durable, then checkpoint the page after it."""
        self.file.write(data)
        self.file.flush()
        os.fsync(self.file.fileno())
        self.done = replace(
            self.done, next=next_url, rows=self.done.rows + data.count(b"\n"), size=self.file.tell()
        )
        self._save()

    def _save(self) -> None:
        with atomic_writer(self.state_path) as f:
            f.write(json.dumps(asdict(self.done), sort_keys=True).encode())

    def finish(self) -> tuple[int, str]:
        """Check the partial file against its checkpoint, move it onto ``out``; (rows, sha256)."""
        self.file.close()
        digest, lines = hashlib.sha256(), 0
        with self.rows_path.open("rb") as f:
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
                lines += chunk.count(b"\n")
        if lines != self.done.rows or self.rows_path.stat().st_size != self.done.size:
            raise FetchError(
                f"{self.rows_path} has {lines:,} rows but its checkpoint says {self.done.rows:,}: "
                "run again without --resume"
            )
        self.rows_path.chmod(0o644)
        os.replace(self.rows_path, self.out)
        _fsync_dir(self.out.parent)
        self.state_path.unlink(missing_ok=True)
        return lines, digest.hexdigest()


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


# -- retries ---------------------------------------------------------------------------------------------


def _retrying(
    action: str, url: str, policy: RetryPolicy, call: Callable[[], T], *, repo_id: str | None = None
) -> T:
    """``call()``, retried as ``policy`` says while it fails in a way that may pass; FetchError otherwise.

    Our loop rather than huggingface_hub's ``http_backoff``, which waits ``Retry-After`` + 1 s with no cap,
    has no jitter, waits with the process-wide ``time.sleep`` (so tests could not shorten one wait alone),
    and cannot retry a 200 whose body is cut short (only the JSON parse finds that) or a whole
    ``hf_hub_download`` (which does not retry a 5xx on its GET).
    """
    attempt = 1
    while True:
        try:
            with hub_errors(action, url=url, repo_id=repo_id):
                return call()
        except FetchError as err:
            transient, retry_after = _retry_hint(err.__cause__)
            if not transient:
                raise
            if attempt > policy.retries:
                raise FetchError(f"{err.message} (gave up after {attempt} attempts)") from err.__cause__
            wait = policy.wait(attempt, retry_after)
            log.warning("%s; retry %d of %d in %.2f s", err.message, attempt, policy.retries, wait)
            _sleep(wait)
            attempt += 1


def _sleep(seconds: float) -> None:
    """The one place fetch waits (tests replace it to see the waits without sleeping)."""
    time.sleep(seconds)


def _retry_hint(err: BaseException | None) -> tuple[bool, float | None]:
    """Whether ``err`` (or what caused it) may pass on a retry, and the wait the server asked for, if any."""
    import httpx2
    from huggingface_hub.errors import HfHubHTTPError

    transient = (
        httpx2.TimeoutException,
        httpx2.NetworkError,
        httpx2.RemoteProtocolError,
        json.JSONDecodeError,  # a body cut short
        MalformedResponse,
    )
    while err is not None:
        if isinstance(err, HfHubHTTPError) and getattr(err, "response", None) is not None:
            status = err.response.status_code
            return status in RETRY_STATUSES, _retry_after(err.response.headers, status)
        if isinstance(err, transient) or _is_short_download(err):
            return True, None
        err = err.__cause__
    return False, None


def _retry_after(headers: Mapping[str, str], status: int) -> float | None:
    """Seconds a response asks to wait: ``Retry-After`` (seconds or HTTP date), else a 429's ``RateLimit``."""
    from huggingface_hub.utils import parse_ratelimit_headers

    value = headers.get("Retry-After", "").strip()
    if value:
        try:
            seconds = float(value)
        except ValueError:
            pass
        else:
            return max(seconds, 0.0) if math.isfinite(seconds) else None
        try:
            return max((parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds(), 0.0)
        except (TypeError, ValueError):  # not a date, or one without a zone
            pass
    limits = parse_ratelimit_headers(headers) if status == 429 else None
    return float(limits.reset_in_seconds) if limits is not None and limits.remaining == 0 else None


def _is_short_download(err: BaseException) -> bool:
    """huggingface_hub's ``http_get`` raises a bare OSError when fewer bytes came than the HEAD announced."""
    return type(err) is OSError and "Consistency check failed" in str(err)


# -- errors ----------------------------------------------------------------------------------------------


@contextmanager
def hub_errors(action: str, *, url: str, repo_id: str | None = None) -> Iterator[None]:
    """Turn huggingface_hub / httpx2 failures inside the block into a FetchError that says what failed."""
    import httpx2
    from huggingface_hub import errors as hf

    try:
        yield
    except hf.RepositoryNotFoundError as err:  # includes GatedRepoError
        raise FetchError(
            f"{action}: repository {repo_id!r} not found or not accessible ({_status(err)}, {_url(err, url)}). "
            "Check the name; for a private or gated repo set HF_TOKEN."
        ) from err
    except (hf.RevisionNotFoundError, hf.RemoteEntryNotFoundError) as err:
        what = "revision" if isinstance(err, hf.RevisionNotFoundError) else "file"
        raise FetchError(f"{action}: {what} not found ({_status(err)}, {_url(err, url)})") from err
    except hf.HfHubHTTPError as err:
        detail = f": {err.server_message}" if err.server_message else ""
        raise FetchError(f"{action}: {_status(err)} from {_url(err, url)}{detail}") from err
    except hf.OfflineModeIsEnabled as err:
        raise FetchError(f"{action}: HF_HUB_OFFLINE is set, so the Hub cannot be reached") from err
    except (hf.LocalEntryNotFoundError, hf.FileMetadataError) as err:
        cause = err.__cause__ or err
        raise FetchError(f"{action}: could not read {url}: {cause}") from err
    except httpx2.HTTPError as err:
        raise FetchError(f"{action}: could not reach {url}: {type(err).__name__}: {err}") from err
    except json.JSONDecodeError as err:
        raise FetchError(f"{action}: malformed JSON from {url}: {err}") from err
    except MalformedResponse as err:
        raise FetchError(f"{action}: unexpected answer from {url}: {err}") from err
    except OSError as err:
        if not _is_short_download(err):
            raise
        raise FetchError(f"{action}: incomplete download from {url}: {err}") from err


def _status(err: Any) -> str:
    response = getattr(err, "response", None)
    return f"HTTP {response.status_code}" if response is not None else "no HTTP status"


def _url(err: Any, default: str) -> str:
    response = getattr(err, "response", None)
    try:
        return str(response.request.url) if response is not None else default
    except RuntimeError:  # a response built without a request
        return default
