"""Map labels (atlasgen/labels.py): the right candidates, no overlaps by the box estimate, small, stable."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd

from atlasgen.index.labels import (
    CHAR_PX,
    LINE_PX,
    family_sizes,
    label_text,
    labels_payload,
    map_zoom,
    write_labels,
)

HOSTILE = 'evil/<img src=x onerror=alert(1)>"\\\u2028</script>'


def _frames(n_extra: int = 0, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """A big family (root with 30 descendants), a small one, a very downloaded loner, noise models."""
    rng = np.random.default_rng(seed)
    ids = ["big/root", "loner/popular", "small/base", HOSTILE]
    ids += [f"big/child-{i:03d}" for i in range(30)] + [f"small/child-{i}" for i in range(3)]
    ids += [f"noise/m-{i:05d}" for i in range(n_extra)]
    ids = sorted(set(ids))
    vertex = {m: i for i, m in enumerate(ids)}
    downloads = {m: float(rng.integers(1, 1000)) for m in ids}
    downloads["loner/popular"] = 5e7
    downloads[HOSTILE] = 1e6
    nodes = pd.DataFrame({"id": ids, "downloads": [downloads[m] for m in ids]})
    pairs = [("big/root", f"big/child-{i:03d}") for i in range(10)]
    pairs += [(f"big/child-{i:03d}", f"big/child-{i + 10:03d}") for i in range(20)]
    pairs += [("small/base", f"small/child-{i}") for i in range(3)]
    edges = pd.DataFrame(
        {
            "source": np.array([vertex[a] for a, _ in pairs], dtype=np.int64),
            "target": np.array([vertex[b] for _, b in pairs], dtype=np.int64),
            "relation": "finetune",
        }
    )
    xy = rng.uniform(5, 251, size=(len(ids), 2))
    return nodes, edges, xy


def _by_text(payload: dict) -> dict[str, list]:
    return {row[1]: row for row in payload["labels"]}


def test_biggest_family_and_top_model_are_labelled_first() -> None:
    nodes, edges, xy = _frames()
    payload = labels_payload(nodes, edges, xy, max_zoom=6)
    assert payload["fields"] == ["vertex", "text", "x", "y", "min_zoom", "kind"]
    labels = _by_text(payload)
    assert labels["root"][5] == "f" and labels["root"][0] == nodes.index[nodes["id"] == "big/root"][0]
    assert labels["popular"][5] == "m"
    assert payload["labels"][0][1] == "root" and payload["labels"][1][1] == "popular"
    assert labels["root"][4] == 0 and labels["popular"][4] <= 1


def test_family_sizes_count_descendants_of_roots() -> None:
    nodes, edges, _ = _frames()
    sizes = family_sizes(len(nodes), edges)
    ids = nodes["id"].tolist()
    assert sizes[ids.index("big/root")] == 30
    assert sizes[ids.index("small/base")] == 3
    assert sizes[ids.index("big/child-000")] == -1  # not a root
    assert sizes[ids.index("loner/popular")] == 0


def _overlap(a: list, b: list, z: int) -> bool:
    scale = 2.0**z
    wa, wb = len(a[1]) * CHAR_PX, len(b[1]) * CHAR_PX
    return abs(a[2] - b[2]) * scale < (wa + wb) / 2 and abs(a[3] - b[3]) * scale < LINE_PX


def test_no_two_labels_overlap_at_any_zoom() -> None:
    nodes, edges, xy = _frames(n_extra=3000, seed=1)
    payload = labels_payload(nodes, edges, xy, max_zoom=7)
    rows = payload["labels"]
    assert len(rows) > 50
    for z in range(0, 10):
        shown = [r for r in rows if r[4] <= z]
        for a, b in itertools.combinations(shown, 2):
            assert not _overlap(a, b, z), (z, a, b)


def test_size_bound_and_per_zoom_cap(tmp_path: Path) -> None:
    nodes, edges, xy = _frames(n_extra=20000, seed=2)
    data = write_labels(nodes, edges, xy, tmp_path, max_zoom=8)  # + 2 zooms past the tiles
    assert data == {"labels": "data/labels.json"}
    raw = (tmp_path / "data" / "labels.json").read_bytes()
    payload = json.loads(raw)
    assert payload["max_zoom"] == 10
    per_zoom = np.bincount([r[4] for r in payload["labels"]], minlength=11)
    assert per_zoom.max() <= 40
    assert len(raw) < 30_000


def test_deterministic(tmp_path: Path) -> None:
    nodes, edges, xy = _frames(n_extra=500)
    write_labels(nodes, edges, xy, tmp_path / "a", max_zoom=5)
    write_labels(nodes, edges, xy, tmp_path / "b", max_zoom=5)
    a = (tmp_path / "a" / "data" / "labels.json").read_bytes()
    assert a == (tmp_path / "b" / "data" / "labels.json").read_bytes()
    assert b"\n" not in a and b": " not in a


def test_hostile_ids_round_trip_as_json_text(tmp_path: Path) -> None:
    nodes, edges, xy = _frames()
    write_labels(nodes, edges, xy, tmp_path, max_zoom=6)
    payload = json.loads((tmp_path / "data" / "labels.json").read_text(encoding="utf-8"))
    texts = [r[1] for r in payload["labels"]]
    assert label_text(HOSTILE) in texts
    assert label_text(HOSTILE).startswith("<img src=x onerror=alert(1)>")


def test_label_text() -> None:
    assert label_text("meta-llama/Llama-3.1-8B") == "Llama-3.1-8B"
    assert label_text("gpt2") == "gpt2"
    assert label_text("o/" + "x" * 50) == "x" * 31 + "…"
    assert label_text("o/a  \n b") == "a b"


def test_a_map_drawn_small_in_its_world_is_first_labelled_where_it_fills_the_view() -> None:
    """Labels start at the zoom where the map is about a tile across (a fresh map fills at most a quarter
    of its world's side), so the first view names the best known models, not the 120th best."""
    nodes, edges, xy = _frames(n_extra=400)
    full = labels_payload(nodes, edges, xy, max_zoom=8)
    small = labels_payload(nodes, edges, 128.0 + (xy - 128.0) / 4.0, max_zoom=8)  # a quarter as wide
    assert map_zoom(xy) == 0 and map_zoom(128.0 + (xy - 128.0) / 4.0) == 2
    assert min(row[4] for row in small["labels"]) == 2
    # seen at the zoom where it is as wide, the small map names what the full one names
    shown = lambda payload, z: {row[1] for row in payload["labels"] if row[4] <= z}  # noqa: E731
    for z in (0, 1, 2):
        assert shown(small, z + 2) == shown(full, z)
