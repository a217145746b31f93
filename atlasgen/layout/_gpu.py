"""cuGraph ForceAtlas2 backend. ``cudf`` and ``cugraph`` are imported only inside this module's functions.

Targets ``cugraph >= 25.12``: earlier releases silently skip forces above 16M edges, drop edges with
u >= v in the attraction kernel, and lack ``random_state`` / int64 vertex ids.
"""

from __future__ import annotations

import functools
import importlib.util
import subprocess
import sys

import numpy as np

from atlasgen.layout.params import ForceAtlas2Params

MIN_VERSION = (25, 12)

# Run in a child process: importing cudf on a machine without a usable driver can segfault.
_PROBE = """
import cudf, cugraph
v = tuple(int(p) for p in cugraph.__version__.split(".")[:2])
if v < {min_version}:
    raise SystemExit("cugraph %s is older than {min_text}" % cugraph.__version__)
df = cudf.DataFrame({{"src": [0, 1], "dst": [1, 2]}})
G = cugraph.Graph()
G.from_cudf_edgelist(df, source="src", destination="dst")
cugraph.force_atlas2(G, max_iter=1, random_state=0)
"""


@functools.lru_cache(maxsize=1)
def can_run() -> bool | str:
    """True when cuGraph's ForceAtlas2 runs here, else a one-line reason. Cached for the process."""
    missing = [m for m in ("cudf", "cugraph") if importlib.util.find_spec(m) is None]
    if missing:
        return f"{' and '.join(missing)} not installed"
    code = _PROBE.format(min_version=MIN_VERSION, min_text=".".join(map(str, MIN_VERSION)))
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        return "the cuGraph probe timed out after 300 s"
    if done.returncode == 0:
        return True
    lines = (done.stderr or done.stdout or "").strip().splitlines()
    detail = lines[-1] if lines else f"exit status {done.returncode}"
    return f"the cuGraph probe failed ({detail})"


def force_atlas2_gpu(
    src: np.ndarray,
    dst: np.ndarray,
    n: int,
    pos: np.ndarray,
    p: ForceAtlas2Params,
    *,
    weights: np.ndarray | None = None,
    callback: object | None = None,
) -> np.ndarray:
    """Run ``cugraph.force_atlas2`` from initial positions ``pos`` (n, 2); return positions (n, 2).

    Vertices without edges are not part of a cuGraph edge-list graph; they keep their initial position.
    """
    import cudf
    import cugraph

    out = np.array(pos, dtype=np.float64, copy=True)
    if n == 0 or src.size == 0 or p.max_iter == 0:
        return out
    id_type = np.int32 if n < 2**31 else np.int64
    edges = cudf.DataFrame({"src": src.astype(id_type), "dst": dst.astype(id_type)})
    if weights is not None:
        edges["weight"] = weights.astype(np.float32)
    graph = cugraph.Graph(directed=False)
    graph.from_cudf_edgelist(
        edges, source="src", destination="dst", edge_attr="weight" if weights is not None else None
    )
    present = np.unique(np.concatenate([src, dst])).astype(id_type)
    pos_list = cudf.DataFrame({"vertex": present, "x": out[present, 0], "y": out[present, 1]})
    result = cugraph.force_atlas2(
        graph,
        max_iter=p.max_iter,
        pos_list=pos_list,
        outbound_attraction_distribution=p.outbound_attraction_distribution,
        lin_log_mode=p.lin_log_mode,
        prevent_overlapping=p.prevent_overlapping,
        edge_weight_influence=p.edge_weight_influence,
        jitter_tolerance=p.jitter_tolerance,
        barnes_hut_optimize=p.barnes_hut_optimize,
        barnes_hut_theta=p.barnes_hut_theta,
        scaling_ratio=p.scaling_ratio,
        strong_gravity_mode=p.strong_gravity_mode,
        gravity=p.gravity,
        verbose=p.verbose,
        callback=callback,
        random_state=p.random_state,
    )
    frame = result.to_pandas()
    vertex = frame["vertex"].to_numpy().astype(np.int64)
    out[vertex, 0] = frame["x"].to_numpy(dtype=np.float64)
    out[vertex, 1] = frame["y"].to_numpy(dtype=np.float64)
    return out
