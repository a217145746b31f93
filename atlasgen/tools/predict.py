"""Predict model attributes from atlas neighbours: task, declared licence and leaderboard accuracy.

The Model Atlas paper's point is that lineage predicts attributes: a quantization carries its parent's task
and licence, a fine-tune's benchmark score is close to its base's. A model's value is predicted from

1. its **lineage neighbours** with a known value: parents (weight ``parent_weight``), children
   (``child_weight``) and siblings, i.e. other children of its parents (``sibling_weight``, once per shared
   parent); a weighted vote (task, licence) or weighted mean (accuracy);
2. else its **nearest neighbours on the map** (``cKDTree`` on x, y): up to ``nearest`` models with a known
   value within ``radius`` world units, weighted by 1 / (distance + 0.01).

For ``task`` the map fallback is not used for models without any lineage: the layout places those in one
disc per task, so their position already encodes their own task (that would be leakage, not prediction).

Everything is sparse-matrix products over the lineage and one KD-tree query, so it scales to the whole Hub:
siblings are summed per parent (A @ (Aᵀ @ Y)), never listed pairwise. The targets' own values are zeroed
before any product, so a model never votes for itself, directly or through a parent's children.

:func:`evaluate` hides a seeded 20% of the known values (the split hashes each model id with the seed, so it
does not depend on row order) and compares the predictions with the baseline (global majority / mean of the
values left visible). :func:`impute` predicts the values that are missing; every row it returns is
labelled ``imputed=True`` with its evidence.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from atlasgen.artifacts import read_atlas
from atlasgen.errors import AtlasgenError, InputError
from atlasgen.graph.licences import licence_family

ATTRIBUTES = ("task", "licence", "accuracy")
NUMERIC = frozenset({"accuracy"})
# Leaderboard CSV layouts: (model id column, average score column); v2 and v1 of the Open LLM Leaderboard.
LEADERBOARD_COLUMNS = (("model_name", "model_average_score"), ("fullname", "average"), ("id", "accuracy"))
_EVIDENCE = ("lineage", "nearest", "none")

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class PredictOptions:
    """How predictions are made and evaluated.

    ``holdout`` is the share of models with a known value hidden for evaluation, chosen by hashing each id
    with ``seed``. Lineage weights: parents count most (a copy, quantization or fine-tune of a model usually
    keeps its task and licence), children less, siblings least. ``nearest`` and ``radius`` bound the map
    fallback; the map is 256 world units across and a large family's disc about 4 in radius.
    """

    holdout: float = 0.2
    seed: int = 0
    parent_weight: float = 2.0
    child_weight: float = 1.0
    sibling_weight: float = 0.5
    nearest: int = 8
    radius: float = 2.0


@dataclass(frozen=True)
class Atlas:
    """What prediction needs of a built atlas: positions, attributes and the lineage as a sparse matrix."""

    frame: pd.DataFrame  # positions.parquet, one row per model
    xy: FloatArray
    parents: sp.csr_matrix  # parents[child, parent] = 1
    virtual: BoolArray
    path: Path

    @property
    def has_parent(self) -> BoolArray:
        return np.asarray(self.parents.getnnz(axis=1) > 0)

    @property
    def in_lineage(self) -> BoolArray:
        return self.has_parent | np.asarray(self.parents.getnnz(axis=0) > 0)


@dataclass(frozen=True)
class Prediction:
    """Per model: the predicted value (NaN/None where there was no evidence) and the evidence behind it."""

    value: npt.NDArray[Any]
    evidence: npt.NDArray[np.object_]  # lineage | nearest | none
    parents: IntArray  # neighbours of each kind that had a known value
    children: IntArray
    siblings: IntArray
    nearest: IntArray
    support: FloatArray  # categorical: the winner's share of the vote weight


def load_atlas(path: Path) -> Atlas:
    """Read an atlas directory's positions.parquet and lineage.parquet (through `artifacts.read_atlas`)."""
    read = read_atlas(path)
    frame, edges = read.positions, read.edges
    assert edges is not None  # read_atlas reads the lineage unless told not to
    child, parent = edges["target"].to_numpy(), edges["source"].to_numpy()
    ok = child != parent  # a model is not its own neighbour
    n = len(frame)
    matrix = sp.csr_matrix((np.ones(int(ok.sum())), (child[ok], parent[ok])), shape=(n, n))
    virtual = frame["virtual"].to_numpy(bool) if "virtual" in frame else np.zeros(n, bool)
    return Atlas(frame=frame, xy=read.xy, parents=matrix, virtual=virtual, path=read.path)


