"""Declared-licence changes across the atlas (atlasgen/index/licence_changes.py, with the rules of
atlasgen/graph/licences.py) and the viewer's dialog of them.

The Python tests use hand-made graphs: what counts as a change (same family, different family, undeclared,
equal after normalisation), the family each belongs to, how the files are sharded, determinism and JSON
escaping. The browser tests open the "Licence changes" dialog on the embedded sample (and on a tiny atlas
with hostile ids) in Debian's chromium.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from browser_util import need_browser, new_page, served, wait_panel

from atlasgen.graph import licences
from atlasgen.index import licence_changes as lc


def test_licence_rules() -> None:
    """What declares a licence, its family and when two differ: the one set of rules every user shares."""
    undeclared = [None, float("nan"), "", " unknown ", "None", "license:unknown"]
    assert [licences.declared(v) for v in undeclared] == [None] * len(undeclared)
    assert licences.declared(" MIT ") == "MIT"
    assert licences.same("License:MIT", " mit") and not licences.same("llama3", "llama3.1")
    families = {
        "license:Apache-2.0": "apache",
        "llama3.1": "llama",
        "tongyi-qianwen": "qwen",
        "creativeml-openrail-m": "openrail",
        "cc-by-nc-4.0": "cc-by",
        "wtfpl": "other",
        "nan": "unknown",
    }
    assert {v: licences.licence_family(v) for v in families} == families
    mixed = pd.Series(["mit", None, "unknown", np.nan, "llama3", "mit"], dtype=object)
    assert licences.stated(mixed).tolist() == [True, False, False, False, True, True]
    assert licences.stated(pd.Series([], dtype=object)).tolist() == []


def _graph(nodes: list[tuple[str, object, float]], links: list[tuple[str, str]]) -> tuple[Any, Any]:
    """(nodes, edges) as the graph stage makes them: nodes sorted by id, edges parent (source) -> child."""
    frame = pd.DataFrame(nodes, columns=["id", "licence", "downloads"]).sort_values("id", ignore_index=True)
    frame["virtual"] = False
    at = {k: i for i, k in enumerate(frame["id"])}
    edges = pd.DataFrame(
        {
            "source": [at[p] for p, _ in links],
            "target": [at[c] for _, c in links],
            "relation": "finetune",
        }
    )
    return frame, edges


HAND = _graph(
    [
        ("a/base", "llama3.1", 900.0),
        ("a/ft", "llama3", 50.0),  # same family, different value: a change, families the same
        ("a/q", "apache-2.0", 70.0),  # llama -> apache: families differ
        ("a/same", "License:LLAMA3.1", 10.0),  # equal after normalisation: no change
        ("a/undeclared", None, 5.0),  # not declared: never a change, either way
        ("a/grand", "mit", 1.0),
        ("a/unknown", "unknown", 3.0),
        ("b/root", "mit", 20.0),
        ("b/kid", "apache-2.0", float("nan")),
        ("c/solo", "apache-2.0", 1.0),
    ],
    [
        ("a/base", "a/ft"),
        ("a/ft", "a/q"),
        ("a/base", "a/same"),
        ("a/base", "a/undeclared"),
        ("a/undeclared", "a/grand"),
        ("a/base", "a/unknown"),
        ("b/root", "b/kid"),
    ],
)


def test_exact_changes_on_a_hand_made_graph() -> None:
    found = lc.find_changes(*HAND)
    rows = found[["child", "parent", "child_licence", "parent_licence", "families_differ", "family"]]
    assert rows.to_dict("records") == [
        {
            "child": "a/q",
            "parent": "a/ft",
            "child_licence": "apache-2.0",
            "parent_licence": "llama3",
            "families_differ": True,
            "family": "a/base",
        },
        {
            "child": "a/ft",
            "parent": "a/base",
            "child_licence": "llama3",
            "parent_licence": "llama3.1",
            "families_differ": False,
            "family": "a/base",
        },
        {
            "child": "b/kid",
            "parent": "b/root",
            "child_licence": "apache-2.0",
            "parent_licence": "mit",
            "families_differ": True,
            "family": "b/root",
        },
    ]
    assert found["child_family"].tolist() == ["apache", "llama", "apache"]
    assert found["parent_family"].tolist() == ["llama", "llama", "mit"]
    assert found["downloads"].tolist()[:2] == [70.0, 50.0] and np.isnan(found["downloads"].iloc[2])


def test_no_edges_or_no_licences_is_no_change(tmp_path: Path) -> None:
    nodes, edges = _graph([("x/a", None, 1.0), ("x/b", "mit", 2.0)], [("x/a", "x/b")])
    assert lc.find_changes(nodes, edges).empty
    assert lc.find_changes(nodes, edges.iloc[:0]).empty
    entry = lc.write_licence_changes(nodes, edges.iloc[:0], tmp_path)
    assert entry["changes"] == 0 and entry["chunks"] == 0
    folder = tmp_path / "data" / "licences"
    assert json.loads((folder / "families.json").read_text()) == {"families": []}
    assert json.loads((folder / "top.json").read_text()) == {"changes": []}


def test_written_files_and_atlas_entry(tmp_path: Path) -> None:
    entry = lc.write_licence_changes(*HAND, tmp_path)
    folder = tmp_path / "data" / "licences"
    assert entry["families"] == "data/licences/families.json" and entry["top"] == "data/licences/top.json"
    assert entry["template"] == "data/licences/{chunk}.json"
    assert (entry["changes"], entry["family_changes"], entry["chunks"]) == (3, 2, 1)
    assert "not a legal assessment" in entry["note"]
    families = json.loads((folder / "families.json").read_text())["families"]
    assert families == [
        {"root": "a/base", "changes": 2, "family_changes": 1, "chunks": [0, 0]},
        {"root": "b/root", "changes": 1, "family_changes": 1, "chunks": [0, 0]},
    ]
    chunk = json.loads((folder / "0.json").read_text())["changes"]
    assert [c["child"] for c in chunk] == ["a/q", "a/ft", "b/kid"]
    assert chunk[2]["downloads"] is None and chunk[0]["downloads"] == 70
    top = json.loads((folder / "top.json").read_text())["changes"]
    assert [c["child"] for c in top] == ["a/q", "a/ft", "b/kid"]  # downloads descending, unknown last
    assert entry["bytes"] == sum(f.stat().st_size for f in folder.iterdir())


def _stars(sizes: list[int], seed: int = 0) -> tuple[Any, Any]:
    """One star per size: a root (mit) with that many children (apache-2.0), each a change; the edges
    shuffled by `seed`."""
    rng = np.random.default_rng(seed)
    nodes, links = [], []
    for f, size in enumerate(sizes):
        root = f"f{f:03d}/root"
        nodes.append((root, "mit", 1e9))
        for k in range(size):
            child = f"f{f:03d}/kid-{k:04d}"
            nodes.append((child, "apache-2.0", float((k * 7 + f) % 13)))  # ties too
            links.append((root, child))
    order = rng.permutation(len(links))
    return _graph(nodes, [links[i] for i in order])


def test_sharding_bounds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lc, "CHUNK", 10)
    monkeypatch.setattr(lc, "TOP", 7)
    sizes = [3, 25, 4, 10, 2, 6, 1, 1, 7]
    entry = lc.write_licence_changes(*_stars(sizes), tmp_path)
    folder = tmp_path / "data" / "licences"
    families = json.loads((folder / "families.json").read_text())["families"]
    chunks = [json.loads((folder / f"{k}.json").read_text())["changes"] for k in range(entry["chunks"])]
    assert not (folder / f"{entry['chunks']}.json").exists()
    assert [f["changes"] for f in families] == sorted(sizes, reverse=True)
    assert all(len(c) <= 10 for c in chunks)
    assert sum(map(len, chunks)) == entry["changes"] == sum(sizes)
    previous_last = -1
    for family in families:
        first, last = family["chunks"]
        assert first >= previous_last and last >= first  # consecutive, in the families' order
        held = [c for k in range(first, last + 1) for c in chunks[k] if c["family"] == family["root"]]
        assert len(held) == family["changes"]  # all of it, in the chunks it names
        elsewhere = [c for k, ch in enumerate(chunks) if not first <= k <= last for c in ch]
        assert all(c["family"] != family["root"] for c in elsewhere)
        if family["changes"] <= 10:
            assert first == last  # never split unless larger than a chunk
        else:
            assert last - first + 1 == -(-family["changes"] // 10)  # its own chunks, full but the last
            assert all(c["family"] == family["root"] for k in range(first, last + 1) for c in chunks[k])
        downloads = [c["downloads"] for c in held]
        assert downloads == sorted(downloads, reverse=True)
        previous_last = last
    # greedy packing: a chunk is only closed when the next family would overflow it
    assert [len(c) for c in chunks] == [10, 10, 5, 10, 7, 10, 7]
    top = json.loads((folder / "top.json").read_text())["changes"]
    assert (
        len(top) == 7
        and [c["downloads"] for c in top]
        == sorted((c["downloads"] for ch in chunks for c in ch), reverse=True)[:7]
    )


def test_deterministic_whatever_the_edge_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lc, "CHUNK", 8)
    sizes = [5, 9, 3, 3, 12]
    a, b = tmp_path / "a", tmp_path / "b"
    assert lc.write_licence_changes(*_stars(sizes, seed=1), a) == lc.write_licence_changes(
        *_stars(sizes, seed=2), b
    )
    files = sorted(p.name for p in (a / "data" / "licences").iterdir())
    assert files == sorted(p.name for p in (b / "data" / "licences").iterdir())
    for name in files:
        assert (a / "data" / "licences" / name).read_bytes() == (b / "data" / "licences" / name).read_bytes()
    text = (a / "data" / "licences" / "families.json").read_text()
    assert text == json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


HOSTILE = 'evil/"><img src=x onerror=alert(1)></script>'
HOSTILE_PARENT = "evil/par&m=x#y\u2028\\'\"ent"


def test_json_escaping_of_hostile_ids(tmp_path: Path) -> None:
    nodes, edges = _graph(
        [(HOSTILE_PARENT, "mit", 5.0), (HOSTILE, '"apache"</script>', 9.0)], [(HOSTILE_PARENT, HOSTILE)]
    )
    lc.write_licence_changes(nodes, edges, tmp_path)
    folder = tmp_path / "data" / "licences"
    (change,) = json.loads((folder / "0.json").read_text(encoding="utf-8"))["changes"]
    assert (change["child"], change["parent"], change["family"]) == (HOSTILE, HOSTILE_PARENT, HOSTILE_PARENT)
    assert change["child_licence"] == '"apache"</script>' and change["child_family"] == "other"
    assert json.loads((folder / "families.json").read_text(encoding="utf-8"))["families"][0]["root"] == (
        HOSTILE_PARENT
    )


def test_families_are_named_by_their_root_in_a_dag() -> None:
    # a merge joins two lines: one family, named by the root with most descendants
    nodes, edges = _graph(
        [
            ("m/big", "apache-2.0", 1.0),
            ("m/small", "mit", 1.0),
            ("m/a", "apache-2.0", 1.0),
            ("m/b", "apache-2.0", 1.0),
            ("m/merge", "cc-by-4.0", 1.0),
        ],
        [("m/big", "m/a"), ("m/big", "m/b"), ("m/a", "m/merge"), ("m/small", "m/merge")],
    )
    found = lc.find_changes(nodes, edges)
    assert set(found["family"]) == {"m/big"}
    assert sorted(zip(found["child"], found["parent"], strict=True)) == [
        ("m/merge", "m/a"),
        ("m/merge", "m/small"),
    ]


# ------------------------------------------------------------------------------------------------ browser


@pytest.fixture(scope="module")
def site(sample_atlas: Path) -> Path:
    need_browser()
    return sample_atlas


def _families(site: Path) -> list[dict[str, Any]]:
    atlas = json.loads((site / "atlas.json").read_text(encoding="utf-8"))
    return json.loads((site / atlas["data"]["licences"]["families"]).read_text(encoding="utf-8"))["families"]


@pytest.mark.browser
def test_dialog_on_the_sample(browser: Any, base_url: str, site: Path, shots: Path) -> None:
    families = _families(site)
    assert len(families) >= 2
    pick = families[1]
    chunk = json.loads((site / "data" / "licences" / f"{pick['chunks'][0]}.json").read_text())["changes"]
    first = next(c for c in chunk if c["family"] == pick["root"])
    page, watch = new_page(browser)
    page.goto(base_url + "/")
    button = page.locator("#footer").get_by_role("button", name="Licence changes")
    button.click()
    dialog = page.locator("dialog#licences")
    dialog.wait_for(state="visible")
    page.wait_for_selector("#licences .licences-list li")
    assert "not a legal assessment" in dialog.inner_text()
    options = page.locator("#licences-family option").all_inner_texts()
    assert options[0] == "All families (most downloaded)" and len(options) == len(families) + 1
    assert options[2].startswith(pick["root"] + " — ")
    assert page.locator("#licences .licences-list li").count() == min(
        lc.TOP, sum(f["changes"] for f in families)
    )

    page.locator("#licences-family").select_option(label=options[2])
    page.wait_for_function(
        "n => document.querySelectorAll('#licences .licences-list li').length === n "
        "&& !document.querySelector('#licences .licences-list[aria-busy]')",
        arg=pick["changes"],
    )
    row = page.locator("#licences .licences-list li").first
    text = row.inner_text()
    assert first["child"] in text and first["parent"] in text
    assert f"{first['parent_licence']} → {first['child_licence']}" in text  # parent → child, as in the panel
    assert ("licence family differs" in text) == first["families_differ"]
    assert f"of {pick['changes']} changes" in page.locator("#licences .licences-status").inner_text()
    page.screenshot(path=str(shots / "licence-changes.png"))

    row.get_by_role("link").click()
    wait_panel(page, first["child"])
    assert not dialog.is_visible()
    assert "#m=" in page.url and page.evaluate("decodeURIComponent(location.hash)").startswith(
        "#m=" + first["child"]
    )

    button.click()
    dialog.wait_for(state="visible")
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    assert page.evaluate("document.activeElement.textContent") == "Licence changes"
    assert page.locator("#panel h2.model-id").inner_text() == first["child"]  # Escape closed only the dialog
    assert watch.problems == []


@pytest.mark.browser
def test_footer_fits_a_phone(browser: Any, base_url: str, shots: Path) -> None:
    page, watch = new_page(browser, width=375, height=740)
    page.goto(base_url + "/")
    button = page.locator("#footer").get_by_role("button", name="Licence changes")
    button.wait_for()
    for name in ("About & provenance", "Licence changes"):
        box = page.locator("#footer").get_by_role("button", name=name).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375
    trends = page.locator("#footer a", has_text="Trends").bounding_box()
    assert trends is not None and trends["x"] + trends["width"] <= 375
    button.click()
    page.wait_for_selector("#licences .licences-list li")
    box = page.locator("dialog#licences").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(shots / "licence-changes-phone.png"))
    assert watch.problems == []


@pytest.mark.browser
def test_hostile_ids_are_text_and_show_more(
    browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hostile ids and licences stay text; a family spread over two chunks (CHUNK = 1) shows "Show more"."""
    from atlasgen.pipeline.build import build_atlas

    second = "evil/second"
    edges = {"source": [HOSTILE_PARENT] * 2, "target": [HOSTILE, second], "relation": ["finetune"] * 2}
    pd.DataFrame(edges).to_csv(tmp_path / "edges.csv", index=False)
    nodes = {"id": [HOSTILE_PARENT, HOSTILE, second], "downloads": [5, 9, 2]}
    nodes["licence"] = ["mit", "<b>apache</b>", "apache-2.0"]
    pd.DataFrame(nodes).to_csv(tmp_path / "nodes.csv", index=False)
    out = tmp_path / "atlas"
    monkeypatch.setattr(lc, "CHUNK", 1)
    build_atlas(
        tmp_path / "edges.csv", out, nodes=tmp_path / "nodes.csv", seed=0, backend="cpu", progress=False
    )
    with served(out) as url:
        page, watch = new_page(browser)
        page.goto(url + "/")
        page.locator("#footer").get_by_role("button", name="Licence changes").click()
        page.wait_for_selector("#licences .licences-list li")
        dialog = page.locator("dialog#licences")
        rows = page.locator("#licences .licences-list li")
        assert rows.count() == 2
        assert page.locator("#licences img, #licences b").count() == 0
        text = dialog.inner_text()
        assert HOSTILE in text and "mit → <b>apache</b>" in text
        page.locator("#licences-family").select_option(index=1)
        more = page.locator("#licences .licences-more")
        more.wait_for(state="visible")
        assert rows.count() == 1 and HOSTILE in rows.first.inner_text()
        more.click()
        page.wait_for_function("() => document.querySelectorAll('#licences .licences-list li').length === 2")
        assert second in rows.nth(1).inner_text() and not more.is_visible()  # the family's last chunk
        assert "2 of 2 changes" in page.locator("#licences .licences-status").inner_text()
        rows.first.get_by_role("link").click()
        wait_panel(page, HOSTILE)
        assert page.locator("#licences img, #panel img, [onerror]").count() == 0
        assert watch.problems == []
