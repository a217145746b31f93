"""Our CPU ForceAtlas2 against the other CPU implementations (and cuGraph with --gpu), side by side.

Same synthetic Hub-shaped graph, same initial positions, same iteration count, Barnes-Hut theta 0.5 and
cuGraph's defaults (outbound attraction distribution on, scaling 2, gravity 1) wherever a peer has the
setting. Each backend runs in its own subprocess, which reports its own wall time for the layout call
(after imports, graph loading and, for numba, a warm-up compile) and its peak RSS (VmHWM); this process then
scores every result with ``atlasgen.layout.quality.layout_quality``.

Peers (not dependencies of atlasgen; install them into their own venv, default benchmarks/.venv-peers):

    python3 -m venv benchmarks/.venv-peers
    benchmarks/.venv-peers/bin/pip install numpy scipy crategraph-forceatlas2 fa2 fa2_modified

A backend that would take longer than --max-seconds runs a capped number of iterations (found from a
2-iteration probe); its per-iteration time is then extrapolated to the full count and marked ``*``.

    .venv/bin/python benchmarks/bench_layout.py                    # 20k and 200k models, CPU peers
    .venv/bin/python benchmarks/bench_layout.py --gpu              # + cuGraph, 200k and 2M models
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PEERS = ("crategraph", "fa2", "fa2_modified")
PROBE_ITERS = 2


# ------------------------------------------------------------------------------------------ worker side
# Runs under either interpreter: needs numpy (and scipy for fa2), imports atlasgen only for our backends.


def _run(name: str, src: np.ndarray, dst: np.ndarray, n: int, pos: np.ndarray, iters: int) -> np.ndarray:
    if name in ("ours", "cugraph"):
        from atlasgen.layout import force_atlas2

        backend = "cpu" if name == "ours" else "gpu"
        frame = force_atlas2(src, dst, n, max_iter=iters, pos_list=_frame(pos), backend=backend)
        return frame[["x", "y"]].to_numpy()
    if name == "crategraph":
        import crategraph_forceatlas2 as cfa2

        return cfa2.layout(
            n, np.column_stack([src, dst]), init=pos, iterations=iters, outboundAttractionDistribution=True,
            scalingRatio=2.0, gravity=1.0, strongGravityMode=False, barnesHutOptimize=True,
            barnesHutTheta=0.5, edgeWeightInfluence=1.0, linLogMode=False, slowDown=1.0,
        )  # fmt: skip
    import scipy.sparse as sp

    adj = sp.coo_matrix((np.ones(2 * src.size), (np.r_[src, dst], np.r_[dst, src])), shape=(n, n)).tocsr()
    if name == "fa2":
        from fa2 import ForceAtlas2
    else:
        from fa2_modified import ForceAtlas2
    fa = ForceAtlas2(
        outboundAttractionDistribution=True, edgeWeightInfluence=1.0, jitterTolerance=1.0,
        barnesHutOptimize=True, barnesHutTheta=0.5, scalingRatio=2.0, strongGravityMode=False,
        gravity=1.0, verbose=False,
    )  # fmt: skip
    return np.asarray(fa.forceatlas2(adj, pos=pos.copy(), iterations=iters), dtype=np.float64)


def _frame(pos: np.ndarray) -> Any:
    import pandas as pd

    return pd.DataFrame({"vertex": np.arange(len(pos)), "x": pos[:, 0], "y": pos[:, 1]})


def _warm_up(name: str) -> None:
    """Compile numba (ours) or start CUDA (cugraph) on a tiny graph, outside the timed call."""
    if name in ("ours", "cugraph"):
        rng = np.random.default_rng(0)
        n = 3000
        src, dst = rng.integers(0, np.arange(1, n)), np.arange(1, n)
        _run(name, src, dst, n, rng.uniform(-100, 100, (n, 2)), 2)


def worker(name: str, graph: Path, iters: int, out: Path) -> None:
    data = np.load(graph)
    src, dst, pos = data["src"], data["dst"], data["pos"]
    n = int(data["n"])
    _warm_up(name)
    t = time.perf_counter()
    xy = _run(name, src, dst, n, pos, iters)
    seconds = time.perf_counter() - t
    np.save(out, xy)
    print(json.dumps({"seconds": seconds, "rss_mb": _peak_rss_mb()}))


def _peak_rss_mb() -> float:
    """This process's own peak RSS. Not ru_maxrss: a forked child inherits its parent's high-water mark
    there (every worker reported the driver's 529 MB); VmHWM belongs to the exec'd image alone."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


# ------------------------------------------------------------------------------------------ driver side


def hub_graph(models: int, seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    """The synthetic Hub through atlasgen's own reader and graph builder (as the pipeline sees it)."""
    import pyarrow.parquet as pq

    from atlasgen.graph.dag import build_graph
    from atlasgen.ingest.snapshot import read_snapshot
    from atlasgen.ingest.synth import synthesize_hub

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hub.parquet"
        pq.write_table(synthesize_hub(models, seed=seed), path)
        graph = build_graph(read_snapshot(path))
    return graph.edges["source"].to_numpy(), graph.edges["target"].to_numpy(), len(graph.nodes)


def _python_for(name: str, peers_python: Path) -> Path | None:
    if name in ("ours", "cugraph"):
        return Path(sys.executable)
    return peers_python if peers_python.exists() else None


def _spawn(python: Path, name: str, graph: Path, iters: int, out: Path) -> dict[str, Any]:
    cmd = [str(python), __file__, "--worker", name, "--graph", str(graph), "--iters", str(iters)]
    done = subprocess.run([*cmd, "--out", str(out)], capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"{name} failed (exit {done.returncode}): {' | '.join(tail)}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def measure(
    name: str, python: Path, graph: Path, iters: int, max_seconds: float, tmp: Path
) -> dict[str, Any]:
    out = tmp / f"{name}.npy"
    run_iters = iters
    if max_seconds > 0 and iters > PROBE_ITERS and name != "ours":
        probe = _spawn(python, name, graph, PROBE_ITERS, out)
        if probe["seconds"] / PROBE_ITERS * iters > max_seconds:
            run_iters = max(PROBE_ITERS, int(max_seconds / (probe["seconds"] / PROBE_ITERS)))
    res = _spawn(python, name, graph, run_iters, out)
    res["iters_run"] = run_iters
    res["per_iter"] = res["seconds"] / run_iters
    res["total"] = res["per_iter"] * iters
    res["xy"] = np.load(out)
    return res


def bench_size(models: int, backends: list[str], args: argparse.Namespace, tmp: Path) -> list[dict[str, Any]]:
    from atlasgen.layout import initial_positions
    from atlasgen.layout.quality import layout_quality

    t = time.perf_counter()
    src, dst, n = hub_graph(models, args.seed)
    graph = tmp / f"graph-{models}.npz"
    np.savez(graph, src=src, dst=dst, n=n, pos=initial_positions(n, args.seed))
    print(
        f"\n{models:,} models: {n:,} vertices, {src.size:,} edges (built in {time.perf_counter() - t:.0f} s)"
    )
    rows = []
    for name in backends:
        python = _python_for(name, args.peers_python)
        if python is None:
            print(f"  {name}: skipped, no peers venv at {args.peers_python} (see this file's docstring)")
            continue
        try:
            res = measure(name, python, graph, args.iters, args.max_seconds, tmp)
        except RuntimeError as exc:
            print(f"  {name}: left out, {exc}")
            continue
        res.update(layout_quality(res.pop("xy"), src, dst, seed=args.seed))
        res["backend"], res["models"] = name, models
        rows.append(res)
        print(f"  {name}: {res['seconds']:.1f} s for {res['iters_run']} iterations", flush=True)
    return rows


def report(rows: list[dict[str, Any]], iters: int) -> str:
    head = (
        f"| models | backend | s / iteration | total ({iters} it.) | peak RSS | edge ratio | kNN kept "
        "| time vs ours | RSS vs ours |\n|---|---|---|---|---|---|---|---|---|"
    )
    lines = [head]
    for row in rows:
        ours = next((r for r in rows if r["backend"] == "ours" and r["models"] == row["models"]), row)
        star = "" if row["iters_run"] == iters else f" * ({row['iters_run']} it. run)"
        lines.append(
            f"| {row['models']:,} | {row['backend']} | {row['per_iter']:.3f} s | {row['total']:.1f} s{star} "
            f"| {row['rss_mb']:.0f} MB | {_num(row['edge_ratio'])} | {_num(row['knn_preservation'])} "
            f"| {row['total'] / ours['total']:.2f}x | {row['rss_mb'] / ours['rss_mb']:.2f}x |"
        )
    return "\n".join(lines)


def _num(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--models", type=int, nargs="+", help="graph sizes (default 20000 200000; --gpu: 200000 2000000)"
    )
    parser.add_argument("--iters", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--backends", nargs="+", help=f"default: ours {' '.join(PEERS)} (+ cugraph with --gpu)"
    )
    parser.add_argument("--gpu", action="store_true", help="add cuGraph (atlasgen's gpu backend)")
    parser.add_argument("--max-seconds", type=float, default=900.0, help="cap a backend's run (0: never)")
    parser.add_argument("--peers-python", type=Path, default=ROOT / "benchmarks/.venv-peers/bin/python")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--graph", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.graph, args.iters, args.out)
        return
    models = args.models or ([200_000, 2_000_000] if args.gpu else [20_000, 200_000])
    backends = args.backends or ["ours", *PEERS, *(["cugraph"] if args.gpu else [])]
    print(f"ForceAtlas2 benchmark: {args.iters} iterations, theta 0.5, backends {', '.join(backends)}")
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in models:
            rows += bench_size(size, backends, args, Path(tmp))
    print("\n" + report(rows, args.iters))
    print("* capped by --max-seconds: the total is the per-iteration time times the full count.")


if __name__ == "__main__":
    main()
