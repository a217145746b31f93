"""What every site publishes for the next run and for other tools, beside the viewer's own data:

- ``positions.parquet``: one row per model: ``id, x, y`` (world coordinates, 0..256) and the attributes the
  map encodes (``relation, task, licence, downloads, likes, created_at, virtual``). A scheduled rebuild
  fetches last week's file to keep the map stable (``atlasgen build --previous``); ``atlasgen figure`` and
  ``atlasgen diff`` read it.
- ``lineage.parquet``: one row per documented derivation: ``parent, child, relation`` (model ids).
- ``snapshot.json``: the snapshot manifest: where the input came from, its SHA-256 and counts, so a run
  can tell whether the Hub changed since the published atlas.

Writing is the build's; reading a built atlas is :func:`read_atlas`'s alone: every tool (diff, lineage,
predict, figure) goes through it, so a column check, a duplicate id or a link to an absent model is found
and worded the same way whatever reads the atlas. An atlas directory has ``atlas.json`` (:func:`is_atlas`);
its ``atlas.json`` or ``positions.parquet`` also stands for it (:func:`atlas_dir`, as with `build --previous`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from atlasgen.errors import InputError

FILENAME = "positions.parquet"
LINEAGE = "lineage.parquet"
MANIFEST = "snapshot.json"
SITE_MANIFEST = "atlas.json"
REPORT = "report.json"
COORDINATES = ("id", "x", "y")  # the columns every positions file has
ATTRIBUTES = {  # published column -> graph node column
    "relation": "relation",
    "task": "pipeline_tag",
    "licence": "licence",
    "downloads": "downloads",
    "likes": "likes",
    "created_at": "created_at",
    "virtual": "virtual",
}


def write_positions(nodes: pd.DataFrame | pd.Series, xy: np.ndarray, out_dir: Path) -> str:
    """Write ``positions.parquet`` (ids in graph order; attributes where ``nodes`` is the node frame)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    ids = nodes if isinstance(nodes, pd.Series) else nodes["id"]
    columns: dict[str, Any] = {
        "id": pa.array(ids.astype(object).to_numpy(), pa.string()),
        "x": pa.array(xy[:, 0], pa.float64()),
        "y": pa.array(xy[:, 1], pa.float64()),
    }
    if isinstance(nodes, pd.DataFrame):
        for name, source in ATTRIBUTES.items():
            if source in nodes:
                columns[name] = _column(nodes[source])
    pq.write_table(pa.table(columns), out_dir / FILENAME, compression="zstd")
    return FILENAME


def _column(values: pd.Series) -> Any:
    import pyarrow as pa

    if values.dtype == object or isinstance(values.dtype, pd.CategoricalDtype | pd.StringDtype):
        # Few distinct values (tasks, licences): dictionary encoding keeps 3M rows to a few MB.
        return pa.array(
            values.astype(object).where(values.notna(), None).to_numpy(), pa.string()
        ).dictionary_encode()
    return pa.Array.from_pandas(values)


def write_lineage(ids: pd.Series, edges: pd.DataFrame, out_dir: Path) -> str:
    """Write ``lineage.parquet``: ``parent, child, relation`` by model id, in graph order."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = ids.astype(object).to_numpy()
    table = pa.table(
        {
            "parent": pa.array(names[edges["source"].to_numpy()], pa.string()),
            "child": pa.array(names[edges["target"].to_numpy()], pa.string()),
            "relation": pa.array(edges["relation"].astype(str).to_numpy(), pa.string()).dictionary_encode(),
        }
    )
    pq.write_table(table, out_dir / LINEAGE, compression="zstd")
    return LINEAGE


def snapshot_manifest(
    source: dict[str, Any], report: dict[str, Any], sha256: str | None = None
) -> dict[str, Any]:
    """The snapshot manifest: the input's provenance and SHA-256 (when it is a file) and what was built."""
    manifest: dict[str, Any] = {k: source[k] for k in ("label", "format", "date") if k in source}
    path = Path(str(source.get("path", "")))
    if path.is_file():
        manifest["sha256"] = sha256 or file_sha256(path)  # the caller's digest of this file, if it has one
        manifest["bytes"] = path.stat().st_size
    manifest |= {k: report[k] for k in ("input_rows", "models", "edges", "virtual", "without_lineage")}
    return manifest


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_previous(path: Path, ids: pd.Series) -> tuple[np.ndarray, int]:
    """Previous world positions aligned to `ids` (NaN rows for models new since then), and the count found."""
    table = read_positions(path, columns=["id", "x", "y"])
    table = table.dropna().drop_duplicates("id").set_index("id")
    aligned = table.reindex(ids.astype(object).to_numpy())[["x", "y"]].to_numpy(dtype=np.float64)
    return aligned, int(np.isfinite(aligned[:, 0]).sum())


def read_previous_families(path: Path, ids: pd.Series) -> np.ndarray | None:
    """Each model's island (weakly connected component) in a previous atlas, aligned to `ids` (-1: not in
    one: new, or without lineage then), from the atlas's lineage file; None when it has none.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    atlas = path if path.is_dir() else path.parent
    if not (atlas / LINEAGE).is_file():
        return None
    edges = read_lineage(atlas)
    names, pairs = np.unique(edges[["parent", "child"]].to_numpy(dtype=object).ravel(), return_inverse=True)
    pairs = pairs.reshape(-1, 2)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(names.size, names.size))
    _, family = connected_components(graph, directed=True, connection="weak")
    lookup = pd.Series(family, index=pd.Index(names, dtype=object))
    return lookup.reindex(ids.astype(object).to_numpy()).fillna(-1).to_numpy(dtype=np.int64)


# ------------------------------------------------------------------------------------------- a built atlas


def is_atlas(path: Path) -> bool:
    """Whether `path` is an atlas directory (one with atlas.json)."""
    return path.is_dir() and (path / SITE_MANIFEST).is_file()


def atlas_dir(path: Path) -> Path:
    """The atlas directory `path` stands for: an atlas's atlas.json or positions.parquet is the atlas."""
    return path.parent if path.name in (SITE_MANIFEST, FILENAME) and is_atlas(path.parent) else path


