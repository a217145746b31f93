"""Focus atlases (`atlasgen build --focus`): chart only the families of chosen models or of an organisation.

A **family** is a weakly connected component of the repaired lineage DAG: a model, its ancestors, their
descendants, and everything linked to those (a merge's other parents and their families too). It is exactly
what the map draws as one island, and keeping whole components means no kept model loses a link, a parent
or its relation colour: the focused atlas is the full atlas's islands, cut out.

* ``MODEL_ID`` keeps the family of that model (an id named only as a parent, a virtual node, works too). The
  id is matched exactly, else case-insensitively when that is unambiguous (the Hub treats ids so; ids.py).
* ``org:NAME`` keeps every model whose author, or id prefix before ``/``, is NAME (case-insensitive), with
  their families. Virtual parents are not an organisation's models here: they are only named by others.

Several specs union. An unknown id or an organisation without a model in the snapshot is a BuildError that
names close matches. The models left out are counted in the graph report's ``focus`` entry, so every input
row is still accounted for: ``input_rows == models + dropped_total + focus.models_outside_focus``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from atlasgen.errors import BuildError
from atlasgen.graph.dag import Graph, summarise
from atlasgen.ids import resolve

ORG_PREFIX = "org:"
SUGGESTIONS = 5
# Suggestions are drawn from at most this many candidates, so an unknown id costs well under a second even
# on a 3M-model Hub (difflib is quadratic in the string length, linear in the candidates).
MAX_CANDIDATES = 50_000


def parse_specs(specs: Iterable[str] | None) -> tuple[str, ...]:
    """The specs as given, stripped and de-duplicated in order; a malformed one is a BuildError."""
    parsed: list[str] = []
    problems = []
    for raw in specs or ():
        spec = raw.strip()
        if not spec:
            problems.append("an empty value")
        elif spec.lower().startswith(ORG_PREFIX) and not spec[len(ORG_PREFIX) :].strip():
            problems.append(f"{raw!r} names no organisation (write org:NAME)")
        elif spec.lower().startswith(ORG_PREFIX):
            spec = ORG_PREFIX + spec[len(ORG_PREFIX) :].strip()
            if "/" in spec:
                problems.append(f"{raw!r}: an organisation name has no '/' (for a model, drop 'org:')")
        if spec and spec not in parsed:
            parsed.append(spec)
    if problems:
        raise BuildError("--focus: " + "; ".join(problems))
    return tuple(parsed)


def focus_graph(graph: Graph, specs: Sequence[str]) -> tuple[Graph, dict[str, Any]]:
    """The graph cut down to the families the specs choose, re-indexed; and the report's ``focus`` entry.

    Returns ``graph`` itself (and an empty dict) for no specs. The returned graph's report is a copy with
    the counts of the focused atlas and ``focus: {specs, models_kept, models_outside_focus, ...}``.
    """
    specs = parse_specs(specs)
    if not specs:
        return graph, {}
    nodes, edges = graph.nodes, graph.edges
    n = len(nodes)
    seeds = np.zeros(n, dtype=bool)
    problems = []
    for spec in specs:
        try:
            seeds[_seeds_of(nodes, spec)] = True
        except LookupError as exc:
            problems.append(str(exc))
    if problems:
        raise BuildError("--focus: " + "; ".join(problems))
    labels = _components(n, edges)
    kept = np.isin(labels, np.unique(labels[seeds]))
    new_index = np.cumsum(kept) - 1
    src, dst = edges["source"].to_numpy(), edges["target"].to_numpy()
    kept_edges = kept[src]
    if not np.array_equal(kept_edges, kept[dst]):  # components are closed under edges
        raise AssertionError("focus: an edge leaves a family")
    focused_edges = pd.DataFrame(
        {
            "source": new_index[src[kept_edges]],
            "target": new_index[dst[kept_edges]],
            "relation": edges["relation"].to_numpy()[kept_edges],
        }
    )
    focused_nodes = nodes[kept].reset_index(drop=True)
    virtual = nodes["virtual"].to_numpy(dtype=bool)
    info = {
        "specs": list(specs),
        "models_kept": int((kept & ~virtual).sum()),
        "models_outside_focus": int((~kept & ~virtual).sum()),
        "virtual_outside_focus": int((~kept & virtual).sum()),
        "edges_outside_focus": int((~kept_edges).sum()),
    }
    report = {k: v for k, v in graph.report.items() if k not in ("dropped_rows", "repairs", "dropped")}
    report |= {
        "repairs": dict(graph.report["repairs"]),
        "dropped": dict(graph.report["dropped"]),
        "dropped_rows": list(graph.report["dropped_rows"]),
        "focus": info,
    }
    summarise(focused_nodes, focused_edges, report)  # recounts, then checks the accounting with the focus
    return Graph(focused_nodes, focused_edges, report), info


def manifest_entry(report: dict[str, Any]) -> dict[str, Any] | None:
    """atlas.json's ``focus``: the specs, the models charted and of how many (None for a full atlas)."""
    info = report.get("focus")
    if not info:
        return None
    return {
        "specs": list(info["specs"]),
        "models": info["models_kept"],
        "of": info["models_kept"] + info["models_outside_focus"],
    }


