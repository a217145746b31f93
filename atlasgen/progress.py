"""Progress for people and for logs: a live bar on a terminal, one line per finished step anywhere else.

tqdm redraws its bar with carriage returns. In a file or a CI log every redraw becomes a line of its own, so a
build would fill the log with ``relation z6: 12block …`` lines. ``bar`` gives tqdm's bar only when stderr is a
terminal; elsewhere a ``LineBar`` that prints one line when its step ends (``relation z6: 165 blocks in
3.9 s``). ``bar_class`` is the same choice for libraries that take a tqdm class (huggingface_hub).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


def on_terminal() -> bool:
    """Whether progress goes to a terminal (a live bar) rather than a file or a log (one line per step)."""
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


def bar(
    iterable: Iterable[T] | None = None,
    *,
    desc: str,
    unit: str,
    total: int | None = None,
    initial: int = 0,
    enabled: bool = True,
) -> Any:
    """A progress bar over ``iterable`` (or updated by hand): tqdm on a terminal, else a ``LineBar``;
    silent when not ``enabled``. Both iterate, ``update(n)``, ``close()`` and work as context managers."""
    if enabled and on_terminal():
        from tqdm.auto import tqdm

        return tqdm(iterable, desc=desc, unit=unit, total=total, initial=initial)
    return LineBar(iterable, desc=desc, unit=unit, initial=initial, enabled=enabled)


class LineBar:
    """A progress bar for logs: counts quietly and says, once, how many and how long when its step ends."""

    def __init__(
        self,
        iterable: Iterable[Any] | None = None,
        *,
        desc: str,
        unit: str,
        initial: int = 0,
        enabled: bool = True,
    ) -> None:
        self.iterable, self.desc, self.unit, self.enabled = iterable, desc, unit.strip(), enabled
        self.n = initial
        self._start = time.perf_counter()
        self._closed = False

    def __iter__(self) -> Iterator[Any]:
        for item in () if self.iterable is None else self.iterable:
            yield item
            self.n += 1
        self.close()

    def update(self, n: int = 1) -> None:
        self.n += n

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.enabled:
            # blocks, islands; models and B (bytes) as they are
            plural = "s" if self.n != 1 and self.unit.islower() and not self.unit.endswith("s") else ""
            seconds = time.perf_counter() - self._start
            print(
                f"{self.desc}: {self.n:,} {self.unit}{plural} in {seconds:.1f} s", file=sys.stderr, flush=True
            )

    def __enter__(self) -> LineBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def bar_class(enabled: bool) -> type[Any] | None:
    """For a library that takes a tqdm class: None (its own bar) on a terminal, else a tqdm that never
    draws and, if ``enabled``, prints one ``LineBar`` line when it closes."""
    if enabled and on_terminal():
        return None
    from tqdm.auto import tqdm

    class QuietBar(tqdm):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self._line = LineBar(
                desc=str(kwargs.get("desc") or "download"),
                unit=str(kwargs.get("unit") or "B"),
                initial=int(kwargs.get("initial") or 0),
                enabled=enabled,
            )
            super().__init__(*args, **{**kwargs, "disable": True})

        def update(self, n: float | None = 1) -> bool | None:
            self._line.update(int(n or 0))
            return super().update(n)

        def close(self) -> None:
            self._line.close()
            super().close()

    return QuietBar
