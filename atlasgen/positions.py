"""The atlas's positions file (`positions.parquet`: id, x, y) and reading it back to seed the next build.

Every site publishes it, so a scheduled rebuild can fetch last week's positions and keep the map stable
(`atlasgen build --previous DIR_OR_FILE`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from atlasgen.errors import InputError

FILENAME = "positions.parquet"


def write_positions(ids: pd.Series, xy: np.ndarray, out_dir: Path) -> str:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "id": pa.array(ids.astype(object).to_numpy(), pa.string()),
            "x": pa.array(xy[:, 0], pa.float64()),
            "y": pa.array(xy[:, 1], pa.float64()),
        }
    )
    pq.write_table(table, out_dir / FILENAME, compression="zstd")
    return FILENAME


def read_previous(path: Path, ids: pd.Series) -> tuple[np.ndarray, int]:
    """Previous world positions aligned to `ids` (NaN rows for models new since then), and the count found."""
    import pyarrow.parquet as pq

    file = path / FILENAME if path.is_dir() else path
    if not file.is_file():
        raise InputError(
            file, "no positions file: --previous takes an atlas directory or its positions.parquet"
        )
    try:
        table = pq.read_table(file, columns=["id", "x", "y"]).to_pandas()
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise InputError(file, f"not a readable positions file ({exc})") from exc
    table = table.dropna().drop_duplicates("id").set_index("id")
    aligned = table.reindex(ids.astype(object).to_numpy())[["x", "y"]].to_numpy(dtype=np.float64)
    return aligned, int(np.isfinite(aligned[:, 0]).sum())
