"""Hostile and malformed snapshots (tests/data/hostile/, README.md there): `atlasgen build` ends each one in a
clear error naming the file and the row, or in a repair that report.json counts, never in a traceback; it
writes nothing outside --out, and no id becomes a path or runs as script in the viewer.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from atlasgen.cli import cli

HOSTILE = Path(__file__).parent / "data" / "hostile"
FAST = ["--backend", "cpu", "--workers", "1", "--max-zoom", "2", "--layers", "relation", "--max-iter", "50"]
# Every file a build writes has a name made of these (ids never become paths: index keys are encoded).
SAFE_PART = re.compile(r"^[A-Za-z0-9_.@-]+$")


def _corpus() -> Any:
    spec = importlib.util.spec_from_file_location("make_corpus", HOSTILE / "make_corpus.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CORPUS = _corpus()


def tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh working directory that must stay empty."""
    folder = tmp_path / "cwd"
    folder.mkdir()
    monkeypatch.chdir(folder)
    yield folder
    assert tree(folder) == set(), "the build wrote into the working directory"


def build(parent: Path, snapshot: Path, *extra: str) -> tuple[Result, Path]:
    """`atlasgen build SNAPSHOT --out PARENT/site`; checks that it raised nothing but a clean exit and wrote
    nothing in PARENT but the site."""
    parent.mkdir(parents=True, exist_ok=True)
    before = tree(parent)
    out = parent / "site"
    result = CliRunner().invoke(cli, ["build", str(snapshot), "--out", str(out), *FAST, "--quiet", *extra])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    assert "Traceback" not in result.output
    written = {p.split("/")[0] for p in tree(parent) - before}
    assert written <= {"site"}, f"written outside --out: {sorted(written)}"
    if result.exit_code == 0:
        for path in tree(out):
            assert all(SAFE_PART.match(part) and part != ".." for part in Path(path).parts), path
    else:
        assert not out.exists()
    return result, out


def report_of(out: Path) -> dict[str, Any]:
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert (
        report["input_rows"]
        == report["models"] + report["dropped_total"]
        == sum([report["models"], *report["dropped"].values()])
    )
    assert len(report["dropped_rows"]) == report["dropped_total"]
    return report


# ----------------------------------------------------------------------------------------------- errors

ERRORS = [
    ("empty.jsonl", None, "empty snapshot: no models"),
    ("blank-lines.jsonl", None, "empty snapshot: no models"),
    ("garbage-line.jsonl", 3, "not a JSON object (Expecting property name enclosed in double quotes"),
    ("array-line.jsonl", 2, "not a JSON object (a JSON list)"),
    ("bad-utf8.jsonl", 2, "not UTF-8 text (byte 11 of the line)"),
    ("truncated.jsonl.gz", 181, "the file breaks off here (Compressed file ended"),
    ("all-dropped.jsonl", None, "no models: all 3 rows were dropped (missing id: 3)"),
    ("empty.csv", None, "empty file: expected a header row source,target"),
    ("header-only.csv", None, "empty snapshot: a header but no edge rows"),
    ("wrong-header.csv", None, "missing column(s) source, target; found parent, child"),
    ("unclosed-quote.csv", 2, "a quoted field is never closed (line 3)"),
    ("stray-quote.csv", 2, "a stray quote after a quoted field (line 3)"),
    ("multiline-field.csv", 2, "a quoted field runs from line 3 to 5: an unbalanced quote?"),
    ("extra-fields.csv", 2, "4 fields where the header has 3 (line 3)"),
    ("bad-utf8.csv", 2, "not UTF-8 text (line 3)"),
    ("truncated.parquet", None, "not a readable parquet file (Parquet magic bytes not found"),
    ("int-ids.parquet", None, "the `id` column holds int64, not text"),
    ("no-rows.parquet", None, "empty snapshot: no models"),
]


def error_line(path: Path, row: int | None, message: str) -> str:
    return f"Error: {path}{'' if row is None else f', row {row}'}: {message}"


@pytest.mark.parametrize(("name", "row", "message"), ERRORS, ids=[e[0] for e in ERRORS])
def test_bad_input_is_one_clear_error(
    tmp_path: Path, cwd: Path, name: str, row: int | None, message: str
) -> None:
    result, _ = build(tmp_path / "work", HOSTILE / name)
    assert result.exit_code == 1
    assert error_line(HOSTILE / name, row, message) in result.output


def test_json_nested_too_deeply_is_an_error_not_a_crash(tmp_path: Path, cwd: Path) -> None:
    path = tmp_path / "deep.jsonl"
    path.write_text('{"id": "a/b"}\n{"id": "c/d", "cardData": ' + "[" * 100_000 + "\n", encoding="utf-8")
    result, _ = build(tmp_path / "work", path)
    assert result.exit_code == 1
    assert error_line(path, 2, "not a JSON object (nested too deeply)") in result.output


