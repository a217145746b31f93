"""What every site publishes for the next run and for other tools, beside the viewer's own data:

- ``positions.parquet``: one row per model: ``id, x, y`` (world coordinates, 0..256) and the attributes the
  map encodes (``relation, task, licence, downloads, likes, created_at, virtual``). A scheduled rebuild
  fetches last week's file to keep the map stable (``atlasgen build --previous``); ``atlasgen figure`` and
  ``atlasgen diff`` read it.
- ``lineage.parquet``: one row per documented derivation: ``parent, child, relation`` (model ids).
- ``snapshot.json``: the snapshot manifest: where the input came from, its SHA-256 and counts, so a run
  can tell whether the Hub changed since the published atlas.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from atlasgen.errors import InputError

FILENAME = "positions.parquet"
LINEAGE = "lineage.parquet"
MANIFEST = "snapshot.json"
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


def read_positions(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """An atlas's positions file (``path`` is the atlas directory or the file) as a frame."""
    import pyarrow.parquet as pq

    file = path / FILENAME if path.is_dir() else path
    if not file.is_file():
        raise InputError(file, "no positions file: expected an atlas directory or its positions.parquet")
    try:
        return pq.read_table(file, columns=columns).to_pandas()
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise InputError(file, f"not a readable positions file ({exc})") from exc


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
