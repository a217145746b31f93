"""What every snapshot reader returns: a `Snapshot`, two frames with fixed columns.

`models` columns (MODEL_COLUMNS): row (1-based data row in the input file), id, author, created_at, downloads,
likes, licence, pipeline_tag, library_name. `links` columns (LINK_COLUMNS): row, child, parent, relation (raw
text or None). A bottom module of the ingest stage, so that the readers and the format registry
(snapshot.py) can both use it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

# Rows of one kind a report lists by number (the rest it counts): enough to find what went wrong in a file,
# while a file of millions of bad rows (45,000 blank lines gzip to 95 bytes) still makes a small report.
LISTED_ROWS = 100

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


@dataclass
class Snapshot:
    """A snapshot's models and links, where it came from, and what reading it had to change.

    `links_by_model_row` says how to read a link's `row`: True where each link comes from its child's model
    row (a dropped model row takes its links with it: hub-stats, JSON Lines), False where links are rows of
    their own (an edge list). The graph stage reads this, not the format's name.
    """

    models: pd.DataFrame
    links: pd.DataFrame
    source: dict[str, Any] = field(default_factory=dict)
    notes: dict[str, int] = field(default_factory=dict)  # coercions made while reading, counted
    links_by_model_row: bool = False
    # Rows with nothing to read (a blank JSON Lines line, an object with none of the fields read): not held
    # in `models`, only counted, with the first LISTED_ROWS row numbers; the graph stage drops them as rows
    # without an id, like a `models` row whose id is missing.
    empty_rows: int = 0
    empty_rows_first: list[int] = field(default_factory=list)


def bare_models(ids: list[str], start: int) -> pd.DataFrame:
    """Models known by their id only (from an edge list), numbered from row `start`."""
    models = pd.DataFrame({"row": range(start, start + len(ids)), "id": pd.Series(ids, dtype=object)})
    for col in MODEL_COLUMNS[2:]:
        models[col] = float("nan") if col in ("downloads", "likes") else None
    return models[MODEL_COLUMNS]
