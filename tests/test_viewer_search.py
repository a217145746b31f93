"""Search that finds what you typed, on the embedded real sample: an exact id comes first (then an exact name
without its owner) and Enter opens it, even pressed before the results show; words match in any order (every
model with all of them, most downloaded first, ties in id order); on a slow link typing shows something at
once and fetches nothing twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from browser_util import new_page, wait_panel

pytestmark = pytest.mark.browser

WORD_ORDERS = ["llama 3.1 8b gguf", "8b gguf llama", "gguf llama 3 8b", "GGUF 8B Llama 3.1"]
# Each is outranked by downloads by a relative that contains it (-Instruct, -mini-instruct, -Chat-GGUF).
EXACT_IDS = ["Qwen/Qwen2.5-7B", "meta-llama/Llama-3.1-8B", "microsoft/phi-4", "TheBloke/Llama-2-7B-GGUF"]


@pytest.fixture(scope="module")
def site(sample_atlas: Path) -> Path:
    return sample_atlas


def _results(page: Any, text: str) -> list[str]:
    box = page.locator("#search-input")
    box.fill("")
    box.press_sequentially(text, delay=5)
    return _shown(page, text)


def _shown(page: Any, text: str) -> list[str]:
    """The ids listed once the results of `text` (not of a shorter prefix) are shown."""
    page.wait_for_function(
        "q => document.querySelector('#search-results:not([hidden])')?.dataset.query === q", arg=text
    )
    return page.locator("#search-results .result-id").all_inner_texts()


@pytest.mark.parametrize("model_id", EXACT_IDS)
def test_exact_id_then_enter_opens_it(browser: Any, base_url: str, model_id: str) -> None:
    page, watch = new_page(browser)
    page.goto(base_url + "/")
    box = page.locator("#search-input")
    box.press_sequentially(model_id, delay=5)
    box.press("Enter")  # at once: the results of a shorter prefix may still be on screen
    wait_panel(page, model_id)
    assert _results(page, model_id)[0] == model_id
    assert _results(page, model_id.lower())[0] == model_id  # ids are typed in any case
    assert watch.problems == []


def test_exact_name_without_owner_comes_next(browser: Any, base_url: str, site: Path) -> None:
    positions = pd.read_parquet(site / "positions.parquet", columns=["id", "downloads"])
    names = positions["id"].str.split("/").str[-1].str.lower()
    page, watch = new_page(browser)
    page.goto(base_url + "/")
    for name in ["Qwen2.5-7B", "phi-4", "llama-3.1-8b"]:
        same = positions[names == name.lower()].sort_values("downloads", ascending=False, na_position="last")
        shown = _results(page, name)
        assert shown[0] == same["id"].iloc[0], name
        # every exact name ahead of any model that only starts with it
        exact = [i for i in shown if i.split("/")[-1].lower() == name.lower()]
        assert shown[: len(exact)] == exact, name
    page.locator("#search-input").press("Enter")
    wait_panel(page, "meta-llama/Llama-3.1-8B")
    assert watch.problems == []


def test_typing_on_a_slow_link_narrows_at_once_and_reuses_fetches(browser: Any, base_url: str) -> None:
    page, watch = new_page(browser)
    page.goto(base_url + "/")
    page.wait_for_selector("img.leaflet-tile-loaded[src*='tiles/']")
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(  # a slow mobile link: no answer from the server comes back within 400 ms
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 400, "downloadThroughput": 200_000, "uploadThroughput": 100_000},
    )
    requests: list[str] = []
    page.on("request", lambda r: "/data/" in r.url and requests.append(r.url))
    page.locator("#search-input").press_sequentially("mistral", delay=30)
    page.wait_for_selector("#search-results .searching", timeout=2000)  # said while waiting
    first = _shown(page, "mistral")
    assert first and all("mistral" in i.lower() for i in first)

    # one more word: what is shown narrows to the results that still match at once, and says it is searching
    page.locator("#search-input").press_sequentially(" instr", delay=30)
    page.wait_for_function(
        """() => { const list = document.querySelector('#search-results');
             const ids = [...list.querySelectorAll('.result-id')].map(e => e.textContent.toLowerCase());
             return list.querySelector('.searching') && ids.length && ids.every(i => i.includes('instr')); }""",
        timeout=300,
    )
    final = _shown(page, "mistral instr")
    assert final and all("mistral" in i.lower() and "instr" in i.lower() for i in final)
    assert page.locator("#search-results .searching").count() == 0
    assert len(requests) == len(set(requests))  # nothing fetched twice
    assert watch.problems == []


def _all_words(positions: pd.DataFrame, query: str) -> list[str]:
    """Brute force: the ids having every whole word and, for the last word, a token it starts; ranked by
    downloads (unknown last), then id."""
    from atlasgen.index.search import tokens

    *whole, last = tokens(query)
    own = positions["id"].map(lambda i: tokens(i))
    hit = own.map(lambda t: set(whole) <= set(t) and any(x.startswith(last) for x in t))
    found = positions[hit].assign(d=positions["downloads"].fillna(-1))
    return found.sort_values(["d", "id"], ascending=[False, True])["id"].tolist()


def test_words_match_in_any_order(browser: Any, base_url: str, site: Path) -> None:
    positions = pd.read_parquet(site / "positions.parquet", columns=["id", "downloads"])
    page, watch = new_page(browser)
    page.goto(base_url + "/")
    shown = {query: _results(page, query) for query in WORD_ORDERS}
    for query, ids in shown.items():
        assert ids == _all_words(positions, query)[:10], query
        builds = [i for i in ids if i.endswith("/Meta-Llama-3.1-8B-Instruct-GGUF")]
        assert len(builds) >= 3, query  # the popular builds that match every word, whatever their order
    assert watch.problems == []
