"""`atlasgen fetch`: take a snapshot of the Hub's models.

Two sources:

- ``hub-stats`` (default, fast): the ``models.parquet`` of the ``cfahlgren1/hub-stats`` dataset, downloaded
  with ``hf_hub_download`` into a throw-away cache beside ``out``, checked to be a parquet with an ``id``
  column, then copied onto ``out``.
- ``api`` (slow, the whole Hub is ~2,000 pages): ``HfApi.list_models(expand=...)`` paged through, one JSON
  object per line with the ``ModelInfo`` fields in ``JSONL_FIELDS`` (snake_case, datetimes as ISO strings).

Both honour ``HF_TOKEN`` (huggingface_hub reads it when ``token`` is None) and ``HF_ENDPOINT``, read from the
environment at call time (huggingface_hub itself reads it once, at import). ``out`` is replaced atomically
(temp file in the same folder, fsync, ``os.replace``) and a manifest is written beside it as
``<out>.manifest.json``; on any error ``out`` is left as it was and no temp file remains. Network and HTTP
failures become :class:`~atlasgen.errors.FetchError` naming the URL or endpoint and the status.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

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
_CHUNK = 1 << 20


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
) -> dict[str, Any]:
    """Fetch a snapshot into ``out`` (parquet for ``hub-stats``, JSONL for ``api``); return the manifest.

    ``token=None`` lets huggingface_hub use ``HF_TOKEN`` or the saved login. ``limit`` caps the number of
    models listed (``api`` only). ``repo_id``/``filename``/``revision`` name the hub-stats file.
    """
    _validate(source=source, limit=limit)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    endpoint = hub_endpoint()
    if source == "hub-stats":
        rows, digest = _fetch_hub_stats(
            out=out,
            endpoint=endpoint,
            token=token,
            repo_id=repo_id,
            filename=filename,
            revision=revision,
            progress=progress,
        )
        origin: dict[str, Any] = {"repo_id": repo_id, "filename": filename, "revision": revision}
    else:
        rows, digest = _fetch_api(out=out, endpoint=endpoint, token=token, limit=limit, progress=progress)
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
    *, out: Path, endpoint: str, token: str | None, repo_id: str, filename: str, revision: str, progress: bool
) -> tuple[int, str]:
    """Download the hub-stats parquet into a scratch cache beside ``out``, check it, copy it onto ``out``."""
    url = f"{endpoint}/datasets/{repo_id}/resolve/{revision}/{filename}"
    scratch = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".cache", dir=out.parent))
    try:
        local = _download(url, endpoint, token, repo_id, filename, revision, scratch, progress)
        rows = _parquet_rows(local, url)
        with atomic_writer(out) as f, local.open("rb") as src:
            digest = _copy_hashing(src, f)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return rows, digest


def _download(
    url: str,
    endpoint: str,
    token: str | None,
    repo_id: str,
    filename: str,
    revision: str,
    cache_dir: Path,
    progress: bool,
) -> Path:
    from huggingface_hub import hf_hub_download

    with hub_errors(f"downloading dataset file {repo_id}/{filename}@{revision}", url=url, repo_id=repo_id):
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
    *, out: Path, endpoint: str, token: str | None, limit: int | None, progress: bool
) -> tuple[int, str]:
    """Page through /api/models and write one JSON object per model; returns (rows, sha256)."""
    from tqdm.auto import tqdm

    digest = hashlib.sha256()
    rows = 0
    with (
        atomic_writer(out) as f,
        tqdm(total=limit, unit=" models", desc="Listing models", disable=not progress) as bar,
    ):
        for info in _list_models(endpoint, token, limit):
            line = jsonl_line(model_record(info))
            digest.update(line)
            f.write(line)
            rows += 1
            bar.update(1)
    return rows, digest.hexdigest()


def _list_models(endpoint: str, token: str | None, limit: int | None) -> Iterator[ModelInfo]:
    """``HfApi.list_models`` with network and HTTP failures turned into FetchError."""
    from huggingface_hub import HfApi

    api = HfApi(endpoint=endpoint, token=token, library_name="atlasgen", library_version=__version__)
    with hub_errors(f"listing models from {endpoint}", url=f"{endpoint}/api/models"):
        yield from api.list_models(expand=list(API_EXPAND), limit=limit)  # type: ignore[arg-type]


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


def _status(err: Any) -> str:
    response = getattr(err, "response", None)
    return f"HTTP {response.status_code}" if response is not None else "no HTTP status"


def _url(err: Any, default: str) -> str:
    response = getattr(err, "response", None)
    try:
        return str(response.request.url) if response is not None else default
    except RuntimeError:  # a response built without a request
        return default
