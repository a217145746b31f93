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

Files are hard links to the work directory's (a copy where the file system has none), so recording costs
neither time nor space; nothing writes into an existing file afterwards. Frames and results are pickled, an
exact round trip of pandas dtypes that parquet is not; entries are private to the user who builds (like the
work directory) and keyed by the pandas version. An entry is written into a temporary folder and renamed into
place, so a kill while recording leaves the previous entry or none, never a torn one. Recording is best
effort: a failure to record is logged and the build goes on.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import re
import shutil
import tempfile
import time
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

from atlasgen import __version__
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
        self._remove_torn_entries()

    def get(self, stage: str, key: str, into: Path | None = None) -> Any | None:
        """The stage's recorded result (its files linked into ``into``) if resuming and the key matches."""
        if not self.resume:
            return None
        entry = self.root / stage
        try:
            recorded = (entry / "key").read_text(encoding="utf-8")
        except OSError:
            log.info("%s: not recorded by an earlier build; running it", stage)
            return None
        if recorded != key:
            log.info("%s: recorded for other inputs or options; running it again", stage)
            return None
        start = time.perf_counter()
        try:
            with (entry / "result.pickle").open("rb") as handle:
                result = pickle.load(handle)
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
            self.root.mkdir(exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{stage}.tmp-{os.getpid()}-", dir=self.root))
            with (tmp / "result.pickle").open("wb") as handle:
                pickle.dump(result, handle, protocol=pickle.HIGHEST_PROTOCOL)
            for path in files:
                if root is not None and path.exists():
                    _link_tree(path, tmp / "tree" / path.relative_to(root))
            (tmp / "key").write_text(key, encoding="utf-8")
            entry = self.root / stage
            if entry.exists():
                shutil.rmtree(entry)
            tmp.rename(entry)
        except OSError as exc:
            log.warning("%s: could not record the stage for --resume (%s)", stage, exc)
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
        return result

    def clear(self) -> None:
        """Forget every recorded stage (after a successful build)."""
        shutil.rmtree(self.root, ignore_errors=True)

    def _remove_torn_entries(self) -> None:
        """Temporary entries of builds that were killed while recording."""
        if not self.root.is_dir():
            return
        for path in self.root.iterdir():
            match = re.fullmatch(r"\.\w+\.tmp-(\d+)-.*", path.name)
            if match and not alive(int(match[1])):
                shutil.rmtree(path, ignore_errors=True)


def _link_tree(src: Path, dst: Path) -> None:
    """Hard-link the file or folder ``src`` to ``dst`` (copying where links are not possible)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        shutil.copytree(src, dst, copy_function=_link, dirs_exist_ok=True)
    else:
        _link(src, dst)


def _link(src: str | Path, dst: str | Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
