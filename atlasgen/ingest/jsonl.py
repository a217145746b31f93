"""The `jsonl` format: JSON Lines of `huggingface_hub` ModelInfo dicts (what `atlasgen fetch --source api`
writes), plain or gzipped; the Hub API's camelCase keys are accepted too.

A line that is not a JSON object, not UTF-8 or cut short is an InputError naming the file and the row.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

import pandas as pd

from atlasgen.errors import InputError
from atlasgen.ingest.frames import LISTED_ROWS, Snapshot
from atlasgen.ingest.parse import bump, has_lone_surrogate, replace_surrogates
from atlasgen.ingest.records import HUB_STATS_COLUMNS, SNAKE_TO_CAMEL, from_records


def read_jsonl(path: Path, nodes: Path | None = None) -> Snapshot:
    """One JSON object per line, row N being line N; a line with nothing to read (blank, or an object with
    none of the fields read) is a row without an id, dropped and counted by graph.dag: only counted here
    (Snapshot.empty_rows), so that a file of millions of them costs no memory per line.
    `nodes` is never given: the records hold the models."""
    records: list[dict[str, Any]] = []
    rows: list[int] = []
    empty: list[int] = []
    replaced = lines = lineno = 0
    try:
        with _open_binary(path) as handle:
            for lineno, raw in enumerate(handle, start=1):
                record, fixed = _json_record(path, raw, lineno)
                replaced += fixed
                lines += bool(raw.strip(b" \t\r\n\xef\xbb\xbf"))
                if record:
                    records.append(record)
                    rows.append(lineno)
                elif len(empty) < LISTED_ROWS:
                    empty.append(lineno)
    except (OSError, EOFError, zlib.error) as exc:  # a truncated or corrupt .gz, or a read error
        raise InputError(path, f"the file breaks off here ({exc})", row=lineno + 1) from None
    if not lines:
        raise InputError(path, "empty snapshot: no models")
    snap = from_records(pd.DataFrame(records), rows)
    snap.empty_rows, snap.empty_rows_first = lineno - len(records), empty
    bump(snap.notes, "invalid_unicode_replaced", replaced)
    return snap


# The fields read from a record; the rest (a ModelInfo has many) is not kept.
RECORD_KEYS = frozenset((*HUB_STATS_COLUMNS, *SNAKE_TO_CAMEL))


def _json_record(path: Path, raw: bytes, lineno: int) -> tuple[dict[str, Any], bool]:
    """The wanted fields of one line, and whether a lone surrogate had to be replaced in them."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not UTF-8 text (byte {exc.start + 1} of the line)", row=lineno) from None
    if lineno == 1:
        line = line.removeprefix("\ufeff")
    if not line.strip():
        return {}, False
    try:
        rec = json.loads(line)
        if not isinstance(rec, dict):
            raise InputError(path, f"not a JSON object (a JSON {type(rec).__name__})", row=lineno)
        rec = {k: v for k, v in rec.items() if k in RECORD_KEYS}
        # JSON can escape a lone surrogate, which no encoder (UTF-8, Arrow, pandas' strings) accepts
        if "\\u" in line and has_lone_surrogate(rec):
            return replace_surrogates(rec), True
    except ValueError as exc:
        raise InputError(path, f"not a JSON object ({exc.args[0]})", row=lineno) from None
    except RecursionError:
        raise InputError(path, "not a JSON object (nested too deeply)", row=lineno) from None
    return rec, False


def _open_binary(path: Path) -> Any:
    if path.name.endswith(".gz"):
        import gzip

        return gzip.open(path, "rb")
    return path.open("rb")
