"""The viewer's map features in Debian's chromium: ancestry with declared licences, view state in the URL,
share, embed, layers, provenance, the lineage overlay, a phone, and axe-core's accessibility rules.

The atlas is built from tests/data/viewer/ (edges + a node CSV with licences): a licence change along a
fine-tune chain, a merge of two lines, a 16-generation chain and a virtual parent. Screenshots go to
``$ATLAS_SCREENSHOTS`` (or the test's tmp_path).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pandas as pd
import pytest
from browser_util import build_viewer_atlas, new_page, wait_panel

AXE = Path(__file__).resolve().parents[1] / "site" / "node_modules" / "axe-core" / "axe.min.js"
CHAT_GGUF = "acme/Llama-3.1-8B-Chat-GGUF"
MERGE_GGUF = "mixer/Chat-Mistral-Merge-GGUF"
INSTRUCT = "meta-llama/Llama-3.1-8B-Instruct"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_viewer_atlas(tmp_path_factory.mktemp("viewer") / "atlas")


def _hash(page: Any) -> dict[str, str]:
    """The URL hash's parameters, decoded."""
    text = page.evaluate("location.hash").lstrip("#")
    return {k: unquote(v) for k, _, v in (p.partition("=") for p in text.split("&") if p)}


def _open(page: Any, base_url: str, model_id: str, extra: str = "") -> None:
    page.goto(f"{base_url}/{extra}#m={quote(model_id, safe='')}")
    if "embed=1" not in extra:
        wait_panel(page, model_id)


def _ancestry(page: Any) -> Any:
    page.wait_for_selector("#panel .lineage:not([aria-busy]) ol.chain")
    return page.locator("#panel .lineage")


def test_ancestry_shows_path_licences_and_changes(browser: Any, base_url: str, shots: Path) -> None:
    page, watch = new_page(browser)
    _open(page, base_url, CHAT_GGUF)
    section = _ancestry(page)
    text = section.inner_text().lower()
    rows = [t.split("\n")[0] for t in section.locator(".model-link .link-id").all_inner_texts()]
    assert rows == [CHAT_GGUF, "acme/Llama-3.1-8B-Chat", INSTRUCT, "meta-llama/Llama-3.1-8B"]
    assert "3 generations" in text
    assert "quantized from" in text and "fine-tuned from" in text
    licences = section.locator(".link-meta.licence").all_inner_texts()
    assert licences == ["apache-2.0", "apache-2.0", "llama3.1", "llama3.1"]
    changed = section.locator(".hop.changed")
    assert changed.count() == 1
    assert "declared licence changes: llama3.1 → apache-2.0" in changed.inner_text()
    note = section.locator(".licence-note").inner_text()
    assert "llama3.1 → apache-2.0" in note and "not a legal assessment" in note
    assert "root" in section.locator("li").filter(has_text="meta-llama/Llama-3.1-8B").last.inner_text()
    page.screenshot(path=str(shots / "viewer-ancestry.png"))

    # an ancestor row opens that model
    section.get_by_role("button", name=f"{INSTRUCT}, Fine-tune").click()
    wait_panel(page, INSTRUCT)

    # a merge: each parent line up to its root, with the licence change on the line that has one
    _open(page, base_url, MERGE_GGUF)
    section = _ancestry(page)
    assert section.locator(".branch").count() == 2
    ids = [t.split("\n")[0] for t in section.locator(".model-link .link-id").all_inner_texts()]
    assert "mistralai/Mistral-7B-v0.1" in ids and "meta-llama/Llama-3.1-8B" in ids
    note = section.locator(".licence-note").inner_text()
    assert "llama3.1 → apache-2.0" in note and "apache-2.0 → mit" in note
    page.screenshot(path=str(shots / "viewer-merge.png"))

    # a deep chain is cut at 12 generations, saying so
    _open(page, base_url, "deep/gen-15")
    section = _ancestry(page)
    assert section.locator(".model-link").count() == 13
    assert "beyond 12" in section.inner_text().lower()
    assert watch.problems == []


