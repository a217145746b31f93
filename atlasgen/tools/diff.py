"""`atlasgen diff OLD NEW`: what changed between two snapshots or two atlases.

Models added and removed, lineage edges added and removed by relation, the families that grew most and, for
two atlases, how far surviving models moved. `diff_frames` is the pure core (graph frames in, a JSON-ready
dict out); `run` reads the two sides (an atlas through `artifacts.read_atlas`, a snapshot through the graph
stage) and diffs them; `render` writes the dict as text for people or JSON for tools.

Definitions:
- a *model* is a node that is not virtual. Virtual parents (named as a parent but absent from the snapshot)
  are counted in their own section; a virtual parent that became a real row counts as an added model.
- an edge is a (parent id, child id) pair; its relation is compared separately (``relation_changed``).
- a *family* is a weakly connected component of NEW's lineage graph with at least one edge. It is named by
  the root most of its members descend from when each follows its first parent (by node order, i.e. id),
  ties broken by downloads; it grew by the models in it that were not models in OLD.
- movement is measured, as in the build report's stability figures, over every id (virtual ones too) in both
  atlases, as a share of NEW's extent (the larger side of its bounding box).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

TOP = 10
SCHEMA = 1


@dataclass
class Side:
    NODE_COLUMNS: ClassVar[tuple[str, ...]] = ("id", "virtual", "downloads", "relation")

    nodes: pd.DataFrame  # NODE_COLUMNS (an atlas may lack all but id)
    edges: pd.DataFrame  # source, target (row numbers in nodes), relation
    xy: np.ndarray | None  # world positions aligned to nodes (atlases only)
    source: dict[str, Any]


def new_since(old_ids: Any, new_ids: Any) -> np.ndarray:
    """For each of `new_ids`, True when it is absent from `old_ids` (what a build marks as new)."""
    return np.asarray(~pd.Index(new_ids).isin(pd.Index(old_ids)))


def diff_frames(
    old_nodes: pd.DataFrame,
    old_edges: pd.DataFrame,
    new_nodes: pd.DataFrame,
    new_edges: pd.DataFrame,
    old_xy: np.ndarray | None = None,
    new_xy: np.ndarray | None = None,
    *,
    top: int | None = TOP,
) -> dict[str, Any]:
    """Compare two graphs (the frames `build_graph` gives: nodes with `id` and optionally `virtual`,
    `downloads`, `relation`; edges `source, target, relation` by node row). Lists hold `top` entries each
    (None: all). Movement is reported when both position arrays are given, else None."""
    n_old, n_new = len(old_nodes), len(new_nodes)
    ids = [frame["id"].to_numpy(dtype=object) for frame in (old_nodes, new_nodes)]
    in_old = pd.Index(ids[0]).get_indexer(ids[1])  # the old row of each new node, or -1
    in_new = np.full(n_old, -1, dtype=np.int64)
    in_new[in_old[in_old >= 0]] = np.flatnonzero(in_old >= 0)
    old_virtual, new_virtual = _flags(old_nodes, "virtual"), _flags(new_nodes, "virtual")
    was_model = ~np.append(old_virtual, True)[in_old]  # a model in OLD (row -1, absent, reads True)
    still_model = ~np.append(new_virtual, True)[in_new]
    added, removed = ~new_virtual & ~was_model, ~old_virtual & ~still_model
    families = _families(new_nodes, new_edges, added, in_old, top)
    movement = None if old_xy is None or new_xy is None else _movement(new_nodes, in_old, old_xy, new_xy, top)
    if old_xy is not None and new_xy is not None and movement is not None and movement["survivors"]:
        from atlasgen.tools.moves import moves_by_cause

        movement["by_cause"] = moves_by_cause(old_nodes, old_edges, new_nodes, new_edges, old_xy, new_xy)
    return {
        "schema": SCHEMA,
        "old": _counts(old_virtual, old_edges, _family_count(old_nodes, old_edges)),
        "new": _counts(new_virtual, new_edges, families.pop("count")),
        "models": {
            "added": int(added.sum()),
            "removed": int(removed.sum()),
            "kept": int((~new_virtual & was_model).sum()),
            "added_models": _listed(new_nodes, added, top),
            "removed_models": _listed(old_nodes, removed, top),
        },
        "virtual": {
            "added": int((new_virtual & (in_old < 0)).sum()),
            "removed": int((old_virtual & (in_new < 0)).sum()),
            "became_models": int((~new_virtual & (in_old >= 0) & ~was_model).sum()),
            "models_now_virtual": int((new_virtual & was_model).sum()),
        },
        "edges": _edges(old_edges, new_edges, in_new, n_new),
        "families": families,
        "movement": movement,
    }


def _flags(nodes: pd.DataFrame, column: str) -> np.ndarray:
    return nodes[column].eq(True).to_numpy() if column in nodes else np.zeros(len(nodes), dtype=bool)


def _counts(virtual: np.ndarray, edges: pd.DataFrame, families: int) -> dict[str, int]:
    return dict(models=int((~virtual).sum()), virtual=int(virtual.sum()), edges=len(edges), families=families)


def _listed(nodes: pd.DataFrame, mask: np.ndarray, top: int | None) -> list[dict[str, Any]]:
    """The masked models, most downloaded first (then by id), each as id, relation, downloads."""
    rows = pd.DataFrame({"id": nodes["id"].to_numpy()[mask].astype(str)})
    rows["relation"] = nodes["relation"].to_numpy()[mask].astype(str) if "relation" in nodes else None
    rows["downloads"] = nodes["downloads"].to_numpy(dtype=float)[mask] if "downloads" in nodes else np.nan
    rows = rows.sort_values(["downloads", "id"], ascending=[False, True], na_position="last").iloc[:top]
    return [
        {"id": i, "relation": r, "downloads": None if np.isnan(d) else int(d)}
        for i, r, d in zip(rows["id"], rows["relation"], rows["downloads"], strict=True)
    ]


def _edges(old: pd.DataFrame, new: pd.DataFrame, in_new: np.ndarray, n_new: int) -> dict[str, Any]:
    """Edges as (parent, child) keys in one id space: new rows, then old-only rows after them."""
    code = np.where(in_new >= 0, in_new, n_new + np.arange(len(in_new)))
    span = np.int64(n_new + len(in_new))
    old_keys = code[old["source"].to_numpy()] * span + code[old["target"].to_numpy()]
    new_keys = new["source"].to_numpy(dtype=np.int64) * span + new["target"].to_numpy(dtype=np.int64)
    at = pd.Index(old_keys).get_indexer(new_keys)
    kept_old = np.zeros(len(old), dtype=bool)
    kept_old[at[at >= 0]] = True
    old_rel, new_rel = old["relation"].astype(str).to_numpy(), new["relation"].astype(str).to_numpy()
    return {
        "added": int((at < 0).sum()),
        "removed": int((~kept_old).sum()),
        "kept": int((at >= 0).sum()),
        "relation_changed": int((old_rel[at[at >= 0]] != new_rel[at >= 0]).sum()),
        "added_by_relation": _by_relation(new_rel[at < 0]),
        "removed_by_relation": _by_relation(old_rel[~kept_old]),
    }


def _by_relation(relations: np.ndarray) -> dict[str, int]:
    return {str(k): int(v) for k, v in pd.Series(relations).value_counts().sort_index().items()}


def _labels(n: int, edges: pd.DataFrame) -> np.ndarray:
    """Weakly connected component of every node."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    src, dst = edges["source"].to_numpy(), edges["target"].to_numpy()
    matrix = coo_matrix((np.ones(len(src), dtype=np.float32), (src, dst)), shape=(n, n))
    return connected_components(matrix, directed=True, connection="weak")[1]


