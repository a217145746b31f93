"""One exception tree. Every error a user can cause is an AtlasgenError; the CLI prints it without a traceback.

Bugs are not AtlasgenErrors and keep their traceback.
"""

from __future__ import annotations

import click


class AtlasgenError(click.ClickException):
    """Base of every user-facing error."""

    exit_code = 1


class InputError(AtlasgenError):
    """A snapshot file is unreadable or malformed. The message names the file and, where known, the row."""

    def __init__(self, path: object, message: str, row: int | None = None) -> None:
        where = f"{path}" if row is None else f"{path}, row {row}"
        super().__init__(f"{where}: {message}")
        self.path = path
        self.row = row


class BackendUnavailable(AtlasgenError):
    """The requested layout backend cannot run here; the message says why and what to install."""


class FetchError(AtlasgenError):
    """The Hub (or the endpoint in HF_ENDPOINT) could not be read."""


class BuildError(AtlasgenError):
    """A build cannot go on (missing viewer bundle, unwritable output, ...)."""


class OptionError(AtlasgenError):
    """Options that cannot work together or cannot be read: ``problems`` pairs an option's name with what is
    wrong, so that the library speaks of values and the CLI can name its flags (``flagged``)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{name}: {problem}" for name, problem in problems))
        self.problems = problems

    def flagged(self, flags: dict[str, str]) -> AtlasgenError:
        """The same problems with each option named by its flag (``flags``: option name -> flag)."""
        return AtlasgenError(
            "; ".join(f"{flags.get(name, name)}: {problem}" for name, problem in self.problems)
        )