def summary_line(report: dict[str, Any]) -> str | None:
    entry = manifest_entry(report)
    if entry is None:
        return None
    return (
        f"focus: {', '.join(entry['specs'])} — {entry['models']:,} of {entry['of']:,} models "
        f"({entry['of'] - entry['models']:,} outside the focus)"
    )


def _components(n: int, edges: pd.DataFrame) -> np.ndarray:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    ones = np.ones(len(edges), dtype=np.int8)
    mat = coo_matrix((ones, (edges["source"].to_numpy(), edges["target"].to_numpy())), shape=(n, n))
    _, labels = connected_components(mat, directed=False)
    return np.asarray(labels)


def _owners(nodes: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Each node's id prefix before '/' and its author ('' where there is none)."""
    ids = nodes["id"].astype(str)
    prefix = ids.str.split("/", n=1).str[0].where(ids.str.contains("/", regex=False), "")
    return prefix, nodes["author"].where(nodes["author"].notna(), "").astype(str)


def _seeds_of(nodes: pd.DataFrame, spec: str) -> np.ndarray:
    """Row indices the spec names; a LookupError that suggests close matches when it names none."""
    if spec.lower().startswith(ORG_PREFIX):
        org = spec[len(ORG_PREFIX) :]
        prefix, author = _owners(nodes)
        real = ~nodes["virtual"].to_numpy(dtype=bool)
        match = ((prefix.str.lower() == org.lower()) | (author.str.lower() == org.lower())).to_numpy()
        found = np.flatnonzero(match & real)
        if len(found):
            return found
        named = int((match & ~real).sum())
        only = f" ({named:,} of its models are only named as parents)" if named else ""
        orgs = pd.Series(pd.unique(pd.concat([prefix[real], author[real]])), dtype=object)
        orgs = orgs[orgs.str[:1].str.lower() == org[:1].lower()]  # a typo rarely hits the first letter
        return _missing(f"organisation {org!r} has no model in the snapshot{only}", org.lower(), orgs)
    ids = nodes["id"].astype(str)
    hit = resolve(ids, spec)
    if hit.index is not None:
        return np.array([hit.index])
    if hit.ambiguous:
        raise LookupError(hit.problem(spec))
    return _missing(f"model {spec!r} is not in the snapshot", spec, _id_candidates(ids, spec))


def _id_candidates(ids: pd.Series, spec: str) -> Sequence[str]:
    """Ids worth comparing with an unknown one: the same owner's, and those whose name contains its name."""
    owner, _, name = spec.lower().rpartition("/")
    lower = ids.str.lower()
    pool = ids[lower.str.startswith(owner + "/")] if owner else ids.iloc[:0]
    if name:
        pool = pd.concat([pool, ids[lower.str.contains(name, regex=False)]])
    if pool.empty and owner and name:  # a typo in both parts: the ids whose name starts the same way
        pool = ids[lower.str.split("/", n=1).str[-1].str.startswith(name[:3])]
    return list(dict.fromkeys(pool.head(MAX_CANDIDATES)))


def _missing(message: str, wanted: str, candidates: Iterable[str]) -> np.ndarray:
    pool = [c for c in candidates if c][:MAX_CANDIDATES]
    keyed = {c.lower(): c for c in pool}
    close = difflib.get_close_matches(wanted.lower(), list(keyed), n=SUGGESTIONS, cutoff=0.6)
    hint = f"; close: {', '.join(keyed[c] for c in close)}" if close else ""
    raise LookupError(message + hint)
