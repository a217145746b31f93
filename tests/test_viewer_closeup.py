"""Every model named up close: site/src/placement.js places names without overlaps, the open model's first and
off its ring, clear of the page's cards, and shortens or drops only what fits nowhere.

The placement runs as an ES module in chromium, on made-up points (no atlas needed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_util import new_page, served

SRC = Path(__file__).resolve().parents[1] / "site" / "src"
RING = 13

pytestmark = pytest.mark.browser

# 150 points spread over a 1280 x 800 map (seeded), a tight cluster of 12 around (600, 400) whose first point
# is the open model (drawn with its ring), and a panel card on the right.
PLACE = """async (ring) => {
  const { placeLabels } = await import('/placement.js');
  let seed = 7;
  const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const items = [];
  for (let i = 0; i < 12; i += 1) {
    items.push({ key: `c${i}`, x: 600 + 30 * Math.cos(i) * (i / 12), y: 400 + 30 * Math.sin(i) * (i / 12),
                 r: i === 0 ? ring : 4, solid: i === 0, text: `cluster/Model-${i}-Instruct-GGUF` });
  }
  for (let i = 0; i < 150; i += 1) {
    items.push({ key: `p${i}`, x: random() * 1280, y: random() * 800, r: 3, text: `owner/model-${i}-${'x'.repeat(i % 17)}` });
  }
  const panel = { left: 900, top: 10, right: 1270, bottom: 700 };
  const args = { frame: { left: 0, top: 0, right: 1280, bottom: 800 }, obstacles: [panel],
                 measure: (t) => 6.5 * t.length, height: 14 };
  const first = placeLabels(items, args);
  const again = placeLabels(items, args);
  return { items, panel, placed: first, same: JSON.stringify(first) === JSON.stringify(again) };
}"""


def _meet(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["left"] < b["right"]
        and b["left"] < a["right"]
        and a["top"] < b["bottom"]
        and b["top"] < a["bottom"]
    )


def _box(p: dict[str, Any]) -> dict[str, float]:
    return {
        "left": p["left"],
        "top": p["top"],
        "right": p["left"] + p["width"],
        "bottom": p["top"] + p["height"],
    }


def test_names_never_overlap_and_the_open_model_comes_first(browser: Any) -> None:
    with served(SRC, site=False) as url:
        page, watch = new_page(browser)
        page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
        page.goto(url + "/placement.js")
        out = page.evaluate(PLACE, RING)
    assert out["same"]  # deterministic
    placed, panel = out["placed"], out["panel"]
    boxes = [_box(p) for p in placed]
    for i, a in enumerate(boxes):
        assert a["left"] >= 0 and a["right"] <= 1280 and a["top"] >= 0 and a["bottom"] <= 800
        assert not _meet(a, panel)
        assert not any(_meet(a, b) for b in boxes[i + 1 :]), placed[i]
    # the open model is named, in full, beside its ring and not on it
    assert placed[0]["key"] == "c0" and placed[0]["text"] == "cluster/Model-0-Instruct-GGUF"
    centre = next(it for it in out["items"] if it["key"] == "c0")
    ring = {
        "left": centre["x"] - RING,
        "top": centre["y"] - RING,
        "right": centre["x"] + RING,
        "bottom": centre["y"] + RING,
    }
    assert not _meet(boxes[0], ring)
    assert not any(_meet(ring, b) for b in boxes[1:])
    # outside the card, nearly every point is named; what is shortened ends in an ellipsis
    visible = [
        it
        for it in out["items"]
        if not (panel["left"] <= it["x"] <= panel["right"] and it["y"] <= panel["bottom"])
    ]
    named = {p["key"] for p in placed}
    assert len(named & {it["key"] for it in visible}) >= 0.8 * len(visible)
    texts = {it["key"]: it["text"] for it in out["items"]}
    assert all(p["text"] == texts[p["key"]] or p["text"].endswith("…") for p in placed)
    assert watch.problems == []
