"""The trends report: each statistic on a hand-made graph, the page's escaping, and the page in chromium."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from atlasgen.graph.trends import compute, modality
from atlasgen.publish import trends_svg
from atlasgen.publish.trends_page import pct, write_trends

CHARTS = (
    "modality",
    "families",
    "family-mix",
    "adapters",
    "merges",
    "depth",
    "fanout",
    "multi-parent",
    "coverage",
)
HOSTILE = "<script>alert(1)</script>/x\"&'"

# id, relation, virtual, downloads, licence, pipeline_tag, library_name, created_at
ROWS = [
    ("a/base", "base", False, 2e6, "apache-2.0", "text-generation", "transformers", None),
    ("a/ft1", "finetune", False, None, "unknown", "text-generation", None, "2024-01-05"),
    ("a/merge", "merge", False, None, None, "text-generation", None, None),
    ("a/q1", "quantized", False, None, None, None, None, "2024-02-10T12:00:00.000Z"),
    ("a/q2", "quantized", False, None, None, "text-generation", None, None),
    ("b/ad", "adapter", False, None, None, "image-classification", None, "2024-02-20"),
    ("b/ft", "finetune", False, None, None, None, None, None),
    ("b/vit", "base", False, 500.0, "mit", "image-classification", None, None),
    ("c/lonely", "base", False, None, None, None, None, None),
    ("v/missing", "virtual", True, None, None, None, None, None),
    ("x/child", "finetune", False, None, None, "automatic-speech-recognition", None, None),
]
# parent -> child
LINKS = [
    ("a/base", "a/ft1", "finetune"),
    ("a/ft1", "a/q1", "quantized"),
    ("a/base", "a/q2", "quantized"),
    ("a/ft1", "a/merge", "merge"),
    ("a/q2", "a/merge", "merge"),
    ("b/vit", "b/ad", "adapter"),
    ("b/vit", "b/ft", "finetune"),
    ("v/missing", "x/child", "finetune"),
]


def graph(
    rows: list[tuple[Any, ...]] = ROWS, links: list[tuple[str, str, str]] = LINKS
) -> tuple[pd.DataFrame, pd.DataFrame]:
    cols = ["id", "relation", "virtual", "downloads", "licence", "pipeline_tag", "library_name", "created_at"]
    nodes = pd.DataFrame(rows, columns=cols).astype({"downloads": "float64"})
    nodes["author"], nodes["likes"] = nodes["id"].str.split("/").str[0], np.nan
    index = {mid: i for i, mid in enumerate(nodes["id"])}
    edges = pd.DataFrame(
        {
            "source": [index[p] for p, _, _ in links],
            "target": [index[c] for _, c, _ in links],
            "relation": [r for _, _, r in links],
        }
    )
    return nodes, edges.sort_values(["target", "source"]).reset_index(drop=True)


def test_modality_groups_tags() -> None:
    tags = pd.Series(["text-generation", "text-to-image", "text-to-speech", "image-text-to-text", None, "x"])
    assert modality(tags).tolist() == ["text", "vision", "audio", "multimodal", "other", "other"]


def test_statistics_of_a_hand_made_graph() -> None:
    t = compute(*graph())
    assert (t.models, t.derived) == (10, 7)
    # a/q1 states no task: it takes its parent's (text); b/ft takes b/vit's (vision)
    assert t.mix_by_modality.to_dict("index") == {
        "text": {"finetune": 1, "adapter": 0, "quantized": 2, "merge": 1, "unknown": 0},
        "vision": {"finetune": 1, "adapter": 1, "quantized": 0, "merge": 0, "unknown": 0},
        "audio": {"finetune": 1, "adapter": 0, "quantized": 0, "merge": 0, "unknown": 0},
    }
    fams = t.families[["root", "size", "models", "descendants"]].to_dict("records")
    assert fams == [
        {"root": "a/base", "size": 5, "models": 5, "descendants": 4},
        {"root": "b/vit", "size": 3, "models": 3, "descendants": 2},
        {"root": "v/missing", "size": 2, "models": 1, "descendants": 1},
    ]  # c/lonely is no family
    assert t.in_families == 9
    assert t.mix_by_family.loc["a/base"].tolist() == [1, 0, 2, 1, 0]
    assert t.mix_by_family.index.tolist() == ["a/base", "b/vit", "v/missing"]
    # a/merge is at depth 2 through either parent (longest chain), a/q1 at 2 through a/ft1
    assert t.depth.to_dict() == {"0": 3, "1": 5, "2": 2}
    assert t.fanout.to_dict() == {"1": 2, "2": 3, "3–5": 0, "6–10": 0, "11–100": 0, "101–1k": 0, ">1k": 0}
    assert t.indegree.to_dict() == {"1": 6, "2": 1, "3": 0, "4–5": 0, "6–10": 0, ">10": 0}
    assert t.multi_parent == (1, 1)
    assert t.coverage.to_dict() == {
        "lineage": 7, "task": 7, "licence": 2, "library": 1, "downloads": 2, "createdAt": 3,
    }  # fmt: skip
    assert t.dated == (3, 3)
    assert t.adapters_by_month.to_dict("index") == {
        "2024-01": {"adapters": 0, "derived": 1},
        "2024-02": {"adapters": 1, "derived": 2},
    }
    pop = t.merge_popularity
    assert pop.loc["≥1M"].tolist() == [2, 0] and pop.loc["<1k"].tolist() == [2, 0]
    assert pop.loc["unknown"].tolist() == [4, 2] and pop["derivations"].sum() == len(LINKS)
    assert (
        np.isnan(t.median_parent_downloads["merge"])
        and t.median_parent_downloads["finetune"] == (2e6 + 500) / 2
    )


def test_family_named_by_the_root_with_most_descendants() -> None:
    # two roots in one component: "a/z" has more descendants than "a/a" and names the family
    rows = [(m, "base", False, None, None, None, None, None) for m in ("a/a", "a/z")]
    rows += [(f"a/c{i}", "finetune", False, None, None, None, None, None) for i in range(3)]
    rows[2] = ("a/c0", "merge", *rows[2][2:])
    links = [("a/a", "a/c0", "merge"), ("a/z", "a/c0", "merge"), ("a/z", "a/c1", "finetune")]
    nodes, edges = graph(rows, [*links, ("a/z", "a/c2", "finetune")])
    t = compute(nodes, edges)
    assert t.families[["root", "size", "descendants"]].to_dict("records") == [
        {"root": "a/z", "size": 5, "descendants": 3}
    ]
    assert t.multi_parent == (1, 1)


def test_depths_are_vectorised_longest_paths() -> None:
    from atlasgen.graph.trends import depth_histogram, depths

    # a chain 0 -> 1 -> ... -> 14 and a shortcut 0 -> 14: depth is the longest chain
    src = np.array([*range(14), 0])
    dst = np.array([*range(1, 15), 14])
    d = depths(15, src, dst)
    assert d.tolist() == list(range(15))
    hist = depth_histogram(d)
    assert hist.index[-1] == "12+" and hist.iloc[-1] == 3 and hist.sum() == 15


def test_svg_helpers() -> None:
    assert trends_svg.nice_ticks(2, integer=True) == [0, 1, 2]
    assert trends_svg.nice_ticks(0.36) == [0, 0.1, 0.2, 0.30000000000000004, 0.4]
    assert [trends_svg.compact(v) for v in (7, 1234, 28110, 3.4e6)] == ["7", "1.2k", "28k", "3.4M"]
    assert [pct(*p) for p in ((41, 100), (4, 1000), (1, 10**6), (0, 5), (2999, 3000), (1, 0))] == [
        "41%", "0.4%", "<0.1%", "0%", "99.9%", "—",
    ]  # fmt: skip


def _page(tmp_path: Path) -> str:
    nodes, edges = graph()
    nodes.loc[nodes["id"] == "a/base", "id"] = HOSTILE  # still sorted first: "<" < "a"
    write_trends(nodes, edges, tmp_path, {"label": '<img src=x onerror="alert(1)">', "date": "2025-01-01"})
    return (tmp_path / "trends.html").read_text(encoding="utf-8")


def test_page_escapes_hostile_ids_and_has_no_script(tmp_path: Path) -> None:
    page = _page(tmp_path)
    assert "<script" not in page and "<img" not in page and 'onerror="' not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;/x&quot;&amp;&#x27;" in page  # in the charts and findings
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert csp and "default-src 'none'" in csp.group(1) and "'unsafe-inline'" not in csp.group(1)
    for key in CHARTS:
        assert f'<svg xmlns="http://www.w3.org/2000/svg" id="chart-{key}"' in page
    # findings computed from the data
    assert "Quantizations are 50% of text derivations, 0% of vision derivations and 0% of audio" in page
    assert "1 models (14% of derived ones) have several parents; 100% of those are merges." in page


@pytest.mark.browser
def test_page_renders_in_chromium(browser: Any, tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from browser_util import new_page, served

    from atlasgen.publish.site import viewer_dir

    _page(tmp_path)
    shutil.copy(viewer_dir() / "favicon.svg", tmp_path / "favicon.svg")
    (tmp_path / "atlas.json").write_text('{"trends": "trends.html"}', encoding="utf-8")  # `served` wants one
    with served(tmp_path) as url:
        page, watch = new_page(browser, width=375, height=800)
        page.goto(f"{url}/trends.html")
        page.wait_for_load_state("networkidle")
        for key in CHARTS:
            box = page.locator(f"svg#chart-{key}").bounding_box()
            assert box and 300 < box["width"] <= 375 and box["height"] > 50, key
        # the style block passed the CSP (its hash): the page is dark, and nothing overflows a phone
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(11, 14, 20)"
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        assert page.locator("svg#chart-families text").first.text_content() == HOSTILE
        page.context.close()
    assert watch.problems == []


@pytest.mark.slow
def test_the_build_writes_the_trends_page(sample_atlas: Path) -> None:
    manifest = json.loads((sample_atlas / "atlas.json").read_text(encoding="utf-8"))
    assert manifest["trends"] == "trends.html"
    page = (sample_atlas / "trends.html").read_text(encoding="utf-8")
    assert "The largest family, meta-llama/Llama-3.1-8B, has 5,883 models" in page
    assert "this snapshot has no vision derived models, so it cannot be tested here" in page
