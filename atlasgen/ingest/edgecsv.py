"""The `csv` format, for private registries that are not on the Hub: an edge CSV `source,target[,relation]`
(parent, child; the relation column may also be called relationship, edge, edge_type, type or kind) and an
optional node CSV `id[,author,downloads,likes,licence|license,pipeline_tag,library_name,created_at]` (other
names in NODE_ALIASES). Header names match in any case; a column left unread is logged as a warning.

Without a node file the models are the ids the edges name, without attributes (an id named only as a
parent that differs only in case from a child is that child: graph.dag counts it); with one, its rows are the
models and a child named only in the edges is added bare (counted as `children_only_in_edges`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from atlasgen.errors import InputError
from atlasgen.ids import by_case
from atlasgen.ingest.frames import Snapshot, bare_models
from atlasgen.ingest.parse import Scrub, dates, numbers, read_csv

EDGE_COLUMNS = ("source", "target", "relation")
# The relation column's other common names, in order of preference (the shared hf-snapshot calls it `edge`).
EDGE_ALIASES = {"relation": ("relationship", "edge", "edge_type", "type", "kind")}
NODE_FIELDS = ("id", "author", "created_at", "downloads", "likes", "licence", "pipeline_tag", "library_name")
NODE_ALIASES = {
    "id": ("model_id", "modelId"),
    "author": ("owner",),
    "licence": ("license",),
    "created_at": ("createdAt",),
    "pipeline_tag": ("task",),
    "library_name": ("library",),
}


def read_edge_csv(path: Path, nodes: Path | None = None) -> Snapshot:
    """Read an edge CSV and, if given, its node CSV."""
    edges = read_csv(path, EDGE_COLUMNS, required=2, aliases=EDGE_ALIASES)
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
            models = pd.concat([models, bare_models(extra, start=len(models) + 1)], ignore_index=True)
    else:
        models = bare_models(_edge_ids(links), start=1)
    scrub.finish()
    return Snapshot(models, links, {"nodes": str(nodes)} if nodes is not None else {}, notes)


def _edge_ids(links: pd.DataFrame) -> list[str]:
    """The models of an edge list: every id it names, except an id named only as a parent that differs only
    in case from a child's: that is the child's model as the Hub spells ids (graph.dag links it so)."""
    ids = list(dict.fromkeys(pd.concat([links["parent"], links["child"]]).dropna()))
    children = set(links["child"].dropna())
    other_case = by_case([i for i in ids if i not in children], children)
    return [i for i in ids if i not in other_case] if other_case else ids


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
