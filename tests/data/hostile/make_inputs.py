"""Writes the hostile inputs of issue 15 items 7, 10, 11 and 12 in this folder:
`python tests/data/hostile/make_inputs.py`. tests/test_hostile_inputs.py reads them; README.md lists them.

Kept apart from make_corpus.py (the malformed-file corpus) because these files are not malformed: each is a
valid snapshot whose values are impossible (counts past 2**53, dates before the Hub or in the future), too
many (45,000 blank lines, 300,000 parents) or spelled in ways the Hub treats as one id.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).parent


def write_lines(name: str, lines: list[str]) -> None:
    (HERE / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


# ------------------------------------------------------------------ item 7: counts that are not counts


def huge_counts() -> None:
    """Counts at and past 2**53 (the largest integer a float64 and the viewer's numbers hold exactly), 2**63,
    1e30, negative, infinite and NaN, in every format: each beyond 2**53 - 1 or below 0 is blanked."""
    write_lines(
        "huge-counts.jsonl",
        [
            '{"id": "big/float", "downloads": 1e30, "likes": 3}',
            '{"id": "big/int63", "downloads": 7, "likes": 9223372036854775808}',
            '{"id": "big/max", "downloads": 9007199254740991, "likes": 9007199254740992}',
            '{"id": "big/neg", "downloads": -1, "likes": -0.5}',
            '{"id": "big/nan", "downloads": NaN, "likes": Infinity}',
            '{"id": "big/child", "downloads": 12, "likes": 0, "base_models": '
            '{"relation": "finetune", "models": [{"id": "big/float"}]}}',
        ],
    )
    write_lines("huge-counts.edges.csv", ["source,target,relation", "big/float,big/child,finetune"])
    write_lines(
        "huge-counts.nodes.csv",
        [
            "id,downloads,likes",
            "big/float,1e30,3",
            "big/int63,7,9223372036854775808",
            "big/max,9007199254740991,9007199254740992",
            "big/neg,-1,-0.5",
            "big/nan,nan,inf",
            "big/child,12,0",
        ],
    )
    table = pa.table(
        {
            "id": ["big/int63", "big/pow53", "big/float", "big/child"],
            "downloads": pa.array([2**63 - 1, 2**53, 7, 12], pa.int64()),
            "likes": pa.array([1.0, 2.0, 1e30, float("-inf")], pa.float64()),
            "tags": [[], [], [], ["base_model:finetune:big/float"]],
        }
    )
    pq.write_table(table, HERE / "huge-counts.parquet")


# ------------------------------------------------------------------ item 10: CSV columns under other names


def csv_columns() -> None:
    """An edge CSV shaped like the shared hf-snapshot (`source,target,edge`, relations spelled `finetuned`,
    `merged`) with a column atlasgen does not read, and its node CSV `id,type,owner,architecture`."""
    write_lines(
        "edge-column.edges.csv",
        [
            "Source,Target,Edge,Weight",
            "base/model,fine/one,finetuned,1",
            "fine/one,quant/one,quantized,1",
            "base/model,merge/one,merged,0.5",
            "fine/one,merge/one,merged,0.5",
            "base/model,lora/one,adapter,1",
        ],
    )
    write_lines(
        "edge-column.nodes.csv",
        [
            "id,type,owner,architecture",
            "base/model,base,base,llama",
            "fine/one,finetuned,fine,llama",
            "quant/one,quantized,quant,llama",
            "merge/one,merged,merge,llama",
            "lora/one,adapter,lora,unknown",
        ],
    )
    write_lines(
        "two-relation-columns.csv", ["source,target,type,relation", "a/base,a/child,weights,quantized"]
    )


def main() -> None:
    huge_counts()
    csv_columns()


if __name__ == "__main__":
    main()
    print(json.dumps(sorted(p.name for p in HERE.iterdir() if p.name.startswith("huge-"))))
