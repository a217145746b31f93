"""Every declared-licence change across the atlas, for the viewer's "Licence changes" dialog.

A *change* is a parent -> child edge whose two ends both declare a licence and declare different values, by
the licence rules of graph/licences.py (``declared``: missing / empty / "unknown" is not declared; ``same``:
compared case-insensitively, without a ``license:`` prefix). ``families_differ`` says whether the licence
families (``licence_family``) differ too, or only the raw values (``llama3`` vs ``llama3.1``). These are
differences in Hub metadata as declared, not legal assessments.

Each change belongs to a *family*: the weakly connected component of its edge, named by a root (a node
without a parent). The FAMILY_NAMED largest families with changes are named as the trends report names them
(`trends.family_table`: among its roots with most children, the one with most descendants); any other, by
its root with most children (ties: first id).

Layout under ``data/licences/`` (every file sorted-key compact JSON, `jsonio.dumps`), sized so that the
viewer never downloads everything:

- ``families.json``: ``{"families": [{"root", "changes", "family_changes", "chunks": [first, last]}]}``,
  families by changes descending, then root id; ``chunks`` is the inclusive range of chunk files holding
  the family's changes.
- ``{k}.json``, k = 0, 1, ...: ``{"changes": [change, ...]}``. Families are packed in families.json's order,
  whole, at most CHUNK changes per file; a family larger than CHUNK gets consecutive chunks of its own.
- ``top.json``: ``{"changes": [...]}``, the TOP changes with the most-downloaded children, all families.

A change is ``{"child", "parent", "child_licence", "parent_licence", "child_family", "parent_family",
"families_differ", "downloads" (the child's; null when unknown), "family" (root id)}``; within a family (and
in top.json) ordered by downloads descending, then child id, then parent id.

The whole computation is vectorised: licences are compared once per distinct (child, parent) licence pair,
components come from scipy.sparse.csgraph; the only Python loops run over distinct licence values, licence
pairs, FAMILY_NAMED families and the output files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from atlasgen.graph.licences import NOTE, declared, licence_family, same
from atlasgen.graph.trends import family_table
from atlasgen.jsonio import dumps

CHUNK = 1500  # most changes per chunk file
TOP = 500  # changes in top.json
FAMILY_NAMED = 256  # largest families with changes named by trends.family_table
FOLDER = "licences"
COLUMNS = ["child", "parent", "child_licence", "parent_licence", "child_family", "parent_family"]


def find_changes(nodes: pd.DataFrame, edges: pd.DataFrame) -> pd.DataFrame:
    """One row per declared-licence change (COLUMNS + families_differ, downloads, family), in output order:
    families by number of changes descending then root id; within one, downloads descending, child, parent."""
    nodes = nodes.reset_index(drop=True)
    n = len(nodes)
    src, dst = edges["source"].to_numpy(np.int64), edges["target"].to_numpy(np.int64)
    codes, uniques = pd.factorize(nodes["licence"].astype(object), use_na_sentinel=True)
    values = [declared(u) for u in uniques]  # one call per distinct licence
    stated = np.array([v is not None for v in values] + [False], dtype=bool)  # index -1: missing
    child, parent = codes[dst], codes[src]
    both = stated[child] & stated[parent]
    pairs, inverse = np.unique(np.stack([child[both], parent[both]]), axis=1, return_inverse=True)
    differs = np.array([not same(values[a], values[b]) for a, b in pairs.T], dtype=bool)
    changed = np.flatnonzero(both)[differs[inverse.reshape(-1)]] if len(pairs.T) else np.empty(0, np.int64)
    edge_src, edge_dst = src[changed], dst[changed]

    family = _family_roots(nodes, src, dst, n)
    ids = nodes["id"].astype(str).to_numpy(dtype=object)
    text = np.array([*values, None], dtype=object)
    fam = np.array([licence_family(v) for v in values] + ["unknown"], dtype=object)
    downloads = pd.to_numeric(nodes["downloads"], errors="coerce").to_numpy(dtype=np.float64)
    frame = pd.DataFrame(
        {
            "child": ids[edge_dst],
            "parent": ids[edge_src],
            "child_licence": text[codes[edge_dst]],
            "parent_licence": text[codes[edge_src]],
            "child_family": fam[codes[edge_dst]],
            "parent_family": fam[codes[edge_src]],
            "downloads": downloads[edge_dst],
            "family": family[edge_dst],
        }
    )
    frame["families_differ"] = frame["child_family"].to_numpy() != frame["parent_family"].to_numpy()
    size = frame.groupby("family", sort=False)["child"].transform("size")
    frame = frame.assign(_size=size, _dl=frame["downloads"].fillna(-1.0))
    frame = frame.sort_values(
        ["_size", "family", "_dl", "child", "parent"],
        ascending=[False, True, False, True, True],
        kind="stable",
    )
    return frame.drop(columns=["_size", "_dl"]).reset_index(drop=True)


def _family_roots(nodes: pd.DataFrame, src: npt.NDArray[np.int64], dst: npt.NDArray[np.int64], n: int) -> Any:
    """The root id naming each node's weakly connected component (see the module docstring)."""
    adj = csr_matrix((np.ones(len(src), np.float32), (src, dst)), shape=(n, n))
    _, labels = connected_components(adj, directed=True, connection="weak")
    label = labels.astype(np.int64)
    indeg, outdeg = np.bincount(dst, minlength=n), np.bincount(src, minlength=n)
    ids = nodes["id"].astype(str).to_numpy(dtype=object)
    roots = np.flatnonzero(indeg == 0)
    roots = roots[np.lexsort((roots, -outdeg[roots], label[roots]))]  # per component: most children first
    first = np.unique(label[roots], return_index=True)
    name = np.full(label.max(initial=-1) + 1, None, dtype=object)
    name[first[0]] = ids[roots[first[1]]]
    if len(src):  # the largest families: the trends report's name, over the components that have edges
        keep = np.flatnonzero(np.isin(label, np.unique(label[src])))
        local = np.full(n, -1, dtype=np.int64)
        local[keep] = np.arange(len(keep))
        sub = adj[keep][:, keep]
        real = ~nodes["virtual"].eq(True).to_numpy()[keep] if "virtual" in nodes else np.ones(len(keep), bool)
        sub_label, table = family_table(
            nodes.iloc[keep].reset_index(drop=True), sub, indeg[keep], outdeg[keep], real, FAMILY_NAMED
        )
        members = np.unique(sub_label, return_index=True)
        at = dict(zip(members[0].tolist(), members[1].tolist(), strict=True))
        for comp, root in zip(table["component"], table["root"], strict=True):
            name[label[keep[at[int(comp)]]]] = root
    return name[label]