def _family_count(nodes: pd.DataFrame, edges: pd.DataFrame) -> int:
    """Families: components with at least one edge."""
    return int((np.bincount(_labels(len(nodes), edges)) > 1).sum()) if len(edges) else 0


def _families(
    nodes: pd.DataFrame, edges: pd.DataFrame, added: np.ndarray, in_old: np.ndarray, top: int | None
) -> dict[str, Any]:
    n = len(nodes)
    labels = _labels(n, edges)
    size = np.bincount(labels, minlength=labels.max(initial=-1) + 1)
    grown = np.bincount(labels, weights=added, minlength=len(size)).astype(np.int64)
    models = np.bincount(labels, weights=~_flags(nodes, "virtual"), minlength=len(size)).astype(np.int64)
    known = np.bincount(labels, weights=in_old >= 0, minlength=len(size))
    pick = np.flatnonzero((size > 1) & (grown > 0))
    order = np.lexsort((pick, -models[pick], -grown[pick]))[: None if top is None else top]
    return {
        "count": int((size > 1).sum()),
        "new": int(((size > 1) & (known == 0)).sum()),
        "grew": [
            dict(family=name, added=int(grown[c]), models=int(models[c]), new=bool(known[c] == 0))
            for c, name in zip(pick[order], _family_names(nodes, edges, labels, pick[order]), strict=True)
        ],
    }


