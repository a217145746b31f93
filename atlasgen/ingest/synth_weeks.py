"""Synthetic weekly Hub change: a synthetic Hub as it grows week by week, with what real weeks bring.

``synthesize_weeks(models, weeks)`` draws one synthetic Hub (``synth.py``) of the final size and shows it
week by week: the oldest rows (rows are in createdAt order, parents first) are the Hub of week 0, each
week adds the next rows and deletes some models, and a few links arrive after both their ends exist
(they join families that were apart). Rates per model added, measured on the twelve real weeks of
../shared/data/msc-weekly (weeks 5-12, the Hub as PROVENANCE.md defines it):

* deleted: 0.123 (the week's deletions of models that were there);
* links that join two families: 0.0003 (a merge or a second parent linking families apart until then);
* links between two models that both already existed: 0.0001 (most links arrive with their child).

A deleted model's children keep naming it (the atlas shows it as a virtual parent), as on the Hub.
"""

from __future__ import annotations

import pathlib

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from atlasgen.errors import AtlasgenError
from atlasgen.ingest import synth

DELETED_PER_ADDED = 0.123
JOINS_PER_ADDED = 0.0003
LATE_LINKS_PER_ADDED = 0.0001
GROWTH = 0.015  # models added per week, share of the Hub (~30k a week on a ~2M Hub)


def synthesize_weeks(
    models: int, weeks: int, *, growth: float = GROWTH, seed: int = 0, no_lineage: float = synth.NO_LINEAGE
) -> list[pa.Table]:
    """The Hub of week 0 (``models`` models) and of each of ``weeks`` weeks after it, as hub-stats tables."""
    if weeks < 1 or not 0 < growth <= 1:
        raise AtlasgenError(f"weeks must be >= 1 and growth in (0, 1], got {weeks} and {growth}")
    total = round(models * (1 + growth) ** weeks)
    rng = np.random.default_rng([seed, 13])
    table = synth.synthesize_hub(total, seed=seed, no_lineage=no_lineage)
    n = table.num_rows
    arrive = _arrivals(n, models, growth, weeks)
    child, parent, relation = _links(table)
    link_week = arrive[child].copy()
    late = _late_links(rng, child, parent, arrive, weeks)
    link_week[late] = np.maximum(arrive[child[late]], arrive[parent[late]]) + rng.integers(1, 3, late.size)
    gone = np.full(n, weeks + 1)
    for w in range(1, weeks + 1):
        added = int((arrive == w).sum())
        alive = np.flatnonzero((arrive < w) & (gone > w))
        gone[rng.choice(alive, min(alive.size, round(DELETED_PER_ADDED * added)), replace=False)] = w
    return [_week(table, w, arrive, gone, child, parent, relation, link_week) for w in range(weeks + 1)]


def write_weeks(
    models: int,
    weeks: int,
    out: pathlib.Path,
    *,
    growth: float = GROWTH,
    seed: int = 0,
    no_lineage: float = synth.NO_LINEAGE,
) -> list[pathlib.Path]:
    """Write week 0 to ``out`` and week N to ``out`` with ``-weekN`` before its suffix; return the paths."""
    out = pathlib.Path(out)
    if not out.parent.is_dir():
        raise AtlasgenError(f"{out}: the folder {out.parent} does not exist")
    paths = []
    for w, table in enumerate(
        synthesize_weeks(models, weeks, growth=growth, seed=seed, no_lineage=no_lineage)
    ):
        path = out if w == 0 else out.with_name(f"{out.stem}-week{w}{out.suffix}")
        pq.write_table(table, path, compression="zstd")
        paths.append(path)
    return paths


def _arrivals(n: int, models: int, growth: float, weeks: int) -> np.ndarray:
    """Week of arrival per row: rows are in createdAt order, so week w holds the next rows."""
    sizes = np.round(models * (1 + growth) ** np.arange(weeks + 1)).astype(np.int64)
    sizes[-1] = n
    return np.searchsorted(sizes, np.arange(n), side="right").astype(np.int64)


def _links(table: pa.Table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(child row, parent row, relation) of every link whose parent is a row of the table."""
    row_of = {v: i for i, v in enumerate(table.column("id").to_pylist())}
    child, parent, relation = [], [], []
    for i, base in enumerate(table.column("baseModels").to_pylist()):
        for model in (base or {}).get("models") or []:
            if (j := row_of.get(model["id"], -1)) >= 0:
                child.append(i)
                parent.append(j)
                relation.append(base["relation"])
    return np.array(child, np.int64), np.array(parent, np.int64), np.array(relation, dtype=object)


def _late_links(
    rng: np.random.Generator, child: np.ndarray, parent: np.ndarray, arrive: np.ndarray, weeks: int
) -> np.ndarray:
    """Links that arrive after both their ends: the extra parents of merges first (they join families)."""
    added = int((arrive >= 1).sum())
    want = round((JOINS_PER_ADDED + LATE_LINKS_PER_ADDED) * added)
    extra = np.flatnonzero(np.r_[False, child[1:] == child[:-1]])  # a child's second and later parents
    pool = extra[arrive[child[extra]] < weeks]
    return rng.choice(pool, min(want, pool.size), replace=False) if pool.size else pool


def _week(
    table: pa.Table,
    w: int,
    arrive: np.ndarray,
    gone: np.ndarray,
    child: np.ndarray,
    parent: np.ndarray,
    relation: np.ndarray,
    link_week: np.ndarray,
) -> pa.Table:
    """The Hub as of week ``w``: rows there, each with the links that arrived by then (``baseModels`` and
    the ``base_model:`` tags; its other tags, such as the licence, as drawn)."""
    rows = np.flatnonzero((arrive <= w) & (gone > w))
    new_row = np.full(arrive.size, -1)
    new_row[rows] = np.arange(rows.size)
    on = np.flatnonzero((link_week <= w) & (new_row[child] >= 0))
    on = on[np.lexsort((on, new_row[child[on]]))]
    ids = np.asarray(table.column("id").to_pylist(), dtype=object)
    sub = table.take(pa.array(rows))
    other_tags = [
        [t for t in tags or [] if not t.startswith("base_model:")] for tags in sub.column("tags").to_pylist()
    ]
    columns = {name: sub.column(name) for name in sub.column_names}
    tags, base = synth.lineage_columns(
        rows.size, new_row[child[on]], ids[parent[on]], relation[on], other_tags
    )
    columns["tags"], columns["baseModels"] = tags, base
    return pa.Table.from_arrays([columns[c] for c in sub.column_names], schema=sub.schema)
