"""A build's options, checked before any work: every problem reported at once, each naming its option.

Library code speaks of option *names* (``budget``, ``layers``), not of command-line flags: ``OptionError``
carries ``(name, problem)`` pairs and the CLI spells each name as its flag.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from atlasgen.errors import BuildError, OptionError


@dataclass(frozen=True)
class Checked:
    """The options a build runs with, once checked."""

    budget_bytes: int
    layers: tuple[str, ...]


def check(out: Path, budget: str | int, layers: tuple[str, ...] | None, previous: Path | None) -> Checked:
    """Check the build's options; raise OptionError listing every problem, or BuildError for ``out``."""
    from atlasgen.publish.site import viewer_dir
    from atlasgen.tiles.budget import below_viewer, parse_size, tree_bytes
    from atlasgen.tiles.table import TABLE

    if out.exists() and not out.is_dir():
        raise BuildError(f"{out}: exists and is not a directory")
    problems: list[tuple[str, str]] = []
    budget_bytes = 0
    try:
        budget_bytes = parse_size(budget)
    except ValueError as exc:
        problems.append(("budget", str(exc)))
    else:
        if (hopeless := below_viewer(budget_bytes, tree_bytes(viewer_dir()))) is not None:
            problems += hopeless.problems
    layers = tuple(layers) if layers else TABLE.defaults
    if (wrong := _layers_problem(layers, previous is not None)) is not None:
        problems.append(("layers", wrong))
    if problems:
        raise OptionError(problems)
    return Checked(budget_bytes, layers)


def _layers_problem(layers: tuple[str, ...], has_previous: bool) -> str | None:
    """Everything wrong with a list of layers, in one sentence; None when nothing is."""
    from atlasgen.tiles.table import TABLE

    faults = []
    if unknown := [name for name in layers if name not in TABLE]:
        are = "is not a layer" if len(unknown) == 1 else "are not layers"
        faults.append(f"{' and '.join(unknown)} {are} ({', '.join(TABLE.names)})")
    if missing := [name for name in TABLE.required if name not in layers]:
        faults.append(
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} required (the base map)"
        )
    if "new" in layers and not has_previous:
        faults.append("new needs a previous atlas, to mark the models added since")
    if not faults:
        return None
    listed = faults[0] if len(faults) == 1 else f"{', '.join(faults[:-1])}, and {faults[-1]}"
    return f"{listed} (got {', '.join(layers)})"
