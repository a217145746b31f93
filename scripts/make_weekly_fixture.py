#!/usr/bin/env python3
"""Derive tests/data/weekly/ from ../shared/data/msc-weekly: a small real subset of three weeks of Hub change.

    .venv/bin/python scripts/make_weekly_fixture.py

Picks, deterministically (by sha1 of the model id), whole families as of week 3 (0402): some that a new
link joined from two or more older families (week 1 -> 2 or 2 -> 3), some that only grew or shrank, and
some models without a documented parent; keeps every add/delete event of their models in weeks 1-3.
Only facts are kept (model ids, relation, parent ids); see tests/data/weekly/PROVENANCE.md.
"""

from __future__ import annotations

import csv
import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from msc_weeks import DATA, _rows, week_names  # noqa: E402

OUT = ROOT / "tests" / "data" / "weekly" / "events.csv"
WEEKS = 3
JOINED, KEPT, LONE, MAX_FAMILY = 14, 40, 400, 120


def _key(name: str) -> str:
    return hashlib.sha1(name.encode()).hexdigest()


def families(hub: dict[str, list[str]]) -> dict[str, int]:
    """Weakly connected component per model id (parents outside the Hub included)."""
    up: dict[str, str] = {}

    def find(a: str) -> str:
        while up.setdefault(a, a) != a:
            up[a] = up[up[a]]
            a = up[a]
        return a

    for child, parents in hub.items():
        for p in parents:
            up[find(p)] = find(child)
    linked = {m for m, ps in hub.items() if ps} | {p for ps in hub.values() for p in ps}
    roots = {find(m) for m in linked}
    number = {r: i for i, r in enumerate(sorted(roots))}
    return {m: number[find(m)] for m in linked}


def main() -> None:
    weeks = week_names()[:WEEKS]
    events: list[tuple[int, str, str, str, str]] = []
    hubs: list[dict[str, list[str]]] = []
    alive: dict[str, list[str]] = {}
    for i, week in enumerate(weeks, start=1):
        for row in _rows(DATA / f"added_model_{week}.csv"):
            alive[row["Model ID"]] = [p.strip() for p in row["Base Model"].split(",") if p.strip()]
            events.append((i, "added", row["Model ID"], row["Type"], row["Base Model"]))
        for row in _rows(DATA / f"deleted_model_{week}.csv"):
            if alive.pop(row["Model ID"], None) is not None:
                events.append((i, "deleted", row["Model ID"], row["Type"], row["Base Model"]))
        hubs.append(dict(alive))
    fams = [families(h) for h in hubs]
    last = fams[-1]
    members: dict[int, list[str]] = {}
    for m, f in last.items():
        members.setdefault(f, []).append(m)
    joined, kept = [], []
    for f, ms in sorted(members.items(), key=lambda kv: _key(min(kv[1]))):
        if not 3 <= len(ms) <= MAX_FAMILY:
            continue
        before = [{fams[w][m] for m in ms if m in fams[w]} for w in range(WEEKS - 1)]
        if any(len(b) >= 2 for b in before):
            joined.append(f)
        elif len(before[-1]) == 1:
            kept.append(f)
    chosen = {m for f in joined[:JOINED] + kept[:KEPT] for m in members[f]}
    lone = sorted((m for m, ps in hubs[-1].items() if not ps and m not in last), key=_key)[:LONE]
    chosen |= set(lone)
    # models deleted before week 3 whose family is chosen (their parents are chosen models)
    chosen |= {
        e[2] for e in events if e[1] == "deleted" and any(p.strip() in chosen for p in e[4].split(","))
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["week", "event", "id", "relation", "parents"])
        out.writerows(e for e in events if e[2] in chosen)
    print(f"{OUT}: {len(chosen):,} models, {len(joined[:JOINED])} joined families, {len(kept[:KEPT])} kept")


if __name__ == "__main__":
    main()
