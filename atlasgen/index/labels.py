"""Map labels: the best known families and the most downloaded models, placed so none overlap at any zoom.

``data/labels.json`` -- ``{"format": 1, "max_zoom": M, "fields": [...], "labels": [[vertex, text, x, y,
min_zoom, kind], ...]}`` in priority order (most important first). ``text`` is the id's name part (after
the owner), ``kind`` is ``"f"`` for a family root (ranked by ``family_fame``: the root's downloads and the
family's size) or ``"m"`` for a model (ranked by downloads); a name appears once. A label is shown from ``min_zoom`` on (the viewer uses ``floor(zoom)``; past ``M`` all are
shown): it was placed greedily by priority so that its estimated screen box (``len(text) * CHAR_PX`` wide,
``LINE_PX`` high, centred on the point, plus a gap) overlaps no label shown at any zoom where both are.
Boxes shrink in world units as the zoom grows, so a pair that is clear at zoom z is clear at every zoom
above it: each label's ``min_zoom`` is the first zoom clear of every label placed before it, and no sooner
than ``z0 + log2(1 + i / per_zoom)`` for the ``i``-th candidate, so the first views show the best known names.
``z0`` is the zoom at which the whole map is about one 256-px tile across (``map_zoom``): a map drawn small in
its world square (a fresh map fills at most a quarter of its side, layout/world.py) is first seen deeper.
At most ``per_zoom`` labels start at each zoom, so the file stays a few tens of KB at any Hub size.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from atlasgen.jsonio import dumps

CHAR_PX = 7.0  # estimated width per character (12 px sans-serif, generous)
LINE_PX = 14.0
GAP_X = 10.0  # extra clearance between boxes, horizontally and vertically (px)
GAP_Y = 6.0
MAX_TEXT = 32  # longer names are cut with an ellipsis
PER_ZOOM = 40  # labels starting at each zoom
POOL = 4000  # candidates considered per kind
EXTRA_ZOOM = 2  # zooms past the deepest tiles that still get their own labels
TILE_PX = 256.0  # a tile's side: one world unit is 2^z px at zoom z


def label_text(model_id: str) -> str:
    """The name part of an id (after the owner), cut to ``MAX_TEXT`` characters."""
    name = model_id.split("/", 1)[1] if "/" in model_id and not model_id.endswith("/") else model_id
    name = " ".join(name.split()) or model_id
    return name if len(name) <= MAX_TEXT else name[: MAX_TEXT - 1] + "…"


def family_sizes(n: int, edges: pd.DataFrame) -> np.ndarray:
    """Descendants per family root: every model joins its first parent's (smallest vertex) family; -1 if not
    a root. A DAG's first parents form a forest, whose roots are found by pointer doubling."""
    parent = np.arange(n, dtype=np.int64)
    if len(edges):
        src = edges["source"].to_numpy(dtype=np.int64)
        dst = edges["target"].to_numpy(dtype=np.int64)
        order = np.lexsort((src, dst))  # by child, then parent: the first row per child is its first parent
        first = np.ones(len(order), dtype=bool)
        first[1:] = dst[order][1:] != dst[order][:-1]
        parent[dst[order][first]] = src[order][first]
    root = parent.copy()
    while True:
        nxt = root[root]
        if np.array_equal(nxt, root):
            break
        root = nxt
    sizes = np.bincount(root, minlength=n).astype(np.int64) - 1
    sizes[parent != np.arange(n)] = -1
    return sizes


def family_fame(sizes: np.ndarray, downloads: np.ndarray) -> np.ndarray:
    """How well known a family is: its root's downloads and its size, each on a log scale (unknown downloads
    count as none), so a famous base model's family outranks a large family of an obscure root."""
    return np.log1p(np.maximum(downloads, 0)) + np.log1p(np.maximum(sizes, 0))


