"""The output directory's life cycle: a build never leaves `out` half-written or missing.

A build writes the site into ``.<name>.building-<pid>-<random>`` beside ``out`` and swaps it in at the end:

* **The swap** exchanges the two directories in one ``renameat2(RENAME_EXCHANGE)`` call where the kernel and
  file system offer it (Linux ≥ 3.15 on ext4, xfs, btrfs, tmpfs, ...), so ``out`` is at every instant either
  the old or the new complete site; the old one is then deleted from the work directory's name. Elsewhere it
  falls back to two renames, ``out -> .<name>.old`` then ``work -> out``; a crash between them leaves no
  ``out``, and :func:`recover` (run by the next build and by ``atlasgen serve``) renames ``.<name>.old`` back.
* **Leftovers of killed builds** are removed by the next build into the same ``out``: a work directory whose
  pid is no longer a live process (or that carries no pid: older atlasgen versions) is stale. A pid that was
  reused by an unrelated process only delays the cleanup. Builds into the same ``out`` from several machines
  sharing a file system are not told apart (their pids are not comparable); don't run those concurrently.
* **What may be replaced** is checked by :func:`prepare` before any stage runs: ``out`` must be missing, empty
  or an atlas (an ``atlas.json`` that atlasgen wrote); the current directory and those above it are refused
  (the shell would be left in a deleted folder); a name too long for the work directory's is refused. A
  symbolic link ``out`` (one of this user's own) is followed: the site is built into its target, beside
  which the work directory goes, and the link is left as it is; another user's link is refused.
* **Files atlasgen did not write survive**: every site records what atlasgen wrote into it; an entry of the
  old ``out`` it does not list (a GitHub Pages ``CNAME``, a ``.git`` of a Pages branch, the snapshot the
  build reads) is hard-linked into the new site before the swap, so it is in the site at every instant, and
  a listed entry that changed since makes the build refuse before any stage (userfiles.py).
"""

from __future__ import annotations

import ctypes
import errno
import logging
import os
import re
import shutil
import tempfile
from pathlib import Path

from atlasgen.errors import BuildError
from atlasgen.pipeline.userfiles import carry_over, changed, write_record, written_by_atlasgen

log = logging.getLogger("atlasgen")

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def prepare(out: Path) -> Path:
    """The directory a build into ``out`` replaces (a link's target), once it is known that it may be
    replaced and that the build's own folders fit beside it; BuildError otherwise. Nothing is written."""
    if out.is_symlink():
        owner = out.lstat().st_uid
        if owner != os.geteuid():
            raise BuildError(f"{out}: a symbolic link owned by another user (uid {owner}); give its target")
        out = Path(os.path.realpath(out))
    cwd = _holds_cwd(out)  # alone: the other checks would speak of the current directory's contents
    problems = [cwd] if cwd else [p for p in (_name_too_long(out), _not_replaceable(out)) if p]
    if problems:
        raise BuildError("; ".join(problems))
    return out


def _holds_cwd(out: Path) -> str | None:
    real, cwd = Path(os.path.realpath(out)), Path.cwd().resolve()
    if real == cwd or real in cwd.parents:
        return f"{out}: is the current directory or above it; the site needs a folder of its own"
    return None


def _name_too_long(out: Path) -> str | None:
    """The longest name a build makes beside ``out`` is its work directory's: ``.<name>.building-<pid>-`` and
    8 random characters."""
    folder = next((p for p in (out.parent, *out.parent.parents) if p.is_dir()), Path("."))
    try:
        limit = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    extra = len(os.fsencode(f"..building-{os.getpid()}-")) + 8
    size = len(os.fsencode(out.name))
    if size + extra <= limit:
        return None
    return (
        f"{out}: the name is {size} bytes; the build's work folder beside it adds {extra} and this file "
        f"system allows {limit}: use a name of at most {limit - extra} bytes"
    )


def _not_replaceable(out: Path) -> str | None:
    if not os.path.lexists(out):
        return None
    if not out.is_dir():
        return f"{out}: exists and is not a directory"
    if any(out.iterdir()) and not written_by_atlasgen(out):
        return (
            f"{out}: not empty and not an atlas (no atlas.json written by atlasgen); refusing to replace it"
        )
    if edited := changed(out):
        names, it = ", ".join(edited), "it" if len(edited) == 1 else "them"
        return (
            f"{out}: {names} changed since atlasgen wrote {it} (a file added, removed or edited); refusing "
            f"to replace {it}: move your files out of the site, or delete {names} to have {it} written anew"
        )
    return None


def old_dir(out: Path) -> Path:
    return out.with_name(f".{out.name}.old")


def work_dir(out: Path) -> Path:
    """A fresh, private directory beside ``out`` for this process to build the site in."""
    return Path(tempfile.mkdtemp(prefix=f".{out.name}.building-{os.getpid()}-", dir=out.parent))


def recover(out: Path) -> bool:
    """Restore the previous site if a build was interrupted between the two renames of a fallback swap.

    Returns whether ``out`` was restored. A leftover ``.<name>.old`` beside a present ``out`` is the previous
    site of a build that finished its swap but not the clean-up: it is deleted.
    """
    old = old_dir(out)
    if not old.is_dir():
        return False
    if out.exists():
        shutil.rmtree(old, ignore_errors=True)
        return False
    if not (old / "atlas.json").is_file():
        return False  # not something a swap put there: leave it to its owner
    old.rename(out)
    log.warning("%s: restored the previous site from %s (a build was interrupted while swapping)", out, old)
    return True


def remove_stale(out: Path) -> int:
    """Delete work directories beside ``out`` left by builds that are no longer running; return how many."""
    pattern = re.compile(rf"\.{re.escape(out.name)}\.building-(?:(\d+)-)?[^/]*")
    removed = 0
    for path in out.parent.iterdir():
        match = pattern.fullmatch(path.name)
        if not match or not path.is_dir() or (match[1] and alive(int(match[1]))):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed += not path.exists()
    if removed:
        log.info("removed %d stale build director%s beside %s", removed, "y" if removed == 1 else "ies", out)
    return removed


def alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def swap_in(work: Path, out: Path) -> None:
    """Make the complete site in ``work`` the site at ``out``, replacing any previous one but keeping every
    entry of it that the new site does not write."""
    work.chmod(0o755)
    write_record(work)
    if kept := carry_over(out, work):
        log.info("kept in %s what atlasgen did not write: %s", out, ", ".join(kept))
    if out.exists() and exchange(work, out):
        shutil.rmtree(work, ignore_errors=True)  # now the previous site; a kill here leaves a stale dir
        return
    old = old_dir(out)
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        out.rename(old)
    work.rename(out)
    shutil.rmtree(old, ignore_errors=True)


def exchange(a: Path, b: Path) -> bool:
    """Atomically swap two existing paths (Linux ``renameat2(RENAME_EXCHANGE)``); False where unsupported."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # not glibc/musl with renameat2 (macOS, Windows, old libc)
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
        return False  # kernel or file system without the flag: fall back to two renames
    raise OSError(code, os.strerror(code), str(b))
