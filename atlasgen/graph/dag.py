"""Snapshot frames -> the lineage DAG (nodes, edges) with every repair counted in a report.

Repairs (ARCHITECTURE.md §2): rows without an id and duplicate ids are dropped (each counted, the first
LISTED_ROWS per reason listed with its row: ingest/frames.py); self-loops and duplicate links are removed; a
parent missing as spelled that differs only in case from one model is that model (ids.py); a model keeps its
first MAX_PARENTS parents; parents missing from the snapshot become `virtual` nodes; raw relations normalise
(relations.ALIASES) to finetune|quantized|adapter|merge, anything else to `unknown` (counted); a child with
several parents and no stated relation is a merge; cycles are broken deterministically. Every input row ends
up in `nodes` or is dropped (listed in `report["dropped_rows"]` or counted in
`report["dropped_rows_unlisted"]`), and `check_accounting` proves it. Where a snapshot's links come from its
model rows (`Snapshot.links_by_model_row`, set from the format's registry entry: hub-stats, JSON Lines), a
dropped row's links are dropped with it. A snapshot with no model left is an InputError.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from atlasgen.errors import InputError
from atlasgen.ids import by_case, lookalikes
from atlasgen.ingest.frames import LISTED_ROWS, Snapshot
from atlasgen.relations import ALIASES

# Parents kept per model, the first ones stated (the rest counted as parents_over_limit). The most any model
# of the shared real data names is 65 (two merges; hf-snapshot and msc-weekly; 47 in the hub-stats slice):
# four times that leaves room for real merges, while one row naming 300,000 parents (each a virtual node the
# layout, tiles and index must carry) once took 518 s and 2.3 GB to build.
MAX_PARENTS = 256
# When a child's links carry different relations, the node takes the first of these (the order the Hub's own
# tags use: a quantized fine-tune is shown as a quantization).
PRECEDENCE = ("quantized", "adapter", "merge", "finetune", "unknown")
NODE_COLUMNS = [
    "id",
    "author",
    "relation",
    "virtual",
    "downloads",
    "likes",
    "licence",
    "pipeline_tag",
    "library_name",
    "created_at",
]


@dataclass
class Graph:
    nodes: pd.DataFrame
    edges: pd.DataFrame
    report: dict[str, Any]


def build_graph(snap: Snapshot) -> Graph:
    report: dict[str, Any] = {
        "input_rows": len(snap.models) + snap.empty_rows,
        "repairs": {},
        "dropped": {},
        "dropped_rows": [],
        "dropped_rows_unlisted": {},
    }
    report["repairs"].update(snap.notes)
    models = _clean_models(snap, report)
    if models.empty:
        reasons = ", ".join(f"{reason}: {n:,}" for reason, n in report["dropped"].items())
        rows = f"all {report['input_rows']:,} rows were dropped ({reasons})" if reasons else "no rows"
        raise InputError(snap.source.get("path", "snapshot"), f"no models: {rows}")
    links = _clean_links(_links_of_kept_rows(snap, models["row"], report), set(models["id"]), report)
    nodes = _nodes(models, links, report)
    index = pd.Series(np.arange(len(nodes)), index=nodes["id"].to_numpy())
    edges = pd.DataFrame(
        {
            "source": index.loc[links["parent"].to_numpy()].to_numpy(),
            "target": index.loc[links["child"].to_numpy()].to_numpy(),
            "relation": links["relation"].to_numpy(),
        }
    )
    edges = _break_cycles(edges, len(nodes), report)
    edges = edges.sort_values(["target", "source"], kind="stable").reset_index(drop=True)
    nodes["relation"] = _node_relations(nodes, edges)
    summarise(nodes, edges, report)
    return Graph(nodes, edges, report)


def _drop(
    report: dict[str, Any], frame: pd.DataFrame, mask: pd.Series, reason: str, snap: Snapshot | None = None
) -> pd.DataFrame:
    """Drop the rows of `mask` (and `snap`'s empty rows, not in `frame`) for `reason`: all counted, the first
    LISTED_ROWS of them by row number listed, the rest counted in dropped_rows_unlisted."""
    extra, extra_first = (snap.empty_rows, snap.empty_rows_first) if snap is not None else (0, [])
    dropped = int(mask.sum()) + extra
    if dropped:
        report["dropped"][reason] = report["dropped"].get(reason, 0) + dropped
        first = frame.loc[mask, ["row", "id"]].head(LISTED_ROWS)  # frames are in row order
        listing = [(int(row), mid) for row, mid in zip(first["row"], first["id"], strict=True)]
        listing = sorted(listing + [(row, None) for row in extra_first])[:LISTED_ROWS]
        report["dropped_rows"] += [{"row": row, "id": mid, "reason": reason} for row, mid in listing]
        if dropped > len(listing):
            report["dropped_rows_unlisted"][reason] = dropped - len(listing)
    return frame[~mask]


def _clean_models(snap: Snapshot, report: dict[str, Any]) -> pd.DataFrame:
    models = _drop(report, snap.models, snap.models["id"].isna(), "missing id", snap)
    models = _drop(report, models, models["id"].duplicated(keep="first"), "duplicate id (first row kept)")
    return models.reset_index(drop=True)


def _count(report: dict[str, Any], key: str, n: Any) -> None:
    if n:
        report["repairs"][key] = report["repairs"].get(key, 0) + int(n)


def _links_of_kept_rows(snap: Snapshot, kept_rows: pd.Series, report: dict[str, Any]) -> pd.DataFrame:
    """Where links come from the model rows, a dropped row's links go with it (a duplicate's other parents)."""
    if not snap.links_by_model_row:
        return snap.links
    of_dropped = ~snap.links["row"].isin(kept_rows)
    _count(report, "links_of_dropped_rows", of_dropped.sum())
    return snap.links[~of_dropped]


def _clean_links(links: pd.DataFrame, model_ids: set[str], report: dict[str, Any]) -> pd.DataFrame:
    incomplete = links["child"].isna() | links["parent"].isna()
    _count(report, "incomplete_links_dropped", incomplete.sum())
    links = links[~incomplete]
    orphan = ~links["child"].isin(model_ids)  # the child's row was dropped above
    _count(report, "links_of_dropped_rows", orphan.sum())
    links = _parents_in_any_case(links[~orphan], model_ids, report)
    loops = links["child"] == links["parent"]
    _count(report, "self_loops", loops.sum())
    links = links[~loops]
    dup = links.duplicated(["child", "parent"], keep="first")
    _count(report, "duplicate_links", dup.sum())
    over = links[~dup].groupby("child", sort=False).cumcount() >= MAX_PARENTS  # the first ones stated stay
    _count(report, "parents_over_limit", over.sum())
    links = links[~dup][~over].copy()
    raw = links["relation"]
    norm = raw.map(lambda r: ALIASES.get(r.strip().lower()) if isinstance(r, str) else None)
    _count(report, "unknown_relations", (norm.isna() & raw.notna()).sum())
    _count(report, "missing_relations", raw.isna().sum())
    multi = links.groupby("child")["parent"].transform("size") > 1
    inferred = norm.isna() & multi
    _count(report, "merges_inferred_from_several_parents", inferred.sum())
    links["relation"] = norm.where(~inferred, "merge").fillna("unknown")
    return links.reset_index(drop=True)


def _parents_in_any_case(links: pd.DataFrame, model_ids: set[str], report: dict[str, Any]) -> pd.DataFrame:
    """A parent missing as spelled that differs only in case from one model is that model, as on the Hub (a
    `base_model` of `org/base` for the model `Org/Base`): the link is kept to it, counted (distinct spellings)."""
    absent = links["parent"][~links["parent"].isin(model_ids)].unique()
    found = by_case(absent, model_ids)
    _count(report, "case_insensitive_parents", len(found))
    if not found:
        return links
    return links.assign(parent=links["parent"].map(found).fillna(links["parent"]))


def _nodes(models: pd.DataFrame, links: pd.DataFrame, report: dict[str, Any]) -> pd.DataFrame:
    nodes = models.drop(columns=["row"]).copy()
    nodes["virtual"] = False
    missing = sorted(set(links["parent"]) - set(nodes["id"]))
    _count(report, "missing_parents_added_as_virtual", len(missing))
    if missing:
        virtual = pd.DataFrame({"id": missing, "virtual": True})
        nodes = pd.concat([nodes, virtual], ignore_index=True)
        # the virtual rows' missing text is None like the models' (not concat's NaN): --resume can record it
        for name in [c for c in nodes.columns if nodes[c].dtype == "object"]:
            nodes[name] = nodes[name].where(nodes[name].notna(), None)
    owner = nodes["id"].str.split("/", n=1).str[0]
    owner = owner.where(nodes["id"].str.contains("/", regex=False) & (owner != ""), None)
    nodes["author"] = nodes["author"].where(nodes["author"].notna(), owner)
    nodes["relation"] = "base"
    nodes["downloads"] = nodes["downloads"].astype("float64")
    nodes["likes"] = nodes["likes"].astype("float64")
    nodes = nodes.sort_values("id", kind="stable").reset_index(drop=True)
    return nodes[NODE_COLUMNS]


def _break_cycles(edges: pd.DataFrame, n: int, report: dict[str, Any]) -> pd.DataFrame:
    """Remove, per strongly connected component, the in-edges of its first vertex (lowest ordinal = id order)
    that come from inside the component; repeat until acyclic. Deterministic, and it keeps most links."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    removed = 0
    while len(edges):
        mat = coo_matrix((np.ones(len(edges)), (edges["source"], edges["target"])), shape=(n, n))
        count, labels = connected_components(mat, directed=True, connection="strong")
        if count == n:
            break
        sizes = np.bincount(labels, minlength=count)
        cyclic = sizes[labels] > 1
        first = pd.Series(np.arange(n)[cyclic]).groupby(labels[cyclic]).min()
        heads = np.zeros(n, dtype=bool)
        heads[first.to_numpy()] = True
        src, dst = edges["source"].to_numpy(), edges["target"].to_numpy()
        cut = heads[dst] & (labels[src] == labels[dst])
        removed += int(cut.sum())
        edges = edges[~cut].reset_index(drop=True)
    _count(report, "cycle_links_removed", removed)
    return edges


