"""Trends report statistics: the Model Atlas paper's structural findings, recomputed from (nodes, edges).

Each function is vectorised (numpy / pandas / scipy.sparse) so it runs on a 3M-model snapshot: no Python loop
runs over the nodes or edges, only over a handful of families, depth levels or buckets. The page is drawn by
trends_page.py (``write_trends``); this module only counts.

Conventions. A *derived model* is a real (not virtual) node with a parent; its relation is the node's own
(graph.py: a quantized fine-tune counts as a quantization). Its *modality* comes from its pipeline_tag, or its
first parent's when it states none, grouped by MODALITY_TAGS; anything else is "other". A *family* is a weakly
connected component with at least two nodes, named by the root (no parent) with the most descendants.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from atlasgen.graph.licences import stated as licence_stated
from atlasgen.ingest.parse import possible_dates
from atlasgen.relations import EDGE_RELATIONS as RELATIONS  # a derived model's relation

MODALITIES = ("text", "vision", "audio", "multimodal", "other")
MODALITY_TAGS: dict[str, tuple[str, ...]] = {
    "text": (
        "text-generation", "text2text-generation", "fill-mask", "text-classification", "token-classification",
        "question-answering", "summarization", "translation", "sentence-similarity", "feature-extraction",
        "zero-shot-classification", "table-question-answering", "text-ranking", "conversational",
    ),
    "vision": (
        "image-classification", "object-detection", "image-segmentation", "depth-estimation", "image-to-image",
        "text-to-image", "unconditional-image-generation", "zero-shot-image-classification", "mask-generation",
        "zero-shot-object-detection", "image-feature-extraction", "video-classification", "keypoint-detection",
        "text-to-video", "image-to-video", "image-to-3d", "text-to-3d",
    ),
    "audio": (
        "automatic-speech-recognition", "text-to-speech", "text-to-audio", "audio-classification",
        "audio-to-audio", "voice-activity-detection",
    ),
    "multimodal": (
        "image-text-to-text", "visual-question-answering", "document-question-answering", "image-to-text",
        "any-to-any", "video-text-to-text", "audio-text-to-text", "visual-document-retrieval",
    ),
}  # fmt: skip
_MODALITY_OF = {tag: group for group, tags in MODALITY_TAGS.items() for tag in tags}

POPULARITY_EDGES = (1e3, 1e4, 1e5, 1e6)
POPULARITY_LABELS = ("<1k", "1k–10k", "10k–100k", "100k–1M", "≥1M", "unknown")
FANOUT_BINS = ((1, "1"), (2, "2"), (3, "3–5"), (6, "6–10"), (11, "11–100"), (101, "101–1k"), (1001, ">1k"))
INDEGREE_BINS = ((1, "1"), (2, "2"), (3, "3"), (4, "4–5"), (6, "6–10"), (11, ">10"))
MAX_DEPTH_BAR = 12  # deeper models share the last bar, "12+"
ROOT_CANDIDATES = 16  # per family, the roots with most children whose descendants are counted


@dataclass
class Trends:
    models: int
    derived: int
    mix_by_modality: pd.DataFrame  # modality x RELATIONS: derived models
    mix_by_family: pd.DataFrame  # family root x RELATIONS, largest families first
    families: pd.DataFrame  # root, size, models, descendants; largest first
    in_families: int  # real models in a family
    adapters_by_month: pd.DataFrame  # month "YYYY-MM" -> adapters, derived
    dated: tuple[int, int]  # real models with a createdAt, derived models with one
    merge_popularity: pd.DataFrame  # parent popularity bucket -> derivations, merges
    median_parent_downloads: dict[str, float] = field(default_factory=dict)  # merge / finetune
    depth: pd.Series = field(default_factory=pd.Series)  # "0".."12+" -> models in families
    fanout: pd.Series = field(default_factory=pd.Series)  # bucket -> parents
    indegree: pd.Series = field(default_factory=pd.Series)  # bucket -> derived models
    multi_parent: tuple[int, int] = (0, 0)  # models with several parents, those of them that are merges
    coverage: pd.Series = field(default_factory=pd.Series)  # field -> models stating it
    impossible_dates: int = 0  # createdAt values left out: before the Hub or in the future (ingest.parse)


def modality(tags: pd.Series) -> pd.Series:
    """MODALITIES group of each pipeline_tag (missing or unlisted -> "other")."""
    return tags.map(_MODALITY_OF).fillna("other").astype(object)


def compute(nodes: pd.DataFrame, edges: pd.DataFrame, top: int = 10) -> Trends:
    """Every statistic of the report; ``top`` families are named, charted and listed."""
    nodes = nodes.reset_index(drop=True)
    n = len(nodes)
    src, dst = edges["source"].to_numpy(np.int64), edges["target"].to_numpy(np.int64)
    real = ~nodes["virtual"].to_numpy(bool)
    relation = nodes["relation"].to_numpy(object)
    derived = real & np.isin(relation, RELATIONS)
    indeg, outdeg = np.bincount(dst, minlength=n), np.bincount(src, minlength=n)
    adj = csr_matrix((np.ones(len(src), np.float32), (src, dst)), shape=(n, n))
    label, families = family_table(nodes, adj, indeg, outdeg, real, top)
    in_family = np.bincount(label)[label] >= 2
    dates = pd.to_datetime(nodes["created_at"], errors="coerce", utc=True, format="ISO8601")
    impossible = dates.notna() & ~possible_dates(dates)  # none from a snapshot: its reader blanked them
    dates = dates.where(~impossible)
    merge, finetune = _parent_downloads(nodes, src, dst, relation)
    multi = real & (indeg >= 2)
    return Trends(
        models=int(real.sum()),
        derived=int(derived.sum()),
        mix_by_modality=mix_by_modality(nodes, edges, derived),
        mix_by_family=mix_by_family(label, families, relation, derived),
        families=families,
        in_families=int((in_family & real).sum()),
        adapters_by_month=adapters_by_month(dates, relation, derived),
        dated=(int((dates.notna().to_numpy() & real).sum()), int((dates.notna().to_numpy() & derived).sum())),
        merge_popularity=merge_popularity(nodes, src, dst, relation),
        median_parent_downloads={"merge": merge, "finetune": finetune},
        depth=depth_histogram(depths(n, src, dst)[in_family]),
        fanout=_binned(outdeg[outdeg > 0], FANOUT_BINS),
        indegree=_binned(indeg[real & (indeg > 0)], INDEGREE_BINS),
        coverage=coverage(nodes, real, indeg, dates),
        multi_parent=(int(multi.sum()), int((multi & (relation == "merge")).sum())),
        impossible_dates=int(impossible.sum()),
    )


def _mix(groups: pd.Categorical, relation: npt.NDArray[np.object_]) -> pd.DataFrame:
    """Derived models per group (rows, in category order, empty ones dropped) and relation (RELATIONS)."""
    frame = pd.DataFrame({"g": groups, "r": pd.Categorical(relation, categories=RELATIONS)})
    table = frame.groupby(["g", "r"], observed=False).size().unstack("r", fill_value=0)
    table = table.reindex(index=groups.categories, columns=list(RELATIONS), fill_value=0).astype(np.int64)
    table.index, table.columns = table.index.astype(object), table.columns.astype(object)
    return table[table.sum(axis=1) > 0]


def mix_by_modality(nodes: pd.DataFrame, edges: pd.DataFrame, derived: npt.NDArray[np.bool_]) -> pd.DataFrame:
    """Derived models per modality and relation; a model without a task takes its first parent's."""
    first = edges.drop_duplicates("target")
    parent_tag = pd.Series(
        nodes["pipeline_tag"].to_numpy(object)[first["source"].to_numpy()], index=first["target"].to_numpy()
    )
    tags = nodes["pipeline_tag"].astype(object).fillna(parent_tag)
    groups = pd.Categorical(modality(tags)[derived], categories=MODALITIES)
    return _mix(groups, nodes["relation"].to_numpy(object)[derived])


