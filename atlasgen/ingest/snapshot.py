"""Read a snapshot of model metadata into two frames: `models` (one row per input row) and `links`.

Three input forms (the README documents them):
- the Hub's `hub-stats` models table (parquet);
- JSON Lines of `huggingface_hub` ModelInfo dicts (what `atlasgen fetch --source api` writes; camelCase API
  keys are accepted too);
- a plain edge CSV `source,target[,relation]` plus an optional node CSV `id,...` for private registries.

`models` columns: row (1-based data row in the input file), id, author, created_at, downloads, likes, licence,
pipeline_tag, library_name. `links` columns: row, child, parent, relation (raw text or None).
Lineage is repaired in graph.py. Here a malformed file is an InputError naming the file and the row, and each
value is only made safe to carry, with what changed counted in `notes` (snapshot_parse.py): text is stripped,
control characters are removed and broken Unicode replaced (an id with nothing visible left is missing),
values of the wrong type and numbers or dates that don't parse are blanked.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from atlasgen.errors import InputError
from atlasgen.ingest.parse import (
    Scrub,
    bump,
    checked,
    dates,
    has_lone_surrogate,
    missing,
    numbers,
    read_csv,
    replace_surrogates,
)

MODEL_COLUMNS = [
    "row",
    "id",
    "author",
    "created_at",
    "downloads",
    "likes",
    "licence",
    "pipeline_tag",
    "library_name",
]
LINK_COLUMNS = ["row", "child", "parent", "relation"]
FORMATS = ("hub-stats", "jsonl", "csv")
SAMPLE = Path(__file__).resolve().parent.parent / "sample" / "hub-sample.parquet"
SAMPLE_LABEL = "embedded sample: hf-snapshot 2025-06 lineage + hub-stats 2026-05 attributes"


@dataclass
class Snapshot:
    models: pd.DataFrame
    links: pd.DataFrame
    source: dict[str, Any] = field(default_factory=dict)
    notes: dict[str, int] = field(default_factory=dict)  # coercions made while reading, counted


def detect_format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".parquet"):
        return "hub-stats"
    if name.endswith((".jsonl", ".ndjson", ".json", ".jsonl.gz")):
        return "jsonl"
    if name.endswith(".csv"):
        return "csv"
    raise InputError(
        path, "cannot tell the snapshot format from the file name; pass --format " + "|".join(FORMATS)
    )


def read_snapshot(path: Path | None, *, fmt: str | None = None, nodes: Path | None = None) -> Snapshot:
    """Read any supported snapshot; `path=None` reads the embedded sample."""
    if path is None:
        snap = read_hub_stats(SAMPLE)
        snap.source.update(label=SAMPLE_LABEL, path="embedded:hub-sample.parquet", date="2025-06-11")
        return snap
    if not path.is_file():
        raise InputError(path, "no such file")
    fmt = fmt or detect_format(path)
    if nodes is not None and fmt != "csv":
        raise InputError(nodes, "--nodes goes with an edge CSV snapshot only")
    if fmt == "hub-stats":
        return read_hub_stats(path)
    if fmt == "jsonl":
        return read_jsonl(path)
    return read_edge_csv(path, nodes)


# ---------------------------------------------------------------------------------------------- hub-stats


def read_hub_stats(path: Path) -> Snapshot:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
        wanted = [c for c in HUB_STATS_COLUMNS if c in schema.names]
        table = pq.read_table(path, columns=wanted)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise InputError(path, f"not a readable parquet file ({exc})") from exc
    names = table.column_names
    if len(set(names)) != len(names):
        raise InputError(
            path, f"duplicate columns ({', '.join(sorted({c for c in names if names.count(c) > 1}))})"
        )
    if "id" not in names:
        raise InputError(path, "no `id` column: not a hub-stats models table")
    id_type = table.schema.field("id").type
    if pa.types.is_dictionary(id_type):
        id_type = id_type.value_type
    if not (pa.types.is_string(id_type) or pa.types.is_large_string(id_type) or pa.types.is_null(id_type)):
        raise InputError(path, f"the `id` column holds {id_type}, not text: not a hub-stats models table")
    if table.num_rows == 0:
        raise InputError(path, "empty snapshot: no models")
    try:
        frame = table.to_pandas()
    except Exception as exc:  # values pandas cannot hold: pyarrow raises several types here too
        raise InputError(path, f"cannot convert the table ({exc})") from exc
    return _from_records(frame, path, "hub-stats")


HUB_STATS_COLUMNS = [
    "id",
    "author",
    "createdAt",
    "downloads",
    "likes",
    "tags",
    "cardData",
    "baseModels",
    "pipeline_tag",
    "library_name",
]

# ModelInfo attribute names (what `atlasgen fetch` writes) -> hub-stats / API names.
SNAKE_TO_CAMEL = {
    "created_at": "createdAt",
    "card_data": "cardData",
    "base_models": "baseModels",
    "modelId": "id",
}


def _from_records(frame: pd.DataFrame, path: Path, fmt: str) -> Snapshot:
    """Shared by hub-stats and JSON Lines: both carry the Hub API's fields."""
    frame = _api_names(frame)
    n = len(frame)
    notes: dict[str, int] = {}
    scrub = Scrub(notes)
    models = pd.DataFrame({"row": range(1, n + 1)})
    models["id"] = scrub.column(frame.get("id"), n, "id", ident=True)
    models["author"] = scrub.column(frame.get("author"), n, "author")
    models["created_at"] = dates(frame.get("createdAt"), n, notes)
    models["downloads"] = numbers(frame.get("downloads"), n, notes, "downloads")
    models["likes"] = numbers(frame.get("likes"), n, notes, "likes")
    # Raw cards: a JSON string per row in hub-stats. Parsed only for rows whose tags lack what we need.
    tags = checked(frame.get("tags"), n, notes, "tags", lambda v: isinstance(v, (list, tuple, np.ndarray)))
    cards = checked(frame.get("cardData"), n, notes, "card_data", lambda v: isinstance(v, (dict, str)))
    base = checked(frame.get("baseModels"), n, notes, "base_models", lambda v: isinstance(v, dict))
    licences = [scrub.text(_licence(t, c), "licence") for t, c in zip(tags, cards, strict=True)]
    models["licence"] = pd.Series(licences, dtype=object)
    models["pipeline_tag"] = scrub.column(frame.get("pipeline_tag"), n, "pipeline_tag")
    models["library_name"] = scrub.column(frame.get("library_name"), n, "library_name")
    links = _lineage(models["row"], models["id"], base, tags, cards, scrub)
    scrub.finish()
    return Snapshot(models, links, {"path": str(path), "format": fmt, "label": path.name}, notes)


