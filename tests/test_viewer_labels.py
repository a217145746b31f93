"""The map's names: the region of models without documented lineage is named on the map with its count, each
of its task discs too, and the region is veiled so documented lineage stands out; the first view names what
people know (families by their root's downloads and their size, then popular models), not large families of
obscure roots.

The region test uses tests/data/viewer's atlas (two models without documented lineage, two task discs); the
first view is the embedded sample's.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from browser_util import build_viewer_atlas, new_page, served, settle

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_viewer_atlas(tmp_path_factory.mktemp("labels") / "atlas")


def _shown(page: Any, kind: str) -> list[str]:
    """Texts of the map labels of one kind that are on screen (not hidden as a clash)."""
    return page.evaluate(
        "kind => [...document.querySelectorAll(`.atlas-label:not(.clash) .atlas-label-text.${kind}`)]"
        ".map(e => e.textContent)",
        kind,
    )


def test_undocumented_region_is_named_with_its_count(
    browser: Any, base_url: str, site: Path, shots: Path
) -> None:
    region = json.loads((site / "atlas.json").read_text(encoding="utf-8"))["layout"]["regions"][
        "undocumented"
    ]
    assert region["nodes"] == 2 and len(region["groups"]) == 2
    page, watch = new_page(browser)
    page.goto(base_url + "/")
    page.wait_for_selector(".atlas-label-text.region")
    settle(page)
    assert _shown(page, "region") == ["No documented lineage · 2 models"]
    assert page.locator("path.region-veil").count() == 2  # each disc veiled
    page.screenshot(path=str(shots / "viewer-region.png"))

    # closer in, each task disc is named with its count: from the zoom where it is 16 px in radius on screen
    x0, y0, x1, y1 = region["bbox"]
    z = math.ceil(math.log2(16 / min(g["radius"] for g in region["groups"])))
    page.goto(f"{base_url}/#z={z}&x={(x0 + x1) / 2}&y={(y0 + y1) / 2}")
    page.wait_for_selector(".atlas-label-text.disc")
    settle(page)
    discs = sorted(_shown(page, "disc"))
    assert discs == ["image-classification · 1", "text-to-image · 1"]
    page.screenshot(path=str(shots / "viewer-region-discs.png"))
    assert watch.problems == []


# Names a newcomer read first before (issue 14): large families of obscure roots.
OBSCURE = {"Aura_Llama3", "CSUMLM", "MFANN3bv0.20", "llama_instbase_unlearned_unsloth", "Zephyr_RMU"}


def test_first_view_names_what_people_know(browser: Any, sample_atlas: Path, shots: Path) -> None:
    labels = json.loads((sample_atlas / "data" / "labels.json").read_text(encoding="utf-8"))["labels"]
    positions = pd.read_parquet(sample_atlas / "positions.parquet").sort_values("id").reset_index(drop=True)
    vertex = {row[1]: row[0] for row in labels}
    with served(sample_atlas) as url:
        page, watch = new_page(browser)
        page.goto(url + "/")
        page.wait_for_selector(".atlas-label-text.family")
        settle(page)
        names = _shown(page, "family") + _shown(page, "model")
        page.screenshot(path=str(shots / "viewer-first-view.png"))
        assert watch.problems == []
    assert len(names) >= 15 and not OBSCURE & set(names)
    # every family named is a known root's, every model a popular one: 100k downloads a month or more
    assert all(positions["downloads"][vertex[n]] >= 100_000 for n in names), names
    assert "Llama-3.1-8B" in names and "bert-base-uncased" in names
