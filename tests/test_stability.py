"""Maps stay put through real weekly Hub change (tests/data/weekly: three real weeks, a small subset):
kept families keep their coordinates exactly, a join keeps its largest part in place and moves the
others rigidly, islands never overlap, and the world only grows."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from atlasgen.layout import layout_atlas
from atlasgen.layout.pack import place_near
from atlasgen.layout.parts import KEPT, LARGEST, NEW, OTHER, REGION, UNDOCUMENTED, find_parts
from atlasgen.layout.regions import GROUP_SPACING, Blockers, fill_slots, phyllotaxis, territory
from atlasgen.layout.world import MARGIN, world_size
from atlasgen.tiles.pyramid import UNIT_PX, zoom_for_unit

EVENTS = Path(__file__).parent / "data" / "weekly" / "events.csv"


def _weeks() -> list[tuple[list[str], np.ndarray, np.ndarray]]:
    """Per week: (ids, parent index, child index); parents outside the Hub are added, as the atlas does."""
    with EVENTS.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    alive: dict[str, list[str]] = {}
    out = []
    for week in (1, 2, 3):
        for r in (r for r in rows if int(r["week"]) == week):
            if r["event"] == "added":
                alive[r["id"]] = [
                    p.strip() for p in r["parents"].split(",") if p.strip() and p.strip() != r["id"]
                ]
            else:
                alive.pop(r["id"], None)
        ids = sorted(alive)
        ids += sorted({p for ps in alive.values() for p in ps} - set(alive))
        index = {m: i for i, m in enumerate(ids)}
        pairs = {(index[p], index[c]) for c, ps in alive.items() for p in ps}
        src, dst = np.array(sorted(pairs)).T if pairs else (np.zeros(0, int), np.zeros(0, int))
        out.append((ids, src, dst))
    return out


def _families(n: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    _, lab = connected_components(
        coo_matrix((np.ones(src.size), (src, dst)), shape=(n, n)), connection="weak"
    )
    linked = np.zeros(n, bool)
    linked[src], linked[dst] = True, True
    return np.where(linked, lab, -1)


@pytest.fixture(scope="module")
def chain() -> list[dict[str, Any]]:
    """Week 1 fresh, weeks 2 and 3 each on the week before (positions and families by model id)."""
    out: list[dict[str, Any]] = []
    for ids, src, dst in _weeks():
        kw: dict[str, Any] = {}
        if out:
            last = out[-1]
            kw["previous"] = last["pos"].reindex(ids).to_numpy(float)
            kw["previous_family"] = last["fam"].reindex(ids).fillna(-1).to_numpy(np.int64)
        xy, info = layout_atlas(len(ids), src, dst, backend="cpu", max_iter=60, progress=False, **kw)
        fam = _families(len(ids), src, dst)
        out.append(
            {
                "ids": ids,
                "xy": xy,
                "info": info,
                "comp": fam,
                **kw,
                "pos": pd.DataFrame(xy, index=ids),
                "fam": pd.Series(fam, index=ids),
            }
        )
    return out


def test_weeks_have_the_real_changes(chain: list[dict[str, Any]]) -> None:
    joined = [w["info"]["stability"]["families_joined"] for w in chain[1:]]
    assert sum(joined) >= 2  # the subset was picked for its joins
    for w in chain[1:]:
        assert w["info"]["stability"]["survivors"] < len(w["ids"])  # and it grows


def test_kept_families_and_largest_parts_do_not_move(chain: list[dict[str, Any]]) -> None:
    for w in chain[1:]:
        by = w["info"]["stability"]["by_cause"]
        assert by["kept"]["models"] > 100 and by["kept"]["max"] == 0.0
        assert by["joined_largest"]["max"] == 0.0
        assert by["undocumented"]["models"] > 100 and by["undocumented"]["max"] == 0.0


def test_smaller_parts_move_rigidly_beside_the_largest(chain: list[dict[str, Any]]) -> None:
    moved_any = False
    for w in chain[1:]:
        prev, xy = w["previous"], w["xy"]
        alive = np.isfinite(prev[:, 0])
        parts = find_parts(w["comp"], alive, w["previous_family"])
        for p in np.flatnonzero(parts.head != np.arange(parts.head.size)):  # the smaller parts
            members = np.flatnonzero(parts.part == p)
            shift = xy[members] - prev[members]
            assert np.allclose(shift, shift[0], atol=1e-6)  # one translation: the part keeps its shape
            moved_any |= bool(np.hypot(*shift[0]) > 0)
    assert moved_any


def test_no_overlaps_and_the_world_only_grows(chain: list[dict[str, Any]]) -> None:
    for before, w in itertools.pairwise(chain):
        info = w["info"]
        assert info["drift"]["now"]["overlaps"] == 0
        assert info["world"] >= before["info"]["world"]
        assert (w["xy"] >= MARGIN - 1e-9).all() and (w["xy"] <= info["world"]).all()
        assert info["drift"]["density_vs_fresh"] > 0.5


def test_find_parts_join_split_and_region() -> None:
    # old families: A = {0, 1, 2} (largest), B = {3, 4}, C = {5, 6}; 7 was undocumented, 8 is new
    old = np.array([0, 0, 0, 1, 1, 2, 2, -1, -1])
    # new: a merge (8) joins A and B into island 0; C splits into islands 1 ({5}+...) and 2; 7 gets a parent
    comp = np.array([0, 0, 0, 0, 0, 1, 2, 1, 0])
    alive = np.array([True] * 8 + [False])
    parts = find_parts(comp, alive, old)
    assert parts.joined == 1
    assert list(parts.cause) == [LARGEST] * 3 + [OTHER] * 2 + [KEPT, KEPT, REGION, NEW]
    assert parts.moving.sum() == 1 and parts.moving[parts.part[3]]
    und = find_parts(np.array([-1]), np.array([True]), np.array([-1]))
    assert und.cause[0] == UNDOCUMENTED


def test_growth_goes_around_other_islands() -> None:
    own = phyllotaxis(np.arange(50), 0.5, 1.0)
    wall = np.column_stack([np.full(40, 4.5), np.linspace(-10, 10, 40)])  # another island to the right
    points = np.r_[own, wall]
    label = np.r_[np.zeros(50, int), np.ones(40, int)]
    blockers = Blockers(points, label, 1.0, territory(np.zeros((0, 2)), 4.0, -np.inf))
    new = fill_slots(
        np.zeros((1, 2)),
        np.array([0.5]),
        1.0,
        own,
        np.array([50]),
        np.zeros(300, int),
        blockers,
        np.array([0]),
    )
    d_other = np.hypot(*(new[:, None] - wall[None]).transpose(2, 0, 1)).min(axis=1)
    assert np.isfinite(new).all() and d_other.min() >= 1.0
    capped = fill_slots(
        np.zeros((1, 2)),
        np.array([0.5]),
        1.0,
        own,
        np.array([50]),
        np.zeros(300, int),
        blockers,
        np.array([0]),
        limit=np.array([100]),
    )
    assert np.isnan(capped[:, 0]).sum() >= 250  # no room within reach: the caller puts them in an annex


def test_place_near_each_beside_its_own_point() -> None:
    centres = np.array([[0.0, 0.0], [100.0, 0.0]])
    radii = np.array([10.0, 10.0])
    out = place_near(centres, radii, np.array([2.0, 2.0]), np.array([[0.0, 0.0], [100.0, 0.0]]), lo=-11.0)
    assert np.hypot(*(out[0] - centres[0])) < 14.0 and np.hypot(*(out[1] - centres[1])) < 14.0
    assert (np.hypot(*(out[:, None] - centres[None]).transpose(2, 0, 1)) >= 12.0 - 1e-6).all()
    assert (out >= -11.0 + 2.0 - 1e-6).all()


def test_world_size_doubles_to_fit() -> None:
    assert world_size(np.array([[10.0, 250.0]])) == 256
    assert world_size(np.array([[10.0, 300.0]])) == 512
    assert world_size(np.array([[1100.0, 3.0]])) == 2048


def test_a_grown_world_is_tiled_and_indexed_whole(tmp_path: Path) -> None:
    from atlasgen.index.pick import write_pick
    from atlasgen.index.stage import SIZES, Writer
    from atlasgen.publish.site import tile_index
    from atlasgen.tiles.pyramid import render_layers

    points = pd.DataFrame(
        {"x": [10.0, 400.0], "y": [10.0, 300.0], "relation": ["base", "finetune"], "downloads": [10.0, 5.0]}
    )
    out = render_layers(
        points, None, tmp_path, max_zoom=1, layers=("relation",), workers=1, progress=False, world=512
    )
    layer = out["layers"][0]
    assert (tmp_path / "tiles" / "relation" / "0" / "1" / "1.webp").is_file()  # x 400, y 300: tile (1, 1)
    assert (tmp_path / "tiles" / "relation" / "1" / "3" / "2.webp").is_file()
    exists = tile_index(tmp_path, layer, tiles_across=2)
    assert exists is not None
    import base64

    bits = base64.b64decode(exists["0"])
    assert bits[0] & (1 << (1 * 2 + 1)) and bits[0] & 1  # (0, 0) and (1, 1) of a 2 x 2 zoom-0 grid
    pick = write_pick(Writer(tmp_path / "data"), np.array([[10.0, 10.0], [400.0, 300.0]]), SIZES, 512)
    assert pick["world"] == 512
    with pytest.raises(ValueError, match="world size"):
        render_layers(
            points, None, tmp_path, max_zoom=0, layers=("relation",), workers=1, progress=False, world=300
        )


def test_diff_explains_moves_as_the_report_does(chain: list[dict[str, Any]]) -> None:
    from atlasgen.tools.moves import moves_by_cause

    weeks = _weeks()
    for (ids0, s0, d0), (ids1, s1, d1), before, w in zip(weeks, weeks[1:], chain, chain[1:], strict=False):
        frames = [
            (pd.DataFrame({"id": ids}), pd.DataFrame({"source": s, "target": d}))
            for ids, s, d in ((ids0, s0, d0), (ids1, s1, d1))
        ]
        got = moves_by_cause(*frames[0], *frames[1], before["xy"], w["xy"])
        assert got.pop("families_joined") == w["info"]["stability"]["families_joined"]
        assert got == w["info"]["stability"]["by_cause"]


def test_synthetic_weeks_grow_delete_and_join() -> None:
    from atlasgen.ingest.synth_weeks import synthesize_weeks

    weeks = synthesize_weeks(5000, 3, growth=0.5, seed=2)

    def links(table: Any) -> set[tuple[str, str]]:
        out = set()
        for child, base in zip(
            table.column("id").to_pylist(), table.column("baseModels").to_pylist(), strict=True
        ):
            out |= {(m["id"], child) for m in (base or {}).get("models") or []}
        return out

    late = 0
    for before, after in itertools.pairwise(weeks):
        old, new = set(before.column("id").to_pylist()), set(after.column("id").to_pylist())
        assert len(new) > len(old) and old - new  # growth and deletions
        late += sum(1 for p, c in links(after) - links(before) if p in old and c in old)
    assert late >= 1  # a link between models that both existed: it joins families


def test_regions_keep_their_sides_and_the_undocumented_disc_grows_round(chain: list[dict[str, Any]]) -> None:
    """Week after week the lineage region stays left of the undocumented region (neither walls the other
    in), and the undocumented disc grows as a disc, not a disc cut flat by the border: its farthest model
    is about as far from its centre as in a fresh disc of that many models."""
    for w in chain:
        xy, lineage = w["xy"], w["comp"] >= 0
        assert xy[lineage, 0].max() < xy[~lineage, 0].min()
        (group,) = w["info"]["regions"]["undocumented"]["groups"]
        fresh_radius = GROUP_SPACING * np.sqrt(group["count"]) * w["info"]["unit"]
        assert group["radius"] <= 1.1 * fresh_radius, (group["radius"], fresh_radius)


def test_depth_follows_the_scale_whatever_the_world(chain: list[dict[str, Any]]) -> None:
    """A fresh map's scale is a power of two; a map built on it keeps that scale exactly (measured, then
    snapped), so at the deepest zoom every map has the same detail per model (tiles.zoom_for_unit) and
    its tiles cost what the models need, not what its world's size is."""
    units = [w["info"]["unit"] for w in chain]
    assert units[0] == 2.0 ** round(np.log2(units[0]))
    assert units == [units[0]] * len(units)
    ids, src, dst = _weeks()[-1]
    _, fresh = layout_atlas(len(ids), src, dst, backend="cpu", max_iter=60, progress=False)
    assert fresh["unit"] == 2.0 ** round(np.log2(fresh["unit"]))
    for unit in (*units, fresh["unit"]):
        assert 2.0 ** zoom_for_unit(unit) * unit == UNIT_PX  # px per packing unit at the deepest zoom
    with pytest.raises(ValueError, match="unit"):
        zoom_for_unit(0.0)


