"""The hub-stats columns atlasgen writes (embedded sample, synthetic Hubs): a subset of the Hub's own table.

One definition, so the sample, `atlasgen synth` and the reader agree. (The Hub's table has more columns;
`hubstats.read_hub_stats` reads whichever of `records.HUB_STATS_COLUMNS` a file has.)
"""

from __future__ import annotations

import pyarrow as pa

BASE_MODELS = pa.struct([("relation", pa.string()), ("models", pa.list_(pa.struct([("id", pa.string())])))])

SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("author", pa.string()),
        ("createdAt", pa.timestamp("us")),
        ("downloads", pa.int64()),
        ("likes", pa.int64()),
        ("tags", pa.list_(pa.string())),
        ("pipeline_tag", pa.string()),
        ("library_name", pa.string()),
        ("baseModels", BASE_MODELS),
    ]
)
