"""`atlasgen lineage MODEL_ID`: a model's ancestry up to its root(s) with the relation and declared licence at
every hop, the declared-licence changes along it, and a summary of its descendants.

Input: a snapshot (through the graph stage: the repaired DAG a build charts), a built atlas (read by
`artifacts.read_atlas`, as every tool reads one) or the embedded sample. Parent and child adjacency are CSR
arrays built once; only the part reachable from the model is walked, so on a 2M-model Hub reading the input
is nearly all the time. `run` gives the report as a JSON-ready dict, `render` writes it as text or JSON.

Definitions:
- *ancestors*: every node reached by parent links, once (a DAG: merges have several parents); ``depth`` is
  the fewest hops from the model; *roots* have no parent (the model itself when it has none). *Virtual*
  nodes are parents named in metadata but absent from the snapshot.
- ``relation``: a node's relation to its parents as the graph stage sets it (``base``, ``finetune``,
  ``adapter``, ``quantized``, ``merge``, ``unknown``, ``virtual``); ``parent_relations`` is each link's own
  relation, aligned with ``parents`` (sorted by id).
- *declared-licence changes*: links of the ancestry (the model or an ancestor -> one of its parents) whose two
  ends both declare a licence and declare different values (compared case-insensitively, without a
  ``license:`` prefix). ``families_differ`` says whether the licence families (`graph.licences.licence_family`:
  apache, mit, llama, gemma, ...) differ too, or only the raw values (``llama3`` vs ``llama3.1``). A missing
  licence is "not declared", never a change. These are differences in Hub metadata as declared, not legal
  assessments. ``--fail-on licence-change`` exits with status 3 (`EXIT_LICENCE_CHANGE`) when there is any,
  ``--fail-on licence-family-change`` only when families differ.
- *descendants*: every node reached by child links; ``by_relation`` counts them by node relation, ``max_depth``
  is the largest of their fewest-hop distances, ``top_children`` the most-downloaded direct children
  (downloads descending, then id) with the relation of their link to the model.
- *repairs*: ``graph`` is the repair counts of the whole input (the build report's ``repairs``; for an atlas,
  its ``report.json``); ``removed_links`` (snapshots only) the links the snapshot names for the model or one of
  its ancestors that the graph stage removed (cycle breaking, self-loops, links of dropped rows).

JSON output (``--format json``: sorted keys, ids as text, ``null`` for unknown values), schema 1::

    {"schema": 1,
     "model": {"id", "relation", "licence", "licence_family", "virtual", "downloads", "depth": 0,
               "parents": [ids], "parent_relations": [relations]},
     "ancestors": [same fields as model, depth >= 1], ordered by depth then id,
     "roots": [ids, sorted],
     "licence_changes": [{"child", "parent", "child_licence", "parent_licence", "child_licence_family",
                          "parent_licence_family", "families_differ": bool}], ordered by child then parent,
     "descendants": {"total", "children", "by_relation": {relation: count}, "max_depth",
                     "top_children": [{"id", "relation", "licence", "downloads"}]},
     "repairs": {"graph": {repair: count}, "removed_links": [{"child", "parent"}]},
     "source": {"kind": "snapshot"|"atlas", "path", and where known "label", "format", "date", "sha256"}}
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from atlasgen.errors import InputError
from atlasgen.graph.licences import NOTE, declared, licence_family, same
from atlasgen.ids import resolve

SCHEMA = 1
EXIT_LICENCE_CHANGE = 3
FAIL_ON = ("licence-change", "licence-family-change")
SUGGEST_POOL = 50_000  # most ids difflib compares for suggestions
VERBS = {
    "finetune": "fine-tuned from",
    "quantized": "quantized from",
    "adapter": "adapter of",
    "merge": "merged from",
}


@dataclass
class Csr:
    """Adjacency in one direction: the neighbours of node i are nodes[indptr[i]:indptr[i+1]]."""

    indptr: np.ndarray
    nodes: np.ndarray
    relation: np.ndarray  # relation of each link, aligned with nodes

    @classmethod
    def of(cls, frm: np.ndarray, to: np.ndarray, relation: np.ndarray, n: int) -> Csr:
        order = np.argsort(frm, kind="stable")
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(frm, minlength=n), out=indptr[1:])
        return cls(indptr, to[order], relation[order])

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.indptr[i], self.indptr[i + 1]
        return self.nodes[lo:hi], self.relation[lo:hi]

    def reach(self, start: int) -> tuple[np.ndarray, np.ndarray]:
        """Every node reachable from `start` (itself excluded) and its fewest-hop depth, level by level."""
        seen = np.zeros(len(self.indptr) - 1, dtype=bool)
        seen[start] = True
        frontier, found, depths = np.array([start], dtype=np.int64), [np.empty(0, np.int64)], [np.empty(0)]
        while frontier.size:
            lo, hi = self.indptr[frontier], self.indptr[frontier + 1]
            counts = hi - lo
            step = np.repeat(lo - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
            frontier = np.unique(self.nodes[step])
            frontier = frontier[~seen[frontier]]
            seen[frontier] = True
            found.append(frontier)
            depths.append(np.full(len(frontier), len(found) - 1))
        return np.concatenate(found), np.concatenate(depths).astype(np.int64)


@dataclass
class Dag:
    ids: np.ndarray
    relation: np.ndarray
    licence: np.ndarray
    virtual: np.ndarray
    downloads: np.ndarray
    up: Csr  # parents
    down: Csr  # children
    repairs: dict[str, int]
    source: dict[str, Any]
    raw_links: pd.DataFrame | None  # child, parent as the snapshot names them (snapshots only)


# ------------------------------------------------------------------------------------------------ reading


def load(
    *,
    snapshot: Path | None = None,
    atlas: Path | None = None,
    fmt: str | None = None,
    nodes: Path | None = None,
) -> Dag:
    """The lineage DAG of a built atlas, of a snapshot file or (neither) of the embedded sample."""
    if atlas is not None:
        return _atlas_dag(atlas)
    from atlasgen.graph.dag import build_graph
    from atlasgen.ingest.snapshot import read_snapshot

    snap = read_snapshot(snapshot, fmt=fmt, nodes=nodes)
    graph = build_graph(snap)
    source = {"kind": "snapshot"} | {
        k: snap.source[k] for k in ("path", "label", "format", "date") if k in snap.source
    }
    return _dag(
        graph.nodes, graph.edges, dict(graph.report["repairs"]), source, snap.links[["child", "parent"]]
    )


def _atlas_dag(path: Path) -> Dag:
    """An atlas's DAG: its positions' attributes, its lineage and the repair counts of its build report."""
    from atlasgen.artifacts import read_atlas

    atlas = read_atlas(path, columns=("virtual", "downloads", "relation", "licence"), need=("id",))
    assert atlas.edges is not None  # read_atlas reads the lineage unless told not to
    repairs = atlas.report.get("repairs")
    repairs = dict(repairs) if isinstance(repairs, dict) else {}
    return _dag(atlas.positions, atlas.edges, repairs, atlas.source(), None)


def _dag(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    repairs: dict[str, int],
    source: dict[str, Any],
    raw_links: pd.DataFrame | None,
) -> Dag:
    n = len(nodes)
    src, dst = edges["source"].to_numpy(np.int64), edges["target"].to_numpy(np.int64)
    rel = edges["relation"].astype(str).to_numpy(dtype=object)
    virtual = nodes["virtual"].eq(True).to_numpy() if "virtual" in nodes else np.zeros(n, dtype=bool)
    fallback = pd.Series(np.where(virtual, "virtual", "unknown"))  # an atlas without the relation column
    relation = nodes.get("relation", fallback).astype(str).to_numpy(dtype=object)
    licence = nodes["licence"].astype(object).to_numpy() if "licence" in nodes else np.full(n, None, object)
    downloads = nodes["downloads"].to_numpy(dtype=float) if "downloads" in nodes else np.full(n, np.nan)
    ids = nodes["id"].astype(str).to_numpy(dtype=object)
    up, down = Csr.of(dst, src, rel, n), Csr.of(src, dst, rel, n)
    repairs = {str(k): int(v) for k, v in repairs.items()}
    return Dag(ids, relation, licence, virtual, downloads, up, down, repairs, source, raw_links)


# ------------------------------------------------------------------------------------------------ lookup


def find(dag: Dag, model_id: str) -> int:
    """The node of `model_id`, exactly else in any case (ids.resolve); an unknown id is an InputError naming
    the closest ids, one that several ids match in other cases an InputError naming them."""
    match = resolve(dag.ids, model_id.strip())
    if match.index is not None:
        return match.index
    if match.ambiguous:
        raise InputError(dag.source.get("path", "input"), match.problem(model_id.strip()))
    close = suggest(dag.ids, model_id)
    hint = f"; closest ids: {', '.join(close)}" if close else "; no similar id"
    raise InputError(dag.source.get("path", "input"), f"no model {model_id!r}{hint}")


def suggest(ids: np.ndarray, wanted: str, n: int = 5) -> list[str]:
    """Ids close to `wanted`: case-insensitive exact matches first, then difflib's closest among the ids of
    the same owner or that contain the start of its name (all ids only for a small input)."""
    key = wanted.strip().lower()
    low = pd.Series(ids, dtype=object).str.lower()
    exact = list(ids[(low == key).to_numpy()])
    owner, _, name = key.rpartition("/")
    pool = low.str.startswith(owner + "/") if owner else pd.Series(False, index=low.index)
    if name:
        pool |= low.str.contains(name[: max(4, len(name) // 2)], regex=False)
    if not pool.any() and len(ids) <= SUGGEST_POOL:
        pool[:] = True
    picked = np.flatnonzero(pool.to_numpy())
    if len(picked) > SUGGEST_POOL:  # the ids nearest in length
        near = np.argsort(np.abs(low.iloc[picked].str.len().to_numpy() - len(key)), kind="stable")
        picked = picked[near[:SUGGEST_POOL]]
    by_lower = dict(zip(low.iloc[picked], ids[picked], strict=True))
    close = [by_lower[c] for c in difflib.get_close_matches(key, list(by_lower), n=n, cutoff=0.6)]
    return list(dict.fromkeys(exact + close))[:n]


# ------------------------------------------------------------------------------------------------ analysis


def _downloads(value: float) -> int | None:
    return None if not np.isfinite(value) else int(value)


def _entry(dag: Dag, i: int, depth: int) -> dict[str, Any]:
    parents, relations = dag.up.row(i)
    order = sorted(range(len(parents)), key=lambda k: str(dag.ids[parents[k]]))
    licence = declared(dag.licence[i])
    return {
        "id": str(dag.ids[i]),
        "relation": str(dag.relation[i]),
        "licence": licence,
        "licence_family": licence_family(licence),
        "virtual": bool(dag.virtual[i]),
        "downloads": _downloads(dag.downloads[i]),
        "depth": int(depth),
        "parents": [str(dag.ids[parents[k]]) for k in order],
        "parent_relations": [str(relations[k]) for k in order],
    }


def lineage_of(dag: Dag, model_id: str, *, children: int = 5) -> dict[str, Any]:
    """The lineage report of one model (see the module docstring for its schema)."""
    i = find(dag, model_id)
    found, depths = dag.up.reach(i)
    model = _entry(dag, i, 0)
    ancestors = sorted(
        (_entry(dag, j, d) for j, d in zip(found, depths, strict=True)), key=lambda e: (e["depth"], e["id"])
    )
    return {
        "schema": SCHEMA,
        "model": model,
        "ancestors": ancestors,
        "roots": sorted(e["id"] for e in [model, *ancestors] if not e["parents"]),
        "licence_changes": licence_changes([model, *ancestors]),
        "descendants": _descendants(dag, i, children),
        "repairs": {
            "graph": dict(sorted(dag.repairs.items())),
            "removed_links": _removed(dag, model, ancestors),
        },
        "source": dag.source,
    }


def licence_changes(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Links (child -> parent) among `entries` whose ends both declare a licence, and different ones."""
    by_id = {e["id"]: e for e in entries}
    changes = []
    for child in sorted(entries, key=lambda e: e["id"]):
        for parent in map(by_id.__getitem__, child["parents"]):
            a, b = child["licence"], parent["licence"]
            if a is None or b is None or same(a, b):
                continue
            fa, fb = child["licence_family"], parent["licence_family"]
            ends = {"child": child["id"], "parent": parent["id"], "child_licence": a, "parent_licence": b}
            changes.append(
                ends | {"child_licence_family": fa, "parent_licence_family": fb, "families_differ": fa != fb}
            )
    return changes


