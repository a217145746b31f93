"""Writes the hostile-input corpus in this folder: `python tests/data/hostile/make_corpus.py`.

The files hold bytes an editor would mangle (BOMs, CRLF, control characters, invalid UTF-8, lone surrogate
escapes), so this script is their source; README.md lists each case and its expected outcome, and
tests/test_hostile.py checks them. The big cases (a 50,000-child fan-out, JSON nested 100,000 deep) are made
at test time instead.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).parent
LONG_NAME = "long/" + ("a-very-long-model-name-that-keeps-going-" * 13)[:495]  # 500 characters

# Ids that try to be markup, script, paths, object keys or terminal escapes. The viewer must show each as text.
HOSTILE_IDS = [
    'evil/<script>alert("xss")</script>',
    'evil/"><img src=x onerror=alert(1)>',
    "evil/'single' \"double\" `back`",
    "evil/${alert(1)}{{constructor.constructor('alert(1)')()}}",
    "javascript:alert(document.domain)",
    "../../../../tmp/atlasgen-pwned",
    "..",
    "/etc/passwd",
    "a/b/c/../../d",
    "C:\\Windows\\System32\\evil",
    "%2e%2e%2f%2e%2e%2fescape",
    "__proto__",
    "hasOwnProperty",
    "rtl/\u202egnp.exe",  # right-to-left override: kept, counted
    "zw/\u200bhidden",  # zero-width space inside: kept, counted
    LONG_NAME,
]
# Ids that change on reading: control characters are removed, a lone surrogate becomes U+FFFD.
CLEANED_IDS = {
    "ctl/bell\u0007-esc\u001b[31m-red\u0000-nul": "ctl/bell-esc[31m-red-nul",
    "ctl/line\nbreak\ttab": "ctl/linebreaktab",
    "bad/\ud800-surrogate": "bad/\ufffd-surrogate",
}
# child -> parent among the hostile ids; the last parent is absent, so it becomes a virtual node.
HOSTILE_PARENTS = {
    'evil/"><img src=x onerror=alert(1)>': 'evil/<script>alert("xss")</script>',
    LONG_NAME: "..",
    "hasOwnProperty": "__proto__",
    "rtl/\u202egnp.exe": "ctl/bell\u0007-esc\u001b[31m-red\u0000-nul",
    "/etc/passwd": "../../virtual/<b>parent</b>",
}


def jsonl(name: str, records: list[object]) -> None:
    """One JSON value per line; a str record is written as it is (garbage lines)."""
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    (HERE / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def hostile_ids() -> None:
    records = []
    for i, model_id in enumerate([*HOSTILE_IDS, *CLEANED_IDS]):
        record: dict[str, object] = {"id": model_id, "downloads": 1000 - i, "pipeline_tag": "text-generation"}
        if model_id in HOSTILE_PARENTS:
            record["baseModels"] = {"relation": "finetune", "models": [{"id": HOSTILE_PARENTS[model_id]}]}
        records.append(record)
    jsonl("hostile-ids.jsonl", records)


def jsonl_cases() -> None:
    (HERE / "empty.jsonl").write_bytes(b"")
    (HERE / "blank-lines.jsonl").write_bytes(b"\n   \n\t\r\n")
    jsonl("garbage-line.jsonl", [{"id": "x/a"}, {"id": "x/b"}, '{"id": "x/c", oops}', {"id": "x/d"}])
    jsonl("array-line.jsonl", [{"id": "x/a"}, ["not", "an", "object"]])
    (HERE / "bad-utf8.jsonl").write_bytes(b'{"id": "x/a"}\n{"id": "x/\xff\xfe-latin"}\n')
    jsonl("all-dropped.jsonl", [{"downloads": 1}, {"id": None}, {"id": "   "}])
    jsonl(
        "missing-ids.jsonl",
        [
            {"id": "org/base", "downloads": 10},
            {"downloads": 5},
            {"id": None},
            {"id": ""},
            {"id": "  \t "},
            {"id": 42},
            {"id": {"nested": "x"}},
            {"id": "\u200b\u200f\ufeff"},
            "",
            {"id": "org/child", "baseModels": {"relation": "finetune", "models": [{"id": "org/base"}]}},
        ],
    )
    jsonl(
        "wrong-types.jsonl",
        [
            '{"id": "t/base", "downloads": 1e400, "likes": ' + "1" + "0" * 400 + "}",
            {"id": "t/a", "downloads": "lots", "likes": -3, "createdAt": "yesterday", "tags": "license:mit"},
            {"id": "t/b", "downloads": True, "createdAt": 1700000000, "author": ["x"], "pipeline_tag": 7},
            {"id": "t/c", "baseModels": ["t/base"], "cardData": 7, "library_name": False, "createdAt": "now"},
            {
                "id": "t/d",
                "downloads": " 12 ",
                "createdAt": "2024-05-06T07:08:09.000Z",
                "baseModels": {"relation": 5, "models": [{"id": 7}, {"id": "t/base"}]},
            },
        ],
    )
    jsonl(
        "duplicates.jsonl",
        [
            {"id": "org/base", "downloads": 100, "pipeline_tag": "text-generation"},
            {
                "id": "org/ft",
                "downloads": 5,
                "baseModels": {"relation": "finetune", "models": [{"id": "org/base"}]},
            },
            {"id": "org/base", "downloads": 999, "pipeline_tag": "image-classification"},
            {"id": "org/ft", "baseModels": {"relation": "quantized", "models": [{"id": "other/base"}]}},
            {"id": " org/base ", "likes": 3},
        ],
    )
    lines = b"".join(json.dumps({"id": f"gz/m{i}"}).encode() + b"\n" for i in range(400))
    data = gzip.compress(lines, mtime=0)
    (HERE / "truncated.jsonl.gz").write_bytes(data[: len(data) // 2])


def csv_cases() -> None:
    def write(name: str, text: str, encoding: str = "utf-8") -> None:
        (HERE / name).write_bytes(text.encode(encoding, errors="surrogateescape"))

    write("empty.csv", "")
    write("header-only.csv", "source,target,relation\n")
    write("wrong-header.csv", "parent,child\na/b,c/d\n")
    write("unclosed-quote.csv", 'source,target\nx/a,x/b\nx/a,"x/c\nx/c,x/d\n')
    write("stray-quote.csv", 'source,target\nx/a,x/b\n"x/a"x,x/c\n')
    write("multiline-field.csv", 'source,target\nx/a,x/b\nx/a,"x/c\nx/c,x/d\nx/d",x/e\n')
    write("extra-fields.csv", "source,target,relation\nx/a,x/b,finetune\nx/a,x/c,finetune,oops\n")
    (HERE / "bad-utf8.csv").write_bytes("source,target\nx/a,x/b\nx/a,x/caf\u00e9\n".encode("latin-1"))
    write(
        "cycles.csv",
        "source,target,relation\n"
        "a/1,a/2,finetune\na/2,a/3,finetune\na/3,a/1,finetune\n"
        "b/1,b/2,merge\nb/2,b/1,merge\n"
        "c/self,c/self,finetune\n"
        "a/1,a/2,finetune\n",
    )
    write(
        "quotes-and-boms.csv",
        "\ufeffsource,target,relation\r\n"
        'org/base,o"brien/model,finetune\r\n'
        'org/base,"quoted ""name"", with comma",quantized\r\n'
        "\r\n"
        "  org/base  , spaced/model ,\r\n"
        ",,\r\n"
        "x/only-source\r\n"
        "org/base,\ufeffbom/model,adapter\r\n",
    )
    write(
        "with-nodes.edges.csv",
        "source,target,relation\n"
        "org/base,org/ft,finetune\norg/ft,org/q,quantized\norg/ft,org/new,adapter\nghost/p,org/base,finetune\n",
    )
    write(
        "with-nodes.nodes.csv",
        "id,downloads,likes,license,created_at\n"
        "org/base,100,1,mit,2024-01-01\n"
        "org/ft,5,,apache-2.0,2024-02-30\n"
        "org/base,999,9,gpl-3.0,2024-01-02\n"
        ",7,,,\n"
        "org/q,-4,x,,\n",
    )


def parquet_cases() -> None:
    rows = {"id": [f"p/m{i}" for i in range(40)], "downloads": list(range(40))}
    pq.write_table(pa.table(rows), HERE / "whole.parquet")
    data = (HERE / "whole.parquet").read_bytes()
    (HERE / "whole.parquet").unlink()
    (HERE / "truncated.parquet").write_bytes(data[: len(data) // 2])
    pq.write_table(pa.table({"id": [1, 2, 3], "downloads": [1, 2, 3]}), HERE / "int-ids.parquet")
    pq.write_table(pa.table({"id": pa.array([], pa.string())}), HERE / "no-rows.parquet")


if __name__ == "__main__":
    hostile_ids()
    jsonl_cases()
    csv_cases()
    parquet_cases()
