"""Shared test options: GPU tests are opt-in (`pytest --gpu`)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# huggingface_hub reads these once, at import: set them before any test imports it, so no test touches the
# real cache, phones home, or inherits an offline switch from the developer's shell.
os.environ["HF_HOME"] = tempfile.mkdtemp(prefix="atlasgen-test-hf-")
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ.pop("HF_HUB_OFFLINE", None)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--gpu", action="store_true", help="run tests marked gpu (needs CUDA + atlasgen[gpu])")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--gpu"):
        return
    skip = pytest.mark.skip(reason="GPU test: run with --gpu on a CUDA machine")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def sample_atlas(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded real sample, built once per test session (about a minute on 2 cores)."""
    from atlasgen.pipeline.build import build_atlas

    out = tmp_path_factory.mktemp("sample") / "atlas"
    build_atlas(None, out, seed=0, backend="cpu", progress=False)
    return out


# Browser tests (test_browser.py, test_viewer.py): each module defines `site`, the atlas it serves.


@pytest.fixture(scope="module")
def base_url(site: Path) -> Iterator[str]:
    from browser_util import served

    with served(site) as url:
        yield url


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where browser tests save screenshots: $ATLAS_SCREENSHOTS, to look at them, or the test's tmp_path."""
    folder = Path(os.environ.get("ATLAS_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium through Playwright, once per module."""
    from browser_util import ARGS, CHROMIUM, need_browser

    need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield chromium
        chromium.close()