def read_leaderboard(path: Path) -> pd.Series:
    """Average score by model id from an Open LLM Leaderboard CSV (v2, v1, or ``id,accuracy``).

    A model evaluated several times (precisions, revisions) gets the mean of its scores.
    """
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise InputError(path, f"not a readable CSV ({exc})") from exc
    for id_col, score_col in LEADERBOARD_COLUMNS:
        if id_col in table and score_col in table:
            scores = pd.to_numeric(table[score_col], errors="coerce")
            ids = table[id_col].str.strip()
            keep = ids.ne("") & np.isfinite(scores)
            return scores[keep].groupby(ids[keep]).mean().rename("accuracy")
    wanted = " or ".join(f"{a},{b}" for a, b in LEADERBOARD_COLUMNS)
    raise InputError(path, f"no leaderboard columns: expected {wanted}")


def attribute_values(atlas: Atlas, attribute: str, leaderboard: pd.Series | None = None) -> pd.Series:
    """Each model's known value of ``attribute`` (NaN where missing; virtual parents are never known)."""
    frame = atlas.frame
    if attribute in NUMERIC:
        if leaderboard is None:
            raise AtlasgenError("accuracy needs leaderboard scores")
        values = frame["id"].astype(object).map(leaderboard).astype(np.float64)
        return values.where(~atlas.virtual)
    if attribute not in frame:
        raise InputError(atlas.path, f"positions file has no {attribute} column")
    codes, uniques = pd.factorize(frame[attribute].astype(object))  # each distinct value cleaned once
    clean = np.array([str(u).strip() for u in uniques] + [""], dtype=object)
    if attribute == "licence":  # "unknown", "none", "" state nothing
        clean[[licence_family(u) == "unknown" for u in clean]] = ""
    text = clean[codes]  # code -1 (missing) picks the trailing ""
    text[(text == "") | atlas.virtual] = None
    return pd.Series(text, index=frame.index)


def holdout_mask(ids: pd.Series, share: float, seed: int) -> BoolArray:
    """A deterministic ``share`` of the ids, by hashing each id with the seed (independent of row order)."""
    key = f"{seed % 10**16:016d}"
    hashes = pd.util.hash_array(ids.astype(object).to_numpy(), hash_key=key)
    return np.asarray(hashes % np.uint64(1_000_000) < np.uint64(round(share * 1_000_000)))


