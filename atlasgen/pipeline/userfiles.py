"""The user's files in an atlas directory: what a build may replace, and what it keeps.

A site is replaced as a whole (outdir.py), so anything a user put into it (a GitHub Pages ``CNAME``, the
``.git`` of a Pages branch checked out there, the very snapshot being built) would go with the old site. So
every site holds :data:`RECORD`, a list of the top-level entries atlasgen wrote with a digest of each
(``data/`` and ``tiles/`` as whole trees: names, file bytes and link targets). Before any stage runs,
:func:`changed` compares the old site with its record: an entry that changed since atlasgen wrote it (a
file edited, or added to ``data/``) makes the build refuse, naming it; one that is gone is written anew. At
the swap, :func:`carry_over` hard-links every entry the record does not list into the new site, so it is in
``out`` at every instant and costs no copy; one the new site writes too is a conflict, and the build refuses
rather than replace it.

The record is only as trustworthy as the folder it is in: whoever can write it could delete the files it
lists anyway, and a listed entry is replaced only while its digest still matches. A site written before the
record existed is treated by name: what the new site writes is replaced, everything else is kept.
:func:`written_by_atlasgen` tells a site from another folder by its ``atlas.json``'s generator, not by the
file's mere presence.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import stat
from pathlib import Path
from typing import Any

from atlasgen.errors import BuildError

RECORD = ".written-by-atlasgen.json"
# Rewritten by every build with the run's own facts (timings): listed as atlasgen's, never compared.
UNCOMPARED = ("report.json",)
ABOUT = (
    "The entries atlasgen wrote into this site, with a SHA-256 of each. A build replaces only these, and "
    "refuses to if one changed; anything else here is yours and is kept."
)
log = logging.getLogger("atlasgen")


def written_by_atlasgen(folder: Path) -> bool:
    """Whether ``folder`` holds a site atlasgen wrote: an ``atlas.json`` naming atlasgen as its generator."""
    try:
        manifest = json.loads((folder / "atlas.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    generator = manifest.get("generator") if isinstance(manifest, dict) else None
    return isinstance(generator, dict) and generator.get("name") == "atlasgen"


def write_record(site: Path) -> None:
    """Record every top-level entry of the new site in ``site`` as atlasgen's (before anything is kept)."""
    entries = {
        p.name: None if p.name in UNCOMPARED else digest(p)
        for p in sorted(site.iterdir())
        if p.name != RECORD
    }
    payload = {"about": ABOUT, "generator": "atlasgen", "entries": entries}
    text = json.dumps(payload, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    (site / RECORD).write_text(text, encoding="utf-8")


def read_record(site: Path) -> dict[str, str | None] | None:
    """The entries the site's record lists (name -> digest, None: not compared); None without a record."""
    path = site / RECORD
    if not os.path.lexists(path):
        return None
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["entries"]
        if not all(isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in entries.items()):
            raise TypeError("entries are not names and digests")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("%s: unreadable (%s); telling atlasgen's files from yours by name", path, exc)
        return None
    return dict(entries)


def changed(site: Path) -> list[str]:
    """The entries of ``site`` its record lists that are no longer what atlasgen wrote."""
    entries = read_record(site) or {}
    return [
        name
        for name, expected in sorted(entries.items())
        if expected is not None and os.path.lexists(site / name) and digest(site / name) != expected
    ]


def carry_over(old: Path, new: Path) -> list[str]:
    """Hard-link (copy where a link is refused) each entry of ``old`` atlasgen did not write into ``new``;
    return their names. Links are kept as links, never followed. BuildError if the new site writes one."""
    if not old.is_dir() or old.is_symlink():
        return []
    entries = read_record(old)
    kept = []
    for entry in sorted(old.iterdir()):
        if entry.name == RECORD or (entries is not None and entry.name in entries):
            continue
        target = new / entry.name
        if os.path.lexists(target):
            if entries is None:
                continue  # a site from before the record: a name the new site writes is atlasgen's
            raise BuildError(
                f"{entry}: not written by atlasgen, and the new site has its own {entry.name}; "
                "move it out of the site and build again (the stages done so far are kept for resuming)"
            )
        if entry.is_dir() and not entry.is_symlink():
            shutil.copytree(entry, target, symlinks=True, copy_function=_link)
        else:
            _link(entry, target)
        kept.append(entry.name)
    return kept


def digest(path: Path) -> str:
    """SHA-256 of a file's bytes, a link's target or a folder's names and contents, recursively."""
    sha = hashlib.sha256()
    _feed(path, sha)
    return sha.hexdigest()


def _feed(path: Path, sha: Any) -> None:
    mode = path.lstat().st_mode
    if stat.S_ISLNK(mode):
        sha.update(b"L" + os.fsencode(os.readlink(path)) + b"\0")
    elif stat.S_ISDIR(mode):
        sha.update(b"D")
        for name in sorted(os.listdir(path)):
            sha.update(os.fsencode(name) + b"\0")
            _feed(path / name, sha)
        sha.update(b"E")
    elif stat.S_ISREG(mode):
        sha.update(b"F")
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                sha.update(chunk)
        sha.update(b"\0")
    else:
        sha.update(b"O")  # a pipe or device: its presence, never its content


def _link(src: str | Path, dst: str | Path) -> None:
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError:  # another user's file under protected_hardlinks, a file system without links
        shutil.copy2(src, dst, follow_symlinks=False)
