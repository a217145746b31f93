#!/usr/bin/env python3
"""Browser benchmark of a built atlas: first-view bytes and time, and search latency (Debian's chromium).

    .venv/bin/python benchmarks/bench_viewer.py SITE_DIR [--query "llama 3 8b gguf" ...] [--runs 3]
    .venv/bin/python benchmarks/bench_viewer.py INDEX_DIR --index-only [--query ...]

First view: a cold page load (new browser context, empty cache) until the first tile has loaded and the
network is quiet; bytes are the response bodies the page received. Search: for each query, the time from
typing it to its results being shown, cold (shards not yet fetched) and warm (typed again), with the bytes
the query fetched; then the same typed as a person types (100 ms a key) on an emulated slow link (1.6 Mbps,
150 ms latency): the time from the last key to the results, and the time to the first thing shown.
Targets from the viewer issue: first view < 300 KB and < 1 s on localhost; a query fetches < 150 KB and
answers in < 100 ms once fetched. The paper's own viewer loads 18-20 MB of JSON before anything shows
(ARCHITECTURE.md §4; documented there, not measured here).

--index-only: bytes per query of the search modules (site/src, run as ES modules in chromium) over a folder
holding just atlas.json and data/ (an index written at 2M models without tiles or a layout), each query typed
at once in a fresh page and typed key by key.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import statistics
import sys
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from browser_util import ARGS, CHROMIUM

from atlasgen.tools.serve import make_server

QUERIES = ["llama 3 8b gguf", "qwen2.5 7b instruct", "mistral", "gemma 2 9b", "bert base uncased"]
INDEX_QUERIES = [*QUERIES, "8b gguf llama", "llama 3 8b g", "bert gguf"]
SRC = Path(__file__).resolve().parents[1] / "site" / "src"


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


SLOW_LINK = {"offline": False, "latency": 150, "downloadThroughput": 200_000, "uploadThroughput": 100_000}


# Times taken in the page: the first and last key, when the list first shows, when the query's own results show.
WATCH_SEARCH = """() => {
  const list = document.querySelector('#search-results');
  const t = (window.__search = { keys: [], shown: null, done: {} });
  document.querySelector('#search-input').addEventListener('input', () => t.keys.push(performance.now()));
  new MutationObserver(() => {
    if (!list.hidden && t.shown === null) t.shown = performance.now();
    if (list.dataset.query) t.done[list.dataset.query] ??= performance.now();
  }).observe(list, { attributes: true, childList: true });
}"""


def slow_search(browser: Any, url: str, queries: list[str]) -> list[tuple[str, float, float, int]]:
    """(query, ms from the last key to its results, ms from the first key to anything shown, bytes)."""
    rows = []
    for query in queries:
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector("img.leaflet-tile-loaded")
        page.wait_for_load_state("networkidle")
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", SLOW_LINK)
        page.evaluate(WATCH_SEARCH)
        counter = Bytes(page)
        page.locator("#search-input").press_sequentially(query, delay=100)
        page.wait_for_function("q => window.__search.done[q] !== undefined", arg=query)
        t = page.evaluate("window.__search")
        after, first = t["done"][query] - t["keys"][-1], t["shown"] - t["keys"][0]
        page.wait_for_load_state("networkidle")
        rows.append((query, after, first, counter.total))
        context.close()
    return rows


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


INDEX_ONLY = """async (queries) => {
  const { createFetcher } = await import('/src/fetcher.js');
  const { createUrls } = await import('/src/config.js');
  const { createSearch } = await import('/src/search.js');
  const atlas = await (await fetch('/atlas.json')).json();
  const out = [];
  for (const q of queries) {
    const typed = createFetcher();
    const search = createSearch(typed, createUrls(atlas.data));
    for (let i = 1; i <= q.length; i += 1) await search.lookup(q.slice(0, i), 10);
    const once = createFetcher();
    const found = await createSearch(once, createUrls(atlas.data)).lookup(q, 10);
    out.push([q, once.total(), typed.total(), found.results.length, found.complete]);
  }
  return out;
}"""


def index_only(browser: Any, folder: Path, queries: list[str]) -> None:
    """Bytes per query of the search modules over an index folder (see the module's docstring)."""
    root = Path(tempfile.mkdtemp(prefix="bench-viewer-"))
    for name, target in [("atlas.json", folder / "atlas.json"), ("data", folder / "data"), ("src", SRC)]:
        (root / name).symlink_to(target.resolve())
    handler = functools.partial(_Quiet, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    page = browser.new_context().new_page()
    page.set_default_timeout(300_000)
    page.goto(f"http://127.0.0.1:{server.server_address[1]}/atlas.json")
    print("query | KB typed at once | KB typed key by key | results | complete")
    for query, once, typed, n, complete in page.evaluate(INDEX_ONLY, queries):
        print(f"{query} | {once / 1000:.1f} | {typed / 1000:.1f} | {n} | {complete}")
    server.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("site", type=Path)
    parser.add_argument("--query", action="append", dest="queries")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--index-only", action="store_true", help="bytes per query over an index folder")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    if args.index_only:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            index_only(browser, args.site, args.queries or INDEX_QUERIES)
            browser.close()
        return

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
        print("slow link (1.6 Mbps, 150 ms), typed at 100 ms a key")
        print("query | ms last key -> results | ms first key -> first shown | KB")
        for query, after, first, fetched in slow_search(browser, url, args.queries or QUERIES):
            print(f"{query} | {after:.0f} | {first:.0f} | {fetched / 1000:.1f}")
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main()