def predict(
    atlas: Atlas, attribute: str, values: pd.Series, targets: BoolArray, opts: PredictOptions
) -> Prediction:
    """Predict ``attribute`` for the ``targets`` from the values of the other models only."""
    known = values.notna().to_numpy() & ~targets  # the targets' own values are hidden from here on
    numeric = attribute in NUMERIC
    if numeric:
        y = values.to_numpy(np.float64)
        classes: npt.NDArray[Any] = np.array([])
        onehot = sp.csr_matrix(np.column_stack([np.where(known, y, 0.0), known.astype(np.float64)]))
    else:
        counts = values[known].value_counts()
        classes = np.array(sorted(counts.index, key=lambda c: (-counts[c], c)), dtype=object)
        codes = pd.Index(classes).get_indexer(values.where(known, None))
        rows = np.flatnonzero(codes >= 0)
        onehot = sp.csr_matrix((np.ones(len(rows)), (rows, codes[rows])), shape=(len(values), len(classes)))
    up, down = atlas.parents, atlas.parents.T.tocsr()
    rows_t = np.flatnonzero(targets)
    up_t, down_t = up[rows_t], down[rows_t]
    vote = (
        opts.parent_weight * (up_t @ onehot)
        + opts.child_weight * (down_t @ onehot)
        + opts.sibling_weight * (up_t @ (down @ onehot))
    ).tocsr()
    k = known.astype(np.float64)
    n_par, n_child, n_sib = up_t @ k, down_t @ k, up_t @ (down @ k)
    lineage = (n_par + n_child + n_sib) > 0
    spatial_ok = ~lineage & (atlas.in_lineage[rows_t] if attribute == "task" else True)
    near_rows = np.flatnonzero(spatial_ok)
    near_vote, n_near = _nearest_vote(atlas.xy, known, rows_t[near_rows], onehot, opts)
    place = sp.csr_matrix(
        (np.ones(len(near_rows)), (near_rows, np.arange(len(near_rows)))), shape=(len(rows_t), len(near_rows))
    )
    vote = (vote + place @ near_vote).tocsr()
    nearest = np.zeros(len(rows_t), np.int64)
    nearest[spatial_ok] = n_near
    value, support = _decide(vote, classes, numeric)
    evidence = np.where(lineage, "lineage", np.where(nearest > 0, "nearest", "none")).astype(object)
    parts: dict[str, tuple[npt.NDArray[Any], Any]] = {
        "value": (value, np.nan if numeric else None),
        "evidence": (evidence, "none"),
        "parents": (n_par.astype(np.int64), 0),
        "children": (n_child.astype(np.int64), 0),
        "siblings": (n_sib.astype(np.int64), 0),
        "nearest": (nearest, 0),
        "support": (support, np.nan),
    }
    full = {k: np.full(len(values), fill, dtype=arr.dtype) for k, (arr, fill) in parts.items()}
    for key, (arr, _) in parts.items():
        full[key][rows_t] = arr
    return Prediction(**full)


def _nearest_vote(
    xy: FloatArray, known: BoolArray, rows: IntArray, onehot: sp.csr_matrix, opts: PredictOptions
) -> tuple[sp.csr_matrix, IntArray]:
    """Votes of the up to ``opts.nearest`` known models within ``opts.radius`` of each row's position."""
    from scipy.spatial import cKDTree

    pool = np.flatnonzero(known & np.isfinite(xy).all(axis=1))
    width = onehot.shape[1]
    if len(rows) == 0 or len(pool) == 0 or opts.nearest == 0:
        return sp.csr_matrix((len(rows), width)), np.zeros(len(rows), np.int64)
    k = min(opts.nearest, len(pool))
    dist, idx = cKDTree(xy[pool]).query(
        np.nan_to_num(xy[rows], nan=np.inf), k=k, distance_upper_bound=opts.radius
    )
    dist, idx = dist.reshape(len(rows), k), idx.reshape(len(rows), k)
    hit = idx < len(pool)
    weight = sp.csr_matrix(
        (1.0 / (dist[hit] + 0.01), (np.nonzero(hit)[0], pool[idx[hit]])), shape=(len(rows), len(xy))
    )
    return (weight @ onehot).tocsr(), hit.sum(axis=1).astype(np.int64)


def _decide(
    vote: sp.csr_matrix, classes: npt.NDArray[Any], numeric: bool
) -> tuple[npt.NDArray[Any], FloatArray]:
    """Weighted mean (numeric: columns sum, weight) or the heaviest class (ties: the more common class)."""
    rows = vote.shape[0]
    if numeric:
        dense = vote.toarray()
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(dense[:, 1] > 0, dense[:, 0] / dense[:, 1], np.nan), np.full(rows, np.nan)
    coo = vote.tocoo()
    keep = coo.data > 0
    r, c, d = coo.row[keep], coo.col[keep], coo.data[keep]
    order = np.lexsort((c, -d, r))
    r, c, d = r[order], c[order], d[order]
    first = np.ones(len(r), bool)
    first[1:] = r[1:] != r[:-1]
    value = np.full(rows, None, dtype=object)
    value[r[first]] = classes[c[first]]
    total = np.bincount(r, weights=d, minlength=rows)
    support = np.full(rows, np.nan)
    support[r[first]] = d[first] / total[r[first]]
    return value, support