def write_licence_changes(nodes: pd.DataFrame, edges: pd.DataFrame, out_dir: Path) -> dict[str, Any]:
    """Write ``out_dir/data/licences/*`` and return atlas.json's ``data["licences"]`` entry."""
    changes = find_changes(nodes, edges)
    folder = Path(out_dir) / "data" / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.json"):
        stale.unlink()
    records = _records(changes)
    counts = changes.groupby("family", sort=False).agg(
        changes=("child", "size"), family_changes=("families_differ", "sum")
    )
    families: list[dict[str, Any]] = []
    bounds: list[tuple[int, int]] = []  # [start, end) of each chunk's changes
    pos, open_at = 0, None  # the next change; where the open chunk starts (None: no open chunk)
    for root, row in counts.iterrows():  # families with changes: output files, not the graph
        count = int(row["changes"])
        if open_at is not None and pos - open_at + count > CHUNK:
            bounds.append((open_at, pos))
            open_at = None
        if count > CHUNK:  # a family larger than a chunk: consecutive chunks of its own
            first = len(bounds)
            bounds += [(s, min(s + CHUNK, pos + count)) for s in range(pos, pos + count, CHUNK)]
            last = len(bounds) - 1
        else:
            open_at = pos if open_at is None else open_at
            first = last = len(bounds)
        pos += count
        families.append(
            {
                "root": str(root),
                "changes": count,
                "family_changes": int(row["family_changes"]),
                "chunks": [first, last],
            }
        )
    if open_at is not None:
        bounds.append((open_at, pos))
    chunks = [records[a:b] for a, b in bounds]
    sizes = 0
    for k, chunk in enumerate(chunks):
        sizes += _write(folder / f"{k}.json", {"changes": chunk})
    by_downloads = changes.assign(_dl=changes["downloads"].fillna(-1.0)).sort_values(
        ["_dl", "child", "parent"], ascending=[False, True, True], kind="stable"
    )
    top = [int(i) for i in by_downloads.index[:TOP]]  # changes has a RangeIndex: positions into records
    sizes += _write(folder / "families.json", {"families": families})
    sizes += _write(folder / "top.json", {"changes": [records[i] for i in top]})
    return {
        "families": f"data/{FOLDER}/families.json",
        "template": f"data/{FOLDER}/{{chunk}}.json",
        "top": f"data/{FOLDER}/top.json",
        "chunks": len(chunks),
        "chunk_size": CHUNK,
        "changes": len(changes),
        "family_changes": int(changes["families_differ"].sum()),
        "bytes": sizes,
        "note": NOTE,
    }


def _records(changes: pd.DataFrame) -> list[dict[str, Any]]:
    downloads = [None if not np.isfinite(d) else int(d) for d in changes["downloads"].to_numpy(np.float64)]
    columns = {c: changes[c].astype(str).tolist() for c in [*COLUMNS, "family"]}
    differ = changes["families_differ"].astype(bool).tolist()
    return [
        {c: columns[c][i] for c in columns} | {"families_differ": differ[i], "downloads": downloads[i]}
        for i in range(len(changes))
    ]


def _write(path: Path, payload: Any) -> int:
    data = dumps(payload).encode("utf-8")
    path.write_bytes(data)
    return len(data)
