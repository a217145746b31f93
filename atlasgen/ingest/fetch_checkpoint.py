"""Durable files for `atlasgen fetch`: atomic replacement and the page-by-page checkpoint of an ``api`` fetch.

``atomic_writer`` writes a file beside its target, fsyncs it and moves it in with ``os.replace``, so a
failed or killed run leaves the target as it was. :class:`Partial` keeps an unfinished ``api`` fetch of
``out`` in ``<out>.partial`` (``partial_path``, JSON Lines appended and fsync'd page by page) and its
checkpoint in ``<out>.partial.state.json`` (``state_path``: the next page's URL, and the rows and bytes of
the partial so far), which is what lets ``--resume`` go on where a run stopped with no row twice and none
missing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import IO

from atlasgen.errors import FetchError

CHUNK = 1 << 20
log = logging.getLogger("atlasgen.ingest.fetch")  # one logger for all of fetch


def partial_path(out: Path) -> Path:
    """The rows an unfinished ``api`` fetch of ``out`` has so far: ``<out>.partial`` (JSON Lines)."""
    return out.with_name(out.name + ".partial")


def state_path(out: Path) -> Path:
    """Its checkpoint: ``<out>.partial.state.json`` (next page URL, rows and bytes of the partial so far)."""
    return out.with_name(out.name + ".partial.state.json")


# -- atomic writes ---------------------------------------------------------------------------------------


@contextmanager
def atomic_writer(path: Path) -> Iterator[IO[bytes]]:
    """A binary file that replaces ``path`` only if the block completes; otherwise nothing changes."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        tmp.chmod(0o644)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # not supported on this platform / filesystem
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- api checkpoint --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Checkpoint:
    query: str  # the first page's URL: the endpoint and every option that shapes the rows
    next: str | None  # the page to fetch next; None once the last page is in
    rows: int  # rows in the partial file up to `size`
    size: int  # bytes of the partial file that are checkpointed; anything past them is dropped on resume


class Partial:
    """``<out>.partial`` (JSON Lines, appended and fsync'd page by page) and ``<out>.partial.state.json``
    (a ``_Checkpoint``, replaced atomically once a page's rows are durable).

    A kill leaves at most one page past the checkpoint, which ``resume`` cuts off; ``finish`` checks the
    line count, moves the file onto ``out`` and removes the checkpoint.
    """

    def __init__(self, out: Path, query: str, *, resume: bool) -> None:
        self.out, self.rows_path, self.state_path = out, partial_path(out), state_path(out)
        found = self._resumable(query) if resume else None
        if not resume and (self.rows_path.exists() or self.state_path.exists()):
            log.warning("discarding the unfinished fetch in %s (--resume goes on from it)", self.rows_path)
        self.done = found or _Checkpoint(query=query, next=query, rows=0, size=0)
        self.file = self.rows_path.open("r+b" if found else "wb")
        self.file.truncate(self.done.size)
        self.file.seek(self.done.size)
        self._save()

    def __enter__(self) -> Partial:
        return self

    def __exit__(self, *exc: object) -> None:
        self.file.close()

    def _resumable(self, query: str) -> _Checkpoint | None:
        if not self.state_path.exists():
            log.warning("nothing to resume in %s: starting from the first page", self.state_path)
            return None
        try:
            state = json.loads(self.state_path.read_text(encoding="utf-8"))
            done = _Checkpoint(**{key: state[key] for key in ("query", "next", "rows", "size")})
            have = self.rows_path.stat().st_size
        except (OSError, ValueError, KeyError, TypeError) as err:
            log.warning("cannot resume from %s (%s): starting from the first page", self.state_path, err)
            return None
        if done.query != query:
            log.warning(
                "%s was fetched with other options (%s): starting from the first page",
                self.rows_path,
                done.query,
            )
            return None
        if have < done.size:
            log.warning("%s is shorter than its checkpoint: starting from the first page", self.rows_path)
            return None
        if have > done.size:
            log.info(
                "dropping %d bytes of %s written after its last checkpoint", have - done.size, self.rows_path
            )
        log.info("resuming %s at model %d", self.out, done.rows + 1)
        return done

    def append(self, data: bytes, next_url: str | None) -> None:
        """Make a page's rows durable, then checkpoint the page after it."""
        self.file.write(data)
        self.file.flush()
        os.fsync(self.file.fileno())
        self.done = replace(
            self.done, next=next_url, rows=self.done.rows + data.count(b"\n"), size=self.file.tell()
        )
        self._save()

    def _save(self) -> None:
        with atomic_writer(self.state_path) as f:
            f.write(json.dumps(asdict(self.done), sort_keys=True).encode())

    def finish(self) -> tuple[int, str]:
        """Check the partial file against its checkpoint, move it onto ``out``; (rows, sha256)."""
        self.file.close()
        digest, lines = hashlib.sha256(), 0
        with self.rows_path.open("rb") as f:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
                lines += chunk.count(b"\n")
        if lines != self.done.rows or self.rows_path.stat().st_size != self.done.size:
            raise FetchError(
                f"{self.rows_path} has {lines:,} rows but its checkpoint says {self.done.rows:,}: "
                "run again without --resume"
            )
        self.rows_path.chmod(0o644)
        os.replace(self.rows_path, self.out)
        _fsync_dir(self.out.parent)
        self.state_path.unlink(missing_ok=True)
        return lines, digest.hexdigest()
