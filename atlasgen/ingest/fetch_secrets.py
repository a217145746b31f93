"""Credentials in `atlasgen fetch`: sent only to the endpoint's origin, never written in a message or a file.

A fetch holds up to two secrets: the Hub token (``HF_TOKEN``, the saved login or ``token=``), sent as
``Authorization: Bearer``, and a ``user:password@`` in ``HF_ENDPOINT``, which the HTTP client sends as Basic
auth. :func:`scoped` sends both only to the endpoint's **origin** (scheme, host and port: another port is
another server); a next-page link to anywhere else is followed without them. :func:`public_url` is a URL
without its ``user:password@``: what fetch shows in messages and stores in its manifest and checkpoint.
:func:`redact` cleans text a server or library produced (error bodies echo headers, exceptions quote URLs):
URL credentials, ``Authorization``/``Cookie``/token-like fields, bearer and Hub tokens, and the known secrets
themselves, whole, wherever they appear; and it makes the text one line of bounded length.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit

MASK = "***"
# Headers and fields whose value is a credential, by (part of) their name.
_SECRET_NAME = r"[\w-]*(?:authorization|cookie|token|secret|password|passwd|api[_-]?key|session)[\w-]*"
_VALUE = r"[^\s,;&\"'}\]]+"
_PATTERNS = (
    # bare credentials: bearer/basic values and Hugging Face tokens
    (re.compile(r"(?i)\b(bearer|basic)\s+[\w.~+/=-]+"), rf"\1 {MASK}"),
    (re.compile(r"\bhf_[A-Za-z0-9]{8,}"), MASK),
    # user:password@ in any URL
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@\"'<>]+@"), rf"\1{MASK}@"),
    # "authorization": "Bearer x" / 'cookie': '...' (JSON or a Python dict's repr)
    (re.compile(rf"""(?i)(["']{_SECRET_NAME}["']\s*:\s*)(["'])(?:\\.|(?!\2).)*\2"""), rf"\1\2{MASK}\2"),
    # Authorization: Bearer x / cookie=a=b; c=d / token=x (headers, query strings, log lines)
    (
        re.compile(rf"(?i)\b({_SECRET_NAME})(\s*[:=]\s*)(?![\"'\s]){_VALUE}(?:;\s*{_VALUE})*"),
        rf"\1\2{MASK}",
    ),
)
MAX_LENGTH = 500


def origin(url: str) -> tuple[str, str, int | None]:
    """A URL's origin: scheme, host and port (the scheme's default when none is given)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:  # a port that is not a number: no origin matches it
        port = -1
    return scheme, (parts.hostname or "").lower(), port or {"http": 80, "https": 443}.get(scheme)


def public_url(url: str) -> str:
    """``url`` without a ``user:password@``."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def scoped(url: str, endpoint: str, headers: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The URL and headers to request ``url`` with: the endpoint's credentials (its ``user:password@`` and
    the token in ``headers``) where ``url`` has the endpoint's origin, none of them anywhere else."""
    url = public_url(url)
    if origin(url) != origin(endpoint):
        private = {"authorization", "cookie", "proxy-authorization"}
        return url, {k: v for k, v in headers.items() if k.lower() not in private}
    credentials = urlsplit(endpoint).netloc.rpartition("@")[0]
    if credentials:
        parts = urlsplit(url)
        url = urlunsplit(parts._replace(netloc=f"{credentials}@{parts.netloc}"))
    return url, headers


def known_secrets(endpoint: str, token: str | None) -> list[str]:
    """The secrets this fetch holds: the token given or in the environment, the endpoint's user:password."""
    found = [token or "", os.environ.get("HF_TOKEN", ""), os.environ.get("HUGGING_FACE_HUB_TOKEN", "")]
    parts = urlsplit(endpoint)
    found += [parts.password or "", parts.netloc.rpartition("@")[0]]
    return sorted({s for s in found if len(s) >= 4}, key=len, reverse=True)  # longest first


def redact(text: str, secrets: Sequence[str] = ()) -> str:
    """``text`` with credentials masked, on one line, at most ``MAX_LENGTH`` characters."""
    for secret in secrets:
        text = text.replace(secret, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    text = " ".join(text.split())
    return text if len(text) <= MAX_LENGTH else text[: MAX_LENGTH - 1] + "…"
