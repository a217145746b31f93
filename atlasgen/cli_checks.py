"""What each command checks before any work, worded with its flags: every problem is reported at once.

The tools (atlasgen/tools) speak of values and files; the flags are the command line's, so the checks that
name them live here, beside the commands (cli_tools.py) that call them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from atlasgen.errors import AtlasgenError, InputError

if TYPE_CHECKING:
    from atlasgen.tools.figure.make import FigureOptions

T = TypeVar("T")


def abort_if(problems: list[str]) -> None:
    """Stop with one error listing every problem, if there is any."""
    if problems:
        raise AtlasgenError("; ".join(problems))


def snapshot_format(path: Path, fmt: str | None) -> tuple[str | None, str]:
    """The format of snapshot file `path` (`fmt` or from its name), or None and the problem."""
    from atlasgen.ingest.snapshot import FORMATS, detect_format

    if fmt is not None:
        return fmt, ""
    try:
        return detect_format(path), ""
    except InputError as exc:
        return None, f"{exc.message}; pass --snapshot-format {'|'.join(FORMATS)}"


def takes_nodes(fmt: str) -> bool:
    from atlasgen.ingest.snapshot import get_format

    return get_format(fmt).takes_nodes


def _out_file(out: Path | None) -> list[str]:
    if out is None or (not out.is_dir() and out.parent.is_dir()):
        return []
    return [f"--out {out}: " + ("a directory" if out.is_dir() else f"no directory {out.parent}")]


# ------------------------------------------------------------------------------------------------ diff


def diff_problems(
    old: Path, new: Path, fmt: str | None, old_nodes: Path | None, new_nodes: Path | None, out: Path | None
) -> list[str]:
    """OLD and NEW must be atlases (with positions and lineage) or snapshot files of a known format."""
    return [*_side("OLD", old, old_nodes, fmt), *_side("NEW", new, new_nodes, fmt), *_out_file(out)]


def _side(name: str, path: Path, nodes: Path | None, fmt: str | None) -> list[str]:
    from atlasgen.artifacts import absent_files, atlas_dir, is_atlas

    path, flag = atlas_dir(path), f"--{name.lower()}-nodes"
    problems = [f"{flag} {nodes}: no such file"] if nodes is not None and not nodes.is_file() else []
    if is_atlas(path):
        problems += [
            f"{path}: atlas without {f} (built before atlasgen 0.2? rebuild it)" for f in absent_files(path)
        ]
        if nodes is not None:
            problems.append(f"{flag} goes with an edge CSV snapshot, but {name} ({path}) is atlas")
        return problems
    if path.is_dir():
        return [*problems, f"{path}: a directory but not an atlas (no atlas.json)"]
    if not path.is_file():
        return [*problems, f"{path}: no such file or atlas directory"]
    fmt, problem = snapshot_format(path, fmt)
    if fmt is None:
        return [*problems, problem]
    if nodes is not None and not takes_nodes(fmt):
        problems.append(f"{flag} goes with an edge CSV snapshot, but {name} ({path}) is {fmt}")
    return problems


# ------------------------------------------------------------------------------------------------ lineage


def lineage_problems(
    snapshot: Path | None, atlas: Path | None, fmt: str | None, nodes: Path | None
) -> list[str]:
    """One input at most (none: the sample); the snapshot options go with --snapshot."""
    from atlasgen.artifacts import absent_files, atlas_dir, is_atlas

    problems = []
    if snapshot is not None and atlas is not None:
        problems.append("--snapshot and --atlas exclude each other: give one")
    if atlas is not None:
        folder = atlas_dir(atlas)
        if not is_atlas(folder):
            problems.append(f"--atlas {atlas}: not an atlas directory (no atlas.json)")
        else:
            problems += [f"--atlas {atlas}: no {f} (rebuild it)" for f in absent_files(folder)]
    if (fmt is not None or nodes is not None) and snapshot is None:
        problems.append("--snapshot-format and --nodes go with --snapshot")
    if snapshot is not None and not snapshot.is_file():
        problems.append(
            f"--snapshot {snapshot}: " + ("an atlas: use --atlas" if is_atlas(snapshot) else "no such file")
        )
    elif snapshot is not None:
        fmt, problem = snapshot_format(snapshot, fmt)
        if fmt is None:
            problems.append(problem)
        elif nodes is not None and not takes_nodes(fmt):
            problems.append(f"--nodes goes with an edge CSV snapshot, but {snapshot} is {fmt}")
    if nodes is not None and not nodes.is_file():
        problems.append(f"--nodes {nodes}: no such file")
    return problems


# ------------------------------------------------------------------------------------------------ predict


def predict_problems(
    attributes: tuple[str, ...], leaderboard: Path | None, evaluate: bool, out: Path | None
) -> list[str]:
    """Accuracy needs the leaderboard's scores; imputed values need a file to go to."""
    problems = (
        ["--attribute accuracy needs --leaderboard FILE"]
        if "accuracy" in attributes and not leaderboard
        else []
    )
    if not evaluate and out is None:
        problems.append("--out FILE is required to write imputed values (or pass --evaluate)")
    return problems


