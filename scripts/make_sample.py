#!/usr/bin/env python3
"""Derive atlasgen's embedded sample from ../shared/data (facts only) and write it in the hub-stats schema.

Run from the repo root:  .venv/bin/python scripts/make_sample.py [--shared ../shared]
Writes atlasgen/sample/hub-sample.parquet; atlasgen/sample/PROVENANCE.md explains every field.
The raw files are not copied: only ids, lineage, and the attributes listed in PROVENANCE.md.
"""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from atlasgen.ingest.hubschema import SCHEMA

RELATION = {"finetuned": "finetune", "quantized": "quantized", "merged": "merge", "adapter": "adapter"}
SNAPSHOT = "hf-snapshot/hakanotal-hf-dep-network-analysis/c952a70d68df/network_data"
HUB_STATS = "hub-stats-slice/evaleval-eval-card-registry/2b227945f13a/curation/hub_stats_frozen.parquet"
TOP = "hf-top-downloads-2024-09/enochlev-CS573_Documentation_Quality/076657247d7b/hf_models.csv"
BOARD = "open-llm-leaderboard/fboulnois-llm-leaderboard-csv/0f4e5c69c6fb/csv"


def licence_from_tags(tags: object) -> str | None:
    for tag in tags if tags is not None else ():
        if isinstance(tag, str) and tag.startswith("license:"):
            return tag.split(":", 1)[1]
    return None


def first_by_id(frame: pd.DataFrame, id_col: str, value_col: str) -> pd.Series:
    valid = frame[[id_col, value_col]].dropna()
    valid = valid[valid[value_col].astype(str).str.len() > 0]
    return valid.drop_duplicates(id_col).set_index(id_col)[value_col]


def load_sources(shared: Path) -> dict[str, pd.DataFrame]:
    hub = pq.read_table(shared / "data" / HUB_STATS).to_pandas()
    hub["licence"] = hub["tags"].map(licence_from_tags)
    top = pd.read_csv(shared / "data" / TOP)
    top["licence"] = top["tags"].map(lambda s: licence_from_tags(ast.literal_eval(s)))
    v2 = pd.read_csv(shared / "data" / BOARD / "huggingface_v2.csv")
    v1 = pd.read_csv(shared / "data" / BOARD / "huggingface_v1.csv")
    edges = pd.read_csv(shared / "data" / SNAPSHOT / "edges.csv")
    meta = pd.read_csv(shared / "data" / SNAPSHOT / "metadata.csv")
    return {"hub": hub, "top": top, "v2": v2, "v1": v1, "edges": edges, "meta": meta}


def coalesce(*series: pd.Series) -> pd.Series:
    out = series[0]
    for s in series[1:]:
        out = out.combine_first(s)
    return out


def build_sample(src: dict[str, pd.DataFrame]) -> pd.DataFrame:
    meta, edges, hub, top = src["meta"], src["edges"], src["hub"], src["top"]
    ids = meta["id"]
    hub_i = hub.set_index("id")
    top_i = top.drop_duplicates("modelId").set_index("modelId")
    licence = coalesce(
        hub_i["licence"].dropna(),
        top_i["licence"].dropna(),
        first_by_id(src["v2"], "model_name", "metadata_hub_license"),
        first_by_id(src["v1"], "fullname", "hub_license"),
    )
    # Every non-base node, and every base node with a known architecture, was in the source query's
    # result (pipeline_tag=text-generation); parents outside it are `base` with architecture `unknown`.
    in_query = (meta["type"] != "base") | (meta["architecture"] != "unknown")
    inferred_task = pd.Series("text-generation", index=meta.loc[in_query, "id"].values)
    task = coalesce(hub_i["pipeline_tag"].dropna(), top_i["pipeline_tag"].dropna(), inferred_task)
    downloads = coalesce(hub_i["downloads"].astype("float64"), top_i["downloads"].astype("float64"))

    parents = edges.groupby("target")["source"].apply(lambda s: sorted(set(s)))
    relation = edges.drop_duplicates("target").set_index("target")["edge"].map(RELATION)
    out = pd.DataFrame({"id": ids})
    out["author"] = meta["owner"].values
    out["createdAt"] = out["id"].map(hub_i["createdAt"])
    out["downloads"] = out["id"].map(downloads).astype("Int64")
    out["likes"] = out["id"].map(hub_i["likes"]).astype("Int64")
    out["pipeline_tag"] = out["id"].map(task)
    out["library_name"] = out["id"].map(hub_i["library_name"])
    lic = out["id"].map(licence)
    rel = out["id"].map(relation)
    par = out["id"].map(parents)
    out["tags"] = [make_tags(r, p, lc) for r, p, lc in zip(rel, par, lic, strict=True)]
    out["baseModels"] = [
        None if not isinstance(p, list) else {"relation": r, "models": [{"id": x} for x in p]}
        for r, p in zip(rel, par, strict=True)
    ]
    return out.sort_values("id", kind="stable").reset_index(drop=True)


def make_tags(relation: object, parents: object, licence: object) -> list[str]:
    tags: list[str] = []
    if isinstance(parents, list):
        for p in parents:
            tags += [f"base_model:{p}", f"base_model:{relation}:{p}"]
    if isinstance(licence, str):
        tags.append(f"license:{licence}")
    return tags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared")
    parser.add_argument("--out", type=Path, default=Path("atlasgen/sample/hub-sample.parquet"))
    args = parser.parse_args()
    sample = build_sample(load_sources(args.shared))
    table = pa.Table.from_pandas(sample, schema=SCHEMA, preserve_index=False)
    pq.write_table(table, args.out, compression="zstd", compression_level=19)
    filled = {
        c: int(sample[c].notna().sum())
        for c in ["createdAt", "downloads", "likes", "pipeline_tag", "library_name"]
    }
    filled["licence"] = int(sample["tags"].map(lambda t: any(x.startswith("license:") for x in t)).sum())
    print(f"{len(sample)} models, {sample['baseModels'].notna().sum()} with parents; filled: {filled}")
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
