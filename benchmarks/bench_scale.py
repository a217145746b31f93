#!/usr/bin/env python3
"""Scale ceilings: `atlasgen build` of a big snapshot, time and peak memory per stage, against the targets.

    .venv/bin/atlasgen synth -n 2000000 -o /tmp/hub2m.parquet
    .venv/bin/python benchmarks/bench_scale.py /tmp/hub2m.parquet --out /tmp/site2m

The build runs as `atlasgen -v build` in a subprocess; its stage log lines ("layout ...", "layout done in")
say which stage is running, and a sampler reads the memory of the build's whole process tree (the tile
workers included) every 0.5 s. Memory is summed PSS (proportional set size): forked workers share pages
copy-on-write, and summed RSS would count those pages once per worker. Targets from the reliability issue:
the whole Hub (2M models) under 30 minutes and under 8 GB on 2 cores. There is no peer to run beside it:
no other tool builds a static atlas of the Hub; the paper's viewer is a 63k-model sigma.js page.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

TARGET_S = 30 * 60
TARGET_MB = 8 * 1024
INTERVAL_S = 0.5  # reading PSS of a process tree (smaps) costs ~25 % of a core at 10 Hz
STAGE_LINE = re.compile(r"^(\w+) \.\.\.$")


def tree_pss_mb(pid: int) -> float:
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_full_info().pss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("snapshot")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("build_args", nargs="*", help="more `atlasgen build` options (after --)")
    args = parser.parse_args()
    cmd = [sys.executable, "-m", "atlasgen", "-v", "build", args.snapshot, "--out", str(args.out)]
    cmd += ["--quiet", *args.build_args]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    stage = ["startup"]
    peaks: dict[str, float] = {}
    seconds: dict[str, float] = {}
    started = {"startup": time.perf_counter()}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            current = stage[0]
            peaks[current] = max(peaks.get(current, 0.0), tree_pss_mb(proc.pid))
            time.sleep(INTERVAL_S)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.perf_counter()
    assert proc.stderr is not None
    for line in proc.stderr:
        match = STAGE_LINE.match(line.strip())
        if match:
            now = time.perf_counter()
            seconds[stage[0]] = now - started[stage[0]]
            stage[0] = match.group(1)
            started[stage[0]] = now
    code = proc.wait()
    wall = time.perf_counter() - t0
    seconds[stage[0]] = time.perf_counter() - started[stage[0]]
    done.set()
    sampler.join()
    if code:
        sys.exit(f"build failed with exit code {code}")
    print(f"`{' '.join(cmd[1:])}`")
    print("| stage | time | peak memory (PSS, process tree) |\n|---|---|---|")
    for name, secs in seconds.items():
        print(f"| {name} | {secs:.1f} s | {peaks.get(name, 0.0):,.0f} MB |")
    peak = max(peaks.values())
    print(f"| **total** | **{wall / 60:.1f} min** | **{peak:,.0f} MB** |")
    print(
        f"vs targets: time {wall / TARGET_S:.2f}x of 30 min, memory {peak / TARGET_MB:.2f}x of 8 GB "
        f"({'within' if wall < TARGET_S and peak < TARGET_MB else 'OVER'} both)"
    )


if __name__ == "__main__":
    main()
