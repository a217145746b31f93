"""`atlasgen serve`: the standard library's static file server, pointed at a built atlas.

It serves files only: a folder without an index.html is a 404, never a listing (a site's folders, and
whatever a user keeps beside the site in them, are not for browsing). The port is checked before binding.
"""

from __future__ import annotations

import functools
import os
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from atlasgen.errors import AtlasgenError


class _QuietHandler(SimpleHTTPRequestHandler):
    extensions_map = {  # noqa: RUF012 - replaces the base class's attribute
        **SimpleHTTPRequestHandler.extensions_map,
        ".json": "application/json",
        ".js": "text/javascript",
    }

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def list_directory(self, path: str | os.PathLike[str]) -> None:
        self.send_error(HTTPStatus.NOT_FOUND, "File not found")


def make_server(directory: Path, host: str = "127.0.0.1", port: int = 8000) -> ThreadingHTTPServer:
    from atlasgen.pipeline.outdir import recover

    recover(directory)  # a build killed while swapping the site in left it beside its place
    if not (directory / "atlas.json").is_file():
        raise AtlasgenError(
            f"{directory}: no atlas.json here; build one with `atlasgen build --out {directory}`"
        )
    if not 0 <= port <= 65535:
        raise AtlasgenError(f"port {port}: must be between 0 and 65535 (0 picks a free one)")
    handler = functools.partial(_QuietHandler, directory=str(directory))
    try:
        return ThreadingHTTPServer((host, port), handler)
    except OSError as exc:
        raise AtlasgenError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
