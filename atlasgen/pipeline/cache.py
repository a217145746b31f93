"""Completed build stages, kept beside the output so that an interrupted build can resume (`build --resume`).

Every build records each stage it completes in ``.<name>.stages/<stage>/`` beside ``out`` and deletes that
folder once the new site is swapped in, so a successful build leaves nothing behind and the folder holds at
most one entry per stage. ``--resume`` reads the entries back; without it a build recomputes everything (and
overwrites the entries as it goes). What each entry holds:

* ``graph`` (snapshot + graph): the node and edge frames, the graph report and the snapshot's provenance;
* ``layout``: the world positions and the layout info;
* ``index``: the files the index stage wrote (``data/``, ``positions.parquet``, ``lineage.parquet``) and
  the ``data`` entry of atlas.json;
* ``tiles``: the ``tiles/`` tree after the budget's decisions, and the layer entries.

An entry is used only when its **key** matches: a fingerprint of everything the stage's output depends on,
chained through the stages before it. The graph key covers the atlasgen and library versions, the snapshot
(path as given, size and SHA-256; the embedded sample's file when there is none), ``--format``,
``--nodes`` and the ``--focus`` specs (when there are any); layout adds ``--seed``, ``--backend``, ``--max-iter`` and the ``--previous`` positions file;
index adds ``--max-zoom``; tiles adds the layers, ``--retina``, ``--budget`` and the bytes the index and
viewer take. ``--workers`` and ``--dask-scheduler`` change no output byte and are not part of any key.

Files are hard links to the work directory's (a copy where the file system has none, or where the file is
writable by group or others), so recording costs neither time nor space; nothing writes into an existing file
afterwards. Results are data files (datafiles.py: JSON, npz, parquet; never pickles, whose reading runs code)
that round-trip pandas dtypes exactly or are not recorded. An entry is written into a temporary folder and
renamed into place, so a kill while recording leaves the previous entry or none, never a torn one. Recording
is best effort: a failure to record is logged and the build goes on.

**Entries are private to the user who builds.** The folder is created 0700; before anything in it is read,
the folder, the entry and every file and folder in the entry must be owned by this process's effective user,
writable by nobody else, and plain files or folders (no links, devices or pipes). Anything else, such as an
entry planted beside a ``--out`` in a shared directory like ``/tmp``, is logged and ignored: the stage runs
again and nothing of it is read, linked or deleted. The snapshot's digest (in the key) is no secret, so the
key proves nothing about who wrote an entry; only its owner does.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

from atlasgen import __version__
from atlasgen.pipeline.datafiles import NotRecordable, private_file, read_result, write_result
from atlasgen.pipeline.outdir import alive

log = logging.getLogger("atlasgen")

# Each recorded stage and the stage timings (report.json timings_s) it stands for.
COVERS = {"graph": ("snapshot", "graph"), "layout": ("layout",), "index": ("index",), "tiles": ("tiles",)}
LIBRARIES = ("numpy", "pandas", "pyarrow", "numba", "datashader", "pillow", "scipy")


def fingerprint(*parts: Any) -> str:
    """A stable digest of JSON-able parts (paths and other objects by their ``str``)."""
    text = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def environment() -> dict[str, str]:
    """atlasgen's version and those of the libraries that shape its output."""
    versions = {"atlasgen": __version__}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "-"
    return versions


def file_identity(path: Path | None) -> list[Any] | None:
    """A file by its path as given, size and SHA-256 (None for no file)."""
    if path is None or not path.is_file():
        return None if path is None else [str(path), "missing"]
    from atlasgen.artifacts import file_sha256

    return [str(path), path.stat().st_size, file_sha256(path)]