def test_node_csv_errors_name_the_node_file(tmp_path: Path, cwd: Path) -> None:
    nodes = tmp_path / "nodes.csv"
    nodes.write_text('id,downloads\norg/base,1\norg/ft,"2\n', encoding="utf-8")
    result, _ = build(tmp_path / "work", HOSTILE / "with-nodes.edges.csv", "--nodes", str(nodes))
    assert result.exit_code == 1
    assert error_line(nodes, 2, "a quoted field is never closed (line 3)") in result.output


def test_no_traceback_from_the_real_command(tmp_path: Path) -> None:
    """The installed entry point (not CliRunner): exit 1, the message on stderr, no traceback, nothing written."""
    cases = [ERRORS[2], ERRORS[6], ERRORS[10], ERRORS[15]]

    def run(case: tuple[str, int | None, str]) -> tuple[tuple[str, int | None, str], Any]:
        out = tmp_path / case[0] / "site"
        cmd = [sys.executable, "-m", "atlasgen", "build", str(HOSTILE / case[0]), "--out", str(out), "-q"]
        return case, subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=120)

    with ThreadPoolExecutor(len(cases)) as pool:
        for (name, row, message), proc in pool.map(run, cases):
            assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
            assert error_line(HOSTILE / name, row, message) in proc.stderr
            assert tree(tmp_path / name) == set()
    assert {p.name for p in tmp_path.iterdir()} == {name for name, _, _ in cases}


# ---------------------------------------------------------------------------------------------- repairs

REPAIRS: list[tuple[str, tuple[str, ...], dict[str, Any]]] = [
    (
        "missing-ids.jsonl",
        (),
        {"models": 2, "virtual": 0, "dropped": {"missing id": 8}, "repairs": {"invalid_id": 2}},
    ),
    (
        "wrong-types.jsonl",
        (),
        {
            "models": 5,
            "virtual": 0,
            "dropped": {},
            "repairs": {
                "invalid_author": 1,
                "invalid_base_model": 1,
                "invalid_base_models": 1,
                "invalid_card_data": 1,
                "invalid_created_at": 3,
                "invalid_downloads": 3,
                "invalid_library_name": 1,
                "invalid_likes": 2,
                "invalid_pipeline_tag": 1,
                "invalid_relation": 1,
                "invalid_tags": 1,
                "missing_relations": 1,
            },
        },
    ),
    (
        "duplicates.jsonl",
        (),
        {
            "models": 2,
            "virtual": 0,
            "dropped": {"duplicate id (first row kept)": 3},
            "repairs": {"links_of_dropped_rows": 1},
        },
    ),
    (
        "cycles.csv",
        (),
        {
            "models": 6,
            "virtual": 0,
            "dropped": {},
            "repairs": {"cycle_links_removed": 2, "duplicate_links": 1, "self_loops": 1},
        },
    ),
    (
        "quotes-and-boms.csv",
        (),
        {
            "models": 6,
            "virtual": 0,
            "dropped": {},
            "repairs": {
                "ids_with_invisible_characters": 1,
                "incomplete_links_dropped": 2,
                "missing_relations": 1,
            },
        },
    ),
    (
        "with-nodes.edges.csv",
        ("--nodes", str(HOSTILE / "with-nodes.nodes.csv")),
        {
            "models": 4,
            "virtual": 1,
            "dropped": {"duplicate id (first row kept)": 1, "missing id": 1},
            "repairs": {
                "children_only_in_edges": 1,
                "invalid_created_at": 1,
                "invalid_downloads": 1,
                "invalid_likes": 1,
                "missing_parents_added_as_virtual": 1,
            },
        },
    ),
]


@pytest.mark.parametrize(("name", "extra", "expected"), REPAIRS, ids=[r[0] for r in REPAIRS])
def test_bad_rows_are_repaired_and_counted(
    tmp_path: Path, cwd: Path, name: str, extra: tuple[str, ...], expected: dict[str, Any]
) -> None:
    result, out = build(tmp_path / "work", HOSTILE / name, *extra)
    assert result.exit_code == 0, result.output
    report = report_of(out)
    assert {key: report[key] for key in expected} == expected


def positions(out: Path) -> dict[str, dict[str, Any]]:
    return {row["id"]: row for row in pq.read_table(out / "positions.parquet").to_pylist()}


def test_dropped_rows_are_listed_with_their_line(tmp_path: Path, cwd: Path) -> None:
    _, out = build(tmp_path / "work", HOSTILE / "missing-ids.jsonl")
    report = report_of(out)
    assert [(r["row"], r["reason"]) for r in report["dropped_rows"]] == [
        (n, "missing id") for n in range(2, 10)
    ]
    assert set(positions(out)) == {"org/base", "org/child"}


def test_duplicate_ids_keep_the_first_row_with_its_links(tmp_path: Path, cwd: Path) -> None:
    _, out = build(tmp_path / "work", HOSTILE / "duplicates.jsonl")
    report = report_of(out)
    assert [r["row"] for r in report["dropped_rows"]] == [3, 4, 5]
    models = positions(out)
    assert set(models) == {"org/base", "org/ft"}  # other/base, the parent of the dropped row 4, is not added
    assert models["org/base"]["downloads"] == 100 and models["org/base"]["task"] == "text-generation"
    assert models["org/ft"]["relation"] == "finetune" and report["edges_by_relation"] == {"finetune": 1}


