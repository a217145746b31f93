#!/usr/bin/env python3
"""Screenshot a built atlas in Debian's chromium (Playwright), for the README and for looking at the map.

.venv/bin/python scripts/screenshot.py build/atlas docs/img/viewer-first-view.png --zoom 1 --search 'qwen2.5 7b instruct'
.venv/bin/python scripts/screenshot.py build/atlas docs/img/viewer-first-view.png      # the README's images
.venv/bin/python scripts/screenshot.py build/atlas docs/img/viewer-closeup.png \
    --hash '#m=meta-llama/Llama-3.1-8B-Instruct&z=11&x=126.8785&y=122.6063'
"""

from __future__ import annotations

import argparse
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

from atlasgen.tools.serve import make_server

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("atlas", type=Path)
    parser.add_argument("png", type=Path)
    parser.add_argument("--hash", default="")
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--zoom", type=int, help="zoom in this many steps after load")
    parser.add_argument("--search", help="type this into the search box before the shot")
    args = parser.parse_args()
    server = make_server(args.atlas, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/{args.hash}"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": args.width, "height": args.height})
        page.goto(url)
        # the tiles, or past their deepest zoom the close-up's names
        page.wait_for_selector("img.leaflet-tile-loaded, .atlas-label-text", state="attached")
        for _ in range(args.zoom or 0):
            page.locator(".leaflet-control-zoom-in").click()
            page.wait_for_timeout(400)
        if args.search:
            page.locator("#search-input").press_sequentially(args.search, delay=20)
            page.wait_for_selector("#search-results:not([hidden]) .result")
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(500)
        args.png.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(args.png))
        browser.close()
    server.shutdown()
    print(f"wrote {args.png}")


if __name__ == "__main__":
    main()