class StageCache:
    """The recorded stages of the build into ``out``; ``reused`` lists the stages a resumed build took."""

    def __init__(self, out: Path, *, resume: bool, timings: dict[str, float]) -> None:
        self.root = out.with_name(f".{out.name}.stages")
        self.resume = resume
        self.timings = timings
        self.reused: list[str] = []
        if os.path.lexists(self.root) and untrusted(self.root) is None:
            self._remove_torn_entries()

    def get(self, stage: str, key: str, into: Path | None = None) -> Any | None:
        """The stage's recorded result (its files linked into ``into``) if resuming and the key matches."""
        if not self.resume:
            return None
        entry = self.root / stage
        if not os.path.lexists(entry):
            log.info("%s: not recorded by an earlier build; running it", stage)
            return None
        if (problem := untrusted(self.root) or untrusted_tree(entry)) is not None:
            log.warning("%s: ignoring the recorded stage, %s; running it again", stage, problem)
            return None
        start = time.perf_counter()
        try:
            if (entry / "key").read_text(encoding="utf-8") != key:
                log.info("%s: recorded for other inputs or options; running it again", stage)
                return None
            result = read_result(entry / "result")
            if into is not None and (entry / "tree").is_dir():
                _link_tree(entry / "tree", into)
        except Exception as exc:  # an unreadable entry is a cache miss, never a failed build
            log.warning("%s: recorded stage unreadable (%s); running it again", stage, exc)
            return None
        for name in COVERS[stage]:
            self.timings[name] = 0.0
        self.timings[stage] = round(time.perf_counter() - start, 3)
        self.reused.extend(COVERS[stage])
        log.info("%s: reused from an interrupted build", stage)
        return result

    def put(
        self, stage: str, key: str, result: Any, root: Path | None = None, files: Iterable[Path] = ()
    ) -> Any:
        """Record a completed stage: its result and ``files`` (paths under ``root``). Returns ``result``."""
        tmp: Path | None = None
        try:
            self._make_root()
            tmp = Path(tempfile.mkdtemp(prefix=f".{stage}.tmp-{os.getpid()}-", dir=self.root))
            (tmp / "result").mkdir(mode=0o700)
            write_result(result, tmp / "result")
            for path in files:
                if root is not None and path.exists():
                    _link_tree(path, tmp / "tree" / path.relative_to(root), private=True)
            with private_file(tmp / "key") as handle:
                handle.write(key.encode("utf-8"))
            entry = self.root / stage
            if os.path.lexists(entry):
                shutil.rmtree(entry)
            tmp.rename(entry)
        except (OSError, NotRecordable) as exc:
            log.warning("%s: could not record the stage for --resume (%s)", stage, exc)
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
        return result

    def clear(self) -> None:
        """Forget every recorded stage (after a successful build); a folder that is not ours is left alone."""
        if os.path.lexists(self.root) and untrusted(self.root) is None:
            shutil.rmtree(self.root, ignore_errors=True)

    def _make_root(self) -> None:
        """Create the folder 0700, or check that the one already there is this user's alone."""
        with contextlib.suppress(FileExistsError):
            self.root.mkdir(mode=0o700)
        if (problem := untrusted(self.root)) is not None:
            raise OSError(problem)

    def _remove_torn_entries(self) -> None:
        """Temporary entries of builds that were killed while recording."""
        for path in self.root.iterdir():
            match = re.fullmatch(r"\.\w+\.tmp-(\d+)-.*", path.name)
            if match and not alive(int(match[1])):
                shutil.rmtree(path, ignore_errors=True)


def untrusted(path: Path) -> str | None:
    """Why ``path`` may not be read as this user's own (not a plain file or folder, another owner, writable
    by group or others); None if it may. Links are not followed: a link is itself untrusted."""
    try:
        info = path.lstat()
    except OSError as exc:
        return f"{path}: {exc.strerror}"
    if not (stat.S_ISDIR(info.st_mode) or stat.S_ISREG(info.st_mode)):
        return f"{path} is not a plain file or folder"
    if info.st_uid != os.geteuid():
        return f"{path} is owned by uid {info.st_uid}, not by this user (uid {os.geteuid()})"
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"{path} is writable by group or others (mode {stat.S_IMODE(info.st_mode):04o})"
    return None


def untrusted_tree(root: Path) -> str | None:
    """The first reason why anything under ``root`` (``root`` included) is untrusted; None if nothing is."""
    if (problem := untrusted(root)) is not None:
        return problem
    for folder, dirs, files in os.walk(root):  # does not follow links; untrusted() rejects them
        for name in (*dirs, *files):
            if (problem := untrusted(Path(folder, name))) is not None:
                return problem
    return None


def _link_tree(src: Path, dst: Path, *, private: bool = False) -> None:
    """Hard-link the file or folder ``src`` to ``dst``, copying where links are not possible.

    ``private`` (recording): folders are made 0700 and a file writable by group or others is copied without
    those bits, since the entry must pass :func:`untrusted` (the site keeps its files' own modes).
    """
    if src.is_dir():
        _make_dir(dst, private)
        for folder, dirs, files in os.walk(src):
            target = dst / Path(folder).relative_to(src)
            for name in dirs:
                _make_dir(target / name, private)
            for name in files:
                _link(Path(folder, name), target / name, private)
    else:
        _make_dir(dst.parent, private)
        _link(src, dst, private)


def _make_dir(path: Path, private: bool) -> None:
    if private:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    else:
        path.mkdir(parents=True, exist_ok=True)


def _link(src: Path, dst: Path, private: bool) -> None:
    mode = stat.S_IMODE(src.lstat().st_mode)
    if not (private and mode & (stat.S_IWGRP | stat.S_IWOTH)):
        try:
            os.link(src, dst, follow_symlinks=False)
            return
        except OSError:
            pass
    shutil.copyfile(src, dst, follow_symlinks=False)
    os.chmod(dst, mode & ~(stat.S_IWGRP | stat.S_IWOTH) if private else mode)