def _family_names(
    nodes: pd.DataFrame, edges: pd.DataFrame, labels: np.ndarray, wanted: np.ndarray
) -> list[str]:
    """The names of components `wanted`: the root the most members reach by following first parents (pointer
    jumping, O(N log depth)); ties by downloads, then node order. A component without such a root (only with
    a cycle, which the graph stage breaks) takes its first node's id."""
    n = len(nodes)
    parent = np.full(n, n, dtype=np.int64)
    np.minimum.at(parent, edges["target"].to_numpy(), edges["source"].to_numpy())
    root = np.where(parent == n, np.arange(n), parent)
    for _ in range(64):
        jumped = root[root]
        if np.array_equal(jumped, root):
            break
        root = jumped
    reach = np.bincount(root, minlength=n)
    downloads = nodes["downloads"].to_numpy(dtype=float) if "downloads" in nodes else np.zeros(n)
    heads = np.flatnonzero(root == np.arange(n))
    heads = heads[
        np.lexsort((heads, -np.nan_to_num(downloads[heads], nan=-1.0), -reach[heads], labels[heads]))
    ]
    best = np.full(labels.max(initial=-1) + 1, n, dtype=np.int64)
    np.minimum.at(best, labels, np.arange(n))  # first node of each component, unless a root is found below
    found, at = np.unique(labels[heads], return_index=True)
    best[found] = heads[at]
    ids = nodes["id"].to_numpy()
    return [str(ids[best[c]]) for c in wanted]


def _movement(
    nodes: pd.DataFrame, in_old: np.ndarray, old_xy: np.ndarray, new_xy: np.ndarray, top: int | None
) -> dict[str, Any]:
    both = np.flatnonzero(in_old >= 0)
    before, after = old_xy[in_old[both]], new_xy[both]
    ok = np.isfinite(before).all(axis=1) & np.isfinite(after).all(axis=1)
    both, before, after = both[ok], before[ok], after[ok]
    if not len(both):
        return dict.fromkeys(("extent", "median", "p95", "max"), None) | {"survivors": 0, "top_movers": []}
    extent = float(np.nanmax(np.nanmax(new_xy, axis=0) - np.nanmin(new_xy, axis=0))) or 1.0
    moved = np.hypot(*(after - before).T) / extent
    moving = np.flatnonzero(moved > 0)
    order = moving[np.lexsort((both[moving], -moved[moving]))][: None if top is None else top]
    ids = nodes["id"].to_numpy()
    return {
        "survivors": len(both),
        "extent": round(extent, 6),
        "median": round(float(np.median(moved)), 6),
        "p95": round(float(np.percentile(moved, 95)), 6),
        "max": round(float(moved.max()), 6),
        "top_movers": [
            {"id": str(ids[both[i]]), "moved": round(float(moved[i]), 6)}
            | {"from": before[i].round(4).tolist(), "to": after[i].round(4).tolist()}
            for i in order
        ],
    }


# ------------------------------------------------------------------------------------------------ reading


def read_side(path: Path, *, fmt: str | None = None, nodes: Path | None = None) -> Side:
    """One side of a diff: an atlas (positions + lineage, read by `artifacts.read_atlas`) or any snapshot file
    (through the graph stage, so ids and edges are repaired exactly as a build would)."""
    from atlasgen.artifacts import atlas_dir, is_atlas, read_atlas

    if is_atlas(atlas_dir(path)):
        atlas = read_atlas(path, columns=Side.NODE_COLUMNS)
        nodes_frame = atlas.positions[[c for c in Side.NODE_COLUMNS if c in atlas.positions]]
        assert atlas.edges is not None  # read_atlas reads the lineage unless told not to
        return Side(nodes_frame, atlas.edges, atlas.xy, atlas.source())
    from atlasgen.graph.dag import build_graph
    from atlasgen.ingest.snapshot import read_snapshot

    snap = read_snapshot(path, fmt=fmt, nodes=nodes)
    graph = build_graph(snap)
    source = {"kind": "snapshot", "path": str(path), "label": path.name, "format": snap.source.get("format")}
    return Side(graph.nodes[list(Side.NODE_COLUMNS)], graph.edges, None, source)


