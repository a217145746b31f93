"""`atlasgen serve`: the standard library's static file server, pointed at a built atlas."""

from __future__ import annotations

import functools
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


def make_server(directory: Path, host: str = "127.0.0.1", port: int = 8000) -> ThreadingHTTPServer:
    from atlasgen.pipeline.outdir import recover

    recover(directory)  # a build killed while swapping the site in left it beside its place
    if not (directory / "atlas.json").is_file():
        raise AtlasgenError(
            f"{directory}: no atlas.json here; build one with `atlasgen build --out {directory}`"
        )
    handler = functools.partial(_QuietHandler, directory=str(directory))
    try:
        return ThreadingHTTPServer((host, port), handler)
    except OSError as exc:
        raise AtlasgenError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
