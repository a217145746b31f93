"""Read a snapshot of model metadata into two frames: `models` (one row per input row) and `links`.

Three input forms (the README documents them):
- the Hub's `hub-stats` models table (parquet);
- JSON Lines of `huggingface_hub` ModelInfo dicts (what `atlasgen fetch --source api` writes; camelCase API
  keys are accepted too);
- a plain edge CSV `source,target[,relation]` plus an optional node CSV `id,...` for private registries.

`models` columns: row (1-based data row in the input file), id, author, created_at, downloads, likes, licence,
pipeline_tag, library_name. `links` columns: row, child, parent, relation (raw text or None).
Nothing is repaired here; graph.py repairs and counts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from atlasgen.errors import InputError

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
SAMPLE = Path(__file__).parent / "sample" / "hub-sample.parquet"
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
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
        wanted = [c for c in HUB_STATS_COLUMNS if c in schema.names]
        table = pq.read_table(path, columns=wanted)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise InputError(path, f"not a readable parquet file ({exc})") from exc
    if "id" not in table.column_names:
        raise InputError(path, "no `id` column: not a hub-stats models table")
    frame = table.to_pandas()
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
    notes: dict[str, int] = {}
    models = pd.DataFrame({"row": range(1, len(frame) + 1)})
    models["id"] = _text(frame.get("id"), len(frame))
    models["author"] = _text(frame.get("author"), len(frame))
    models["created_at"] = _dates(frame.get("createdAt"), len(frame), notes)
    models["downloads"] = _numbers(frame.get("downloads"), len(frame), notes, "downloads")
    models["likes"] = _numbers(frame.get("likes"), len(frame), notes, "likes")
    tags = frame["tags"] if "tags" in frame.columns else pd.Series([None] * len(frame))
    # Raw cards: a JSON string per row in hub-stats. Parsed only for rows whose tags lack what we need.
    cards = list(frame["cardData"]) if "cardData" in frame.columns else [None] * len(frame)
    models["licence"] = pd.Series([_licence(t, c) for t, c in zip(tags, cards, strict=True)], dtype=object)
    models["pipeline_tag"] = _text(frame.get("pipeline_tag"), len(frame))
    models["library_name"] = _text(frame.get("library_name"), len(frame))
    base = frame["baseModels"] if "baseModels" in frame.columns else pd.Series([None] * len(frame))
    links = _lineage(models["row"], models["id"], base, tags, cards)
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


def _text(col: Any, n: int) -> pd.Series:
    if col is None:
        return pd.Series([None] * n, dtype=object)
    return pd.Series([v.strip() if isinstance(v, str) and v.strip() else None for v in col], dtype=object)


def _numbers(col: Any, n: int, notes: dict[str, int], name: str) -> pd.Series:
    if col is None:
        return pd.Series([float("nan")] * n)
    raw = pd.Series(list(col), dtype=object)
    nums = pd.to_numeric(raw, errors="coerce").astype("float64")
    bad = int((nums.isna() & raw.notna()).sum()) + int((nums < 0).sum())
    if bad:
        notes[f"invalid_{name}"] = bad
    return nums.where(nums >= 0)


def _dates(col: Any, n: int, notes: dict[str, int]) -> pd.Series:
    if col is None:
        return pd.Series([None] * n, dtype=object)
    raw = pd.Series(list(col), dtype=object)
    parsed = pd.to_datetime(raw, errors="coerce", utc=True, format="mixed")
    bad = int((parsed.isna() & raw.notna()).sum())
    if bad:
        notes["invalid_created_at"] = bad
    return pd.Series([d.strftime("%Y-%m-%d") if not pd.isna(d) else None for d in parsed], dtype=object)


def _card(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.startswith("{"):
        try:
            parsed = json.loads(value)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def _licence(tags: Any, raw_card: Any) -> str | None:
    for tag in _as_list(tags):
        if isinstance(tag, str) and tag.startswith("license:") and len(tag) > 8:
            return tag[8:]
    lic = _card(raw_card).get("license")
    if isinstance(lic, list):
        lic = lic[0] if lic else None
    return lic.strip() if isinstance(lic, str) and lic.strip() else None


def _as_list(value: Any) -> list[Any]:
    if value is None or isinstance(value, (str, bytes, dict)):
        return []
    try:
        return list(value)
    except TypeError:
        return []


TAG_RELATIONS = ("adapter", "merge", "quantized", "finetune")


def _lineage(
    rows: pd.Series, ids: pd.Series, base: pd.Series, tags: pd.Series, cards: list[Any]
) -> pd.DataFrame:
    """Parent links per row: `baseModels`, else `base_model:*` tags, else `cardData.base_model`."""
    out: list[tuple[int, Any, str, Any]] = []
    for row, child, bm, tg, card in zip(rows, ids, base, tags, cards, strict=True):
        found = _from_base_models(bm) or _from_tags(tg) or _from_card(_card(card))
        out.extend((row, child, parent, rel) for parent, rel in found)
    return pd.DataFrame(out, columns=LINK_COLUMNS, dtype=object).astype({"row": "int64"})


def _from_base_models(bm: Any) -> list[tuple[str, Any]]:
    if not isinstance(bm, dict):
        return []
    rel = bm.get("relation")
    parents = [m.get("id") if isinstance(m, dict) else m for m in _as_list(bm.get("models"))]
    return [(p.strip(), rel) for p in parents if isinstance(p, str) and p.strip()]


def _from_tags(tags: Any) -> list[tuple[str, Any]]:
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
    found: list[tuple[str, Any]] = list(typed.items())
    found += [(p, None) for p in dict.fromkeys(plain) if p not in typed]
    return found


def _from_card(card: dict[str, Any]) -> list[tuple[str, Any]]:
    value = card.get("base_model")
    parents = [value] if isinstance(value, str) else [v for v in _as_list(value) if isinstance(v, str)]
    return [(p.strip(), None) for p in parents if p.strip()]


# ---------------------------------------------------------------------------------------------- JSON Lines


def read_jsonl(path: Path) -> Snapshot:
    records: list[dict[str, Any]] = []
    with _open_text(path) as handle:
        for lineno, line in enumerate(handle, start=1):
            if not line.strip():
                records.append({})
                continue
            try:
                rec = json.loads(line)
            except ValueError as exc:
                raise InputError(path, f"not a JSON object ({exc.args[0]})", row=lineno) from None
            if not isinstance(rec, dict):
                raise InputError(path, "not a JSON object", row=lineno)
            records.append(rec)
    if not records:
        raise InputError(path, "empty snapshot: no models")
    frame = pd.DataFrame.from_records(records)
    return _from_records(frame, path, "jsonl")


def _open_text(path: Path) -> Any:
    if path.name.endswith(".gz"):
        import gzip

        return gzip.open(path, "rt", encoding="utf-8-sig")
    return path.open(encoding="utf-8-sig")


# ---------------------------------------------------------------------------------------------- edge CSV

NODE_ALIASES = {
    "license": "licence",
    "createdAt": "created_at",
    "task": "pipeline_tag",
    "library": "library_name",
}


def read_edge_csv(path: Path, nodes: Path | None) -> Snapshot:
    edges = _read_csv(path, required=("source", "target"))
    links = pd.DataFrame(
        {
            "row": range(1, len(edges) + 1),
            "child": _text(edges["target"], len(edges)),
            "parent": _text(edges["source"], len(edges)),
            "relation": _text(edges.get("relation"), len(edges)),
        }
    )
    notes: dict[str, int] = {}
    if nodes is not None:
        table = _read_csv(nodes, required=("id",)).rename(columns=NODE_ALIASES)
        models = _node_frame(table, notes)
        known = set(models["id"].dropna())
        extra = [c for c in dict.fromkeys(links["child"].dropna()) if c not in known]
        if extra:
            notes["children_only_in_edges"] = len(extra)
            models = pd.concat([models, _bare_models(extra, start=len(models) + 1)], ignore_index=True)
    else:
        ids = list(dict.fromkeys(pd.concat([links["parent"], links["child"]]).dropna()))
        models = _bare_models(ids, start=1)
    links = links[links["child"].notna() | links["parent"].notna()]
    source = {"path": str(path), "format": "csv", "label": path.name}
    if nodes is not None:
        source["nodes"] = str(nodes)
    return Snapshot(models, links.reset_index(drop=True), source, notes)


def _read_csv(path: Path, required: tuple[str, ...]) -> pd.DataFrame:
    if not path.is_file():
        raise InputError(path, "no such file")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise InputError(path, "empty file: expected a header row " + ",".join(required)) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(path, f"not a readable CSV ({exc})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError(path, f"missing column(s) {', '.join(missing)}; found {', '.join(frame.columns)}")
    return frame


def _node_frame(table: pd.DataFrame, notes: dict[str, int]) -> pd.DataFrame:
    n = len(table)
    models = pd.DataFrame({"row": range(1, n + 1)})
    models["id"] = _text(table["id"], n)
    models["author"] = _text(table.get("author"), n)
    models["created_at"] = _dates(table.get("created_at"), n, notes)
    models["downloads"] = _numbers(table.get("downloads"), n, notes, "downloads")
    models["likes"] = _numbers(table.get("likes"), n, notes, "likes")
    for col in ("licence", "pipeline_tag", "library_name"):
        models[col] = _text(table.get(col), n)
    return models


def _bare_models(ids: list[str], start: int) -> pd.DataFrame:
    models = pd.DataFrame({"row": range(start, start + len(ids)), "id": pd.Series(ids, dtype=object)})
    for col in MODEL_COLUMNS[2:]:
        models[col] = float("nan") if col in ("downloads", "likes") else None
    return models[MODEL_COLUMNS]
