"""ForceAtlas2 behind one seam: the backend choice (cpu numba | gpu cuGraph) with its reason, and the front door.

GPU imports happen only inside ``_gpu.py``; ``choose_backend`` probes it and explains the choice.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

import atlasgen.layout._gpu as _gpu
from atlasgen.errors import BackendUnavailable
from atlasgen.layout.params import ForceAtlas2Params, check_backend, check_graph, check_pos_list


def choose_backend(requested: str) -> tuple[str, str]:
    """Resolve ``auto|cpu|gpu`` to ``("cpu"|"gpu", reason)``; an unavailable ``gpu`` raises."""
    requested = check_backend(requested)
    if requested == "cpu":
        return "cpu", "cpu backend requested"
    probe = _gpu.can_run()
    if probe is True:
        return "gpu", f"cuGraph is available ({requested} backend requested)"
    if requested == "gpu":
        raise BackendUnavailable(
            f"the gpu layout backend cannot run here: {probe}. "
            "Install it with pip install 'atlasgen[gpu]' on a machine with an NVIDIA GPU and CUDA 12, "
            "or use backend='cpu'."
        )
    return "cpu", f"gpu unavailable ({probe}); using the numba cpu backend"


def initial_positions(n: int, seed: int | None, scale: float | None = None) -> np.ndarray:
    """Uniform random start in a square of side ``scale`` (default sqrt(n) * 10), centred on 0."""
    side = float(scale) if scale is not None else 10.0 * max(1.0, np.sqrt(n))
    rng = np.random.default_rng(seed)
    return rng.uniform(-0.5 * side, 0.5 * side, size=(n, 2))


def run_force_atlas2(
    backend: str,
    src: np.ndarray,
    dst: np.ndarray,
    n: int,
    pos: np.ndarray,
    params: ForceAtlas2Params,
    *,
    weights: np.ndarray | None = None,
    mass: np.ndarray | None = None,
    callback: object | None = None,
) -> np.ndarray:
    """Dispatch to a resolved backend (``cpu`` or ``gpu``); arrays in, (n, 2) positions out.

    ``mass`` (per-vertex FA2 mass, default degree + 1) is honoured by the cpu backend only.
    """
    if backend == "gpu":
        return _gpu.force_atlas2_gpu(src, dst, n, pos, params, weights=weights, callback=callback)
    from atlasgen.layout._cpu import force_atlas2_cpu

    return force_atlas2_cpu(src, dst, n, pos, params, weights=weights, mass=mass, callback=callback)


def force_atlas2(
    sources: Any,
    targets: Any,
    n_vertices: int,
    *,
    weights: Any = None,
    max_iter: int = 500,
    pos_list: pd.DataFrame | None = None,
    outbound_attraction_distribution: bool = True,
    lin_log_mode: bool = False,
    prevent_overlapping: bool = False,
    edge_weight_influence: float = 1.0,
    jitter_tolerance: float = 1.0,
    barnes_hut_optimize: bool = True,
    barnes_hut_theta: float = 0.5,
    scaling_ratio: float = 2.0,
    strong_gravity_mode: bool = False,
    gravity: float = 1.0,
    verbose: bool = False,
    callback: object | None = None,
    random_state: int | None = None,
    backend: str = "auto",
) -> pd.DataFrame:
    """ForceAtlas2 on vertices ``0..n_vertices-1`` joined by edges ``sources[i] -> targets[i]``.

    Parameters are those of ``cugraph.force_atlas2`` (see ``ForceAtlas2Params`` for each one), plus
    ``weights`` (one per edge, optional) and ``backend`` (``auto``: gpu when cuGraph runs, else cpu).
    ``pos_list`` is a frame ``vertex, x, y`` covering every vertex; without it, starting positions come
    from ``numpy.random.default_rng(random_state)``. Returns a frame ``vertex, x, y`` sorted by vertex.
    """
    params = ForceAtlas2Params(
        max_iter=max_iter,
        outbound_attraction_distribution=outbound_attraction_distribution,
        lin_log_mode=lin_log_mode,
        prevent_overlapping=prevent_overlapping,
        edge_weight_influence=edge_weight_influence,
        jitter_tolerance=jitter_tolerance,
        barnes_hut_optimize=barnes_hut_optimize,
        barnes_hut_theta=barnes_hut_theta,
        scaling_ratio=scaling_ratio,
        strong_gravity_mode=strong_gravity_mode,
        gravity=gravity,
        verbose=verbose,
        random_state=random_state,
    )
    src, dst, n, w = check_graph(sources, targets, n_vertices, weights)
    pos = initial_positions(n, random_state) if pos_list is None else check_pos_list(pos_list, n)
    name, _reason = choose_backend(backend)
    xy = run_force_atlas2(name, src, dst, n, pos, params, weights=w, callback=callback)
    return pd.DataFrame({"vertex": np.arange(n, dtype=np.int64), "x": xy[:, 0], "y": xy[:, 1]})