def mix_by_family(
    label: npt.NDArray[np.int64],
    families: pd.DataFrame,
    relation: npt.NDArray[np.object_],
    derived: npt.NDArray[np.bool_],
) -> pd.DataFrame:
    """Derived models per relation in each of ``families`` (rows named by root, in the families' order)."""
    row = pd.Series(np.arange(len(families)), index=families["component"].to_numpy())
    code = row.reindex(label).fillna(-1).to_numpy(np.int64)
    keep = derived & (code >= 0)
    groups = pd.Categorical.from_codes(code[keep], categories=pd.Index(families["root"].to_numpy(object)))
    return _mix(groups, relation[keep])


def family_table(
    nodes: pd.DataFrame,
    adj: csr_matrix,
    indeg: npt.NDArray[np.int64],
    outdeg: npt.NDArray[np.int64],
    real: npt.NDArray[np.bool_],
    top: int,
) -> tuple[npt.NDArray[np.int64], pd.DataFrame]:
    """Component label per node, and the ``top`` largest families (size >= 2; ties: first component first).

    The root naming a family is, among its ROOT_CANDIDATES roots with most children, the one with most
    descendants (ties: first id). Counting every root's descendants is a reachability problem per root;
    the candidates bound it, and the root with most descendants has, in practice, many children itself.
    """
    count, labels = connected_components(adj, directed=True, connection="weak")
    label = labels.astype(np.int64)
    size = np.bincount(label, minlength=count)
    models = np.bincount(label, weights=real, minlength=count).astype(np.int64)
    order = np.lexsort((np.arange(count), -size))
    order = order[size[order] >= 2][:top]
    ids = nodes["id"].to_numpy(object)
    rows = []
    for comp in order:  # `top` families, not the graph
        members = np.flatnonzero(label == comp)
        roots = members[indeg[members] == 0]
        roots = roots[np.lexsort((roots, -outdeg[roots]))][:ROOT_CANDIDATES]
        desc = _descendants(adj[members][:, members], np.searchsorted(members, roots))
        best = np.lexsort((roots, -desc))[0]
        rows.append((int(comp), str(ids[roots[best]]), int(size[comp]), int(models[comp]), int(desc[best])))
    columns = ["component", "root", "size", "models", "descendants"]
    return label, pd.DataFrame(rows, columns=columns).astype(
        {c: object if c == "root" else np.int64 for c in columns}
    )