def test_view_state_round_trips_through_url_and_history(browser: Any, base_url: str) -> None:
    page, watch = new_page(browser)
    page.goto(f"{base_url}/#z=2&x=100&y=120&l=relation")
    page.wait_for_selector("img.leaflet-tile-loaded[src*='tiles/']")
    view = page.evaluate("document.querySelector('#map') && location.hash")
    state = _hash(page)
    assert float(state["z"]) == 2 and float(state["x"]) == 100 and float(state["y"]) == 120, view

    # zooming is written back into the hash (replacing, not adding, history entries)
    length = page.evaluate("history.length")
    page.locator(".leaflet-control-zoom-in").click()
    page.wait_for_function("() => location.hash.includes('z=2.5')")
    assert page.evaluate("history.length") == length

    # opening a model is a new entry; the view it was left at comes back with it
    page.locator("#search-input").fill("chat gguf")
    page.wait_for_selector("#search-results:not([hidden]) .result[role=option]")
    page.locator("#search-input").press("Enter")
    wait_panel(page, CHAT_GGUF)
    page.wait_for_function("() => !document.querySelector('.leaflet-zoom-anim')")
    page.wait_for_timeout(1000)  # the fly to the model ends
    opened = _hash(page)
    assert opened["m"] == CHAT_GGUF and float(opened["z"]) >= 2.5
    page.keyboard.press("Escape")  # the search box keeps the first Escape: it clears the box
    page.keyboard.press("Escape")
    page.wait_for_selector("#panel", state="hidden")
    assert "m" not in _hash(page)
    page.go_back()
    wait_panel(page, CHAT_GGUF)
    back = _hash(page)
    assert back == opened
    page.go_back()
    page.wait_for_selector("#panel", state="hidden")
    assert float(_hash(page)["z"]) == 2.5

    # a shared link with a view opens the model at that view, not at the model
    page.goto(f"{base_url}/index.html#m={quote(INSTRUCT, safe='')}&z=1&x=60&y=70")
    wait_panel(page, INSTRUCT)
    centre = page.evaluate(
        "(() => { const p = new URLSearchParams(location.hash.slice(1)); return [p.get('z'), p.get('x')]; })()"
    )
    assert float(centre[0]) == 1 and float(centre[1]) == 60
    assert watch.problems == []


def test_share_copies_link_or_shows_it(browser: Any, base_url: str, shots: Path) -> None:
    page, watch = new_page(browser, permissions=["clipboard-read", "clipboard-write"])
    _open(page, base_url, INSTRUCT)
    page.get_by_role("button", name="Share").click()
    page.wait_for_function("() => document.querySelector('#share').dataset.state === 'copied'")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.evaluate("location.href")
    assert f"m={quote(INSTRUCT, safe='')}" in copied and "&z=" in copied
    assert watch.problems == []

    # no clipboard: the link shows selected in a read-only field, and Escape puts it away
    page, watch = new_page(browser)
    page.add_init_script("Object.defineProperty(navigator, 'clipboard', { value: undefined })")
    _open(page, base_url, INSTRUCT)
    page.get_by_role("button", name="Share").click()
    field = page.locator("#share-link")
    field.wait_for()
    assert field.get_attribute("readonly") is not None
    assert field.input_value() == page.evaluate("location.href")
    assert page.evaluate(
        "(() => { const f = document.activeElement; return f.id === 'share-link' "
        "&& f.selectionStart === 0 && f.selectionEnd === f.value.length; })()"
    )
    page.screenshot(path=str(shots / "viewer-share.png"))
    page.keyboard.press("Escape")
    field.wait_for(state="detached")
    assert page.locator("#panel").is_visible()  # the first Escape only closed the share box
    assert watch.problems == []


def test_embed_hides_chrome(browser: Any, base_url: str, shots: Path) -> None:
    page, watch = new_page(browser, 800, 450)
    _open(page, base_url, CHAT_GGUF, extra="?embed=1")
    page.wait_for_selector("img.leaflet-tile-loaded[src*='tiles/']")
    page.wait_for_selector("path.atlas-marker")
    for chrome in ["header.topbar", "#panel", "#legend", "#footer", "#search-input"]:
        assert not page.locator(chrome).is_visible(), chrome
    credit = page.locator("#embed-credit")
    assert credit.is_visible()
    href = credit.get_attribute("href")
    assert href is not None and "embed" not in href and quote(CHAT_GGUF, safe="") in href
    page.screenshot(path=str(shots / "viewer-embed.png"))
    assert watch.problems == []