def run(
    old: Path,
    new: Path,
    *,
    fmt: str | None = None,
    old_nodes: Path | None = None,
    new_nodes: Path | None = None,
    top: int | None = TOP,
) -> dict[str, Any]:
    """Read OLD and NEW (atlases or snapshots, mixed allowed; `fmt` and the node files go with snapshot
    files) and diff them; movement needs two atlases. The result is JSON-ready (see the module docstring)."""
    a = read_side(old, fmt=fmt, nodes=old_nodes)
    b = read_side(new, fmt=fmt, nodes=new_nodes)
    result = diff_frames(a.nodes, a.edges, b.nodes, b.edges, a.xy, b.xy, top=top)
    result["old"] = {"source": a.source} | result["old"]
    result["new"] = {"source": b.source} | result["new"]
    return result


# ------------------------------------------------------------------------------------------------ output


def render(result: dict[str, Any], fmt: str = "text") -> str:
    """The diff as text for people or as JSON (sorted keys) for tools."""
    if fmt == "json":
        return json.dumps(result, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    return "\n".join(text_lines(result)) + "\n"


def text_lines(result: dict[str, Any]) -> list[str]:
    """The diff for people: one line per section, then the listed models, families and movers indented."""
    lines = [_side_line(name, result[name]) for name in ("old", "new")]
    m, v, e, f = result["models"], result["virtual"], result["edges"], result["families"]
    lines.append(f"models: +{m['added']:,} added, -{m['removed']:,} removed, {m['kept']:,} in both")
    lines += [f"  + {_model(row)}" for row in m["added_models"]]
    lines += [f"  - {_model(row)}" for row in m["removed_models"]]
    lines.append(
        f"virtual parents (not models): +{v['added']:,}, -{v['removed']:,}; {v['became_models']:,} became "
        f"models, {v['models_now_virtual']:,} models now only named as parents"
    )
    lines.append(f"edges: +{e['added']:,} added ({_rels(e['added_by_relation'])})")
    lines.append(f"edges: -{e['removed']:,} removed ({_rels(e['removed_by_relation'])})")
    if e["relation_changed"]:
        lines.append(f"edges: {e['relation_changed']:,} kept with a changed relation")
    lines.append(
        f"families: {result['old']['families']:,} -> {result['new']['families']:,} ({f['new']:,} new)"
        + ("; grew most:" if f["grew"] else "; none grew")
    )
    for fam in f["grew"]:
        mark = ", new family" if fam["new"] else ""
        lines.append(f"  {fam['family']}: +{fam['added']:,} models ({fam['models']:,} now{mark})")
    lines += _movement_lines(result["movement"])
    return lines


def _side_line(name: str, side: dict[str, Any]) -> str:
    src = side["source"]
    about = ", ".join(
        str(src[k]) for k in ("label", "date") if src.get(k) and src[k] != Path(src["path"]).name
    )
    return (
        f"{name}: {src['kind']} {src['path']}{f' ({about})' if about else ''}: {side['models']:,} models, "
        f"{side['virtual']:,} virtual parents, {side['edges']:,} edges, {side['families']:,} families"
    )


def _model(row: dict[str, Any]) -> str:
    downloads = None if row["downloads"] is None else f"{row['downloads']:,} downloads"
    extra = ", ".join(x for x in (row["relation"], downloads) if x)
    return row["id"] + (f" ({extra})" if extra else "")


def _rels(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in counts.items()) or "none"


def _movement_lines(movement: dict[str, Any] | None) -> list[str]:
    if movement is None:
        return ["movement: needs two atlases"]
    if not movement["survivors"]:
        return ["movement: no model is in both atlases"]
    lines = [
        f"movement of the {movement['survivors']:,} ids in both atlases, as a share of the new map's extent: "
        f"median {movement['median']:.2%}, p95 {movement['p95']:.2%}, max {movement['max']:.2%}"
    ]
    if "by_cause" in movement:
        from atlasgen.tools.moves import cause_lines

        lines += cause_lines(movement["by_cause"])
    lines += [f"  {row['id']}: {row['moved']:.2%}" for row in movement["top_movers"]]
    return lines