def _descendants(sub: csr_matrix, starts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Descendants of each start node in the DAG ``sub`` (parent -> child), all starts propagated at once."""
    reach = np.zeros((sub.shape[0], len(starts)), dtype=bool)
    reach[starts, np.arange(len(starts))] = True
    down = sub.T.tocsr()
    while True:
        grown = reach | (down @ reach.astype(np.float32) > 0)
        if (grown == reach).all():
            return reach.sum(axis=0).astype(np.int64) - 1
        reach = grown


def depths(n: int, src: npt.NDArray[np.int64], dst: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Longest path from a root to each node (roots 0), level by level; -1 for nodes on a cycle (none after
    graph.py's repair). One vectorised step per level, so the cost is O(edges x depth)."""
    children = csr_matrix((np.ones(len(src), np.int8), (src, dst)), shape=(n, n))
    remaining = np.bincount(dst, minlength=n)
    depth = np.full(n, -1, np.int64)
    frontier, level = np.flatnonzero(remaining == 0), 0
    while frontier.size:
        depth[frontier] = level
        reached = children[frontier].indices  # one entry per edge leaving the frontier
        remaining -= np.bincount(reached, minlength=n)
        frontier = np.unique(reached[remaining[reached] == 0])
        level += 1
    return depth


def depth_histogram(depth: npt.NDArray[np.int64]) -> pd.Series:
    """Models per depth 0 .. MAX_DEPTH_BAR-1 and "12+" (up to the deepest one present)."""
    counts = np.bincount(np.minimum(depth[depth >= 0], MAX_DEPTH_BAR), minlength=1)
    labels = [str(d) for d in range(len(counts))]
    if len(counts) > MAX_DEPTH_BAR:
        labels[MAX_DEPTH_BAR] = f"{MAX_DEPTH_BAR}+"
    return pd.Series(counts.astype(np.int64), index=labels)


def _binned(values: npt.NDArray[np.int64], bins: tuple[tuple[int, str], ...]) -> pd.Series:
    lows = np.array([lo for lo, _ in bins])
    counts = np.bincount(np.searchsorted(lows, values, side="right") - 1, minlength=len(bins))
    return pd.Series(counts.astype(np.int64), index=[name for _, name in bins])


def adapters_by_month(
    dates: pd.Series, relation: npt.NDArray[np.object_], derived: npt.NDArray[np.bool_]
) -> pd.DataFrame:
    """Dated derived models per createdAt month ("YYYY-MM", every month between the first and last of the
    data, so the chart spans the data's own range): all of them and the adapters."""
    dated = derived & dates.notna().to_numpy()
    if not dated.any():
        return pd.DataFrame({"adapters": [], "derived": []}, index=pd.Index([], dtype=object), dtype=np.int64)
    when = pd.DatetimeIndex(dates[dated])
    month = (when.year * 12 + when.month - 1).to_numpy(np.int64)
    lo = month.min()
    total = np.bincount(month - lo)
    adapters = np.bincount(month[relation[dated] == "adapter"] - lo, minlength=len(total))
    names = [f"{m // 12}-{m % 12 + 1:02d}" for m in range(lo, lo + len(total))]  # months, not models
    return pd.DataFrame({"adapters": adapters, "derived": total}, index=pd.Index(names, dtype=object))


def popularity_bucket(downloads: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """Index into POPULARITY_LABELS of each download count (NaN -> "unknown")."""
    bucket = np.searchsorted(np.asarray(POPULARITY_EDGES), np.nan_to_num(downloads, nan=0.0), side="right")
    return np.where(np.isnan(downloads), len(POPULARITY_LABELS) - 1, bucket)


def merge_popularity(
    nodes: pd.DataFrame,
    src: npt.NDArray[np.int64],
    dst: npt.NDArray[np.int64],
    relation: npt.NDArray[np.object_],
) -> pd.DataFrame:
    """Per popularity bucket of the parent: its parent -> child links and those whose child is a merge."""
    bucket = popularity_bucket(nodes["downloads"].to_numpy(np.float64))[src]
    k = len(POPULARITY_LABELS)
    merges = np.bincount(bucket[relation[dst] == "merge"], minlength=k)
    links = np.bincount(bucket, minlength=k)
    return pd.DataFrame({"derivations": links, "merges": merges}, index=list(POPULARITY_LABELS)).astype(
        np.int64
    )


def _parent_downloads(
    nodes: pd.DataFrame,
    src: npt.NDArray[np.int64],
    dst: npt.NDArray[np.int64],
    relation: npt.NDArray[np.object_],
) -> tuple[float, float]:
    """Median downloads of the parents of merges and of fine-tunes (NaN when none is known)."""
    downloads = nodes["downloads"].to_numpy(np.float64)
    out = []
    for rel in ("merge", "finetune"):
        known = downloads[src[relation[dst] == rel]]
        known = known[~np.isnan(known)]
        out.append(float(np.median(known)) if known.size else float("nan"))
    return out[0], out[1]


def coverage(
    nodes: pd.DataFrame, real: npt.NDArray[np.bool_], indeg: npt.NDArray[np.int64], dates: pd.Series
) -> pd.Series:
    """Real models stating each field; "lineage" = at least one documented parent."""
    stated = {
        "lineage": indeg > 0,
        "task": nodes["pipeline_tag"].notna().to_numpy(),
        "licence": licence_stated(nodes["licence"]),
        "library": nodes["library_name"].notna().to_numpy(),
        "downloads": nodes["downloads"].notna().to_numpy(),
        "createdAt": dates.notna().to_numpy(),
    }
    return pd.Series({k: int((v & real).sum()) for k, v in stated.items()}, dtype=np.int64)