def test_layer_switcher(browser: Any, base_url: str, site: Path) -> None:
    layers = json.loads((site / "atlas.json").read_text())["layers"]
    bases = [lay for lay in layers if not lay.get("overlay")]
    page, watch = new_page(browser)
    page.goto(base_url + "/")
    page.wait_for_selector("img.leaflet-tile-loaded[src*='tiles/']")
    radios = page.locator("#legend input[name=base-layer]")
    assert radios.count() == len(bases)
    assert [page.locator("#legend .layer-title").nth(i).inner_text() for i in range(len(bases))] == [
        lay["title"] for lay in bases
    ]
    assert radios.first.is_checked()
    assert page.locator("#legend-list li").count() == len(bases[0]["legend"])

    # keyboard: Tab reaches the switcher, arrows move through the base layers, the URL follows
    radios.first.focus()
    assert page.evaluate("document.activeElement.name") == "base-layer"
    if len(bases) > 1:
        page.keyboard.press("ArrowDown")
        assert radios.nth(1).is_checked()
        page.wait_for_function("id => location.hash.includes('l=' + id)", arg=bases[1]["id"])
        page.wait_for_selector(f"img.leaflet-tile-loaded[src*='tiles/{bases[1]['id']}/']")
    toggle = page.locator("#legend .legend-toggle")
    toggle.focus()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert not radios.first.is_visible()
    page.keyboard.press("Space")
    assert radios.first.is_visible()
    assert watch.problems == []


def test_provenance_panel(browser: Any, base_url: str, shots: Path) -> None:
    page, watch = new_page(browser)
    page.goto(base_url + "/")
    button = page.get_by_role("button", name="About & provenance")
    button.click()
    dialog = page.locator("dialog#about")
    dialog.wait_for()
    text = dialog.inner_text()
    assert "31" in text and "26" in text  # models, edges
    assert "Virtual parents\n1" in text
    assert "6 (19.4%)" in text  # without documented lineage
    assert "missing parents added as virtual" in text
    assert "Merge\n2" in text and "Fine-tune\n19" in text
    assert "atlasgen 0.1.0" in text and "edges.csv" in text
    page.screenshot(path=str(shots / "viewer-provenance.png"))
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    assert page.evaluate("document.activeElement.textContent") == "About & provenance"
    assert watch.problems == []


def test_lineage_overlay(browser: Any, base_url: str, shots: Path) -> None:
    page, watch = new_page(browser)
    _open(page, base_url, INSTRUCT)
    page.wait_for_selector("path.lineage-edge.ancestor", state="attached")
    assert page.locator("path.lineage-edge.descendant").count() >= 4  # children and grandchildren
    note = page.locator("#overlay-note")
    assert "1 ancestor" in note.inner_text()
    page.locator("#overlay-note").get_by_role("button", name="Fit").click()
    page.wait_for_timeout(1200)
    page.screenshot(path=str(shots / "viewer-overlay.png"))

    # the × hides it, the panel's toggle brings it back, Escape dismisses it with the panel
    note.get_by_role("button", name="Hide lineage on map").click()
    assert page.locator("path.lineage-edge").count() == 0
    toggle = page.locator("#panel .overlay-toggle")
    assert toggle.get_attribute("aria-pressed") == "false"
    toggle.click()
    page.wait_for_selector("path.lineage-edge", state="attached")
    page.keyboard.press("Escape")
    page.wait_for_selector("#panel", state="hidden")
    assert page.locator("path.lineage-edge").count() == 0
    assert not note.is_visible()
    assert watch.problems == []


def test_phone_is_usable(browser: Any, base_url: str, shots: Path) -> None:
    page, watch = new_page(browser, 375, 740, is_mobile=True, has_touch=True, device_scale_factor=2)
    _open(page, base_url, MERGE_GGUF)
    _ancestry(page)
    page.wait_for_selector("img.leaflet-tile-loaded[src*='tiles/']")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    panel = page.locator("#panel").bounding_box()
    assert panel["width"] == 375 and panel["y"] + panel["height"] == pytest.approx(740, abs=1)
    page.screenshot(path=str(shots / "viewer-phone.png"))
    # every control in view is at least 24 px in its smaller dimension (WCAG 2.5.8)
    small = page.evaluate(
        """[...document.querySelectorAll('button, input, a[href]')]
             .filter(e => e.offsetParent && e.closest('#panel, header, #legend'))
             .map(e => [e.getBoundingClientRect(), e.textContent || e.getAttribute('aria-label')])
             .filter(([r]) => r.width > 0 && Math.min(r.width, r.height) < 24).map(([, t]) => t)"""
    )
    assert small == []
    page.locator("#panel").get_by_role("button", name="Close details").tap()
    page.wait_for_selector("#panel", state="hidden")
    page.locator("#legend .legend-toggle").tap()
    page.wait_for_selector("#legend input[name=base-layer]")
    page.screenshot(path=str(shots / "viewer-phone-legend.png"))
    assert watch.problems == []


