"""Compare two built atlas sites byte for byte, except the run's facts in report.json.

    python scripts/compare_sites.py BEFORE AFTER [--ignore-viewer]

Exits 0 when every file is identical (report.json compared without its run facts, see
``atlasgen.publish.manifest.reproducible``), 1 otherwise, listing what differs. ``--ignore-viewer`` skips the
viewer bundle (app.js, app.css, index.html, assets/), for a change that refactors the viewer's sources: its
behaviour is then checked by the browser tests instead.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from atlasgen.publish.manifest import reproducible

VIEWER = ("app.js", "app.css", "index.html", "assets/")


def files(root: Path) -> dict[str, Path]:
    return {p.relative_to(root).as_posix(): p for p in root.rglob("*") if p.is_file()}


def differences(before: Path, after: Path, ignore_viewer: bool = False) -> list[str]:
    a, b = files(before), files(after)
    keep = (lambda name: not name.startswith(VIEWER)) if ignore_viewer else (lambda name: True)
    problems = [f"only in {before}: {n}" for n in sorted(a.keys() - b.keys()) if keep(n)]
    problems += [f"only in {after}: {n}" for n in sorted(b.keys() - a.keys()) if keep(n)]
    for name in sorted(a.keys() & b.keys()):
        if not keep(name):
            continue
        if name == "report.json":
            left, right = (
                reproducible(json.loads(p.read_text(encoding="utf-8"))) for p in (a[name], b[name])
            )
            if left != right:
                problems.append("report.json differs beyond the run facts")
        elif a[name].read_bytes() != b[name].read_bytes():
            problems.append(f"differs: {name}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--ignore-viewer", action="store_true")
    args = parser.parse_args()
    problems = differences(args.before, args.after, args.ignore_viewer)
    count = len(files(args.after))
    print("\n".join(problems) or f"identical: {count} files ({args.before} vs {args.after})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
