"""The Hub as of each real week of ``shared/data/msc-weekly`` as atlasgen snapshots (edge CSV + node CSV).

PROVENANCE.md there: the Hub as of week W is every model added in weeks <= W and not deleted in weeks <= W,
with its links (``Base Model``: one parent, or several joined by ", " for merges). Parents older than the
window are not rows; the atlas adds them as virtual parents, as it does for any snapshot.

    .venv/bin/python benchmarks/msc_weeks.py OUT_DIR [--weeks 12]   # writes week01.csv, week01-nodes.csv, ...
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Iterator
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "msc-weekly"
RELATION = {"finetune": "finetune", "adapter": "adapter", "quantized": "quantized", "merge": "merge"}


def week_names(data: Path = DATA) -> list[str]:
    """The weeks' MMDD labels, in order."""
    return sorted(p.stem.rsplit("_", 1)[1] for p in data.glob("added_model_*.csv"))


def hub_by_week(data: Path = DATA) -> Iterator[tuple[str, dict[str, tuple[str, list[str]]]]]:
    """(week, {model id: (relation, parents)}) for each week: the Hub as of that week."""
    alive: dict[str, tuple[str, list[str]]] = {}
    for week in week_names(data):
        for row in _rows(data / f"added_model_{week}.csv"):
            parents = [
                p.strip() for p in row["Base Model"].split(",") if p.strip() and p.strip() != row["Model ID"]
            ]
            alive[row["Model ID"]] = (RELATION.get(row["Type"], "finetune") if parents else "", parents)
        for row in _rows(data / f"deleted_model_{week}.csv"):
            alive.pop(row["Model ID"], None)
        yield week, dict(alive)


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        yield from csv.DictReader(handle)


def write_week(hub: dict[str, tuple[str, list[str]]], edges: Path, nodes: Path) -> tuple[int, int]:
    """Write one week as ``source,target,relation`` edges and an ``id`` node list; (models, links)."""
    links = 0
    with edges.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["source", "target", "relation"])
        for child, (relation, parents) in hub.items():
            for parent in parents:
                out.writerow([parent, child, relation])
                links += 1
    with nodes.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["id"])
        out.writerows([m] for m in hub)
    return len(hub), links


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("--weeks", type=int, default=12)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for i, (week, hub) in enumerate(hub_by_week(), start=1):
        if i > args.weeks:
            break
        models, links = write_week(hub, args.out / f"week{i:02d}.csv", args.out / f"week{i:02d}-nodes.csv")
        print(f"week {i:2d} ({week}): {models:,} models, {links:,} links")


if __name__ == "__main__":
    main()