def _node_relations(nodes: pd.DataFrame, edges: pd.DataFrame) -> pd.Series:
    rank = {r: i for i, r in enumerate(PRECEDENCE)}
    best = edges.assign(rank=edges["relation"].map(rank)).groupby("target")["rank"].min()
    rel = best.map(lambda i: PRECEDENCE[i]).astype(object).reindex(nodes.index).fillna("base")
    rel[nodes["virtual"].to_numpy()] = "virtual"
    return rel


def summarise(nodes: pd.DataFrame, edges: pd.DataFrame, report: dict[str, Any]) -> None:
    real = ~nodes["virtual"]
    report["models"] = int(real.sum())
    report["virtual"] = int((~real).sum())
    report["edges"] = len(edges)
    report["edges_by_relation"] = {
        r: int(c) for r, c in edges["relation"].value_counts().sort_index().items()
    }
    report["nodes_by_relation"] = {
        r: int(c) for r, c in nodes["relation"].value_counts().sort_index().items()
    }
    report["without_lineage"] = int((nodes["relation"] == "base").sum())
    report["lookalike_ids"] = lookalikes(nodes["id"])  # counted, never merged (ids.py says why)
    report["dropped_total"] = sum(report["dropped"].values())
    check_accounting(report)


def check_accounting(report: dict[str, Any]) -> None:
    """Every input row is in the atlas, dropped with a reason, or outside a focus (focus.py); anything else is
    a bug in this module."""
    accounted = (
        report["models"] + report["dropped_total"] + report.get("focus", {}).get("models_outside_focus", 0)
    )
    listed = len(report["dropped_rows"]) + sum(report.get("dropped_rows_unlisted", {}).values())
    if accounted != report["input_rows"] or listed != report["dropped_total"]:
        raise AssertionError(f"lost models: {report['input_rows']} in, {accounted} accounted for")
