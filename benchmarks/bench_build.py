#!/usr/bin/env python3
"""Time `atlasgen build` of a snapshot (default: the embedded sample) stage by stage, with peak RSS.

    .venv/bin/python benchmarks/bench_build.py [SNAPSHOT] [--runs 2]

The first run includes numba's compile time (cached afterwards); later runs show the warm cost.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def one_run(snapshot: str | None, out: Path) -> tuple[float, dict[str, float], float]:
    cmd = [sys.executable, "-m", "atlasgen", "build", "--out", str(out), "--quiet", "--backend", "cpu"]
    if snapshot:
        cmd.insert(4, snapshot)
    start = time.perf_counter()
    subprocess.run(cmd, check=True)
    wall = time.perf_counter() - start
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return wall, report["timings_s"], peak_mb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("snapshot", nargs="?")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(1, args.runs + 1):
            wall, stages, peak = one_run(args.snapshot, Path(tmp) / "atlas")
            detail = ", ".join(f"{k} {v:.1f}s" for k, v in stages.items())
            print(
                f"run {run}: {wall:.1f} s wall (incl. interpreter start), peak RSS {peak:,.0f} MB; {detail}"
            )
        size = sum(p.stat().st_size for p in (Path(tmp) / "atlas").rglob("*") if p.is_file())
        count = sum(1 for p in (Path(tmp) / "atlas").rglob("*") if p.is_file())
        print(f"site: {count:,} files, {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
