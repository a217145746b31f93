"""The lineage overlay is reproducible: the same model gives the same drawing and the same "+N more not drawn",
whatever order the detail chunks arrive in, and a model with several parents is counted once.

site/src/lineage.js runs as an ES module in chromium against a made-up lineage whose lookups answer after
random delays; then the real viewer draws the overlay three times with every fetch delayed at random.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from browser_util import build_viewer_atlas, new_page, served, settle, wait_panel

SRC = Path(__file__).resolve().parents[1] / "site" / "src"
INSTRUCT = "meta-llama/Llama-3.1-8B-Instruct"
# Every fetch waits a random while first, so chunks arrive in a different order on each load.
SHUFFLE_FETCHES = """(() => { const f = window.fetch.bind(window);
  window.fetch = (...a) => new Promise((r) => setTimeout(r, Math.random() * 60)).then(() => f(...a)); })()"""

pytestmark = pytest.mark.browser

# A root (0) with 50 listed children (1..50) and 5 more unlisted; child i has two children of its own
# (100 + 2i, 101 + 2i); children 1 and 2 share a merge child (998), children 40..50 another (999). With 120
# drawn at most: 50 children, then the first 70 of the 102 distinct grandchildren in listing order (998 among
# them, with both its parent lines); left out: 32 grandchildren (999 once, not 11 times) + 5 unlisted, and
# below the drawn generations, 5000, a merge of grandchildren 102 and 104, once: 38.
DESCENDANTS = """async () => {
  const { descendants } = await import('/lineage.js');
  const models = new Map();
  const add = (vertex, children, extra = 0) => models.set(vertex, {
    vertex, children: children.map((v) => [v, `m/${v}`, v >= 998 ? 'merge' : 'finetune', null]),
    children_total: children.length + extra });
  add(0, Array.from({ length: 50 }, (_, i) => i + 1), 5);
  for (let i = 1; i <= 50; i += 1) {
    add(i, [100 + 2 * i, 101 + 2 * i, ...(i <= 2 ? [998] : []), ...(i >= 40 ? [999] : [])]);
    add(100 + 2 * i, i <= 2 ? [5000] : []);
    add(101 + 2 * i, []);
  }
  add(998, []);
  add(999, []);
  const details = { get: (v) => new Promise((r) => setTimeout(() => r(models.get(v)), Math.random() * 20)) };
  const runs = [];
  for (let k = 0; k < 5; k += 1) {
    const d = await descendants(details, models.get(0));
    runs.push({ nodes: d.nodes.map((m) => m.vertex), edges: d.edges.map(([p, c, r]) => `${p.vertex}>${c.vertex}:${r}`),
                more: d.more });
  }
  return runs;
}"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_viewer_atlas(tmp_path_factory.mktemp("overlay") / "atlas")


def test_descendants_are_the_same_in_any_arrival_order(browser: Any) -> None:
    with served(SRC, site=False) as url:
        page, watch = new_page(browser)
        page.route("**/favicon.ico", lambda route: route.fulfill(status=204))  # a folder of sources has none
        page.goto(url + "/lineage.js")
        runs = page.evaluate(DESCENDANTS)
    first = runs[0]
    assert all(run == first for run in runs[1:])
    assert first["nodes"][:50] == list(range(1, 51))
    assert len(first["nodes"]) == 120 and len(set(first["nodes"])) == 120
    assert first["nodes"][50:54] == [102, 103, 998, 104]  # the first child's children, as listed
    assert first["more"] == 38
    assert [e for e in first["edges"] if ">99" in e] == ["1>998:merge", "2>998:merge"]
    assert watch.problems == []


def test_overlay_draws_the_same_on_every_load(browser: Any, base_url: str) -> None:
    link = f"{base_url}/#m={quote(INSTRUCT, safe='')}&z=2&x=128&y=128"
    drawings = []
    for _ in range(3):
        page, watch = new_page(browser)
        page.add_init_script(SHUFFLE_FETCHES)
        page.goto(link)
        wait_panel(page, INSTRUCT)
        page.wait_for_selector("#overlay-note:not([hidden])")
        settle(page)
        paths = page.evaluate(
            "[...document.querySelectorAll('.lineage-edge, .lineage-node')].map(e => e.getAttribute('class') + e.getAttribute('d'))"
        )
        drawings.append((page.locator("#overlay-note").inner_text(), paths))
        assert watch.problems == []
        page.context.close()
    assert drawings[0][1] and all(d == drawings[0] for d in drawings[1:])