def _descendants(dag: Dag, i: int, top: int) -> dict[str, Any]:
    found, depths = dag.down.reach(i)
    kids, relations = dag.down.row(i)
    downloads = np.nan_to_num(dag.downloads[kids], nan=-1.0)
    order = sorted(range(len(kids)), key=lambda k: (-downloads[k], str(dag.ids[kids[k]])))[:top]
    counts = pd.Series(dag.relation[found], dtype=object).value_counts()
    return {
        "total": len(found),
        "children": len(kids),
        "by_relation": {str(k): int(counts[k]) for k in sorted(counts.index)},
        "max_depth": int(depths.max(initial=0)),
        "top_children": [
            {
                "id": str(dag.ids[kids[k]]),
                "relation": str(relations[k]),
                "licence": declared(dag.licence[kids[k]]),
                "downloads": _downloads(dag.downloads[kids[k]]),
            }
            for k in order
        ],
    }


def _removed(dag: Dag, model: dict[str, Any], ancestors: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Links the snapshot names for the shown models that the repaired DAG lacks."""
    if dag.raw_links is None:
        return []
    shown = [model, *ancestors]
    kept = {(e["id"], p) for e in shown for p in e["parents"]}
    raw = dag.raw_links[dag.raw_links["child"].isin([e["id"] for e in shown])].dropna()
    pairs = {(str(c), str(p)) for c, p in zip(raw["child"], raw["parent"], strict=True)} - kept
    return [{"child": c, "parent": p} for c, p in sorted(pairs)]


def run(
    model_id: str,
    *,
    snapshot: Path | None = None,
    atlas: Path | None = None,
    fmt: str | None = None,
    nodes: Path | None = None,
    children: int = 5,
) -> dict[str, Any]:
    """The lineage report of `model_id` in a snapshot file, a built atlas or (neither) the embedded sample;
    `fmt` and `nodes` go with a snapshot file."""
    return lineage_of(load(snapshot=snapshot, atlas=atlas, fmt=fmt, nodes=nodes), model_id, children=children)


def failing(result: dict[str, Any], fail_on: str | None) -> int:
    """How many licence changes trip `--fail-on` (0 without it)."""
    if fail_on is None:
        return 0
    changes = result["licence_changes"]
    return len(changes if fail_on == "licence-change" else [c for c in changes if c["families_differ"]])


# ------------------------------------------------------------------------------------------------ output


def render(result: dict[str, Any], fmt: str = "text") -> str:
    """The lineage report as text for people or as JSON (sorted keys) for tools."""
    if fmt == "json":
        return json.dumps(result, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    return "\n".join(text_lines(result)) + "\n"


def _licence(entry: dict[str, Any]) -> str:
    return f"licence {entry['licence']}" if entry["licence"] else "licence not declared"


def text_lines(result: dict[str, Any]) -> list[str]:
    """The lineage for people: source, the ancestry tree, licence changes, descendants, repairs."""
    src, model = result["source"], result["model"]
    about = ", ".join(
        str(src[k]) for k in ("label", "date") if src.get(k) and src[k] != Path(src["path"]).name
    )
    lines = [f"source: {src['kind']} {src['path']}" + (f" ({about})" if about else "")]
    downloads = "" if model["downloads"] is None else f", {model['downloads']:,} downloads"
    lines.append(f"{model['id']}: {model['relation']}, {_licence(model)}{downloads}")
    if result["ancestors"]:
        lines.append(f"ancestors: {len(result['ancestors']):,}; roots: {', '.join(result['roots'])}")
    else:
        lines.append(f"ancestors: none ({model['id']} has no documented parent: a root)")
    lines += _tree(result)
    lines += _change_lines(result)
    lines += _descendant_lines(result["descendants"])
    removed, graph = result["repairs"]["removed_links"], result["repairs"]["graph"]
    if graph:
        counts = ", ".join(f"{k} {v:,}" for k, v in graph.items())
        lines.append(f"repairs in the whole input: {counts}; the lineage shown is the repaired DAG")
    return lines + [
        f"  the input also names {r['parent']} as a parent of {r['child']}: removed by a repair"
        for r in removed
    ]


def _tree(result: dict[str, Any]) -> list[str]:
    """The ancestry as an indented tree, parents under their child; a node reached again is referenced."""
    entries = {e["id"]: e for e in [result["model"], *result["ancestors"]]}
    changed = {(c["child"], c["parent"]) for c in result["licence_changes"]}
    lines, shown = [f"{result['model']['id']}  {_licence(result['model'])}"], {result["model"]["id"]}
    stack = _branches(result["model"], "")
    while stack:
        child, pid, relation, prefix, last = stack.pop()
        entry, head = entries[pid], prefix + ("└─ " if last else "├─ ")
        verb = VERBS.get(relation, f"{relation} link from")
        differs = ["declared licence differs from the child's (see below)"] if (child, pid) in changed else []
        if pid in shown:
            lines.append(f"{head}{verb} {pid}  " + " · ".join(["(shown above)", *differs]))
            continue
        shown.add(pid)
        tags = [_licence(entry)]
        tags += ["virtual: named as a parent, absent from the input"] if entry["virtual"] else []
        tags += ["root"] if not entry["parents"] else []
        lines.append(f"{head}{verb} {pid}  " + " · ".join(tags + differs))
        stack += _branches(entry, prefix + ("   " if last else "│  "))
    return lines


def _branches(entry: dict[str, Any], prefix: str) -> list[tuple[str, str, str, str, bool]]:
    """Stack items for an entry's parents, so that they pop in id order."""
    n = len(entry["parents"])
    items = [
        (entry["id"], p, r, prefix, k == n - 1)
        for k, (p, r) in enumerate(zip(entry["parents"], entry["parent_relations"], strict=True))
    ]
    return items[::-1]


def _change_lines(result: dict[str, Any]) -> list[str]:
    if not result["ancestors"]:
        return ["declared licence changes along the ancestry: none (no documented parent, no ancestry)"]
    changes = result["licence_changes"]
    entries = [result["model"], *result["ancestors"]]
    undeclared = sum(e["licence"] is None for e in entries)
    note = (
        f"{undeclared:,} of {len(entries):,} models on it declare none" if undeclared else "all declare one"
    )
    if not changes:
        return [f"declared licence changes along the ancestry: none ({note})"]
    lines = [f"declared licence changes along the ancestry: {len(changes):,} ({note})"]
    for c in changes:
        family = (
            f"licence families differ: {c['child_licence_family']} vs {c['parent_licence_family']}"
            if c["families_differ"]
            else f"same licence family ({c['child_licence_family']}), different declared values"
        )
        lines.append(
            f"  {c['child']} (parent {c['parent']}): declared licence differs from its parent's: "
            f"{c['child_licence']} vs {c['parent_licence']} ({NOTE}); {family}"
        )
    return lines


def _descendant_lines(desc: dict[str, Any]) -> list[str]:
    if not desc["total"]:
        return ["descendants: none"]
    rels = ", ".join(f"{k} {v:,}" for k, v in desc["by_relation"].items())
    head = f"descendants: {desc['total']:,} ({rels}), up to {desc['max_depth']} generation(s) below; "
    lines = [
        head
        + f"{desc['children']:,} direct children"
        + (", most downloaded:" if desc["top_children"] else "")
    ]
    for kid in desc["top_children"]:
        downloads = "downloads unknown" if kid["downloads"] is None else f"{kid['downloads']:,} downloads"
        lines.append(f"  {kid['id']}  {kid['relation']}, {downloads}, {_licence(kid)}")
    return lines
