"""Shared test options: GPU tests are opt-in (`pytest --gpu`)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# huggingface_hub reads these once, at import: set them before any test imports it, so no test touches the
# real cache, phones home, or inherits an offline switch from the developer's shell.
os.environ["HF_HOME"] = tempfile.mkdtemp(prefix="atlasgen-test-hf-")
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ.pop("HF_HUB_OFFLINE", None)

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


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
    from atlasgen.pipeline import build_atlas

    out = tmp_path_factory.mktemp("sample") / "atlas"
    build_atlas(None, out, seed=0, backend="cpu", progress=False)
    return out
