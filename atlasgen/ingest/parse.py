"""Low-level parsing for the snapshot readers: raw values made safe to carry, and CSV records.

Values: text is stripped; control characters are removed and lone surrogates replaced; an id with nothing
visible is missing; a value of the wrong type, a number that is not a count from 0 to MAX_COUNT, a date
that is not ISO 8601 and an impossible date (before FIRST_DAY or in the future) are blanked. Each change is
counted in the snapshot's `notes` (report.json's repairs), the same way in every format.

CSV: `read_csv` reads the wanted columns of a CSV with the csv module, so that a malformed file is an
InputError naming the data row and the line.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from atlasgen.errors import InputError

log = logging.getLogger("atlasgen.ingest")


def missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, (float, np.floating, np.datetime64)) and bool(np.isnan(value))


def bump(notes: dict[str, int], key: str, n: int = 1) -> None:
    if n:
        notes[key] = notes.get(key, 0) + n


def checked(col: Any, n: int, notes: dict[str, int], name: str, ok: Any) -> list[Any]:
    """A structured column's values, with those of the wrong type blanked and counted as invalid_<name>."""
    if col is None:
        return [None] * n
    values = [v if missing(v) or ok(v) else None for v in col]
    bump(
        notes,
        f"invalid_{name}",
        sum(1 for v, raw in zip(values, col, strict=True) if v is None and not missing(raw)),
    )
    return values


# Characters that show nothing: format characters (bidi marks, zero-width, BOM) and separators.
_INVISIBLE = frozenset(("Cf", "Zs", "Zl", "Zp"))


class Scrub:
    """Makes text values safe to carry, counting into `notes` what it changed.

    Ends are stripped of whitespace (and of invisible characters); control characters are removed
    (`control_characters_removed`); lone surrogates, which no encoder writes, become U+FFFD
    (`invalid_unicode_replaced`); a value that is not text is blanked (`invalid_<field>`). An id keeps its
    inner invisible characters (it is the id) and is counted (`ids_with_invisible_characters`); an id with
    nothing visible is missing.
    """

    def __init__(self, notes: dict[str, int]) -> None:
        self.notes = notes
        self.invisible: set[str] = set()

    def column(self, col: Any, n: int, name: str, *, ident: bool = False) -> pd.Series:
        if col is None:
            return pd.Series([None] * n, dtype=object)
        clean = self.ident if ident else self.text
        return pd.Series([clean(v, name) for v in col], dtype=object)

    def text(self, value: Any, name: str) -> str | None:
        if not isinstance(value, str):
            if not missing(value):
                bump(self.notes, f"invalid_{name}")
            return None
        text = value.strip()
        if not text.isprintable():  # the rare slow path: most text is printable
            text = self._unprintable(text)
        return text or None

    def ident(self, value: Any, name: str = "id") -> str | None:
        text = self.text(value, name)  # None if nothing visible is left: the ends are stripped of invisibles
        if (
            text is not None
            and not value.isprintable()
            and any(unicodedata.category(c) == "Cf" for c in value)
        ):
            self.invisible.add(text)
        return text

    def _unprintable(self, text: str) -> str:
        cats = [unicodedata.category(ch) for ch in text]
        out = "".join(
            "\ufffd" if cat == "Cs" else ch for ch, cat in zip(text, cats, strict=True) if cat != "Cc"
        )
        bump(self.notes, "control_characters_removed", int("Cc" in cats))
        bump(self.notes, "invalid_unicode_replaced", int("Cs" in cats))
        start, end = 0, len(out)
        while start < end and (out[start].isspace() or unicodedata.category(out[start]) in _INVISIBLE):
            start += 1
        while end > start and (out[end - 1].isspace() or unicodedata.category(out[end - 1]) in _INVISIBLE):
            end -= 1
        return out[start:end]

    def finish(self) -> None:
        bump(self.notes, "ids_with_invisible_characters", len(self.invisible))


def _number(value: Any) -> float:
    """A count from one raw value: NaN when missing (NaN is missing in every format, as in a numeric column),
    -1 (invalid) when it is not a finite number."""
    if missing(value):
        return math.nan
    if isinstance(value, (bool, np.bool_)):
        return -1.0
    if isinstance(value, str):
        if not value.strip():
            return math.nan
    elif not isinstance(value, (int, float, np.integer, np.floating)):
        return -1.0
    try:
        num = float(value)
    except (ValueError, OverflowError):
        return -1.0
    return num if math.isfinite(num) or math.isnan(num) else -1.0