def test_without_undocumented_models_families_still_grow_in_place() -> None:
    """A map of families only (a --focus build, a snapshot of linked models): there is no border between
    regions, so nothing walls the families in; a surviving parent's new children take slots in its disc
    (a few packing units away), not annexes in the free space off the map's edge."""
    out: list[dict[str, Any]] = []
    for ids, src, dst in _weeks()[:2]:
        linked = np.unique(np.r_[src, dst])
        index = np.full(len(ids), -1)
        index[linked] = np.arange(linked.size)
        ids, src, dst = [ids[i] for i in linked], index[src], index[dst]
        kw: dict[str, Any] = {}
        if out:
            kw["previous"] = out[-1]["pos"].reindex(ids).to_numpy(float)
            kw["previous_family"] = out[-1]["fam"].reindex(ids).fillna(-1).to_numpy(np.int64)
        xy, info = layout_atlas(len(ids), src, dst, backend="cpu", max_iter=60, progress=False, **kw)
        out.append(
            {"pos": pd.DataFrame(xy, index=ids), "fam": pd.Series(_families(len(ids), src, dst), index=ids)}
        )
    prev = kw["previous"]
    grown = ~np.isfinite(prev[dst, 0]) & np.isfinite(prev[src, 0])  # new children of survivors
    far = np.hypot(*(xy[src[grown]] - xy[dst[grown]]).T) / info["unit"]
    assert grown.sum() > 100 and np.median(far) < 5.0, np.median(far)  # annexed, they were ~15 away
    assert info["drift"]["now"]["overlaps"] == 0
