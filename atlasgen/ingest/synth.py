"""Synthetic Hub snapshots in the `hub-stats` schema, calibrated on ../shared/data (docs/synth.md).

`synthesize_hub(n)` draws n models: a share `no_lineage` has no parent (most of them isolated, some the roots of
families); the rest are children laid out level by level with the measured depth histogram. A child picks its
primary parent on the level above with probability proportional to a Pareto weight times its parent's
relation factor (heavy-tailed fan-out that grows with n); merges add extra parents from the same family or
from the roots. Everything is vectorised numpy, one seeded generator, so a seed gives a byte-identical file.
"""

from __future__ import annotations

import os
import pathlib
import tempfile
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from atlasgen.errors import AtlasgenError
from atlasgen.ingest.hubschema import SCHEMA
from atlasgen.relations import SYNTH_RELATIONS

# --------------------------------------------------------------------------------------- calibration
# HFS = hf-snapshot c952a70 (edges.csv + metadata.csv; 29,075 LLMs, 45 self-loops dropped).
# SLICE = hub-stats-slice hub_stats_frozen.parquet (4,167 models, leans to well-known families).
# TOP = hf-top-downloads-2024-09 hf_models.csv (top 9,715 models by 30-day downloads, all tasks).
NO_LINEAGE = 0.6  # brief: ~60% of Hub models have no base_model (HFS drops isolated models: can't tell)
ROOTS_PER_CHILD = 3659 / 25416  # HFS: 3,659 roots, 25,416 nodes with a parent
DEPTH_HIST = (14242, 7281, 2978, 623, 106, 67, 34, 13, 16, 16, 16, 14, 7, 2, 1)  # HFS longest path, 1..15
CHILD_MIX = (13043, 11318, 802, 253)  # HFS: relation of each node with a parent, in SYNTH_RELATIONS order
OUT_FACTOR = {"root": 4.53, "finetune": 0.62, "quantized": 0.246, "merge": 0.76, "adapter": 0.083}  # HFS
# Parent weights: OUT_FACTOR × log-normal(sigma), mean 1. Sigmas tuned so that at HFS size (n = 63,500) the share
# with children and fan-out p99/max per relation are near HFS (roots p99 54, max 489; finetunes 12.3% have
# children, p99 9; quantized 1.5%, max 731; all: 80.7% childless, positive fan-out p50/p90/p99 1/7/68).
FANOUT_SIGMA = {"isolated": 0.0, "root": 2.1, "finetune": 2.7, "quantized": 3.8, "merge": 2.0, "adapter": 3.0}
MERGE_PARENTS = {2: 351, 3: 114, 4: 118, 5: 81, 6: 30, 7: 22, 8: 20, 9: 8, 10: 9, 11: 8, 12: 4, 13: 4, 14: 10}
MERGE_PARENTS |= {15: 1, 16: 3, 18: 2, 19: 1, 20: 2, 22: 6, 24: 1, 34: 1, 36: 2, 47: 1, 52: 1, 65: 1}  # HFS
# Share of a merge's extra parents drawn from its own family (the rest: roots by weight). Tuned on HFS components
# (2,750; largest 5,883): at n = 63,500, 0.95 gives 3,521 families, largest 5,746 (0.5 gives largest 19,096).
MERGE_SAME_FAMILY = 0.95
# Authors: rank-frequency ∝ rank^-a over a pool of pool_per_model × n_role handles, (pool_per_model, a) fitted to
# HFS per relation: distinct authors and top-10 share (root 1,202 / 15%; finetune 3,923 / 18%; quantized
# 1,932 / 42%; merge 171 / 41%; adapter 160 / 28%). Isolated models (not in HFS) reuse the finetune fit.
AUTHOR_POOL = {"isolated": (0.6, 0.9), "root": (0.5, 0.75), "finetune": (0.6, 0.9)}
AUTHOR_POOL |= {"quantized": (0.6, 1.15), "merge": (0.25, 0.95), "adapter": (2.35, 0.9)}
# Downloads (30-day): log-normal fitted to TOP's tail (median 3,767, p90 74,409, p99 2.17M above the 1,193
# cut-off) with TOP's 9,715 rows as the top ~1% of a ~1.0M-model Hub (2024-09); floor() gives the zeros.
DOWNLOADS_MU, DOWNLOADS_SIGMA = -5.54, 5.40
# SLICE mean log1p(downloads) by relation minus the SLICE mean (4.05): bases and quantizations are popular.
DOWNLOADS_SHIFT = {"isolated": 0.0, "root": 1.49, "finetune": -0.12, "quantized": 1.64, "merge": -1.98}
DOWNLOADS_SHIFT |= {"adapter": -2.80}
LIKES_FIT = (-0.059, 0.477, 1.175)  # SLICE: log1p(likes) = a + b·log1p(downloads) + N(0, sd)
LICENCE_KEPT = 1 - 581 / 1996  # SLICE: 581 of 1,996 child-parent pairs with both licences known differ
LAG_MEDIAN_DAYS, LAG_SIGMA = 28.5, 2.0  # SLICE child-parent createdAt lag > 0: median 28.5 d, IQR-sigma 2.0
# SLICE createdAt deciles (0%..100%); isolated models and roots are drawn from them, children follow parents.
# A lag that would pass the last decile is replaced by a uniform share of the time left before it.
CREATED_DECILES: tuple[str, ...] = (
    "2022-03-02",
    "2024-03-18",
    "2024-06-21",
    "2024-09-03",
    "2024-10-10",
    "2024-11-20",
)
CREATED_DECILES += ("2024-12-27", "2025-01-14", "2025-02-03", "2025-02-28", "2026-04-22")
# TOP pipeline_tag counts (all tasks; '' = none): the mix of models outside families.
HUB_TASKS = {"text-generation": 3856, "": 1151, "text-to-image": 1002, "image-classification": 555}
HUB_TASKS |= {
    "text-classification": 458,
    "sentence-similarity": 324,
    "feature-extraction": 283,
    "fill-mask": 281,
}
HUB_TASKS |= {"text2text-generation": 263, "token-classification": 215, "automatic-speech-recognition": 196}
HUB_TASKS |= {"translation": 190, "image-text-to-text": 100, "zero-shot-image-classification": 98}
HUB_TASKS |= {"object-detection": 72, "image-to-text": 67, "question-answering": 67, "image-segmentation": 66}
HUB_TASKS |= {"image-to-image": 52, "text-to-speech": 43, "summarization": 42, "audio-classification": 33}
# SLICE pipeline_tag counts: the mix of family roots (children inherit their family's task).
FAMILY_TASKS = {"text-generation": 3434, "": 480, "image-text-to-text": 84, "feature-extraction": 76}
FAMILY_TASKS |= {"text-classification": 56}
# TOP library (first library tag) per task; other tasks: transformers. SLICE library mix for LLM families.
TASK_LIBRARY = {
    "text-to-image": {"diffusers": 985, "": 15},
    "image-classification": {"timm": 387, "transformers": 153},
}
TASK_LIBRARY |= {
    "sentence-similarity": {"sentence-transformers": 277, "transformers": 36},
    "": {"": 9, "peft": 1},
}
TASK_LIBRARY |= {"text-generation": {"transformers": 3571, "": 527, "vllm": 19}}
# Licences: TOP (whole Hub) and SLICE roots / children ('' = no license tag).
HUB_LICENCES = {"apache-2.0": 3005, "": 2048, "mit": 1197, "other": 1030, "cc-by-nc-4.0": 543}
HUB_LICENCES |= {"creativeml-openrail-m": 406, "llama2": 238, "cc-by-nc-sa-4.0": 200, "llama3": 184}
HUB_LICENCES |= {"llama3.1": 134, "cc-by-4.0": 115, "cc-by-sa-4.0": 111, "gemma": 98, "openrail++": 59}
ROOT_LICENCES = {"apache-2.0": 345, "": 212, "other": 136, "mit": 109, "cc-by-nc-4.0": 55, "llama3": 32}
ROOT_LICENCES |= {"gemma": 23, "llama2": 22, "llama3.1": 20, "llama3.2": 11}
CHILD_LICENCES = {"apache-2.0": 360, "": 324, "other": 64, "mit": 58, "llama3.1": 56, "llama3.2": 38}
CHILD_LICENCES |= {"gemma": 37, "llama3": 26, "cc-by-nc-4.0": 21, "llama3.3": 5}
# Name tokens (illustrative, after HFS ids).
FAMILY_STEMS: tuple[str, ...] = (
    "Llama-3.1-8B",
    "Meta-Llama-3-8B",
    "Qwen2.5-7B",
    "Qwen2.5-32B",
    "Mistral-7B-v0.1",
    "gemma-2-9b",
)
FAMILY_STEMS += ("Llama-3.2-1B", "Qwen2.5-0.5B", "Phi-3-mini-4k", "TinyLlama-1.1B", "Mixtral-8x7B", "Yi-34B")
HUB_STEMS: tuple[str, ...] = (
    "bert-base-uncased",
    "roberta-base",
    "vit-base-patch16-224",
    "whisper-small",
    "t5-small",
)
HUB_STEMS += ("stable-diffusion-xl", "resnet-50", "wav2vec2-base", "distilbert-base", "xlm-roberta-base")
PURPOSE: tuple[str, ...] = (
    "imdb",
    "squad",
    "ner",
    "sentiment",
    "emotion",
    "cifar10",
    "demo",
    "medical",
    "legal",
    "ko",
    "ja",
)
PURPOSE += ("ar", "test", "custom", "base", "large", "small", "tiny", "news", "chat")
SUFFIX = {
    "finetune": (
        "-Instruct",
        "-sft",
        "-dpo",
        "-chat",
        "-orpo",
        "-it",
        "-math",
        "-code",
        "-rp",
        "-abliterated",
    ),
    "quantized": (
        "-GGUF",
        "-AWQ",
        "-GPTQ",
        "-bnb-4bit",
        "-4bit",
        "-8bit",
        "-Q4_K_M-GGUF",
        "-i1-GGUF",
        "-exl2",
    ),
    "adapter": ("-lora", "-LoRA", "-adapter", "-qlora", "-peft"),
    "merge": ("-Merge", "-SLERP", "-TIES", "-DARE", "-Mix", "-Franken", "-Fusion", "-Blend"),
}
SYLLABLES = (
    "ka",
    "ro",
    "mi",
    "zen",
    "ta",
    "lu",
    "vo",
    "ne",
    "shi",
    "bar",
    "to",
    "qu",
    "an",
    "el",
    "dor",
    "fi",
)
ROLES = ("isolated", "root", *SYNTH_RELATIONS)  # role codes 0..5
# Role codes by name: the relations' codes follow SYNTH_RELATIONS (atlasgen/relations.py), from CHILD on.
ROOT, CHILD = ROLES.index("root"), len(ROLES) - len(SYNTH_RELATIONS)
FINETUNE, QUANTIZED, MERGE, ADAPTER = (ROLES.index(r) for r in ("finetune", "quantized", "merge", "adapter"))
DAY_US = 86_400 * 1_000_000