# The largest count kept: the largest integer a float64 (the frames' number type) and a JavaScript number (the
# viewer's) hold exactly. No Hub count comes near it; a larger one (1e30, 2**63) is not a count, and the
# index's integer encodings (int64) could not hold it.
MAX_COUNT = 2**53 - 1


def numbers(col: Any, n: int, notes: dict[str, int], name: str) -> pd.Series:
    """Numbers from 0 to MAX_COUNT; anything else that is present is blanked and counted (`invalid_<name>`)."""
    if col is None:
        return pd.Series([math.nan] * n)
    series = col if isinstance(col, pd.Series) else pd.Series(list(col), dtype=object)
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        nums = series.to_numpy(dtype="float64", na_value=np.nan, copy=True)
        nums[np.isinf(nums)] = -1.0
    else:
        nums = np.array([_number(v) for v in series], dtype="float64")
    bad = (nums < 0) | (nums > MAX_COUNT)  # NaN (missing) is neither
    bump(notes, f"invalid_{name}", int(bad.sum()))
    nums[bad] = np.nan
    return pd.Series(nums, dtype="float64")


def _date_text(value: Any) -> str | None:
    """ISO 8601 text of a raw date, "-" when it cannot be one (so it parses to nothing), None when missing."""
    if missing(value):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        # a year first: pandas would also read words such as "now" (a different date every build)
        return text if text[:4].isascii() and text[:4].isdigit() else "-"
    if hasattr(value, "isoformat"):  # datetime, date, pandas Timestamp
        return str(value.isoformat())
    return "-"


# A createdAt outside these days is impossible, whatever the format: before FIRST_DAY, when the Hub held no
# models (the oldest createdAt it reports is 2022-03-02, the day its records were migrated; 2016 leaves room
# for other registries), or after the day of the build (UTC, a day's grace for time zones). 0001-01-01 and
# 9999-12-31 are placeholders, not dates, and once made a trends chart of 99,900 monthly bars.
FIRST_DAY = pd.Timestamp("2016-01-01", tz="UTC")


def possible_dates(parsed: pd.Series, today: pd.Timestamp | None = None) -> pd.Series:
    """Which parsed (UTC) dates are possible: from FIRST_DAY to `today` (default: now) and a day's grace."""
    end = (today if today is not None else pd.Timestamp.now(tz="UTC")).normalize() + pd.Timedelta(days=2)
    return (parsed >= FIRST_DAY) & (parsed < end)


def dates(col: Any, n: int, notes: dict[str, int], today: pd.Timestamp | None = None) -> pd.Series:
    """Days "YYYY-MM-DD" (UTC). Text that is not ISO 8601 is blanked as invalid (`invalid_created_at`), an
    impossible date (possible_dates) as impossible (`impossible_created_at`): the same in every format."""
    if col is None:
        return pd.Series([None] * n, dtype=object)
    today = today if today is not None else pd.Timestamp.now(tz="UTC")
    if isinstance(col, pd.Series) and pd.api.types.is_datetime64_any_dtype(col.dtype):  # hub-stats
        parsed, impossible = pd.Series(pd.to_datetime(col, utc=True)), 0
    else:
        texts = pd.Series([_date_text(v) for v in col], dtype=object)
        # a year far outside the possible ones is impossible before parsing: pandas builds that hold
        # nanoseconds cannot represent years before 1677 or after 2262 and would call it invalid instead
        year = pd.to_numeric(texts.str[:4], errors="coerce")
        far = (year < FIRST_DAY.year) | (year > today.year + 1)
        impossible = int(far.sum())
        parsed = pd.to_datetime(texts.where(~far), errors="coerce", utc=True, format="ISO8601")
        bump(notes, "invalid_created_at", int((parsed.isna() & texts.notna() & ~far).sum()))
    late = parsed.notna() & ~possible_dates(parsed, today)
    bump(notes, "impossible_created_at", impossible + int(late.sum()))
    parsed = parsed.where(~late)
    days = [None if pd.isna(d) else f"{d.year:04d}-{d.month:02d}-{d.day:02d}" for d in parsed]
    return pd.Series(days, dtype=object)


def has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return not value.isprintable() and any("\ud800" <= ch <= "\udfff" for ch in value)
    if isinstance(value, dict):
        return any(has_lone_surrogate(k) or has_lone_surrogate(v) for k, v in value.items())
    return isinstance(value, list) and any(has_lone_surrogate(v) for v in value)


