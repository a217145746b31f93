"""Hub API records (a hub-stats row, a JSON Lines ModelInfo dict) -> a Snapshot's frames.

Shared by the hub-stats and JSON Lines readers: both carry the Hub API's fields, under either spelling
(`createdAt` or `created_at`, ...). Lineage comes from `baseModels`, else the `base_model:*` tags, else the
card's `base_model`; the licence from a `license:` tag, else the card's `license`. Each value is only made
safe to carry (parse.Scrub), with what changed counted in `notes`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from atlasgen.ingest.frames import LINK_COLUMNS, Snapshot
from atlasgen.ingest.parse import Scrub, checked, dates, missing, numbers
from atlasgen.relations import TAG_RELATIONS

# The Hub API fields atlasgen reads (a hub-stats table is read for these columns only).
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


def from_records(frame: pd.DataFrame, rows: Sequence[int] | None = None) -> Snapshot:
    """One model per record, in order, and the links each record names; `rows` numbers the records (default
    1, 2, ...: a reader that skips rows with nothing to read gives each record's own)."""
    frame = _api_names(frame)
    n = len(frame)
    notes: dict[str, int] = {}
    scrub = Scrub(notes)
    models = pd.DataFrame({"row": np.asarray(rows if rows is not None else range(1, n + 1), dtype=np.int64)})
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
    return Snapshot(models, links, notes=notes)


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
