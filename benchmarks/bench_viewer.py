#!/usr/bin/env python3
"""Browser benchmark of a built atlas: first-view bytes and time, and search latency (Debian's chromium).

    .venv/bin/python benchmarks/bench_viewer.py SITE_DIR [--query "llama 3 8b gguf" ...] [--runs 3]

First view: a cold page load (new browser context, empty cache) until the first tile has loaded and the
network is quiet; bytes are the response bodies the page received. Search: for each query, the time from
typing it to its results being shown, cold (shards not yet fetched) and warm (typed again), with the bytes
the query fetched. Targets from the viewer issue: first view < 300 KB and < 1 s on localhost; a query
fetches < 150 KB and answers in < 100 ms once fetched. The paper's own viewer loads 18-20 MB of JSON before
anything shows (ARCHITECTURE.md §4; documented there, not measured here).
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from browser_util import ARGS, CHROMIUM

from atlasgen.tools.serve import make_server

QUERIES = ["llama 3 8b gguf", "qwen2.5 7b instruct", "mistral", "gemma 2 9b", "bert base uncased"]


class Bytes:
    """Response body bytes a page received: raw, and as GitHub Pages would send them (text gzipped)."""

    TEXT = (".js", ".css", ".json", ".html", ".svg", "/")

    def __init__(self, page: Any) -> None:
        self.total = self.wire = self.tiles = 0
        page.on("requestfinished", self._add)

    def _add(self, request: Any) -> None:
        response = request.response()
        if response is None or response.status != 200:
            return
        body = response.body()
        self.total += len(body)
        path = request.url.split("?")[0]
        self.wire += len(gzip.compress(body, 6)) if path.endswith(self.TEXT) else len(body)
        if "/tiles/" in path:
            self.tiles += len(body)


def first_view(browser: Any, url: str) -> tuple[float, Bytes]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    counter = Bytes(page)
    page.goto(url)
    page.wait_for_selector("img.leaflet-tile-loaded")
    ms = page.evaluate("performance.now()")
    page.wait_for_load_state("networkidle")
    context.close()
    return ms, counter


def search_latency(browser: Any, url: str, queries: list[str]) -> list[tuple[str, float, float, int]]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("img.leaflet-tile-loaded")
    page.wait_for_load_state("networkidle")
    counter = Bytes(page)
    rows = []
    for query in queries:
        before = counter.total
        cold = _time_query(page, query)
        page.wait_for_load_state("networkidle")
        fetched = counter.total - before
        _time_query(page, "")
        warm = _time_query(page, query)
        rows.append((query, cold, warm, fetched))
    context.close()
    return rows


def _time_query(page: Any, query: str) -> float:
    box = page.locator("#search-input")
    start = time.perf_counter()
    box.fill(query)
    if query:
        page.wait_for_function(
            "q => document.querySelector('#search-results:not([hidden])')?.dataset.query === q", arg=query
        )
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("site", type=Path)
    parser.add_argument("--query", action="append", dest="queries")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    server = make_server(args.site, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        views = [first_view(browser, url) for _ in range(args.runs)]
        ms = statistics.median(v[0] for v in views)
        raw, wire, tiles = (
            statistics.median(getattr(v[1], k) for v in views) / 1000 for k in ("total", "wire", "tiles")
        )
        print(f"first view (median of {args.runs}, 1440x900): {ms:.0f} ms to the first tile")
        print(
            f"  {raw:.0f} KB raw ({tiles:.0f} KB of it tiles, {raw - tiles:.0f} KB app+data); ~{wire:.0f} KB on the wire with GitHub Pages' gzip"
        )
        print(
            f"  vs targets: time {ms / 1000:.2f}x of 1 s; bytes {wire / 300:.2f}x of 300 KB (wire), app+data {(raw - tiles) / 300:.2f}x"
        )
        print("query | cold ms | warm ms | KB fetched")
        for query, cold, warm, fetched in search_latency(browser, url, args.queries or QUERIES):
            print(f"{query} | {cold:.0f} | {warm:.0f} | {fetched / 1000:.1f}")
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main()
