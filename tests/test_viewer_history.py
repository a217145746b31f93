"""Links that reopen what you saw: the address bar keeps the open model through a first load and a reload, and
back/forward across three models keeps the URL, the panel and the history entries in step.

The atlas is tests/data/viewer's; the models are opened the way people do, by search or by a pasted link.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pytest
from browser_util import build_viewer_atlas, new_page, settle, wait_panel

INSTRUCT = "meta-llama/Llama-3.1-8B-Instruct"
CHAT_GGUF = "acme/Llama-3.1-8B-Chat-GGUF"
MISTRAL = "mistralai/Mistral-7B-v0.1"
GEMMA = "google/gemma-2b"
SOLO = "solo/standalone-model"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_viewer_atlas(tmp_path_factory.mktemp("history") / "atlas")


def _hash(page: Any) -> dict[str, str]:
    text = page.evaluate("location.hash").lstrip("#")
    return {k: unquote(v) for k, _, v in (p.partition("=") for p in text.split("&") if p)}


def _choose(page: Any, query: str, model_id: str) -> None:
    """Type `query` into the search box and click the result `model_id`."""
    box = page.locator("#search-input")
    box.fill("")
    box.press_sequentially(query, delay=10)
    page.locator("#search-results .result[role=option]", has_text=model_id).first.click()
    wait_panel(page, model_id)


def test_pasted_link_keeps_its_model_in_the_address_bar(browser: Any, base_url: str) -> None:
    page, watch = new_page(browser)
    link = f"{base_url}/#m={quote(INSTRUCT, safe='')}&z=3&x=100.5&y=120.25&l=relation"
    page.goto(link)
    wait_panel(page, INSTRUCT)
    settle(page)
    state = _hash(page)
    assert state["m"] == INSTRUCT
    assert (float(state["z"]), float(state["x"]), float(state["y"])) == (3, 100.5, 120.25)
    page.reload()
    wait_panel(page, INSTRUCT)
    settle(page)
    assert _hash(page)["m"] == INSTRUCT

    # a bare #m= link (no view): the view is added to the URL once the map has flown there, the model stays
    page.goto(f"{base_url}/index.html#m={quote(CHAT_GGUF, safe='')}")
    wait_panel(page, CHAT_GGUF)
    page.wait_for_function("() => location.hash.includes('&z=')")
    settle(page)
    assert _hash(page)["m"] == CHAT_GGUF
    page.reload()
    wait_panel(page, CHAT_GGUF)
    assert watch.problems == []


def test_back_and_forward_across_three_models(browser: Any, base_url: str) -> None:
    page, watch = new_page(browser)
    page.goto(base_url + "/")
    page.wait_for_selector("img.leaflet-tile-loaded[src*='tiles/']")
    settle(page)
    start = page.evaluate("location.hash")
    entries = []
    for query, model_id in [("mistral 7b v0", MISTRAL), ("gemma 2b", GEMMA), ("standalone", SOLO)]:
        _choose(page, query, model_id)
        settle(page)
        assert _hash(page)["m"] == model_id
        entries.append(page.evaluate("location.hash"))

    page.go_back()
    wait_panel(page, GEMMA)
    settle(page)
    assert page.evaluate("location.hash") == entries[1]
    page.reload()  # what the address bar says is what reopens
    wait_panel(page, GEMMA)
    settle(page)
    assert page.evaluate("location.hash") == entries[1]
    page.go_back()
    wait_panel(page, MISTRAL)
    settle(page)
    assert page.evaluate("location.hash") == entries[0]
    page.go_back()
    page.wait_for_selector("#panel", state="hidden")
    settle(page)
    assert page.evaluate("location.hash") == start

    # forward again: the entries were not rewritten on the way back
    for model_id, entry in zip([MISTRAL, GEMMA, SOLO], entries, strict=True):
        page.go_forward()
        wait_panel(page, model_id)
        settle(page)
        assert page.evaluate("location.hash") == entry
    assert watch.problems == []