def replace_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in value)
    if isinstance(value, dict):
        return {replace_surrogates(k): replace_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [replace_surrogates(v) for v in value]
    return value


# ---------------------------------------------------------------------------------------------- CSV


def read_csv(
    path: Path,
    columns: tuple[str, ...],
    *,
    required: int,
    aliases: Mapping[str, tuple[str, ...]] | None = None,
) -> pd.DataFrame:
    """`columns` of a CSV (the first `required` must be there) as text, "" for empty: one row per record.

    Header names match in any case. `aliases` names, per column, other names it may have, in order of
    preference: the column's own name first, then the first alias the header has. Every header column left
    unread is logged as a warning (logger `atlasgen.ingest`), so that data read under a name atlasgen does not
    know is never dropped without a word.

    Blank lines are skipped, so row N is the file's N-th data record. Malformed CSV is an InputError naming
    the row and line: an unclosed or stray quote, more fields than the header, bytes that are not UTF-8, or
    a line break inside a field we read (what an unbalanced quote produces).
    """
    if not path.is_file():
        raise InputError(path, "no such file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read ({exc.strerror or exc})") from None
    try:
        text, undecodable = data.decode("utf-8-sig"), False
    except UnicodeDecodeError:
        text, undecodable = data.decode("utf-8-sig", errors="surrogateescape"), True
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    index: list[int] = []
    rows: list[list[str]] = []
    line = 0
    try:
        for fields in reader:
            start, line = line + 1, reader.line_num
            if not fields:
                continue
            if undecodable and any(_has_surrogate(f) for f in fields):
                raise InputError(
                    path, f"not UTF-8 text (line {start})", row=len(rows) + 1 if header else None
                )
            if header is None:
                header = [h.strip() for h in fields]
                index = _header_index(path, header, columns, required, aliases or {})
                continue
            values = [fields[i] if 0 <= i < len(fields) else "" for i in index]
            extra = len(fields) > len(header)
            if line > start and (extra or any("\n" in v or "\r" in v for v in values)):
                problem = f"a quoted field runs from line {start} to {line}: an unbalanced quote?"
                raise InputError(path, problem, row=len(rows) + 1)
            if extra:
                problem = f"{len(fields)} fields where the header has {len(header)} (line {start})"
                raise InputError(path, problem, row=len(rows) + 1)
            rows.append(values)
    except csv.Error as exc:
        problem = CSV_PROBLEMS.get(str(exc), str(exc))
        raise InputError(
            path, f"{problem} (line {line + 1})", row=len(rows) + 1 if header else None
        ) from None
    if header is None:
        raise InputError(path, "empty file: expected a header row " + ",".join(columns[:required]))
    return pd.DataFrame(rows, columns=list(columns), dtype=object)


CSV_PROBLEMS = {
    "unexpected end of data": "a quoted field is never closed",
    "',' expected after '\"'": "a stray quote after a quoted field",
}


def _header_index(
    path: Path,
    header: list[str],
    columns: tuple[str, ...],
    required: int,
    aliases: Mapping[str, tuple[str, ...]],
) -> list[int]:
    """The header position of each of `columns` (-1: absent); logs the header columns left unread."""
    lower = [h.lower() for h in header]
    chosen = [next((n for n in (c, *aliases.get(c, ())) if n.lower() in lower), c) for c in columns]
    absent = [c for c, name in zip(columns[:required], chosen, strict=False) if name.lower() not in lower]
    if absent:
        raise InputError(path, f"missing column(s) {', '.join(absent)}; found {', '.join(header)}")
    twice = [name for name in chosen if lower.count(name.lower()) > 1]
    if twice:
        raise InputError(path, f"column(s) {', '.join(twice)} given twice in the header")
    index = [lower.index(name.lower()) if name.lower() in lower else -1 for name in chosen]
    for col, i in zip(columns, index, strict=True):
        if i >= 0 and header[i].lower() != col.lower():
            log.info("%s: column %s read as %s", path, header[i], col)
    unused = [h for i, h in enumerate(header) if i not in index]
    if unused:
        log.warning(
            "%s: column(s) %s not used (read: %s)",
            path,
            ", ".join(h or "(unnamed)" for h in unused),
            ", ".join(header[i] for i in index if i >= 0),
        )
    return index


def _has_surrogate(text: str) -> bool:
    return not text.isprintable() and any("\udc80" <= ch <= "\udcff" for ch in text)
