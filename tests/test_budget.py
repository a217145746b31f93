"""The size budget: parsing sizes, and that the chosen depth and layers are exactly what fits."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from atlasgen.errors import OptionError
from atlasgen.tiles import budget as bud
from atlasgen.tiles import pyramid as tiles
from atlasgen.tiles.budget import format_size, format_size_up, parse_size
from atlasgen.tiles.palette import RELATIONS
from atlasgen.tiles.table import PRIORITY


def atlas(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A tiny atlas with every attribute and parent -> child edges."""
    rng = np.random.default_rng(seed)
    pts = pd.DataFrame(
        {
            "x": rng.uniform(60, 200, n),
            "y": rng.uniform(60, 200, n),
            "relation": [RELATIONS[i % len(RELATIONS)] for i in range(n)],
            "downloads": np.floor(10 ** rng.uniform(0, 6.5, n)),
            "pipeline_tag": rng.choice(np.array(["text-generation", "fill-mask", None], dtype=object), n),
            "licence": rng.choice(np.array(["apache-2.0", "mit", "llama3", None], dtype=object), n),
            "new": np.arange(n) % 7 == 0,
        }
    )
    child = np.flatnonzero(pts["relation"].isin(["finetune", "adapter", "quantized", "merge", "unknown"]))
    parent = rng.integers(0, n, len(child))
    x, y = pts["x"].to_numpy(), pts["y"].to_numpy()
    return pts, pd.DataFrame(
        {
            "x0": x[parent],
            "y0": y[parent],
            "x1": x[child],
            "y1": y[child],
            "relation": pts["relation"][child].to_numpy(),
        }
    )


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("600MB", 600_000_000),
        ("1GB", 10**9),
        ("1.5 GiB", 3 * 2**29),
        ("250k", 250_000),
        (" 12 mib ", 12 * 2**20),
        ("42", 42),
        (7, 7),
    ],
)
def test_parse_size(text: str | int, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "MB", "1.2.3GB", "12 parsecs", "-5MB"])
def test_parse_size_rejects_nonsense(text: str) -> None:
    with pytest.raises(ValueError, match="cannot read"):
        parse_size(text)


def test_format_size() -> None:
    assert format_size(310e6) == "310.0 MB" and format_size(1.5e9) == "1.5 GB" and format_size(12) == "12 B"


def expected_choice(
    levels: dict[str, dict[int, int]], available: int, overhead: int = 0
) -> tuple[int, list[str]]:
    """The budget rule of atlasgen/budget.py, on known per-level sizes: depth from the first layer, then
    whole layers in priority order, each kept one paying ``overhead`` besides its levels."""
    first = levels["relation"]
    depth, used = -1, overhead
    for z in sorted(first):
        if used + first[z] > available:
            break
        used, depth = used + first[z], z
    kept = ["relation"] if depth >= 0 else []
    used = used if kept else 0
    for name in PRIORITY[1:]:
        size = sum(b for z, b in levels[name].items() if z <= depth) + overhead
        if depth >= 0 and min(levels[name]) <= depth and used + size <= available:
            kept.append(name)
            used += size
    return depth, kept


def per_level(result: dict[str, Any]) -> dict[str, dict[int, int]]:
    return {
        layer["id"]: {int(z): v["bytes"] for z, v in layer["levels"].items()} for layer in result["layers"]
    }


def test_budget_picks_exactly_what_fits(tmp_path: Path) -> None:
    pts, edges = atlas(400, seed=3)
    full = tiles.render_layers(
        pts, edges, tmp_path / "full", max_zoom=3, layers=PRIORITY, workers=1, progress=False
    )
    levels = per_level(full)
    assert set(levels) == set(PRIORITY) and full["dropped"] == []
    rel = levels["relation"]
    edges_size = sum(levels["edges"].values())
    reserved = 1000
    budgets = [
        reserved + rel[0] + rel[1] + rel[2],  # relation to z2 exactly; z3 would not fit
        reserved + rel[0] + rel[1] + rel[2] - 1,  # one byte short: z2 goes too
        reserved + sum(rel.values()) + edges_size,  # all relation and edges, exactly
        reserved
        + sum(rel.values())
        + edges_size
        + sum(levels["licence"].values()),  # task won't, licence will
    ]
    for i, budget in enumerate(budgets):
        out = tmp_path / f"b{i}"
        result = tiles.render_layers(
            pts,
            edges,
            out,
            max_zoom=3,
            layers=PRIORITY,
            workers=1,
            progress=False,
            budget_bytes=budget,
            reserved_bytes=reserved,
        )
        depth, kept = expected_choice(levels, budget - reserved)
        got = [layer["id"] for layer in result["layers"]]
        assert sorted(got) == sorted(kept), (i, result["dropped"])
        assert all(layer["max_zoom"] == depth for layer in result["layers"])
        assert result["bytes"] <= budget - reserved
        on_disk = sum(f.stat().st_size for f in (out / "tiles").rglob("*.webp"))
        assert on_disk == result["bytes"]
        assert result["dropped"] or got == list(PRIORITY)
        # Levels kept are the same bytes as unbudgeted (cutting the pyramid never changes what stays).
        assert per_level(result) == {
            name: {z: b for z, b in levels[name].items() if z <= depth} for name in got
        }


