"""The one ForceAtlas2 parameter set shared by the CPU (numba) and GPU (cuGraph) backends.

Names and defaults mirror ``cugraph.force_atlas2`` (RAPIDS >= 25.12) so that users who know cuGraph know
atlasgen. Every value is validated here, once, and every problem is reported in a single error.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from atlasgen.errors import AtlasgenError

BACKENDS = ("auto", "cpu", "gpu")


class LayoutParameterError(AtlasgenError):
    """A layout parameter (or the backend name, or pos_list) is invalid; the message lists every problem."""


@dataclass(frozen=True)
class ForceAtlas2Params:
    """ForceAtlas2 settings (Jacomy et al. 2014, as implemented by Gephi and cuGraph).

    Attributes:
        max_iter: iterations to run. 50-100 give a good overview; 300-500 settle a large component;
            above 1000 rarely helps. 0 returns the initial positions.
        outbound_attraction_distribution: divide each edge's attraction by the (degree + 1) of its
            source. Hubs attract less and drift to the border; parents with many children get room.
        lin_log_mode: logarithmic attraction, log(1 + d). Tighter clusters; needs a larger
            ``scaling_ratio`` (try 10x).
        prevent_overlapping: accepted for signature compatibility only; atlasgen nodes have no size,
            so ``True`` is rejected (cuGraph itself needs ``vertex_radius`` and no Barnes-Hut for it).
        edge_weight_influence: exponent applied to edge weights; 0 ignores weights, 1 uses them as is.
        jitter_tolerance: how much swinging is tolerated. Above 1 is discouraged; lower is slower
            and more precise.
        barnes_hut_optimize: approximate repulsion with a quadtree, O(n log n). Turn off only for
            small graphs (exact repulsion is O(n^2)).
        barnes_hut_theta: opening angle of the quadtree, > 0. 0.5 is accurate; 1.0-1.2 is faster
            and still fine for overviews.
        scaling_ratio: repulsion strength. More spreads the graph out.
        strong_gravity_mode: gravity proportional to distance from the centre instead of constant.
            Very compact; can dominate the other forces.
        gravity: pull towards the origin; keeps disconnected pieces from drifting away.
        verbose: log the adaptive speed every 100 iterations (logger ``atlasgen.layout``).
        random_state: seed for the initial positions when no ``pos_list`` is given. Same seed,
            same layout (on one backend).

    Operating advice: the defaults suit one connected component. For the whole Hub use
    ``layout_atlas`` (per-component layout, folded leaves, circle packing) rather than one global run.
    """

    max_iter: int = 500
    outbound_attraction_distribution: bool = True
    lin_log_mode: bool = False
    prevent_overlapping: bool = False
    edge_weight_influence: float = 1.0
    jitter_tolerance: float = 1.0
    barnes_hut_optimize: bool = True
    barnes_hut_theta: float = 0.5
    scaling_ratio: float = 2.0
    strong_gravity_mode: bool = False
    gravity: float = 1.0
    verbose: bool = False
    random_state: int | None = None

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise LayoutParameterError("invalid ForceAtlas2 parameters: " + "; ".join(problems))

    def as_dict(self) -> dict[str, Any]:
        """Plain dict (for atlas.json and logs)."""
        return asdict(self)


def _is_int(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _is_real(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)


def _problems(p: ForceAtlas2Params) -> list[str]:
    problems: list[str] = []
    if not _is_int(p.max_iter) or p.max_iter < 0:
        problems.append(f"max_iter must be an integer >= 0, got {p.max_iter!r}")
    positive = {"barnes_hut_theta": p.barnes_hut_theta, "jitter_tolerance": p.jitter_tolerance}
    non_negative = {
        "scaling_ratio": p.scaling_ratio,
        "gravity": p.gravity,
        "edge_weight_influence": p.edge_weight_influence,
    }
    for name, value in positive.items():
        if not _is_real(value) or not math.isfinite(value) or value <= 0:
            problems.append(f"{name} must be a finite number > 0, got {value!r}")
    for name, value in non_negative.items():
        if not _is_real(value) or not math.isfinite(value) or value < 0:
            problems.append(f"{name} must be a finite number >= 0, got {value!r}")
    if p.prevent_overlapping:
        problems.append("prevent_overlapping=True is not supported (atlasgen nodes have no radius)")
    if p.random_state is not None and (not _is_int(p.random_state) or p.random_state < 0):
        problems.append(f"random_state must be None or an integer >= 0, got {p.random_state!r}")
    return problems


def check_backend(backend: object) -> str:
    """Return ``backend`` if it names a known backend, else raise LayoutParameterError."""
    if backend not in BACKENDS:
        raise LayoutParameterError(f"unknown layout backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    return str(backend)


def check_graph(
    sources: object, targets: object, n_vertices: object, weights: object | None
) -> tuple[np.ndarray, np.ndarray, int, np.ndarray | None]:
    """Validate an edge list and return it as int64 arrays (+ float64 weights or None)."""
    problems: list[str] = []
    src = np.asarray(sources).ravel()
    dst = np.asarray(targets).ravel()
    n = int(n_vertices) if _is_int(n_vertices) else -1  # type: ignore[call-overload]
    if n < 0:
        problems.append(f"n_vertices must be an integer >= 0, got {n_vertices!r}")
    if src.shape != dst.shape:
        problems.append(f"sources and targets differ in length ({src.size} != {dst.size})")
    for name, arr in (("sources", src), ("targets", dst)):
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            problems.append(f"{name} must hold integer vertex ids, got dtype {arr.dtype}")
        elif arr.size and n >= 0 and (arr.min() < 0 or arr.max() >= n):
            problems.append(f"{name} hold ids outside [0, n_vertices={n})")
    w = None if weights is None else np.asarray(weights, dtype=np.float64).ravel()
    if w is not None and (w.shape != src.shape or not np.all(np.isfinite(w)) or np.any(w < 0)):
        problems.append("weights must be finite, >= 0 and one per edge")
    if problems:
        raise LayoutParameterError("invalid graph: " + "; ".join(problems))
    return src.astype(np.int64), dst.astype(np.int64), n, w


def check_pos_list(pos_list: pd.DataFrame, n_vertices: int) -> np.ndarray:
    """Validate a ``vertex, x, y`` frame covering every vertex once; return positions as (n, 2)."""
    if not isinstance(pos_list, pd.DataFrame) or set(pos_list.columns) != {"vertex", "x", "y"}:
        raise LayoutParameterError("pos_list must be a pandas DataFrame with columns vertex, x, y")
    vertex = pos_list["vertex"].to_numpy()
    xy = pos_list[["x", "y"]].to_numpy(dtype=np.float64)
    ok = len(vertex) == n_vertices and np.array_equal(np.sort(vertex), np.arange(n_vertices))
    if not ok or not np.all(np.isfinite(xy)):
        raise LayoutParameterError(
            f"pos_list must give finite x, y for each vertex 0..{n_vertices - 1} exactly once"
        )
    out = np.empty((n_vertices, 2), dtype=np.float64)
    out[vertex.astype(np.int64)] = xy
    return out