def evaluate(atlas: Atlas, attribute: str, values: pd.Series, opts: PredictOptions) -> dict[str, Any]:
    """Hide a seeded share of the known values, predict them, and compare with the global baseline.

    Held-out models without any evidence get the baseline's value, so both are scored on the same models.
    Rows: all held-out models; those without a documented parent (no copy to inherit from); by evidence used;
    by the model's relation to its parent (quantizations are near-copies: that is what the atlas exploits).
    """
    numeric = attribute in NUMERIC
    known = values.notna().to_numpy() & ~atlas.virtual
    held = known & holdout_mask(atlas.frame["id"], opts.holdout, opts.seed)
    visible = values[known & ~held]
    result: dict[str, Any] = {"metric": "mae" if numeric else "accuracy", "known": int(known.sum())}
    if len(visible) == 0 or not held.any():
        return result | {"held_out": 0, "rows": []}
    counts = visible.value_counts()
    base = float(visible.mean()) if numeric else sorted(counts.index, key=lambda c: (-counts[c], c))[0]
    pred = predict(atlas, attribute, values, held, opts)
    covered = pred.evidence != "none"
    guess, truth = np.where(covered, pred.value, base), values.to_numpy()
    if numeric:
        score, base_score = np.abs(guess - truth), np.abs(base - truth.astype(np.float64))
    else:
        score, base_score = (guess == truth).astype(float), (truth == base).astype(float)
    subsets = [("all held-out", held), ("no documented parent", held & ~atlas.has_parent)]
    subsets += [(f"evidence: {e}", held & (pred.evidence == e)) for e in _EVIDENCE]
    if "relation" in atlas.frame:
        relation = atlas.frame["relation"].astype(str).to_numpy()
        subsets += [(f"relation: {r}", held & (relation == r)) for r in sorted(set(relation[held]))]
    rows = []
    for i, (name, mask) in enumerate(subsets):
        n = int(mask.sum())
        if n or i < 2:  # empty breakdown rows are left out
            cells = {
                k: round(float(a[mask].mean()), 4) if n else None
                for k, a in (("coverage", covered.astype(float)), ("model", score), ("baseline", base_score))
            }
            rows.append({"subset": name, "n": n} | cells)
    return result | {
        "held_out": int(held.sum()),
        "baseline_value": round(base, 4) if numeric else base,
        "rows": rows,
    }


def impute(atlas: Atlas, attribute: str, values: pd.Series, opts: PredictOptions) -> pd.DataFrame:
    """Predicted values for the models missing ``attribute`` (virtual parents excluded), labelled imputed.

    One row per imputed value: ``id, attribute, value`` (text; accuracy to 4 decimals), ``value_number``
    (accuracy only), ``imputed`` (always True), ``evidence`` (lineage or nearest), ``neighbours`` and its
    parts ``parents, children, siblings, nearest`` (neighbours with a known value), ``support`` (the winning
    value's share of the vote weight). Models without any evidence are left out.
    """
    targets = values.isna().to_numpy() & ~atlas.virtual
    pred = predict(atlas, attribute, values, targets, opts)
    rows = np.flatnonzero(targets & (pred.evidence != "none"))
    numeric, value = attribute in NUMERIC, pred.value[rows]
    kinds = {k: getattr(pred, k)[rows] for k in ("parents", "children", "siblings", "nearest")}
    frame = pd.DataFrame(
        {
            "id": atlas.frame["id"].astype(object).to_numpy()[rows],
            "attribute": attribute,
            "value": [f"{v:.4f}" for v in value] if numeric else value.astype(object),
            "value_number": value.astype(np.float64) if numeric else np.nan,
            "imputed": True,
            "evidence": pred.evidence[rows].astype(object),
            "neighbours": sum(kinds.values(), np.zeros(len(rows), np.int64)),
        }
        | kinds
        | {"support": pred.support[rows]}
    )
    return frame.astype({"attribute": "string", "value": "string", "evidence": "string"})