def _axe(page: Any) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, { resultTypes: ['violations'] })")
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_axe_finds_no_serious_violations(browser: Any, base_url: str) -> None:
    if not AXE.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{AXE} is missing: run `npm --prefix site ci`")
        pytest.skip("axe-core not installed: run `npm --prefix site ci`")
    page, watch = new_page(browser, bypass_csp=True)  # axe is injected as an inline script
    page.goto(base_url + "/")
    page.wait_for_selector("img.leaflet-tile-loaded[src*='tiles/']")
    assert _axe(page) == []
    _open(page, base_url, MERGE_GGUF)
    _ancestry(page)
    page.wait_for_selector("path.lineage-edge", state="attached")
    assert _axe(page) == []
    page.get_by_role("button", name="About & provenance").click()
    page.locator("dialog#about").wait_for()
    assert _axe(page) == []
    assert watch.problems == []


def _label_boxes(page: Any) -> list[dict[str, float]]:
    return page.evaluate(
        """[...document.querySelectorAll('.atlas-label:not(.clash) .atlas-label-text')].map(e => {
             const r = e.getBoundingClientRect();
             return { text: e.textContent, left: r.left, right: r.right, top: r.top, bottom: r.bottom };
           })"""
    )


def test_labels_show_without_overlaps(browser: Any, base_url: str, site: Path, shots: Path) -> None:
    page, watch = new_page(browser)
    page.goto(base_url + "/")
    page.wait_for_selector(".atlas-label:not(.clash) .atlas-label-text")
    page.wait_for_timeout(300)
    boxes = _label_boxes(page)
    labels = json.loads((site / "data" / "labels.json").read_text(encoding="utf-8"))
    texts = [b["text"] for b in boxes]
    # the best known family first: a root with 900k downloads and 6 descendants, before the 16-model chain
    # whose root has 1,000
    assert labels["labels"][0][1] == "Llama-3.1-8B" and "Llama-3.1-8B" in texts
    assert (
        labels["labels"][1][1] == "Llama-3.1-8B-Instruct"
    )  # then the most downloaded model (shown closer in)
    assert "No documented lineage · 2 models" in texts
    ui = page.evaluate(
        """[...document.querySelectorAll('.chrome:not([hidden]), .leaflet-control')].map(e => {
             const r = e.getBoundingClientRect();
             return { left: r.left, right: r.right, top: r.top, bottom: r.bottom };
           }).filter(r => r.right > r.left)"""
    )

    def meet(a: dict[str, float], b: dict[str, float]) -> bool:
        return (
            a["left"] < b["right"]
            and b["left"] < a["right"]
            and a["top"] < b["bottom"]
            and b["top"] < a["bottom"]
        )

    for i, a in enumerate(boxes):
        assert not any(meet(a, b) for b in boxes[i + 1 :]), a
        assert not any(meet(a, r) for r in ui), a
    # labels never take a click: the map underneath gets it
    assert (
        page.evaluate("getComputedStyle(document.querySelector('.atlas-label-text')).pointerEvents") == "none"
    )
    page.screenshot(path=str(shots / "viewer-labels.png"))
    assert (site / "data" / "labels.json").stat().st_size < 30_000
    assert watch.problems == []


def test_hover_shows_nearest_model(browser: Any, base_url: str, site: Path, shots: Path) -> None:
    positions = pd.read_parquet(site / "positions.parquet")
    row = positions[positions["id"] == INSTRUCT].iloc[0]
    page, watch = new_page(browser)
    page.goto(f"{base_url}/#z=5&x={row['x']}&y={row['y']}")
    page.wait_for_selector(".closeup-name")  # this small atlas's tiles end at zoom 2: the close-up draws here
    centre = page.evaluate(
        """(() => { const r = document.querySelector('#map').getBoundingClientRect();
             return [r.left + r.width / 2, r.top + r.height / 2]; })()"""
    )
    page.mouse.move(centre[0] + 40, centre[1] + 40)
    page.mouse.move(centre[0] + 2, centre[1] + 1, steps=4)
    page.wait_for_selector(".hover-tip:not([hidden])")
    assert page.locator(".hover-tip .hover-id").inner_text() == INSTRUCT
    assert page.locator(".hover-tip .hover-rel").inner_text() == "Fine-tune"
    page.screenshot(path=str(shots / "viewer-hover.png"))
    # moving about the same cell asks for nothing new; leaving the map hides the tip
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.mouse.move(centre[0] + 3, centre[1] - 2, steps=3)
    page.wait_for_timeout(200)
    assert [u for u in requests if "/data/" in u] == []
    page.mouse.move(centre[0] + 300, centre[1] + 200, steps=5)  # empty space far from anything: no errors
    page.wait_for_timeout(200)
    page.dispatch_event("#map", "pointerleave")
    page.wait_for_selector(".hover-tip", state="hidden")
    assert watch.problems == []