# ------------------------------------------------------------------------------------------------ figure


def figure_options(
    *,
    atlas: Path,
    out: Path,
    center: str | None,
    radius: float | None,
    bbox: str | None,
    width: int | None,
    height: int | None,
    size: str | None,
    dpi: float | None,
    layer: str,
    edges: bool,
    labels: int,
    theme: str,
    formats: str,
) -> FigureOptions:
    """Every figure option checked; the request, or one AtlasgenError listing every problem."""
    from atlasgen.tools.figure import make

    problems = _figure_files(atlas, out)
    box = _figure_region(center, radius, bbox, problems)
    inches = _figure_size(width, height, size, dpi, problems)
    if labels < 0:
        problems.append(f"--labels: must be 0 or more, got {labels}")
    fmts = _parsed("--format", make.parse_formats, formats, problems)
    abort_if(problems)
    assert fmts is not None  # else a problem was reported
    return make.FigureOptions(
        atlas,
        make.stem(out),
        center,
        radius,
        box,
        width,
        height,
        inches,
        dpi,
        layer,
        edges,
        labels,
        theme,
        fmts,
    )


def _figure_files(atlas: Path, out: Path) -> list[str]:
    from atlasgen.artifacts import absent_files, is_atlas

    problems = []
    if not is_atlas(atlas) or absent_files(atlas, lineage=False):
        problems.append(f"--atlas {atlas}: not an atlas directory (needs positions.parquet and atlas.json)")
    if out.is_dir():
        problems.append(f"--out {out}: is a directory; give a file name such as {out / 'figure'}")
    elif not out.parent.is_dir():
        problems.append(f"--out {out}: folder {out.parent} does not exist")
    return problems


def _figure_region(
    center: str | None, radius: float | None, bbox: str | None, problems: list[str]
) -> tuple[float, float, float, float] | None:
    from atlasgen.tools.figure.make import parse_bbox

    if center is not None and bbox is not None:
        problems.append("--center and --bbox both choose the region: give one")
    if radius is not None and (center is None or not 0 < radius < float("inf")):
        problems.append("--radius needs --center and must be a number > 0 (world units)")
    return _parsed("--bbox", parse_bbox, bbox, problems)


def _figure_size(
    width: int | None, height: int | None, size: str | None, dpi: float | None, problems: list[str]
) -> tuple[float, float | None] | None:
    from atlasgen.tools.figure.make import DEFAULT_DPI, MAX_SIDE_PX, parse_size

    inches = None
    if size is not None and (width is not None or height is not None):
        problems.append("--size and --width/--height both set the size: give one")
    else:
        inches = _parsed("--size", parse_size, size, problems)
    for name, value in (("--width", width), ("--height", height)):
        if value is not None and not 64 <= value <= MAX_SIDE_PX:
            problems.append(f"{name}: must be between 64 and {MAX_SIDE_PX} pixels, got {value}")
    if dpi is not None and not 36 <= dpi <= 2400:
        problems.append(f"--dpi: must be between 36 and 2400, got {dpi:g}")
    elif inches and max(inches[0], inches[1] or 0) * (dpi or DEFAULT_DPI) > MAX_SIDE_PX:
        problems.append(f"--size {size} at {dpi or DEFAULT_DPI:g} dpi is over {MAX_SIDE_PX} pixels a side")
    return inches


def _parsed(flag: str, parse: Callable[[str], T], text: str | None, problems: list[str]) -> T | None:
    """`parse(text)`, or None with the problem noted (None for no text)."""
    if text is None:
        return None
    try:
        return parse(text)
    except ValueError as exc:
        problems.append(f"{flag}: {exc}")
        return None