def run(
    *,
    atlas: Path,
    attributes: tuple[str, ...] = (),
    leaderboard: Path | None = None,
    evaluate_only: bool = False,
    out: Path | None = None,
    opts: PredictOptions = PredictOptions(),
) -> dict[str, Any]:
    """The ``atlasgen predict`` command. `attributes` default to task and licence, and accuracy with a
    `leaderboard`. With `evaluate_only`: the evaluation of each attribute. Else the imputed values are written to
    `out` (Parquet, or CSV for ``*.csv``: the command's product) and counted."""
    chosen = attributes or (("task", "licence") + (("accuracy",) if leaderboard else ()))
    if not evaluate_only and out is None:
        raise AtlasgenError("imputed values need a file to be written to")
    board = read_leaderboard(leaderboard) if leaderboard else None
    loaded = load_atlas(atlas)
    values = {a: attribute_values(loaded, a, board) for a in chosen}
    if evaluate_only:
        return {
            "atlas": str(atlas),
            "leaderboard": str(leaderboard) if leaderboard else None,
            "options": asdict(opts),
            "attributes": {a: evaluate(loaded, a, values[a], opts) for a in chosen},
        }
    assert out is not None
    frames = {a: impute(loaded, a, values[a], opts) for a in chosen}
    table = pd.concat(frames.values(), ignore_index=True)
    if out.suffix.lower() == ".csv":
        table.to_csv(out, index=False)
    else:
        table.to_parquet(out, index=False)
    imputed = {
        name: {
            "imputed": len(frame),
            "missing": int((values[name].isna().to_numpy() & ~loaded.virtual).sum()),
            "evidence": {str(e): int(n) for e, n in frame["evidence"].value_counts().sort_index().items()},
        }
        for name, frame in frames.items()
    }
    return {"imputed": imputed, "out": str(out)}


def render(result: dict[str, Any], fmt: str = "text") -> str:
    """What `run` found: JSON (sorted keys) for tools; for people the evaluation table, or a line per
    attribute of the values imputed."""
    if fmt == "json":
        return json.dumps(result, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    if "attributes" in result:
        return text_table(result)
    lines = []
    for name, counts in result["imputed"].items():
        by = ", ".join(f"{e} {n:,}" for e, n in counts["evidence"].items())
        lines.append(
            f"{name}: {counts['imputed']:,} of {counts['missing']:,} missing values imputed "
            f"({by or 'no evidence'})"
        )
    return "\n".join([*lines, f"imputed values (imputed=True) written to {result['out']}"]) + "\n"


def text_table(result: dict[str, Any]) -> str:
    """The evaluation for people: one block per attribute, a row per subset."""
    lines = []
    for name, res in result["attributes"].items():
        metric = "accuracy" if res["metric"] == "accuracy" else "MAE"
        head = f"{name}: {res['known']:,} models with a known value, {res['held_out']:,} held out"
        lines += [head + (f"; baseline = {res['baseline_value']}" if "baseline_value" in res else ""), ""]
        lines.append(f"  {'subset':<24}{'n':>8}{'coverage':>10}{'atlas ' + metric:>16}{'baseline':>10}")
        for row in res["rows"]:
            cells = [
                _fmt(row[k], metric == "accuracy" or k == "coverage")
                for k in ("coverage", "model", "baseline")
            ]
            lines.append(f"  {row['subset']:<24}{row['n']:>8,}{cells[0]:>10}{cells[1]:>16}{cells[2]:>10}")
        lines.append("")
    return "\n".join(lines)


def _fmt(value: float | None, percent: bool) -> str:
    if value is None:
        return "-"
    return f"{100 * value:.1f}%" if percent else f"{value:.2f}"