def test_a_budget_without_room_for_the_first_level_is_an_error_naming_the_smallest(tmp_path: Path) -> None:
    pts, edges = atlas(400, seed=3)
    full = tiles.render_layers(pts, edges, tmp_path / "full", max_zoom=3, workers=1, progress=False)
    z0 = per_level(full)["relation"][0]
    reserved, overhead = 1000, 123
    for budget, fits in ((reserved + z0 + overhead - 1, False), (reserved + z0 + overhead, True)):
        kwargs: dict[str, Any] = {"budget_bytes": budget, "reserved_bytes": reserved}
        render = partial(tiles.render_layers, pts, edges, tmp_path / str(budget), max_zoom=3, workers=1)
        if fits:
            result = render(progress=False, entry_bytes=lambda entry: overhead, **kwargs)
            assert [(layer["id"], layer["max_zoom"]) for layer in result["layers"]] == [("relation", 0)]
            continue
        with pytest.raises(OptionError) as raised:
            render(progress=False, entry_bytes=lambda entry: overhead, **kwargs)
        assert raised.value.problems == [
            (
                "budget",
                f"{format_size(budget)} cannot hold a site that loads: its files besides the tiles take "
                f"{format_size(reserved)} and the map's first level (relation zoom 0, with its entry in "
                f"atlas.json) {format_size(z0 + overhead)}; the smallest budget that works is "
                f"{format_size_up(reserved + z0 + overhead)}",
            )
        ]


@pytest.mark.parametrize(
    ("n", "text"),
    [(0, "0 B"), (999, "999 B"), (1000, "1.000 kB"), (714_412, "714.5 kB"), (714_400, "714.4 kB"),
     (6_612_001, "6.613 MB"), (418e6, "418.0 MB"), (999_999_999, "1000.0 MB")],
)  # fmt: skip
def test_format_size_up_names_a_size_that_holds_n(n: float, text: str) -> None:
    assert format_size_up(n) == text and parse_size(text.replace(" ", "")) >= n


def test_budget_reports_why(tmp_path: Path) -> None:
    pts, edges = atlas(400, seed=3)
    full = tiles.render_layers(
        pts, edges, tmp_path / "full", max_zoom=3, layers=PRIORITY, workers=1, progress=False
    )
    rel = per_level(full)["relation"]
    result = tiles.render_layers(
        pts,
        edges,
        tmp_path / "b",
        max_zoom=3,
        layers=PRIORITY,
        workers=1,
        progress=False,
        budget_bytes=sum(rel.values()) + 50,
    )
    assert [layer["id"] for layer in result["layers"]] == ["relation"]
    assert any(
        reason.startswith("edges layer dropped:") and "over budget" in reason for reason in result["dropped"]
    )
    assert any(reason.startswith("licence layer dropped:") for reason in result["dropped"])


def run_policy(
    sizes: dict[str, dict[int, int]], available: int, depth: int, overhead: int = 0
) -> tuple[bud.Ledger, dict]:
    """The budget's decisions alone, on known level sizes, without rendering: pyramid.render_layers renders
    what the accounts ask for exactly like this. Returns the ledger and the levels kept per layer."""
    ledger, kept = bud.Ledger(available, depth), {}
    for rank, name in enumerate(n for n in PRIORITY if n in sizes):
        account = ledger.account(
            name, min(sizes[name]), first=rank == 0, estimate=lambda z: 0.0, overhead=overhead
        )
        for zoom in account:
            account.record(1, sizes[name][zoom])
        assert not set(account.discarded) & set(account.levels)
        if account.levels:
            kept[name] = account.levels
        if ledger.exhausted:
            break
    return ledger, kept


@pytest.mark.parametrize("overhead", [0, 30])
@pytest.mark.parametrize("available", [0, 99, 100, 250, 350, 700, 1200, 10_000])
def test_budget_policy_without_rendering(available: int, overhead: int) -> None:
    sizes = {
        "relation": {0: 100, 1: 150, 2: 300},
        "new": {0: 10, 1: 20, 2: 40},
        "edges": {1: 400, 2: 800},
        "task": {0: 100, 1: 150, 2: 300},
        "licence": {0: 60, 1: 60, 2: 60},
    }
    depth, expected = expected_choice(sizes, available, overhead)
    ledger, kept = run_policy(sizes, available, depth=2, overhead=overhead)
    assert list(kept) == expected and ledger.depth == depth
    assert all(max(levels) == depth for levels in kept.values())
    paid = sum(b for levels in kept.values() for _, b in levels.values()) + overhead * len(kept)
    assert ledger.spent == paid <= available
    assert ledger.exhausted == (depth < 0)
    if ledger.exhausted:  # what the first level would have needed: the error names it
        assert ledger.needed == overhead + sizes["relation"][0] > available
    assert bool(ledger.dropped) == (list(kept) != list(PRIORITY) or depth < 2)
