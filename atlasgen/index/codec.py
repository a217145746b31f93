"""Compact text encodings shared by the index files (mirrored in ``site/src/normalise.js``).

* **varint stream** -- non-negative integers, each as 5-bit groups most significant first, one character per
  group from ``ALPHABET``: the last group of a number is ``ALPHABET[g]`` (g < 32), every earlier one
  ``ALPHABET[32 + g]``. ``0..31`` is one character, ``< 1024`` two, ``< 32768`` three.
* **fixed stream** -- ``width`` characters per number, 6 bits each, most significant first.
* **front coding** -- a sorted list of strings as ``(shared, rest)`` per string: the length of the prefix
  shared with the previous string (the first is compared with a given start), then the length of the rest,
  both in UTF-16 code units (what a JavaScript string's ``length`` and ``slice`` count); the rests are
  concatenated into one string.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"
_CODES = np.frombuffer(ALPHABET.encode("ascii"), dtype=np.uint8)


def varints(values: Iterable[int] | np.ndarray) -> str:
    """Encode non-negative integers as one varint stream (vectorised)."""
    v = np.asarray(values if isinstance(values, np.ndarray) else list(values), dtype=np.int64).ravel()
    if len(v) == 0:
        return ""
    if v.min() < 0:
        raise ValueError("varints encode non-negative integers only")
    groups = np.ones(len(v), dtype=np.int64)
    rest = v >> 5
    while rest.any():
        groups += rest > 0
        rest >>= 5
    ends = np.cumsum(groups)
    out = np.empty(int(ends[-1]), dtype=np.uint8)
    pos = ends - 1  # last character of each number
    cur = v.copy()
    first = True
    alive = np.ones(len(v), dtype=bool)
    while alive.any():
        idx = np.nonzero(alive)[0]
        g = cur[idx] & 31
        out[pos[idx]] = _CODES[g if first else g + 32]
        cur[idx] >>= 5
        pos[idx] -= 1
        first = False
        alive[idx] = cur[idx] > 0
    return out.tobytes().decode("ascii")


def fixed(values: Iterable[int] | np.ndarray, width: int) -> str:
    """Encode integers in ``[0, 64**width)`` with exactly ``width`` characters each."""
    v = np.asarray(values if isinstance(values, np.ndarray) else list(values), dtype=np.int64).ravel()
    if len(v) and (v.min() < 0 or v.max() >= 1 << (6 * width)):
        raise ValueError(f"value out of range for {width} fixed characters")
    out = np.empty((len(v), width), dtype=np.uint8)
    for k in range(width):
        out[:, width - 1 - k] = _CODES[(v >> (6 * k)) & 63]
    return out.tobytes().decode("ascii")


def vertex_width(n: int) -> int:
    """Fixed characters per vertex number for ``n`` vertices (3 up to 262,144, 4 up to 16.7M)."""
    width = 1
    while 64**width < n:
        width += 1
    return width


def decode_varints(text: str) -> list[int]:
    """Inverse of ``varints`` (tests and tools)."""
    out, cur = [], 0
    for ch in text:
        d = ALPHABET.index(ch)
        if d >= 32:
            cur = (cur << 5) | (d - 32)
        else:
            out.append((cur << 5) | d)
            cur = 0
    return out


def decode_fixed(text: str, width: int) -> list[int]:
    out = []
    for i in range(0, len(text), width):
        cur = 0
        for ch in text[i : i + width]:
            cur = (cur << 6) | ALPHABET.index(ch)
        out.append(cur)
    return out


def utf16_len(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


def shared_prefix(a: str, b: str) -> int:
    """Length (code points) of the longest common prefix of ``a`` and ``b``."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def front_code(strings: Sequence[str], start: str = "") -> tuple[list[int], str]:
    """``([shared0, rest0, shared1, rest1, ...], rests)`` for ``strings`` (any order; sorted compresses)."""
    lens: list[int] = []
    rests: list[str] = []
    prev = start
    for s in strings:
        shared = shared_prefix(prev, s)
        rest = s[shared:]
        lens.append(utf16_len(s[:shared]) if shared else 0)
        lens.append(utf16_len(rest))
        rests.append(rest)
        prev = s
    return lens, "".join(rests)


def front_decode(lens: Sequence[int], rests: str, start: str = "") -> list[str]:
    """Inverse of ``front_code`` working in UTF-16 units, as the viewer does."""
    units = rests.encode("utf-16-le")
    prev = start.encode("utf-16-le")
    out, pos = [], 0
    for i in range(0, len(lens), 2):
        shared, n = lens[i], lens[i + 1]
        cur = prev[: 2 * shared] + units[2 * pos : 2 * (pos + n)]
        pos += n
        out.append(cur.decode("utf-16-le"))
        prev = cur
    return out