def _api_names(frame: pd.DataFrame) -> pd.DataFrame:
    """One column per field, whichever spelling each row used (a file may mix them)."""
    for alias, name in SNAKE_TO_CAMEL.items():
        if alias in frame.columns:
            frame[name] = (
                frame[alias] if name not in frame.columns else frame[name].combine_first(frame[alias])
            )
            frame = frame.drop(columns=[alias])
    return frame


def _card(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.startswith("{"):
        try:
            parsed = json.loads(value)
        except (ValueError, RecursionError):
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def _licence(tags: Any, raw_card: Any) -> Any:
    for tag in _as_list(tags):
        if isinstance(tag, str) and tag.startswith("license:") and len(tag) > 8:
            return tag[8:]
    lic = _card(raw_card).get("license")
    if isinstance(lic, list):
        lic = lic[0] if lic else None
    return lic if isinstance(lic, str) else None


def _as_list(value: Any) -> list[Any]:
    if value is None or isinstance(value, (str, bytes, dict)):
        return []
    try:
        return list(value)
    except TypeError:
        return []


TAG_RELATIONS = ("adapter", "merge", "quantized", "finetune")


def _lineage(
    rows: pd.Series, ids: pd.Series, base: list[Any], tags: list[Any], cards: list[Any], scrub: Scrub
) -> pd.DataFrame:
    """Parent links per row: `baseModels`, else `base_model:*` tags, else `cardData.base_model`."""
    out: list[tuple[int, Any, str, Any]] = []
    for row, child, bm, tg, card in zip(rows, ids, base, tags, cards, strict=True):
        found = _from_base_models(bm) or _from_tags(tg) or _from_card(_card(card))
        for raw_parent, raw_rel in found:
            parent = scrub.ident(raw_parent, "base_model")
            if parent is not None:
                out.append((row, child, parent, scrub.text(raw_rel, "relation")))
    return pd.DataFrame(out, columns=LINK_COLUMNS, dtype=object).astype({"row": "int64"})


def _from_base_models(bm: Any) -> list[tuple[Any, Any]]:
    if not isinstance(bm, dict):
        return []
    rel = bm.get("relation")
    parents = [m.get("id") if isinstance(m, dict) else m for m in _as_list(bm.get("models"))]
    return [(p, rel) for p in parents if not missing(p)]


def _from_tags(tags: Any) -> list[tuple[Any, Any]]:
    typed: dict[str, str] = {}
    plain: list[str] = []
    for tag in _as_list(tags):
        if not isinstance(tag, str) or not tag.startswith("base_model:"):
            continue
        rest = tag[len("base_model:") :]
        head, _, tail = rest.partition(":")
        if head in TAG_RELATIONS and tail:
            typed.setdefault(tail, head)
        elif rest:
            plain.append(rest)
    found: list[tuple[Any, Any]] = list(typed.items())
    found += [(p, None) for p in dict.fromkeys(plain) if p not in typed]
    return found


def _from_card(card: dict[str, Any]) -> list[tuple[Any, Any]]:
    value = card.get("base_model")
    parents = [value] if isinstance(value, str) else [v for v in _as_list(value) if isinstance(v, str)]
    return [(p, None) for p in parents]


# ---------------------------------------------------------------------------------------------- JSON Lines


def read_jsonl(path: Path) -> Snapshot:
    """One JSON object per line; a blank line is a row without an id (dropped and counted by graph.py)."""
    records: list[dict[str, Any]] = []
    replaced = lines = 0
    try:
        with _open_binary(path) as handle:
            for lineno, raw in enumerate(handle, start=1):
                record, fixed = _json_record(path, raw, lineno)
                records.append(record)
                replaced += fixed
                lines += bool(raw.strip(b" \t\r\n\xef\xbb\xbf"))
    except (OSError, EOFError, zlib.error) as exc:  # a truncated or corrupt .gz, or a read error
        raise InputError(path, f"the file breaks off here ({exc})", row=len(records) + 1) from None
    if not lines:
        raise InputError(path, "empty snapshot: no models")
    snap = _from_records(pd.DataFrame(records), path, "jsonl")
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


# ---------------------------------------------------------------------------------------------- edge CSV

EDGE_COLUMNS = ("source", "target", "relation")
NODE_FIELDS = ("id", "author", "created_at", "downloads", "likes", "licence", "pipeline_tag", "library_name")
NODE_ALIASES = {
    "license": "licence",
    "createdAt": "created_at",
    "task": "pipeline_tag",
    "library": "library_name",
}


def read_edge_csv(path: Path, nodes: Path | None) -> Snapshot:
    edges = read_csv(path, EDGE_COLUMNS, required=2)
    if edges.empty:
        raise InputError(path, "empty snapshot: a header but no edge rows")
    notes: dict[str, int] = {}
    scrub = Scrub(notes)
    n = len(edges)
    links = pd.DataFrame(
        {
            "row": range(1, n + 1),
            "child": scrub.column(edges["target"], n, "target", ident=True),
            "parent": scrub.column(edges["source"], n, "source", ident=True),
            "relation": scrub.column(edges["relation"], n, "relation"),
        }
    )
    if nodes is not None:
        models = _node_frame(read_csv(nodes, NODE_FIELDS, required=1, aliases=NODE_ALIASES), notes, scrub)
        known = set(models["id"].dropna())
        extra = [c for c in dict.fromkeys(links["child"].dropna()) if c not in known]
        if extra:
            notes["children_only_in_edges"] = len(extra)
            models = pd.concat([models, _bare_models(extra, start=len(models) + 1)], ignore_index=True)
    else:
        ids = list(dict.fromkeys(pd.concat([links["parent"], links["child"]]).dropna()))
        models = _bare_models(ids, start=1)
    scrub.finish()
    source = {"path": str(path), "format": "csv", "label": path.name}
    if nodes is not None:
        source["nodes"] = str(nodes)
    return Snapshot(models, links, source, notes)


def _node_frame(table: pd.DataFrame, notes: dict[str, int], scrub: Scrub) -> pd.DataFrame:
    n = len(table)
    models = pd.DataFrame({"row": range(1, n + 1)})
    models["id"] = scrub.column(table["id"], n, "id", ident=True)
    models["author"] = scrub.column(table["author"], n, "author")
    models["created_at"] = dates(table["created_at"], n, notes)
    models["downloads"] = numbers(table["downloads"], n, notes, "downloads")
    models["likes"] = numbers(table["likes"], n, notes, "likes")
    for col in ("licence", "pipeline_tag", "library_name"):
        models[col] = scrub.column(table[col], n, col)
    return models


def _bare_models(ids: list[str], start: int) -> pd.DataFrame:
    models = pd.DataFrame({"row": range(start, start + len(ids)), "id": pd.Series(ids, dtype=object)})
    for col in MODEL_COLUMNS[2:]:
        models[col] = float("nan") if col in ("downloads", "likes") else None
    return models[MODEL_COLUMNS]
