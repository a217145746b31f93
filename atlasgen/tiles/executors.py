"""Where block jobs run: in this process, on a local process pool, or on a Dask cluster.

All three yield ``(spec, tiles)`` per block as jobs finish, in any order; the caller writes the files, so a
cluster needs no shared file system. At most ``window`` jobs are in flight, which bounds memory.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import AbstractContextManager
from typing import Any, Protocol

import numpy as np

from atlasgen.tiles.render import EdgesBlock, LevelSpec, PointsBlock, Rect, Style, TileBytes, render_block

Job = tuple[LevelSpec, Rect, PointsBlock | EdgesBlock]
Done = tuple[LevelSpec, list[TileBytes]]


class Runner(AbstractContextManager["Runner"], Protocol):
    def run(self, jobs: Iterable[Job]) -> Iterator[Done]: ...


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def warm_up() -> None:
    """Compile Datashader's numba kernels (points and lines, sum/count by category, shade) in this process.

    Run before forking the pool, so every worker inherits the compiled code instead of compiling its own.
    """
    style = Style(("a", "b"), ("#ffffff", "#000000"), "log", 40, 255)
    one = np.ones(1, np.int64)
    half = np.full(1, 0.5)
    for kind in ("points", "edges"):
        spec = LevelSpec("warm", kind, 0, 1, (1.0, 2.0), (1,), style)
        block: PointsBlock | EdgesBlock
        if kind == "points":
            block = PointsBlock(one * 3, one * 3, np.zeros(1, np.int8), np.zeros(1, np.int8), np.ones(1))
        else:
            block = EdgesBlock(half + 1, half + 1, half + 9, half + 4, np.zeros(1, np.int8))
        render_block(spec, (0, 0, 16, 16), block)


class SerialRunner:
    def __enter__(self) -> SerialRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def run(self, jobs: Iterable[Job]) -> Iterator[Done]:
        for spec, rect, block in jobs:
            yield spec, render_block(spec, rect, block)


class PoolRunner:
    """A process pool over blocks. Forked after warm_up() where fork is available: workers start in
    milliseconds with compiled kernels (a spawned worker would import Datashader and compile for seconds)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        if "fork" in methods:
            warm_up()
        self.pool = ProcessPoolExecutor(workers, mp_context=context)
        # The first submit starts every worker; do it now, before progress bars start their threads.
        self.pool.submit(int).result()

    def __enter__(self) -> PoolRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def run(self, jobs: Iterable[Job]) -> Iterator[Done]:
        pending: dict[Future[list[TileBytes]], LevelSpec] = {}
        window = 2 * self.workers
        for spec, rect, block in jobs:
            pending[self.pool.submit(render_block, spec, rect, block)] = spec
            while len(pending) >= window:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield pending.pop(future), future.result()
        for future in list(pending):
            yield pending.pop(future), future.result()


class DaskRunner:
    """Block jobs on an existing Dask cluster (``distributed.Client(address)``); tiles come back as bytes."""

    def __init__(self, address: str, window: int | None = None) -> None:
        from distributed import Client

        self.client: Any = Client(address, set_as_default=False)
        cores = sum(self.client.nthreads().values()) or 1
        self.window = window or 2 * cores

    def __enter__(self) -> DaskRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def run(self, jobs: Iterable[Job]) -> Iterator[Done]:
        from distributed import as_completed

        specs: dict[str, LevelSpec] = {}
        queue = as_completed(loop=self.client.loop)
        for spec, rect, block in jobs:
            future = self.client.submit(render_block, spec, rect, block, pure=False)
            specs[future.key] = spec
            queue.add(future)
            while queue.count() >= self.window:
                yield self._take(next(queue), specs)
        for future in queue:
            yield self._take(future, specs)

    @staticmethod
    def _take(future: Any, specs: dict[str, LevelSpec]) -> Done:
        tiles = future.result()
        future.release()
        return specs.pop(future.key), tiles


def make_runner(workers: int | None, dask_scheduler: str | None) -> SerialRunner | PoolRunner | DaskRunner:
    """Dask when a scheduler address is given; else a pool of ``workers`` processes (default: all cores);
    ``workers=1`` renders in this process."""
    if dask_scheduler:
        return DaskRunner(dask_scheduler)
    n = default_workers() if workers is None else workers
    if n < 1:
        raise ValueError(f"workers must be ≥ 1, got {n}")
    return SerialRunner() if n == 1 else PoolRunner(n)