@dataclass
class Lineage:
    role: np.ndarray  # int8 index into ROLES
    level: np.ndarray  # longest path from a root
    family: np.ndarray  # the root each node descends from (its primary line); isolated: itself
    primary: np.ndarray  # primary parent, -1 for none
    child: np.ndarray  # edges child <- parent, unique pairs, sorted by child
    parent: np.ndarray


# --------------------------------------------------------------------------------------- public API


def synthesize_hub(models: int, *, seed: int = 0, no_lineage: float = NO_LINEAGE) -> pa.Table:
    """A synthetic Hub of `models` models (schema = the embedded sample's), deterministic for `seed`."""
    _check(models, no_lineage)
    rng = np.random.default_rng(seed)
    lin = _lineage(rng, models, no_lineage)
    created = _created(rng, lin)
    downloads, likes = _popularity(rng, lin.role)
    tasks, libraries, licences = _attributes(rng, lin)
    names, authors = _names(rng, lin, libraries)
    ids = _unique_ids(authors, names)
    order = np.argsort(created, kind="stable")
    return _assemble(order, ids, authors, created, downloads, likes, tasks, libraries, licences, lin)


def write_synthetic_hub(
    models: int, out: pathlib.Path, *, seed: int = 0, no_lineage: float = NO_LINEAGE
) -> dict[str, Any]:
    """Write `synthesize_hub(models, seed=...)` to `out` (zstd parquet, atomically); return `describe()` of it."""
    _check(models, no_lineage)
    out = pathlib.Path(out)
    if not out.parent.is_dir():
        raise AtlasgenError(f"{out}: the folder {out.parent} does not exist")
    table = synthesize_hub(models, seed=seed, no_lineage=no_lineage)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    except OSError as exc:
        raise AtlasgenError(f"{out}: cannot write there ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            pq.write_table(table, handle, compression="zstd")
        os.replace(tmp, out)
    except OSError as exc:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise AtlasgenError(f"{out}: cannot write there ({exc.strerror})") from None
    return {"path": str(out), "bytes": out.stat().st_size, "seed": seed, **describe(table)}


def _check(models: int, no_lineage: float) -> None:
    if isinstance(models, bool) or not isinstance(models, (int, np.integer)) or models < 1:
        raise AtlasgenError(f"the number of models must be a whole number of at least 1, not {models!r}")
    if not 0.0 <= no_lineage <= 1.0:
        raise AtlasgenError(f"no_lineage must lie in [0, 1], not {no_lineage!r}")


# --------------------------------------------------------------------------------------- lineage


def _split(total: int, weights: np.ndarray) -> np.ndarray:
    """Largest-remainder split of `total` in proportion to `weights` (deterministic)."""
    raw = total * weights / weights.sum()
    out = np.floor(raw).astype(np.int64)
    out[np.argsort(-(raw - out), kind="stable")[: total - out.sum()]] += 1
    return out


def _weighted(rng: np.random.Generator, weight: np.ndarray, size: int) -> np.ndarray:
    """`size` positions drawn with replacement in proportion to `weight` (inverse CDF, O(size log n))."""
    cdf = np.cumsum(weight, dtype=np.float64)
    return np.minimum(np.searchsorted(cdf, rng.random(size) * cdf[-1], side="right"), len(cdf) - 1)


def _draw(rng: np.random.Generator, counts: dict[Any, int] | tuple[int, ...], size: int) -> np.ndarray:
    """Indices into `counts` (its keys, or positions), drawn in proportion to the counts."""
    return _weighted(rng, np.array(list(counts.values()) if isinstance(counts, dict) else counts), size)


def _lineage(rng: np.random.Generator, n: int, no_lineage: float) -> Lineage:
    children = min(round((1 - no_lineage) * n), n - 1)
    levels = _split(children, np.array(DEPTH_HIST, dtype=np.float64))
    gap = np.flatnonzero(levels == 0)
    if len(gap):  # small n: no level may follow an empty one; its children go to level 1
        levels[0] += levels[gap[0] :].sum()
        levels = levels[: gap[0]]
    roots = min(
        max(round(ROOTS_PER_CHILD * children), 1 if children else 0), int(levels[0]) if len(levels) else 0
    )
    start = n - children  # isolated: [0, start - roots), roots: [start - roots, start), then levels 1, 2, ...
    role = np.zeros(n, np.int8)
    role[start - roots : start] = ROOT
    role[start:] = CHILD + _draw(rng, CHILD_MIX, children)
    level = np.zeros(n, np.int64)
    family, primary = np.arange(n), np.full(n, -1)
    factor = np.array([0.0] + [OUT_FACTOR[r] for r in ROLES[1:]])
    sigma = np.array([FANOUT_SIGMA[r] for r in ROLES])[role]
    weight = factor[role] * np.exp(sigma * rng.standard_normal(n) - sigma**2 / 2)
    edges: list[tuple[np.ndarray, np.ndarray]] = []
    lo, hi = start - roots, start
    for depth, size in enumerate(levels, start=1):
        kids = np.arange(hi, hi + size)
        level[kids] = depth
        primary[kids] = _pick_parents(rng, weight[lo:hi], size, first_each=depth == 1) + lo
        family[kids] = family[primary[kids]]
        edges.append((kids, primary[kids]))
        edges.append(_merge_parents(rng, kids[role[kids] == MERGE], family, start - roots, hi, weight, roots))
        lo, hi = hi, hi + size
    child = np.concatenate([e[0] for e in edges] + [np.zeros(0, np.int64)])
    parent = np.concatenate([e[1] for e in edges] + [np.zeros(0, np.int64)])
    child, parent = _dedupe(n, child, parent)  # a parent drawn twice for one merge
    lonely = np.flatnonzero((role == MERGE) & (np.bincount(child, minlength=n) < 2))
    if len(lonely) and roots > 1:  # give a merge left with one parent a second one: a root by weight
        first = start - roots
        extra = _weighted(rng, weight[first:start], len(lonely))
        extra = first + np.where(extra + first == primary[lonely], (extra + 1) % roots, extra)
        child, parent = _dedupe(n, np.concatenate([child, lonely]), np.concatenate([parent, extra]))
    role[(role == MERGE) & (np.bincount(child, minlength=n) < 2)] = FINETUNE  # only when there is one root
    return Lineage(role, level, family, primary, child, parent)


def _dedupe(n: int, child: np.ndarray, parent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    key = np.unique(child * n + parent)  # sorted by child, then parent
    return key // n, key % n


def _pick_parents(rng: np.random.Generator, weight: np.ndarray, size: int, *, first_each: bool) -> np.ndarray:
    """Positions in the level above; on level 1 the first len(weight) children take one root each."""
    if first_each:
        head = np.arange(len(weight))
        return np.concatenate([head, _weighted(rng, weight, size - len(head))])
    return _weighted(rng, weight, size)


def _merge_parents(
    rng: np.random.Generator,
    kids: np.ndarray,
    family: np.ndarray,
    first: int,
    end: int,
    w: np.ndarray,
    roots: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Extra parents of merges: from the same family (any earlier level) or, else, from the roots by weight."""
    if not len(kids):
        return kids, kids
    keys = np.array(list(MERGE_PARENTS), dtype=np.int64)
    extra = keys[_draw(rng, MERGE_PARENTS, len(kids))] - 1
    child = np.repeat(kids, extra)
    fam = family[child]
    pool = np.arange(first, end)  # every node with lineage created before this level
    by_family = pool[np.argsort(family[pool], kind="stable")]
    fams = family[by_family]
    lo, hi = np.searchsorted(fams, fam, "left"), np.searchsorted(fams, fam, "right")
    same = by_family[np.minimum(lo + np.floor(rng.random(len(child)) * (hi - lo)).astype(np.int64), hi - 1)]
    rw = w[first : first + roots]
    cross = first + _weighted(rng, rw, len(child))
    return child, np.where(rng.random(len(child)) < MERGE_SAME_FAMILY, same, cross)


# --------------------------------------------------------------------------------------- attributes


def _created(rng: np.random.Generator, lin: Lineage) -> np.ndarray:
    """Microseconds since the epoch; a child comes LAG after its latest parent (strictly later)."""
    n = len(lin.role)
    knots = np.array(CREATED_DECILES, dtype="datetime64[us]").astype(np.int64)
    t = np.interp(rng.random(n), np.linspace(0, 1, len(knots)), knots).astype(np.int64)
    lag = np.maximum(np.exp(np.log(LAG_MEDIAN_DAYS) + LAG_SIGMA * rng.standard_normal(n)) * DAY_US, 1e6)
    for depth in range(1, int(lin.level.max(initial=0)) + 1):
        sel = lin.level[lin.child] == depth
        latest = np.full(n, np.iinfo(np.int64).min)
        np.maximum.at(latest, lin.child[sel], t[lin.parent[sel]])
        kids = lin.level == depth
        room = np.maximum(knots[-1] - latest[kids], 0) * rng.random(int(kids.sum()))
        step = np.where(latest[kids] + lag[kids] <= knots[-1], lag[kids], room)
        t[kids] = latest[kids] + np.maximum(step, 1).astype(np.int64)
    return t


def _popularity(rng: np.random.Generator, role: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    shift = np.array([DOWNLOADS_SHIFT[r] for r in ROLES])[role]
    log_dl = DOWNLOADS_MU + shift + DOWNLOADS_SIGMA * rng.standard_normal(len(role))
    downloads = np.floor(np.exp(np.minimum(log_dl, 21.0))).astype(np.int64)  # cap e^21 ≈ 1.3e9
    a, b, sd = LIKES_FIT
    log_likes = a + b * np.log1p(downloads) + sd * rng.standard_normal(len(role))
    return downloads, np.floor(np.expm1(np.maximum(log_likes, 0.0))).astype(np.int64)


def _pick(rng: np.random.Generator, counts: dict[str, int], size: int) -> np.ndarray:
    return np.array(list(counts), dtype=object)[_draw(rng, counts, size)]


def _attributes(rng: np.random.Generator, lin: Lineage) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """pipeline_tag, library_name, licence ('' = none): isolated models follow the whole-Hub mix, families
    take their root's task; libraries follow the task (quantized and adapter children their format)."""
    n = len(lin.role)
    task = _pick(rng, HUB_TASKS, n)
    roots = lin.role == ROOT
    task[roots] = _pick(rng, FAMILY_TASKS, int(roots.sum()))
    task = task[lin.family]
    library = np.full(n, "transformers", dtype=object)
    for name, mix in TASK_LIBRARY.items():
        sel = np.flatnonzero(task == name)
        library[sel] = _pick(rng, mix, len(sel))
    library[lin.role == ADAPTER] = "peft"
    licence = _pick(rng, HUB_LICENCES, n)
    licence[roots] = _pick(rng, ROOT_LICENCES, int(roots.sum()))
    fresh = _pick(rng, CHILD_LICENCES, n)
    keep = rng.random(n) < LICENCE_KEPT
    for depth in range(1, int(lin.level.max(initial=0)) + 1):
        kids = np.flatnonzero(lin.level == depth)
        licence[kids] = np.where(keep[kids], licence[lin.primary[kids]], fresh[kids])
    return task, library, licence


def _handles(index: np.ndarray) -> np.ndarray:
    k = len(SYLLABLES)
    syl = np.array(SYLLABLES, dtype=np.dtypes.StringDType())
    head = np.strings.add(np.strings.capitalize(syl[index % k]), syl[(index // k) % k])
    tail = np.where(index >= k * k, (index // (k * k)).astype(str), "")
    return np.strings.add(np.strings.add(head, syl[(index // 7) % k]), tail.astype(np.dtypes.StringDType()))


def _authors(rng: np.random.Generator, role: np.ndarray) -> np.ndarray:
    """Author handles, one pool per role: rank-frequency ∝ rank^-a (a few prolific quantizers, many one-offs)."""
    author = np.zeros(len(role), np.int64)
    offset = 0
    for code, name in enumerate(ROLES):
        sel = np.flatnonzero(role == code)
        per_model, a = AUTHOR_POOL[name]
        pool = max(1, round(per_model * len(sel)))
        u = rng.random(len(sel))
        x = (
            np.exp(u * np.log(pool + 1))
            if a == 1.0
            else (1 + u * ((pool + 1) ** (1 - a) - 1)) ** (1 / (1 - a))
        )
        author[sel] = offset + np.minimum(np.floor(x).astype(np.int64) - 1, pool - 1)
        offset += pool
    perm = np.random.default_rng(offset).permutation(offset)  # handles don't betray a role by their order
    return _handles(perm[author])


def _names(rng: np.random.Generator, lin: Lineage, library: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Repo names: stems for bases, the parent's name plus a relation suffix for children."""
    sd = np.dtypes.StringDType()
    n = len(lin.role)
    hub = np.array(HUB_STEMS, dtype=sd)[rng.integers(len(HUB_STEMS), size=n)]
    purpose = np.array(PURPOSE, dtype=sd)[rng.integers(len(PURPOSE), size=n)]
    name = np.strings.add(np.strings.add(hub, "-"), purpose)
    roots = lin.role == ROOT
    name[roots] = np.array(FAMILY_STEMS, dtype=sd)[rng.integers(len(FAMILY_STEMS), size=int(roots.sum()))]
    suffix = np.zeros(n, dtype=sd)
    for code, rel in enumerate(SYNTH_RELATIONS, start=CHILD):
        sel = lin.role == code
        suffix[sel] = np.array(SUFFIX[rel], dtype=sd)[rng.integers(len(SUFFIX[rel]), size=int(sel.sum()))]
    for depth in range(1, int(lin.level.max(initial=0)) + 1):
        kids = np.flatnonzero(lin.level == depth)
        base = name[lin.primary[kids]]
        long = np.strings.str_len(base) > 48
        base[long] = name[lin.family[kids[long]]]
        name[kids] = np.strings.add(base, suffix[kids])
    library[np.strings.endswith(name, "GGUF") & (lin.role == QUANTIZED)] = "gguf"
    library[np.strings.endswith(name, "bit") & (lin.role == QUANTIZED)] = "transformers"
    return name, _authors(rng, lin.role)


def _unique_ids(authors: np.ndarray, names: np.ndarray) -> np.ndarray:
    """author/name, with -v2, -v3, ... on repeats (no generated name ends in -v<digits>, so no clashes)."""
    import pandas as pd

    ids = np.strings.add(np.strings.add(authors, "/"), names)
    series = pd.Series(ids.astype(object))
    repeat = series.groupby(series, sort=False).cumcount().to_numpy()
    dup = np.flatnonzero(repeat)
    ids[dup] = np.strings.add(np.strings.add(ids[dup], "-v"), (repeat[dup] + 1).astype(str).astype(ids.dtype))
    return ids.astype(object)


# --------------------------------------------------------------------------------------- table


def _assemble(
    order: np.ndarray,
    ids: np.ndarray,
    authors: np.ndarray,
    created: np.ndarray,
    downloads: np.ndarray,
    likes: np.ndarray,
    tasks: np.ndarray,
    libraries: np.ndarray,
    licences: np.ndarray,
    lin: Lineage,
) -> pa.Table:
    """Rows in createdAt order (parents before children in the file, too)."""
    n = len(order)
    pos = np.empty(n, np.int64)
    pos[order] = np.arange(n)
    e = np.lexsort((pos[lin.parent], pos[lin.child]))  # edges by output row, then by parent row
    row, parent_id = pos[lin.child][e], ids[lin.parent][e]
    relation = np.array(ROLES, dtype=object)[lin.role[order]]
    relation[lin.role[order] < CHILD] = None
    columns = {
        "id": pa.array(ids[order], pa.string()),
        "author": pa.array(authors[order].astype(object), pa.string()),
        "createdAt": pa.array(created[order], pa.timestamp("us")),
        "downloads": pa.array(downloads[order], pa.int64()),
        "likes": pa.array(likes[order], pa.int64()),
        "tags": _tags(n, row, parent_id, relation[row], licences[order]),
        "pipeline_tag": _nullable(tasks[order]),
        "library_name": _nullable(libraries[order]),
        "baseModels": _base_models(n, row, parent_id, relation),
    }
    return pa.Table.from_arrays(list(columns.values()), schema=SCHEMA)


def _nullable(values: np.ndarray) -> pa.Array:
    return pa.array(values, pa.string(), mask=values == "")


def _offsets(n: int, row: np.ndarray) -> pa.Array:
    return pa.array(np.concatenate([[0], np.cumsum(np.bincount(row, minlength=n))]).astype(np.int32))


def _tags(
    n: int, row: np.ndarray, parent_id: np.ndarray, relation: np.ndarray, licence: np.ndarray
) -> pa.Array:
    """base_model:{id} and base_model:{relation}:{id} per parent, then license:{x}."""
    plain = np.array(["base_model:" + p for p in parent_id], dtype=object)
    typed = np.array([f"base_model:{r}:{p}" for r, p in zip(relation, parent_id, strict=True)], dtype=object)
    has = np.flatnonzero(licence != "")
    lic = np.array(["license:" + x for x in licence[has]], dtype=object)
    rows = np.concatenate([row, row, has])
    seq = np.concatenate(
        [2 * np.arange(len(row)), 2 * np.arange(len(row)) + 1, np.full(len(has), 2 * len(row))]
    )
    values = np.concatenate([plain, typed, lic])[np.lexsort((seq, rows))]
    return pa.ListArray.from_arrays(_offsets(n, rows), pa.array(values, pa.string()))


def _base_models(n: int, row: np.ndarray, parent_id: np.ndarray, relation: np.ndarray) -> pa.Array:
    models_type = SCHEMA.field("baseModels").type.field("models").type
    ids = pa.StructArray.from_arrays([pa.array(parent_id, pa.string())], names=["id"])
    models = pa.ListArray.from_arrays(_offsets(n, row), ids, type=models_type)
    rel = pa.array(relation, pa.string())
    return pa.StructArray.from_arrays([rel, models], names=["relation", "models"], mask=rel.is_null())


def lineage_columns(
    n: int, row: np.ndarray, parent_id: np.ndarray, relation: np.ndarray, other_tags: list[list[str]]
) -> tuple[pa.Array, pa.Array]:
    """``tags`` and ``baseModels`` for ``n`` rows with links (row, parent id, relation; sorted by row) and
    each row's other tags (synth_weeks.py: a Hub whose links change week by week)."""
    rel = np.full(n, None, dtype=object)
    rel[row] = relation
    plain = _tags(n, row, parent_id, relation, np.full(n, "", dtype=object)).to_pylist()
    tags = pa.array([a + b for a, b in zip(plain, other_tags, strict=True)], pa.list_(pa.string()))
    return tags, _base_models(n, row, parent_id, rel)


# --------------------------------------------------------------------------------------- measuring


def describe(table: pa.Table) -> dict[str, Any]:
    """The calibration statistics of a hub-stats table (docs/synth.md compares them with the real data)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = table.num_rows
    ids = table.column("id").to_numpy(zero_copy_only=False)
    child, parent, relation = _edges(table, ids)
    has_parent = np.bincount(child, minlength=n) > 0
    fanout = np.bincount(parent, minlength=n)
    in_family = has_parent | (fanout > 0)
    level = _levels(n, child, parent)
    graph = coo_matrix((np.ones(len(child)), (child, parent)), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    sizes = np.bincount(label)
    sizes = sizes[sizes > 1]
    nparents = np.bincount(child, minlength=n)
    created = table.column("createdAt").cast(pa.int64()).to_numpy()
    node_rel = table.column("baseModels").combine_chunks().field("relation").to_numpy(zero_copy_only=False)
    return {
        "models": n,
        "edges": len(child),
        "edges_per_model": round(len(child) / n, 4),
        "share_without_lineage": round(1 - has_parent.mean(), 4),
        "share_isolated": round(1 - in_family.mean(), 4),
        "relation_nodes": _shares(node_rel[has_parent]),
        "relation_edges": _shares(relation),
        "max_fanout": int(fanout.max(initial=0)),
        "family_share_no_children": round(float((fanout[in_family] == 0).mean()), 4)
        if in_family.any()
        else 0,
        "fanout_p50_p90_p99": [float(np.percentile(fanout[fanout > 0], q)) for q in (50, 90, 99)]
        if fanout.any()
        else [],
        "depth_hist": {int(d): int(c) for d, c in enumerate(np.bincount(level[in_family]))},
        "multi_parent": int((nparents > 1).sum()),
        "multi_parent_per_1k": round(1000 * float((nparents > 1).mean()), 2),
        "mean_parents_per_merge": round(float(nparents[nparents > 1].mean()), 2)
        if (nparents > 1).any()
        else 0,
        "families": len(sizes),
        "largest_family": int(sizes.max(initial=0)),
        "median_family": float(np.median(sizes)) if len(sizes) else 0,
        "parents_before_children": bool((created[parent] < created[child]).all()),
        "ids_unique": len(set(ids)) == n,
        **_popularity_stats(table),
        **_mix_stats(table),
    }


def _edges(table: pa.Table, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import pandas as pd

    base = table.column("baseModels").combine_chunks()
    models = base.field("models")
    lengths = models.value_lengths().fill_null(0).to_numpy()
    child = np.repeat(np.arange(table.num_rows), lengths)
    flat = (
        pa.concat_arrays([m.values.field("id") for m in [models]])
        if len(models)
        else pa.array([], pa.string())
    )
    flat = models.flatten().field("id").to_numpy(zero_copy_only=False) if len(flat) else np.array([], object)
    parent = pd.Index(ids).get_indexer(flat)
    relation = np.repeat(base.field("relation").to_numpy(zero_copy_only=False), lengths)
    return child, parent, relation


def _levels(n: int, child: np.ndarray, parent: np.ndarray) -> np.ndarray:
    """Longest path from a root (the table is acyclic: parents are created strictly earlier)."""
    level = np.zeros(n, np.int64)
    for _ in range(n):
        new = level.copy()
        np.maximum.at(new, child, level[parent] + 1)
        if np.array_equal(new, level):
            return level
        level = new
    return level


def _shares(values: np.ndarray, top: int = 12) -> dict[str, float]:
    import pandas as pd

    counts = pd.Series(values, dtype=object).fillna("(none)").value_counts(normalize=True, sort=True)
    return {str(k): round(float(v), 4) for k, v in counts.head(top).items()}


def _popularity_stats(table: pa.Table) -> dict[str, Any]:
    dl = table.column("downloads").to_numpy()
    likes = table.column("likes").to_numpy()
    return {
        "downloads_median": float(np.median(dl)),
        "downloads_mean": round(float(dl.mean()), 1),
        "downloads_share_zero": round(float((dl == 0).mean()), 4),
        "downloads_share_ge_1193": round(float((dl >= 1193).mean()), 4),
        "downloads_max": int(dl.max()),
        "likes_median": float(np.median(likes)),
        "likes_share_zero": round(float((likes == 0).mean()), 4),
        "likes_max": int(likes.max()),
    }


def _mix_stats(table: pa.Table) -> dict[str, Any]:
    import pyarrow.compute as pc

    tags = pc.list_flatten(table.column("tags"))
    lic = pc.utf8_slice_codeunits(tags.filter(pc.starts_with(tags, "license:")), 8)
    authors = table.column("author").value_counts()
    counts = np.sort(authors.field("counts").to_numpy())[::-1]
    return {
        "pipeline_tag": _shares(table.column("pipeline_tag").to_numpy(zero_copy_only=False), 8),
        "library_name": _shares(table.column("library_name").to_numpy(zero_copy_only=False), 6),
        "licence": _shares(lic.to_numpy(zero_copy_only=False), 8),
        "licence_share_tagged": round(len(lic) / table.num_rows, 4),
        "authors": len(counts),
        "authors_top10_share": round(float(counts[:10].sum() / table.num_rows), 4),
        "author_max_models": int(counts[0]),
    }