def test_fan_out_of_50k_children(tmp_path: Path, cwd: Path) -> None:
    edges = tmp_path / "fan.csv"
    rows = "".join(f"org/base,kid{i % 97}/m-{i},quantized\n" for i in range(50_000))
    edges.write_text("source,target,relation\n" + rows, encoding="utf-8")
    start = time.perf_counter()
    result, out = build(tmp_path / "work", edges)
    assert result.exit_code == 0, result.output
    assert time.perf_counter() - start < 60
    report = report_of(out)
    assert (report["models"], report["edges"], report["repairs"]) == (50_001, 50_000, {})
    assert report["nodes_by_relation"] == {"base": 1, "quantized": 50_000}
    biggest = max((p.stat().st_size for p in (out / "data").rglob("*.json")), default=0)
    assert biggest < 2_000_000, "one data file holds the whole fan-out"


# ------------------------------------------------------------------------------------- hostile ids, browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """hostile-ids.jsonl built with tiny index files, so that search keys are made from the hostile ids."""
    from atlasgen.index.writer import Sizes
    from atlasgen.pipeline.build import build_atlas

    parent = tmp_path_factory.mktemp("hostile-site")
    small = Sizes(leaf_max=2, top=2, chunk=4, names_block=3, names_group=2, children_cap=50, pick_max=2)
    out = parent / "site"
    build_atlas(HOSTILE / "hostile-ids.jsonl", out, seed=0, backend="cpu", progress=False, index_sizes=small)
    assert json.loads((out / "atlas.json").read_text(encoding="utf-8"))["data"]["names"]["block"] == 3
    return out


def expected_ids() -> set[str]:
    return {*CORPUS.HOSTILE_IDS, *CORPUS.CLEANED_IDS.values(), "../../virtual/<b>parent</b>"}


def test_hostile_ids_are_kept_as_data(site: Path) -> None:
    report = report_of(site)
    assert report["repairs"] == {
        "control_characters_removed": 3,  # two ids and one parent reference to one of them
        "ids_with_invisible_characters": 2,
        "invalid_unicode_replaced": 1,
        "missing_parents_added_as_virtual": 1,
    }
    models = positions(site)
    assert set(models) == expected_ids()
    assert models["../../virtual/<b>parent</b>"]["virtual"]
    # the cleaned parent reference found its model: rtl's parent is the model, not a second virtual node
    lineage = {(r["parent"], r["child"]) for r in pq.read_table(site / "lineage.parquet").to_pylist()}
    assert ("ctl/bell-esc[31m-red-nul", "rtl/\u202egnp.exe") in lineage
    assert (site / "data" / "search").is_dir() and len(list((site / "data" / "search").iterdir())) > 5
    assert not (site.parent / "tmp").exists() and not Path("/tmp/atlasgen-pwned").exists()


@pytest.mark.browser
def test_hostile_ids_are_text_in_the_viewer(browser: Any, base_url: str, shots: Path) -> None:
    from browser_util import new_page, wait_panel

    page, watch = new_page(browser)
    page.goto(base_url + "/")
    page.wait_for_selector("img.leaflet-tile-loaded[src*='tiles/']")
    scripts = page.evaluate("document.scripts.length")
    box = page.locator("#search-input")
    box.press_sequentially("evil", delay=15)
    page.wait_for_function(
        "() => document.querySelector('#search-results:not([hidden])')?.dataset.query === 'evil'"
    )
    texts = page.locator("#search-results .result-id").all_inner_texts()
    assert {'evil/<script>alert("xss")</script>', 'evil/"><img src=x onerror=alert(1)>'} <= set(texts)
    page.locator("#search-results .result", has_text="<script>").first.click()
    wait_panel(page, 'evil/<script>alert("xss")</script>')

    for model_id in sorted(expected_ids()):
        page.goto(base_url + "/index.html#m=" + quote(model_id, safe=""))
        wait_panel(page, model_id)
        if model_id == CORPUS.LONG_NAME:
            panel = page.locator("#panel").bounding_box()
            title = page.locator("#panel h2.model-id").bounding_box()
            assert (
                panel["x"] + panel["width"] <= 1280
                and title["x"] + title["width"] <= panel["x"] + panel["width"]
            )
            assert page.evaluate("document.documentElement.scrollWidth") <= 1280
            page.screenshot(path=str(shots / "hostile-long-name.png"))
    injected = page.evaluate(
        """() => ({
            scripts: document.scripts.length,
            imgs: document.querySelectorAll('img[src="x"], img[onerror]').length,
            bold: [...document.querySelectorAll('b')].filter(b => b.textContent === 'parent').length,
        })"""
    )
    assert injected == {"scripts": scripts, "imgs": 0, "bold": 0}
    assert watch.problems == []
