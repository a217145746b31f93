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
    if "new" in layers and previous is None:
        problems.append(
            ("layers", "the new layer marks models added since a previous atlas, and none is given")
        )
    unknown = [name for name in layers if name not in TABLE]
    if unknown or not set(TABLE.required) <= set(layers):
        problems.append(
            (
                "layers",
                f"must include {' and '.join(TABLE.required)} and be among {', '.join(TABLE.names)} "
                f"(got {', '.join(layers)})",
            )
        )
    if problems:
        raise OptionError(problems)
    return Checked(budget_bytes, layers)