def _candidates(nodes: pd.DataFrame, edges: pd.DataFrame, pool: int) -> list[tuple[int, str]]:
    """(vertex, kind) by priority: the best known families and the most downloaded models, interleaved."""
    n = len(nodes)
    sizes = family_sizes(n, edges)
    vertices = np.arange(n, dtype=np.int64)
    downloads = pd.to_numeric(nodes["downloads"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    known = ~np.isnan(downloads)
    dl = np.where(known, downloads, -1.0)
    fam = np.lexsort((vertices, -family_fame(sizes, dl)))
    fam = fam[sizes[fam] > 0][:pool]
    mod = np.lexsort((vertices, -dl))
    mod = mod[dl[mod] > 0][:pool]
    out: list[tuple[int, str]] = []
    seen: set[int] = set()
    for i in range(max(len(fam), len(mod))):
        for arr, kind in ((fam, "f"), (mod, "m")):
            if i < len(arr) and int(arr[i]) not in seen:
                seen.add(int(arr[i]))
                out.append((int(arr[i]), kind))
    return out


def map_zoom(xy: np.ndarray) -> int:
    """The deepest zoom at which the map (its positions' larger side) is at least one 256-px tile across;
    0 for a map as large as the world's first tile or larger."""
    pts = xy[np.isfinite(xy).all(axis=1)]
    extent = float(np.ptp(pts, axis=0).max()) if len(pts) > 1 else 0.0
    return max(0, int(np.floor(np.log2(TILE_PX / extent)))) if extent > 0 else 0


def place_labels(
    candidates: list[tuple[int, str, float, float]],
    *,
    max_zoom: int,
    per_zoom: int = PER_ZOOM,
    first_zoom: int = 0,
) -> list[tuple[int, str, float, float, int]]:
    """Greedy placement of (vertex, text, x, y) by priority; returns the placed ones with their min zoom,
    none before ``first_zoom`` (``map_zoom``)."""
    placed: list[tuple[int, str, float, float, int]] = []
    px = np.empty(0)
    py = np.empty(0)
    pw = np.empty(0)
    pz = np.empty(0, dtype=np.int64)
    counts = [0] * (max_zoom + 1)
    for i, (vertex, text, x, y) in enumerate(candidates):
        if all(c >= per_zoom for c in counts[first_zoom:]):
            break
        # the best known first: the i-th candidate starts no sooner than zoom log2(1 + i / per_zoom), so a
        # far-off island's obscure name doesn't take a free spot on the first view
        earliest = first_zoom + float(np.floor(np.log2(1 + i / per_zoom)))
        w = len(text) * CHAR_PX + GAP_X
        if len(placed):
            # first zoom at which the two boxes are clear, along x or along y (2**z * distance >= half sizes)
            with np.errstate(divide="ignore"):
                need_x = (w + pw) / 2 / np.abs(px - x)
                need_y = (LINE_PX + GAP_Y) / np.abs(py - y)
            need = np.minimum(need_x, need_y)
            clear = np.where(need <= 0, -np.inf, np.ceil(np.log2(np.maximum(need, 1e-300))))
            clear = np.where(np.isfinite(need), clear, np.inf)
            # labels that ever overlap this one push its start to when they are clear
            conflicts = clear[clear > pz]
            start = max(0.0, float(conflicts.max())) if len(conflicts) else 0.0
        else:
            start = 0.0
        start = max(start, earliest)
        if start > max_zoom:
            continue
        z = int(start)
        while z <= max_zoom and counts[z] >= per_zoom:
            z += 1
        if z > max_zoom:
            continue
        counts[z] += 1
        placed.append((vertex, text, x, y, z))
        px = np.append(px, x)
        py = np.append(py, y)
        pw = np.append(pw, w)
        pz = np.append(pz, z)
    return placed


def labels_payload(
    nodes: pd.DataFrame, edges: pd.DataFrame, xy: np.ndarray, *, max_zoom: int, per_zoom: int = PER_ZOOM
) -> dict[str, Any]:
    """The labels.json object (see the module docstring)."""
    n = len(nodes)
    if xy.shape != (n, 2):
        raise ValueError(f"xy has shape {xy.shape}, expected ({n}, 2)")
    max_zoom = max(0, int(max_zoom))
    ids = nodes["id"].astype(str).tolist()
    kinds: dict[int, str] = {}
    cands: list[tuple[int, str, float, float]] = []
    texts: set[str] = set()
    for vertex, kind in _candidates(nodes, edges, POOL):
        x, y = (float(v) for v in xy[vertex])
        text = label_text(ids[vertex])
        if not (np.isfinite(x) and np.isfinite(y)) or text in texts:
            continue  # one label per name: mirrors under other owners would read as duplicates
        texts.add(text)
        kinds[vertex] = kind
        cands.append((vertex, text, round(x, 3), round(y, 3)))
    first = min(map_zoom(xy), max_zoom)
    placed = place_labels(cands, max_zoom=max_zoom, per_zoom=per_zoom, first_zoom=first)
    return {
        "format": 1,
        "max_zoom": max_zoom,
        "fields": ["vertex", "text", "x", "y", "min_zoom", "kind"],
        "labels": [[v, t, x, y, z, kinds[v]] for v, t, x, y, z in placed],
    }


def write_labels(
    nodes: pd.DataFrame, edges: pd.DataFrame, xy: np.ndarray, out_dir: Path, *, max_zoom: int | None
) -> dict[str, str]:
    """Write ``out_dir/data/labels.json`` (``out_dir`` is the site root; call after ``stage.write_index``,
    which replaces ``data/``) and return the entry for atlas.json's ``data``. Deterministic.

    ``max_zoom``: the deepest tile zoom (None: the tiles' default for these positions); labels are placed
    for two zooms past it, where the viewer still zooms in.
    """
    if max_zoom is None:
        from atlasgen.tiles.pyramid import choose_max_zoom

        max_zoom = choose_max_zoom(xy[:, 0], xy[:, 1]) if len(xy) else 0
    max_zoom += EXTRA_ZOOM

    payload = labels_payload(nodes, edges, xy, max_zoom=max_zoom)
    path = Path(out_dir) / "data" / "labels.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(dumps(payload).encode("utf-8"))
    return {"labels": "data/labels.json"}
