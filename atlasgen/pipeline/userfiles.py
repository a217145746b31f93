"""The user's files in an atlas directory: what a build keeps when it replaces the site.

A site is replaced as a whole (outdir.py), so anything a user put into it (a GitHub Pages ``CNAME``, the
``.git`` of a Pages branch checked out there, the very snapshot being built) would go with the old site.
:func:`carry_over` hard-links every top-level entry of the old site that the new one does not write into
the new one before the swap: the entry is in ``out`` at every instant, costs no copy, and what atlasgen
writes (its top-level names, ``data/`` and ``tiles/`` as wholes) is replaced. :func:`written_by_atlasgen`
tells a site from another directory by its ``atlas.json``'s generator, not by the file's mere presence.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path


def written_by_atlasgen(folder: Path) -> bool:
    """Whether ``folder`` holds a site atlasgen wrote: an ``atlas.json`` naming atlasgen as its generator."""
    try:
        manifest = json.loads((folder / "atlas.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    generator = manifest.get("generator") if isinstance(manifest, dict) else None
    return isinstance(generator, dict) and generator.get("name") == "atlasgen"


def carry_over(old: Path, new: Path) -> list[str]:
    """Hard-link (copy where a link is refused) each entry of ``old`` that ``new`` lacks into ``new``; return
    their names. Links are kept as links, never followed."""
    if not old.is_dir() or old.is_symlink():
        return []
    kept = []
    for entry in sorted(old.iterdir()):
        target = new / entry.name
        if os.path.lexists(target):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.copytree(entry, target, symlinks=True, copy_function=_link)
        else:
            _link(entry, target)
        kept.append(entry.name)
    return kept


def _link(src: str | Path, dst: str | Path) -> None:
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError:  # another user's file under protected_hardlinks, a file system without links
        shutil.copy2(src, dst, follow_symlinks=False)
