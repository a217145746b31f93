"""Retries for `atlasgen fetch`: the policy, the loop, and the Hub errors it turns into FetchErrors.

:class:`RetryPolicy` says how often and how long to retry; ``retrying`` runs a call under it, retrying while
it fails in a way that may pass (HTTP 408/429/5xx, a refused, reset or dropped connection, a timeout, a body
cut short or not JSON, a download that came short) and waiting ``Retry-After`` up to a cap, else exponential
back-off with jitter, through ``_sleep`` (the one place fetch waits, which tests replace). ``hub_errors``
turns a huggingface_hub or httpx2 failure into a :class:`~atlasgen.errors.FetchError` naming the action,
the URL and the status; :class:`MalformedResponse` marks a 200 whose body is not what the endpoint returns.
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

from atlasgen.errors import AtlasgenError, FetchError
from atlasgen.ingest.fetch_secrets import redact

# Statuses worth another try (huggingface_hub's own list for `http_backoff`); anything else fails at once.
RETRY_STATUSES = (408, 429, 500, 502, 503, 504)
log = logging.getLogger("atlasgen.ingest.fetch")  # one logger for all of fetch
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


class MalformedResponse(ValueError):
    """A 200 whose body is JSON but not what the endpoint returns."""


# -- retries ---------------------------------------------------------------------------------------------


def retrying(
    action: str,
    url: str,
    policy: RetryPolicy,
    call: Callable[[], T],
    *,
    repo_id: str | None = None,
    secrets: Sequence[str] = (),
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
            with hub_errors(action, url=url, repo_id=repo_id, secrets=secrets):
                return call()
        except FetchError as err:
            transient, retry_after = _retry_hint(err.__cause__)
            if not transient:
                raise
            if attempt > policy.retries:
                tries = f"{attempt} attempt{'s' if attempt > 1 else ''}"
                raise FetchError(f"{err.message} (gave up after {tries})") from err.__cause__
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
def hub_errors(
    action: str, *, url: str, repo_id: str | None = None, secrets: Sequence[str] = ()
) -> Iterator[None]:
    """Turn any failure of huggingface_hub / httpx2 inside the block into a one-line FetchError that says
    what failed, with credentials redacted (``secrets`` are masked wherever they appear). Only an OSError of
    our own (a full disk, say) and atlasgen's own errors pass through."""
    try:
        yield
    except AtlasgenError:
        raise
    except Exception as err:
        if type(err) is not OSError and isinstance(err, OSError) and not _is_hub_error(err):
            raise  # FileNotFoundError, PermissionError, ...: the local disk, which the CLI reports itself
        raise FetchError(redact(_describe(err, action, url, repo_id), secrets)) from err


def _is_hub_error(err: BaseException) -> bool:
    """One of huggingface_hub's own errors (several of which are OSErrors)."""
    return type(err).__module__.split(".")[0] == "huggingface_hub"


def _describe(err: Exception, action: str, url: str, repo_id: str | None) -> str:
    """What a Hub call's failure means, for a person."""
    import httpx2
    from huggingface_hub import errors as hf

    if isinstance(err, hf.RepositoryNotFoundError):  # includes GatedRepoError
        return (
            f"{action}: repository {repo_id!r} not found or not accessible "
            f"({_status(err)}, {_url(err, url)}). Check the name; for a private or gated repo set HF_TOKEN."
        )
    if isinstance(err, hf.RevisionNotFoundError | hf.RemoteEntryNotFoundError):
        what = "revision" if isinstance(err, hf.RevisionNotFoundError) else "file"
        return f"{action}: {what} not found ({_status(err)}, {_url(err, url)})"
    if isinstance(err, hf.HfHubHTTPError):
        detail = f": {err.server_message}" if err.server_message else ""
        return f"{action}: {_status(err)} from {_url(err, url)}{detail}"
    if isinstance(err, hf.OfflineModeIsEnabled):
        return f"{action}: HF_HUB_OFFLINE is set, so the Hub cannot be reached"
    if isinstance(err, hf.LocalEntryNotFoundError | hf.FileMetadataError):
        return f"{action}: could not read {url}: {err.__cause__ or err}"
    if isinstance(err, httpx2.HTTPError):
        return f"{action}: could not reach {url}: {type(err).__name__}: {err}"
    if isinstance(err, json.JSONDecodeError):
        return f"{action}: malformed JSON from {url}: {err}"
    if isinstance(err, MalformedResponse):
        return f"{action}: unexpected answer from {url}: {err}"
    if _is_short_download(err):
        return f"{action}: incomplete download from {url}: {err}"
    return f"{action}: huggingface_hub failed ({type(err).__name__}: {err}){_cache_hint(err)}"


def _cache_hint(err: BaseException) -> str:
    """Where the failure came from a file huggingface_hub caches, which file to delete.

    huggingface_hub (2.4) asks ``{endpoint}/api/agent-harnesses`` for a registry it keeps for 24 h in
    ``HF_HOME`` and uses for every request's user agent; an answer of the wrong shape (a JSON list) breaks
    every later request to any endpoint until the file goes.
    """
    from huggingface_hub import constants

    frames = [frame.f_code.co_filename for frame, _ in traceback.walk_tb(err.__traceback__)]
    if not any(name.endswith("_detect_agent.py") for name in frames):
        return ""
    return (
        f"; its cached agent registry {constants.AGENT_HARNESSES_PATH} is malformed "
        "(an endpoint's /api/agent-harnesses answer): delete that file"
    )


def _status(err: Any) -> str:
    response = getattr(err, "response", None)
    return f"HTTP {response.status_code}" if response is not None else "no HTTP status"


def _url(err: Any, default: str) -> str:
    response = getattr(err, "response", None)
    try:
        return str(response.request.url) if response is not None else default
    except RuntimeError:  # a response built without a request
        return default
