"""The published data files: positions round-trip and seed the next build by model id; `read_atlas`, the one
reader of a built atlas, checks columns, ids and links once, with errors that name the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from atlasgen.artifacts import (
    FILENAME,
    LINEAGE,
    absent_files,
    atlas_dir,
    is_atlas,
    read_atlas,
    read_json,
    read_previous,
    write_positions,
)
from atlasgen.errors import InputError


def test_positions_round_trip_aligned_by_id(tmp_path: Path) -> None:
    xy = np.array([[1.5, 2.5], [3.0, 4.0], [250.0, 0.125]])
    write_positions(pd.Series(["a/x", 'b/"q"', "c/z"]), xy, tmp_path)
    aligned, found = read_previous(tmp_path, pd.Series(["c/z", "new/model", "a/x"]))
    assert found == 2
    np.testing.assert_array_equal(aligned[0], [250.0, 0.125])
    assert np.isnan(aligned[1]).all()
    np.testing.assert_array_equal(aligned[2], [1.5, 2.5])
    same, _ = read_previous(tmp_path / FILENAME, pd.Series(['b/"q"']))  # the file itself works too
    np.testing.assert_array_equal(same[0], [3.0, 4.0])


def test_missing_or_broken_positions_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no positions file"):
        read_previous(tmp_path, pd.Series(["a"]))
    (tmp_path / FILENAME).write_text("not parquet", encoding="utf-8")
    with pytest.raises(InputError, match="not a readable positions file"):
        read_previous(tmp_path, pd.Series(["a"]))


# --- reading a built atlas: the one reader every tool uses ------------------------------------------------


def small_atlas(folder: Path, links: list[tuple[str, str, str]]) -> Path:
    folder.mkdir()
    frame = pd.DataFrame(
        {"id": ["org/base", "org/ft", "q/ft-GGUF"], "relation": ["base", "finetune", "quantized"]}
    )
    write_positions(frame, np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]), folder)
    pd.DataFrame(links, columns=["parent", "child", "relation"]).to_parquet(folder / LINEAGE)
    (folder / "atlas.json").write_text('{"layers": []}', encoding="utf-8")
    return folder


LINKS = [("org/base", "org/ft", "finetune"), ("org/ft", "q/ft-GGUF", "quantized")]


def test_read_atlas_gives_positions_links_by_row_and_the_json_files(tmp_path: Path) -> None:
    folder = small_atlas(tmp_path / "atlas", [*LINKS, LINKS[0]])  # a link given twice is read once
    (folder / "snapshot.json").write_text('{"label": "hub.parquet", "date": "2026-05-01"}', encoding="utf-8")
    for path in (folder, folder / "atlas.json", folder / FILENAME):  # each stands for the atlas
        atlas = read_atlas(path, columns=("relation", "downloads"))
        assert atlas.path == folder and list(atlas.positions.columns) == ["id", "x", "y", "relation"]
    assert atlas.edges is not None
    assert atlas.edges[["source", "target"]].to_numpy().tolist() == [[0, 1], [1, 2]]
    assert atlas.edges["relation"].tolist() == ["finetune", "quantized"]
    np.testing.assert_array_equal(atlas.xy[2], [4.0, 5.0])
    assert atlas.manifest == {"layers": []} and atlas.report == {}  # report.json: absent
    assert atlas.source() == {
        "kind": "atlas",
        "path": str(folder),
        "label": "hub.parquet",
        "date": "2026-05-01",
    }
    assert read_atlas(folder, lineage=False).edges is None
    assert is_atlas(folder) and not is_atlas(folder / FILENAME) and atlas_dir(tmp_path) == tmp_path
    assert absent_files(folder) == [] and absent_files(tmp_path) == [FILENAME, LINEAGE]


def test_read_atlas_errors_name_the_file(tmp_path: Path) -> None:
    folder = small_atlas(tmp_path / "atlas", [*LINKS, ("org/gone", "org/ft", "merge")])
    with pytest.raises(InputError, match=r"atlas/lineage.parquet: 1 links name models absent from positions"):
        read_atlas(folder)
    with pytest.raises(InputError, match=r"atlas/positions.parquet: lacks the column\(s\) task, licence"):
        read_atlas(folder, need=("x", "task", "licence"), lineage=False)
    pd.DataFrame({"id": ["a", "a"], "x": [0.0, 1.0], "y": [0.0, 1.0]}).to_parquet(folder / FILENAME)
    with pytest.raises(InputError, match=r"atlas/positions.parquet: duplicate model ids"):
        read_atlas(folder, lineage=False)
    (folder / "snapshot.json").write_text("{", encoding="utf-8")
    (folder / "report.json").write_text("[]", encoding="utf-8")
    with pytest.raises(InputError, match=r"atlas/snapshot.json: not valid JSON"):
        read_json(folder / "snapshot.json")
    with pytest.raises(InputError, match=r"atlas/report.json: not a JSON object"):
        read_json(folder / "report.json")
    with pytest.raises(InputError, match=r"nope/positions.parquet: no positions file"):
        read_atlas(tmp_path / "nope")
