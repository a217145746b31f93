"""Layout stage: ForceAtlas2 on CPU (numba) or GPU (cuGraph), and the Hub-shaped atlas composition.

``force_atlas2`` mirrors ``cugraph.force_atlas2`` (same parameter names and defaults) on an integer edge
list and returns a frame ``vertex, x, y``. ``layout_atlas`` lays out a whole lineage DAG as a map in
world coordinates ``[0, 256]^2``. ``choose_backend`` explains which backend runs and why.

Modules: ``backends`` (the seam and the front door), ``_cpu``/``_quadtree`` (numba Barnes-Hut), ``_gpu``
(cuGraph), ``params`` (the parameter object), ``atlas`` (composition of a fresh map), ``compose`` and
``stable`` (a map continued from the previous one), ``regions``/``pack`` (discs and circle packing),
``world`` (the world square), ``quality`` (layout scores for benchmarks).
"""

from __future__ import annotations

from atlasgen.layout.atlas import layout_atlas
from atlasgen.layout.backends import choose_backend, force_atlas2, initial_positions, run_force_atlas2
from atlasgen.layout.params import ForceAtlas2Params, LayoutParameterError

__all__ = [
    "ForceAtlas2Params",
    "LayoutParameterError",
    "choose_backend",
    "force_atlas2",
    "initial_positions",
    "layout_atlas",
    "run_force_atlas2",
]
