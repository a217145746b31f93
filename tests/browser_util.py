"""Helpers shared by the viewer's browser tests: chromium launch, a local server, and a watch for errors."""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from atlasgen.tools.serve import make_server

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def skip_reason() -> str | None:
    from atlasgen.publish.site import viewer_dir

    if not CHROMIUM.is_file():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    if not (viewer_dir() / "app.js").is_file():
        return "viewer bundle not built: run `make viewer`"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright (python package) is not installed"
    return None


def need_browser() -> None:
    reason = skip_reason()
    if reason and os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run in CI: {reason}")  # .ci/run installs all of it
    if reason:
        pytest.skip(reason)


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def served(directory: Path, *, site: bool = True) -> Iterator[str]:
    """The site as `atlasgen serve` serves it; with site=False, any folder of files (the viewer's sources)."""
    if site:
        server = make_server(directory, "127.0.0.1", 0)
    else:
        server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class Watch:
    """Everything the page shouldn't do: JS errors, console errors, dialogs, failed or 4xx/5xx requests."""

    def __init__(self, page: Any) -> None:
        self.problems: list[str] = []
        page.on("pageerror", lambda e: self.problems.append(f"pageerror: {e}"))
        page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        page.on("dialog", lambda d: (self.problems.append(f"dialog: {d.message}"), d.dismiss()))
        page.on("requestfailed", self._failed)
        page.on("response", lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status}: {r.url}"))

    def _failed(self, request: Any) -> None:
        if request.failure != "net::ERR_ABORTED":  # cancelled by a navigation or a zoom: not a failure
            self.problems.append(f"failed: {request.url} ({request.failure})")


def new_page(browser: Any, width: int = 1280, height: int = 800, **options: Any) -> tuple[Any, Watch]:
    """A page in a fresh context (options: Playwright context options), with a Watch on it."""
    context = browser.new_context(viewport={"width": width, "height": height}, **options)
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page, Watch(page)


VIEWER_DATA = Path(__file__).parent / "data" / "viewer"


def build_viewer_atlas(out: Path) -> Path:
    """The atlas of tests/data/viewer (31 models: chains, a merge, a 16-generation line, a virtual parent)."""
    from atlasgen.pipeline.build import build_atlas

    need_browser()
    data = VIEWER_DATA
    build_atlas(data / "edges.csv", out, nodes=data / "nodes.csv", seed=0, backend="cpu", progress=False)
    return out


def settle(page: Any, quiet_ms: int = 400) -> None:
    """Wait until the map has stopped moving (aria-busy) and the URL has not changed for `quiet_ms`."""
    page.wait_for_function(
        """quiet => {
             const now = performance.now();
             if (window.__settleHash !== location.hash) { window.__settleHash = location.hash; window.__settleAt = now; }
             return now - window.__settleAt >= quiet && !document.querySelector('#map[aria-busy]');
           }""",
        arg=quiet_ms,
        polling=100,
    )


def wait_panel(page: Any, model_id: str) -> None:
    """Wait until the details panel shows `model_id`."""
    page.wait_for_function(
        "id => document.querySelector('#panel h2.model-id')?.textContent === id", arg=model_id
    )
