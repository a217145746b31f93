"""The viewer in Debian's chromium: tiles, search, details panel, deep links, history, picking, hostile ids.

The atlas is built from tests/data/tiny/edges.csv through the real pipeline, with the index's file sizes
shrunk so that the viewer has to descend the search tree, read several detail chunks, names blocks and
separator files, and pick
among several cells. Screenshots go to ``$ATLAS_SCREENSHOTS`` (or the test's tmp_path).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from browser_util import need_browser, new_page, served, wait_panel

TINY = Path(__file__).parent / "data" / "tiny" / "edges.csv"
HOSTILE = 'evil/"><img src=x onerror=alert(1)>'
INSTRUCT = "meta-llama/Meta-Llama-3-8B-Instruct"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    need_browser()
    from atlasgen.index.writer import Sizes
    from atlasgen.pipeline.build import build_atlas

    out = tmp_path_factory.mktemp("browser") / "atlas"
    small = Sizes(leaf_max=4, top=3, chunk=8, names_block=5, names_group=2, children_cap=50, pick_max=4)
    build_atlas(TINY, out, seed=0, backend="cpu", progress=False, index_sizes=small)  # shards of a few models
    assert json.loads((out / "atlas.json").read_text(encoding="utf-8"))["data"]["names"]["block"] == 5
    return out


def _panel_id(page: Any) -> str:
    return page.locator("#panel h2.model-id").inner_text()


def _search(page: Any, text: str) -> None:
    box = page.locator("#search-input")
    box.fill("")
    box.press_sequentially(text, delay=15)
    page.wait_for_function(
        "q => document.querySelector('#search-results:not([hidden])')?.dataset.query === q", arg=text
    )


def test_search_panel_deep_link_history(browser: Any, base_url: str, shots: Path) -> None:
    page, watch = new_page(browser)
    page.goto(base_url + "/")
    page.wait_for_selector("img.leaflet-tile-loaded[src*='tiles/']")
    assert "35 models" in page.locator("#footer").inner_text()
    assert page.locator("#legend li").count() >= 5
    page.screenshot(path=str(shots / "overview.png"))

    _search(page, "llama")
    page.screenshot(path=str(shots / "search.png"))
    _search(page, "hermes 2 pro gguf")
    first = page.locator("#search-results .result[role=option]").first
    assert first.locator(".result-id").inner_text() == "NousResearch/Hermes-2-Pro-Llama-3-8B-GGUF"
    page.locator("#search-input").press("Enter")
    wait_panel(page, "NousResearch/Hermes-2-Pro-Llama-3-8B-GGUF")
    # the hash leads with the model; the view (z, x, y, layer) follows it
    assert page.evaluate("location.hash").split("&")[0] == "#m=" + quote(
        "NousResearch/Hermes-2-Pro-Llama-3-8B-GGUF", safe=""
    )

    # keyboard navigation: ↓ moves the selection, Enter opens it
    _search(page, "mistral 7b instruct")
    options = page.locator("#search-results .result[role=option]")
    assert options.count() >= 3
    second = options.nth(1).locator(".result-id").inner_text()
    page.locator("#search-input").press("ArrowDown")
    assert options.nth(1).get_attribute("aria-selected") == "true"
    page.locator("#search-input").press("Enter")
    wait_panel(page, second)

    # deep link on load, then a child link, then back
    page.goto(base_url + "/index.html#m=" + quote(INSTRUCT, safe=""))
    wait_panel(page, INSTRUCT)
    panel = page.locator("#panel")
    assert (
        panel.locator("a").first.get_attribute("href")
        == "https://huggingface.co/meta-llama/Meta-Llama-3-8B-Instruct"
    )
    assert "Fine-tune" in panel.inner_text()
    panel.get_by_role("button", name="bartowski/Meta-Llama-3-8B-Instruct-GGUF").click()
    wait_panel(page, "bartowski/Meta-Llama-3-8B-Instruct-GGUF")
    page.wait_for_selector("#panel .lineage:not([hidden])")
    page.screenshot(path=str(shots / "panel.png"))
    page.go_back()
    wait_panel(page, INSTRUCT)
    parent = page.locator("#panel").get_by_role("button", name="meta-llama/Meta-Llama-3-8B, Fine-tune")
    parent.click()
    wait_panel(page, "meta-llama/Meta-Llama-3-8B")

    # Escape closes the panel and takes the model out of the hash (the view stays in it)
    page.keyboard.press("Escape")
    page.wait_for_selector("#panel", state="hidden")
    assert "m=" not in page.evaluate("location.hash")
    page.go_back()  # closing was a history entry too
    wait_panel(page, "meta-llama/Meta-Llama-3-8B")
    assert watch.problems == []


def test_first_view_is_small(site: Path) -> None:
    first_view = ["index.html", "app.js", "app.css", "favicon.svg", "atlas.json"]
    assert sum((site / name).stat().st_size for name in first_view) < 300_000


def test_click_on_map_picks_nearest_model(browser: Any, base_url: str) -> None:
    page, watch = new_page(browser)
    page.goto(base_url + "/#m=" + quote("Qwen/Qwen2-7B-Instruct", safe=""))
    wait_panel(page, "Qwen/Qwen2-7B-Instruct")
    page.wait_for_timeout(300)
    box = page.locator("path.atlas-marker").bounding_box()
    page.keyboard.press("Escape")
    page.wait_for_selector("#panel", state="hidden")
    page.mouse.click(box["x"] + box["width"] / 2 + 2, box["y"] + box["height"] / 2 - 2)
    wait_panel(page, "Qwen/Qwen2-7B-Instruct")
    assert page.locator("path.atlas-marker").count() == 1
    assert watch.problems == []


def test_hostile_id_is_text(browser: Any, base_url: str, shots: Path) -> None:
    page, watch = new_page(browser)
    page.goto(base_url + "/")
    _search(page, "evil")
    texts = page.locator("#search-results .result-id").all_inner_texts()
    assert HOSTILE in texts
    page.locator("#search-results .result", has_text="onerror").first.click()
    wait_panel(page, HOSTILE)
    assert page.locator("#panel img, #search img").count() == 0
    href = page.locator("#panel h2 a").get_attribute("href")
    # encodeURIComponent of each path part (it leaves !'()*~ alone)
    assert href == "https://huggingface.co/evil/" + quote('"><img src=x onerror=alert(1)>', safe="!'()*~")
    page.get_by_role("button", name="evil/child-of-'quotes'-model").click()
    wait_panel(page, "evil/child-of-'quotes'-model")

    unicode_id = "ünïcode/モデル-ja-\u202ertl\u202c-test"
    page.goto(base_url + "/index.html#m=" + quote(unicode_id, safe=""))
    wait_panel(page, unicode_id)
    page.goto(base_url + "/index.html#m=" + quote("no/such-model", safe=""))
    # the open model's panel has notes of its own (a root's "No documented parent"): wait for the message
    page.locator("#panel .note", has_text="not in the atlas").wait_for()
    assert "not in the atlas" in page.locator("#panel").inner_text()
    assert unicode_id not in page.locator("#panel").inner_text()
    page.screenshot(path=str(shots / "hostile.png"))
    assert watch.problems == []


def test_phone_layout(browser: Any, base_url: str, shots: Path) -> None:
    page, watch = new_page(browser, 375, 740)
    page.goto(base_url + "/#m=" + quote(INSTRUCT, safe=""))
    wait_panel(page, INSTRUCT)
    page.wait_for_selector("img.leaflet-tile-loaded[src*='tiles/']")
    panel = page.locator("#panel").bounding_box()
    assert panel["width"] == 375
    assert panel["y"] + panel["height"] == pytest.approx(740, abs=1)
    page.screenshot(path=str(shots / "phone.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert watch.problems == []


def test_real_sample_search_and_deep_link(browser: Any, sample_atlas: Path) -> None:
    """On the embedded sample: the map loads, a word-part query finds a real model, its panel and link work."""
    with served(sample_atlas) as url:
        page, watch = new_page(browser)
        page.goto(url + "/")
        page.wait_for_selector("img.leaflet-tile-loaded[src*='tiles/']")
        assert "29,075 models" in page.locator("#footer").inner_text()
        _search(page, "llama 3 8b gguf")
        ids = page.locator("#search-results .result-id").all_inner_texts()
        assert ids and all("gguf" in i.lower() and "llama" in i.lower() for i in ids[:5])
        page.locator("#search-input").press("Enter")
        wait_panel(page, ids[0])
        page.reload()
        wait_panel(page, ids[0])
        assert "Quantization" in page.locator("#panel").inner_text()
        assert watch.problems == []
