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
