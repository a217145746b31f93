"""The `hub-stats` format: the Hub's own models table, a parquet file (see ../shared/data/hub-stats-slice).

Only the columns in `records.HUB_STATS_COLUMNS` are read; a file that is not a readable parquet table with a
text `id` column is an InputError naming the file.
"""

from __future__ import annotations

from pathlib import Path

from atlasgen.errors import InputError
from atlasgen.ingest.frames import Snapshot
from atlasgen.ingest.records import HUB_STATS_COLUMNS, from_records


def read_hub_stats(path: Path, nodes: Path | None = None) -> Snapshot:
    """Read a hub-stats models table (`nodes` is never given: the table holds the models)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
        wanted = [c for c in HUB_STATS_COLUMNS if c in schema.names]
        table = pq.read_table(path, columns=wanted)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise InputError(path, f"not a readable parquet file ({exc})") from exc
    names = table.column_names
    if len(set(names)) != len(names):
        raise InputError(
            path, f"duplicate columns ({', '.join(sorted({c for c in names if names.count(c) > 1}))})"
        )
    if "id" not in names:
        raise InputError(path, "no `id` column: not a hub-stats models table")
    id_type = table.schema.field("id").type
    if pa.types.is_dictionary(id_type):
        id_type = id_type.value_type
    if not (pa.types.is_string(id_type) or pa.types.is_large_string(id_type) or pa.types.is_null(id_type)):
        raise InputError(path, f"the `id` column holds {id_type}, not text: not a hub-stats models table")
    if table.num_rows == 0:
        raise InputError(path, "empty snapshot: no models")
    try:
        frame = table.to_pandas()
    except Exception as exc:  # values pandas cannot hold: pyarrow raises several types here too
        raise InputError(path, f"cannot convert the table ({exc})") from exc
    return from_records(frame)
