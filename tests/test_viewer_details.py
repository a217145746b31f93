"""The viewer's smaller manners (issue 14, "Smaller, each seen"): the legend keeps the switches still when the
layer changes and shows every entry without a scroll; Escape gives focus back to where it came from; the
search box lets go of a model once another is open or none is; ?embed=1 has zoom buttons.

The atlas is tests/data/viewer's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_util import build_viewer_atlas, new_page, settle, wait_panel

INSTRUCT = "meta-llama/Llama-3.1-8B-Instruct"
CHAT = "acme/Llama-3.1-8B-Chat"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_viewer_atlas(tmp_path_factory.mktemp("details") / "atlas")


def test_legend_keeps_the_switches_still_and_shows_every_entry(browser: Any, base_url: str) -> None:
    page, watch = new_page(browser)
    page.goto(base_url + "/#z=2&x=110&y=120")  # where the links overlay has tiles
    page.wait_for_selector("#legend input[name=base-layer]")
    radio = page.locator("#legend input[name=base-layer]").first
    where = [radio.bounding_box()["y"]]
    for value in ["task", "licence", "relation"]:
        page.locator(f"#legend input[value={value}]").check()
        where.append(radio.bounding_box()["y"])
        page.locator("#legend input[type=checkbox]").first.set_checked(value != "relation")
        where.append(radio.bounding_box()["y"])
        # every entry of the legend in view, none behind a scroll
        assert page.evaluate(
            "['#legend-list', '#legend-body'].every(s => (e => e.scrollHeight <= e.clientHeight + 1)"
            "(document.querySelector(s)))"
        ), value
    assert max(where) - min(where) < 1, where
    assert watch.problems == []


def test_escape_gives_focus_back_and_the_search_box_lets_go(browser: Any, base_url: str) -> None:
    page, watch = new_page(browser)
    page.goto(base_url + "/")
    box = page.locator("#search-input")
    box.press_sequentially("llama 3.1 8b chat", delay=5)
    page.locator("#search-results .result[role=option]", has_text=CHAT).first.click()
    wait_panel(page, CHAT)
    assert box.input_value() == CHAT
    # a link in the panel opens another model: the box no longer names the one before
    page.locator("#panel").get_by_role("button", name=f"{INSTRUCT}, Fine-tune").click()
    wait_panel(page, INSTRUCT)
    assert box.input_value() == ""
    # Escape closes the panel and focus goes back to the search box it all started from, not the page
    page.keyboard.press("Escape")
    page.wait_for_selector("#panel", state="hidden")
    assert page.evaluate("document.activeElement.id") == "search-input"

    # opened from the map: Escape gives focus back to the map
    page.locator("#map").focus()
    page.goto(f"{base_url}/#m={INSTRUCT.replace('/', '%2F')}")
    wait_panel(page, INSTRUCT)
    page.locator("#panel .model-link").first.focus()
    page.keyboard.press("Escape")
    page.wait_for_selector("#panel", state="hidden")
    assert page.evaluate("document.activeElement.id") == "map"
    assert watch.problems == []


def test_embed_has_zoom_buttons(browser: Any, base_url: str) -> None:
    page, watch = new_page(browser, 800, 450)
    page.goto(base_url + "/?embed=1#z=1&x=110&y=120")
    page.wait_for_selector("img.leaflet-tile-loaded[src*='tiles/']")
    settle(page)
    zoom_in = page.get_by_role("button", name="Zoom in")
    assert zoom_in.is_visible()
    zoom_in.click()
    page.wait_for_function("() => location.hash.includes('z=1.5')")
    assert watch.problems == []
