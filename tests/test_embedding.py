"""docs/examples/embed.html against a built atlas in Debian's chromium: its bare Leaflet map loads the atlas's
tiles through the URL template in atlas.json, and its iframe shows the viewer's `?embed=1` view of a model.

The example loads Leaflet from unpkg; here those requests are answered with the viewer's own copy of the
same Leaflet release (site/node_modules), so the example's SRI hashes are checked too. Every other request
off the test server is refused."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from browser_util import need_browser, new_page

ROOT = Path(__file__).resolve().parents[1]
TINY = Path(__file__).parent / "data" / "tiny" / "edges.csv"
EXAMPLE = ROOT / "docs" / "examples" / "embed.html"
LEAFLET = ROOT / "site" / "node_modules" / "leaflet"
UNPKG = re.compile(r"https://unpkg\.com/leaflet@(?P<version>[^/]+)/(?P<path>[^?#]+)")
MODEL = "meta-llama/Meta-Llama-3-8B"
TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png", ".svg": "image/svg+xml"}

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny atlas, with the example page beside it (the same origin, as on a Pages site)."""
    need_browser()
    from atlasgen.pipeline.build import build_atlas

    out = tmp_path_factory.mktemp("embedding") / "atlas"
    build_atlas(TINY, out, seed=0, backend="cpu", progress=False)
    (out / "examples").mkdir()
    shutil.copy(EXAMPLE, out / "examples" / EXAMPLE.name)
    return out


def leaflet_route(base_url: str) -> Any:
    """A Playwright route handler: the test server as is, unpkg's Leaflet from node_modules, nothing else."""
    local = json.loads((LEAFLET / "package.json").read_text(encoding="utf-8"))["version"]

    def handle(route: Any) -> None:
        url = route.request.url
        if url.startswith(base_url + "/"):
            route.continue_()
            return
        match = UNPKG.fullmatch(url)
        file = LEAFLET / match["path"] if match and match["version"] == local else None
        if file is None or not file.is_file():
            route.abort()
            return
        headers = {
            "Access-Control-Allow-Origin": "*"
        }  # SRI on a cross-origin script needs CORS, as unpkg sends
        route.fulfill(path=str(file), headers=headers, content_type=TYPES.get(file.suffix))

    return handle


def test_example_pins_the_viewers_leaflet() -> None:
    if not (LEAFLET / "package.json").is_file():
        need_browser()  # no node_modules: the viewer bundle isn't built either (skips, or fails in CI)
        pytest.skip("site/node_modules is missing: run `make viewer`")
    local = json.loads((LEAFLET / "package.json").read_text(encoding="utf-8"))["version"]
    pinned = {m["version"] for m in UNPKG.finditer(EXAMPLE.read_text(encoding="utf-8"))}
    assert pinned == {local}, f"docs/examples/embed.html loads Leaflet {pinned}; the viewer has {local}"


def test_example_map_loads_atlas_tiles_and_embeds_the_viewer(
    browser: Any, base_url: str, site: Path, shots: Path
) -> None:
    page, watch = new_page(browser)
    page.route("**/*", leaflet_route(base_url))
    atlas = base_url + "/"
    page.goto(f"{base_url}/examples/embed.html?atlas={quote(atlas, safe='')}&model={quote(MODEL, safe='')}")

    # the bare Leaflet map: tiles at the URLs atlas.json's template gives, resolved against the atlas
    tile = page.wait_for_selector("#map img.leaflet-tile-loaded[src*='/tiles/']")
    template = json.loads((site / "atlas.json").read_text(encoding="utf-8"))["layers"][0]["url"]
    pattern = re.escape(atlas + template)
    for part in ("z", "x", "y"):
        pattern = pattern.replace(re.escape("{" + part + "}"), r"\d+")
    src = tile.get_attribute("src") or ""
    assert re.fullmatch(pattern, src), (src, template)
    assert page.locator(".leaflet-control-layers").count() == 1

    # the iframe: the viewer without its chrome, on the model of the link
    viewer = page.frame_locator("#viewer")
    viewer.locator("img.leaflet-tile-loaded[src*='tiles/']").first.wait_for()
    viewer.locator("path.atlas-marker").wait_for()
    assert viewer.locator("body.embed").count() == 1
    assert viewer.locator("#search").is_hidden() and viewer.locator("#embed-credit").is_visible()
    assert page.locator("#status").inner_text() == ""
    page.screenshot(path=str(shots / "embed-example.png"), full_page=True)
    assert watch.problems == []
