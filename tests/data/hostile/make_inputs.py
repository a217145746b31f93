"""Writes the hostile inputs of issue 15 items 7, 10, 11 and 12 in this folder:
`python tests/data/hostile/make_inputs.py`. tests/test_hostile_inputs.py reads them; README.md lists them.

Kept apart from make_corpus.py (the malformed-file corpus) because these files are not malformed: each is a
valid snapshot whose values are impossible (counts past 2**53, dates before the Hub or in the future), too
many (45,000 blank lines, 300,000 parents) or spelled in ways the Hub treats as one id.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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


# ------------------------------------------------------------------ item 11: ids in another case


def case_ids() -> None:
    """A parent named in another case than its model's row; an exact spelling beside it; a spelling that
    two rows share (ambiguous: stays a missing parent); a self-link in another case; NFC and NFD twins."""
    rows = [
        {"id": "Org/Base-Model", "downloads": 100},
        {
            "id": "a/lower-child",
            "base_models": {"relation": "finetune", "models": [{"id": "org/base-model"}]},
        },
        {
            "id": "a/exact-child",
            "base_models": {"relation": "quantized", "models": [{"id": "Org/Base-Model"}]},
        },
        {"id": "X/Dup"},
        {"id": "x/dup"},
        {"id": "a/ambiguous-child", "base_models": {"relation": "adapter", "models": [{"id": "X/DUP"}]}},
        {"id": "a/exact-dup-child", "base_models": {"relation": "adapter", "models": [{"id": "x/dup"}]}},
        {"id": "Self/Model", "base_models": {"relation": "finetune", "models": [{"id": "self/model"}]}},
        {"id": "caf\u00e9/model"},
        {"id": "cafe\u0301/model"},
    ]
    write_lines("case-ids.jsonl", [json.dumps(r, ensure_ascii=False) for r in rows])


MSC = HERE.parents[3] / "shared" / "data" / "msc-weekly"
# Two real models renamed in case on the Hub (the old spelling deleted, the new one added) whose children
# still name the old spelling, as the Hub answers both.
RENAMED = ("wwwtwwwt/whisper-tiny-no-specific-topic-V2", "nidum/Nidum-Gemma-3-4B-it-Uncensored")


def case_renames(week: str = "0430") -> None:
    """The two renamed models' families as of `week` from the shared msc-weekly data (facts only: ids and
    relations), as an edge CSV and a node CSV (the week's rows). Skipped where ../shared is absent."""
    import pandas as pd

    if not MSC.is_dir():
        return
    weeks = sorted(p.stem[-4:] for p in MSC.glob("added_model_*.csv") if p.stem[-4:] <= week)
    added = pd.concat([pd.read_csv(MSC / f"added_model_{w}.csv", dtype=str) for w in weeks])
    deleted = pd.concat([pd.read_csv(MSC / f"deleted_model_{w}.csv", dtype=str) for w in weeks])
    rows = added[~added["Model ID"].isin(set(deleted["Model ID"]))].drop_duplicates("Model ID")
    rows = rows.assign(parents=rows["Base Model"].fillna("").str.split(", "))
    links = rows.explode("parents").query("parents != ''")
    wanted = {r.lower() for r in RENAMED}
    family = links[links["parents"].str.lower().isin(wanted)]
    nodes = sorted({*family["Model ID"], *(i for i in rows["Model ID"] if i.lower() in wanted)})
    edges = [
        f"{p},{c},{t}" for p, c, t in zip(family["parents"], family["Model ID"], family["Type"], strict=True)
    ]
    write_lines("case-renames.edges.csv", ["source,target,relation", *sorted(edges)])
    write_lines("case-renames.nodes.csv", ["id", *nodes])


# ------------------------------------------------------------------ item 12: small input, large output

IMPOSSIBLE_DATES = ("0001-01-01T00:00:00.000Z", "9999-12-31T00:00:00.000Z", "2262-04-12T00:00:00.000Z")


def blank_lines(lines: int = 45_000) -> bytes:
    """One model, then `lines` blank lines, gzipped (95 bytes for 45,000)."""
    import gzip

    return gzip.compress(b'{"id": "only/model"}\n' + b"\n" * lines, compresslevel=9, mtime=0)


def impossible_dates() -> None:
    """Two adapters created 0001-01-01 and 9999-12-31, one 2262-04-12 (a real calendar day, in the future),
    one on a possible day, and their parent: in JSON Lines, a hub-stats table and a node CSV."""
    import datetime as dt

    ids = ["old/adapter", "future/adapter", "far/adapter", "real/adapter"]
    created = [*IMPOSSIBLE_DATES, "2024-05-01T12:00:00.000Z"]
    records: list[dict[str, Any]] = [{"id": "base/model", "createdAt": "2023-01-02T00:00:00.000Z"}]
    records += [
        {"id": i, "createdAt": c, "tags": ["base_model:adapter:base/model"]}
        for i, c in zip(ids, created, strict=True)
    ]
    write_lines("impossible-dates.jsonl", [json.dumps(r) for r in records])
    stamps = [dt.datetime.fromisoformat(r["createdAt"]).replace(tzinfo=None) for r in records]
    table = pa.table(
        {
            "id": [r["id"] for r in records],
            "createdAt": pa.array(stamps, pa.timestamp("us")),
            "tags": [r.get("tags", []) for r in records],
        }
    )
    pq.write_table(table, HERE / "impossible-dates.parquet")
    write_lines(
        "impossible-dates.edges.csv", ["source,target,relation", *(f"base/model,{i},adapter" for i in ids)]
    )
    write_lines(
        "impossible-dates.nodes.csv", ["id,created_at", *(f"{r['id']},{r['createdAt']}" for r in records)]
    )


# ------------------------------------------------------------------ minor: tabs inside CSV ids


def tabs_in_ids() -> None:
    """Tabs inside ids of an edge CSV and its node CSV, one of them then spelling another row's id."""
    write_lines("tabs-in-ids.edges.csv", ["source,target", '"org/a\tb",org/child', "org/c\td,org/child"])
    write_lines("tabs-in-ids.nodes.csv", ["id,downloads", "org/child,1", '"org/a\tb",2', "org/ab,3"])


def main() -> None:
    huge_counts()
    csv_columns()
    case_ids()
    case_renames()
    (HERE / "blank-lines-45k.jsonl.gz").write_bytes(blank_lines())
    impossible_dates()
    tabs_in_ids()


if __name__ == "__main__":
    main()
    print(f"written in {HERE}")