def absent_files(path: Path, *, lineage: bool = True) -> list[str]:
    """The published data files a tool reads that the atlas directory `path` lacks (atlases built before
    atlasgen 0.2 have no lineage.parquet)."""
    return [name for name in (FILENAME, LINEAGE)[: 2 if lineage else 1] if not (path / name).is_file()]


@dataclass(frozen=True)
class Atlas:
    """A built atlas as the tools read it. Its JSON files are read when first asked for ({} where absent)."""

    path: Path  # the atlas directory
    positions: pd.DataFrame  # one row per model (ids unique), the columns asked for that the file has
    edges: pd.DataFrame | None  # lineage.parquet by positions row: source (parent), target (child), relation

    @property
    def xy(self) -> np.ndarray:
        return self.positions[["x", "y"]].to_numpy(dtype=np.float64)

    @cached_property
    def manifest(self) -> dict[str, Any]:
        """atlas.json: the site manifest (layers and their legends, the snapshot, counts)."""
        return read_json(self.path / SITE_MANIFEST)

    @cached_property
    def snapshot(self) -> dict[str, Any]:
        """snapshot.json: what the atlas was built from (atlases before atlasgen 0.2 lack it)."""
        return read_json(self.path / MANIFEST)

    @cached_property
    def report(self) -> dict[str, Any]:
        """report.json: the build report (repairs, dropped rows, timings)."""
        return read_json(self.path / REPORT)

    def source(self) -> dict[str, Any]:
        """Where this atlas came from, as the tools report it: its path and its snapshot's label, format,
        date and SHA-256 where known."""
        known = {k: self.snapshot[k] for k in ("label", "format", "date", "sha256") if k in self.snapshot}
        return {"kind": "atlas", "path": str(self.path)} | known


def read_atlas(
    path: Path,
    *,
    columns: tuple[str, ...] | None = None,
    need: tuple[str, ...] = COORDINATES,
    lineage: bool = True,
) -> Atlas:
    """Read a built atlas: `path` is its directory (or its atlas.json or positions.parquet).

    `columns`: the positions columns wanted where the file has them (None: all); `need`: those it must have
    (the ids always), else an InputError naming the file and what it lacks. Ids must be unique. With
    `lineage`, every link of lineage.parquet must name two models of positions.parquet; a link given twice
    is read once.
    """
    folder = atlas_dir(path)
    file = _positions_file(folder / FILENAME)
    need = tuple(dict.fromkeys(("id", *need)))
    names = _column_names(file)
    if missing := [c for c in need if c not in names]:
        raise InputError(file, f"lacks the column(s) {', '.join(missing)}")
    wanted = None if columns is None else [c for c in dict.fromkeys((*need, *columns)) if c in names]
    positions = _read_table(file, wanted)
    index = pd.Index(positions["id"].to_numpy(dtype=object))
    if not index.is_unique:
        raise InputError(file, "duplicate model ids")
    return Atlas(folder, positions, _edges(folder, index) if lineage else None)


def _positions_file(path: Path) -> Path:
    file = path / FILENAME if path.is_dir() else path
    if not file.is_file():
        raise InputError(file, "no positions file: expected an atlas directory or its positions.parquet")
    return file


def _column_names(file: Path) -> list[str]:
    import pyarrow.parquet as pq

    try:
        return list(pq.read_schema(file).names)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise InputError(file, f"not a readable positions file ({exc})") from exc


def _read_table(file: Path, columns: list[str] | None) -> pd.DataFrame:
    import pyarrow.parquet as pq

    try:
        return pq.read_table(file, columns=columns).to_pandas()
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise InputError(file, f"not a readable positions file ({exc})") from exc


def _edges(path: Path, index: pd.Index) -> pd.DataFrame:
    """lineage.parquet as row numbers into positions (one hash table, built once, for every lookup)."""
    lineage = read_lineage(path)
    ends = [index.get_indexer(pd.Index(lineage[end].to_numpy(dtype=object))) for end in ("parent", "child")]
    edges = pd.DataFrame({"source": ends[0], "target": ends[1], "relation": lineage["relation"].to_numpy()})
    if (edges[["source", "target"]] < 0).any(axis=None):
        lost = int((edges[["source", "target"]] < 0).any(axis=1).sum())
        raise InputError(path / LINEAGE, f"{lost:,} links name models absent from {FILENAME}")
    return edges[~edges.duplicated(["source", "target"])]


def read_json(file: Path) -> dict[str, Any]:
    """One of an atlas's JSON files as a dict ({} when the file is absent)."""
    if not file.is_file():
        return {}
    try:
        value = json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(file, f"not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise InputError(file, "not a JSON object")
    return value


def read_positions(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """An atlas's positions file (``path`` is the atlas directory or the file) as a frame."""
    return _read_table(_positions_file(path), columns)


def read_lineage(atlas: Path) -> pd.DataFrame:
    """An atlas's ``lineage.parquet`` (parent, child, relation) as a frame."""
    import pyarrow.parquet as pq

    file = atlas / LINEAGE
    if not file.is_file():
        raise InputError(
            file, "no lineage file: atlases built before atlasgen 0.2 lack it; rebuild the atlas"
        )
    try:
        frame = pq.read_table(file).to_pandas()
    except Exception as exc:
        raise InputError(file, f"not a readable lineage file ({exc})") from exc
    frame["relation"] = frame["relation"].astype(str)
    return frame
