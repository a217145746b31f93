"""The stage cache behind `build --resume` (atlasgen/pipeline/cache.py, datafiles.py): results are data files
that come back with their exact dtypes, nothing is ever unpickled, and an entry that is not the building
user's own (another owner, writable by others, a link) is ignored and logged, never read.
"""

from __future__ import annotations

import logging
import os
import pickle
import stat
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from atlasgen.graph.dag import Graph
from atlasgen.pipeline import cache as cache_module
from atlasgen.pipeline.cache import StageCache
from atlasgen.pipeline.datafiles import NotRecordable, frame_difference, read_result, write_result

NOBODY = 65534


def every_dtype() -> pd.DataFrame:
    """A frame with each kind of column a stage frame holds or may come to hold."""
    return pd.DataFrame(
        {
            "category": pd.Categorical(["b", "a", None, "b"], categories=["z", "b", "a"]),  # unused, unsorted
            "ordered": pd.Categorical(["lo", "hi", "lo", None], categories=["lo", "hi"], ordered=True),
            "str": pd.array(["x", None, "é", "y"], dtype="str"),
            "string": pd.array(["x", pd.NA, "y", "z"], dtype="string"),
            "object": np.array(["a", None, "b", "c"], dtype=object),  # the graph's text columns
            "Int64": pd.array([1, None, 2**62, -1], dtype="Int64"),
            "boolean": pd.array([True, None, False, True], dtype="boolean"),
            "float": [0.1, np.nan, -0.0, np.inf],
            "float32": np.array([1, 2, 3, np.nan], np.float32),
            "int32": np.array([1, 2, 3, 4], np.int32),
            "bool": [True, False, True, False],
            "utc": pd.to_datetime(
                pd.Series(["2024-01-01", None, "2262-04-11", "1970-01-01"]), utc=True
            ).array,
            "us": np.array(["2024-01-01", "NaT", "9999-12-31", "0001-01-01"], "datetime64[us]"),
        },
        index=pd.RangeIndex(10, 14),
    )


def test_results_come_back_exactly(tmp_path: Path) -> None:
    frame = every_dtype()
    graph = Graph(frame, frame.iloc[:2].reset_index(drop=True), {"repairs": {"self_loops": 1}})
    xy = np.arange(6.0).reshape(3, 2)
    value = {
        "graph": graph,
        "xy": xy,
        "count": np.int32(4),
        "pair": (1, "a"),
        3: [None, float("nan"), -0.0, float("inf"), 2**70, True],
        "$looks_like_a_tag": {"$tuple": "just a key"},
    }
    write_result(value, tmp_path)
    back = read_result(tmp_path)
    assert list(back) == list(value)
    assert type(back["graph"]) is Graph and back["graph"].report == graph.report
    assert frame_difference(frame, back["graph"].nodes) is None
    assert frame_difference(graph.edges, back["graph"].edges) is None
    assert back["xy"].dtype == np.float64 and np.array_equal(back["xy"], xy)
    assert type(back["count"]) is np.int32 and back["count"] == 4
    assert type(back["pair"]) is tuple and back["pair"] == (1, "a")
    none, nan, zero, inf, big, true = back[3]
    assert none is None and np.isnan(nan) and str(zero) == "-0.0" and inf == float("inf")
    assert big == 2**70 and true is True
    assert back["$looks_like_a_tag"] == {"$tuple": "just a key"}
    assert all(p.suffix in (".json", ".npz", ".parquet") for p in tmp_path.iterdir())


@pytest.mark.parametrize(
    "value",
    [
        np.array([object()]),  # an object array would need pickle
        object(),
        OrderedDict(a=1),  # a dict subclass would come back a dict
        pd.DataFrame({"o": pd.Series([1, "a"], dtype=object)}),  # parquet cannot hold it
        pd.DataFrame({"o": pd.Series(["a", float("nan")], dtype=object)}),  # NaN would come back None
    ],
    ids=["object-array", "object", "ordered-dict", "mixed-column", "nan-in-text"],
)
def test_what_cannot_come_back_exactly_is_not_recorded(tmp_path: Path, value: Any) -> None:
    with pytest.raises(NotRecordable):
        write_result(value, tmp_path)


def new_cache(tmp_path: Path, *, resume: bool = True) -> StageCache:
    return StageCache(tmp_path / "site", resume=resume, timings={})


def record(tmp_path: Path) -> Path:
    """A recorded `index` stage (key "k") with one file; returns the stage folder."""
    work = tmp_path / "work"
    (work / "data").mkdir(parents=True)
    (work / "data" / "x.json").write_text("[1]", encoding="utf-8")
    new_cache(tmp_path, resume=False).put("index", "k", {"a": (1, 2)}, work, [work / "data"])
    return tmp_path / ".site.stages"


def test_entries_are_private_to_the_user_and_read_back(tmp_path: Path) -> None:
    root = record(tmp_path)
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    for path in [root, *root.rglob("*")]:
        info = path.lstat()
        assert info.st_uid == os.geteuid() and not info.st_mode & 0o022, path
        assert stat.S_ISDIR(info.st_mode) or stat.S_ISREG(info.st_mode), path
    assert not list(root.rglob("*.pickle"))
    into = tmp_path / "into"
    into.mkdir()
    assert new_cache(tmp_path).get("index", "k", into=into) == {"a": (1, 2)}
    assert (into / "data" / "x.json").read_text(encoding="utf-8") == "[1]"
    assert new_cache(tmp_path).get("index", "another key") is None
    assert new_cache(tmp_path, resume=False).get("index", "k") is None


class Payload:
    """Unpickling this creates `marker`: what a planted pickle that runs a command would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[Path]]:
        return Path.touch, (self.marker,)


def test_a_planted_pickle_is_never_unpickled(tmp_path: Path) -> None:
    marker = tmp_path / "code-ran"
    data = pickle.dumps(Payload(marker))
    root = record(tmp_path)
    entry = root / "index"
    # The old format's file and each file of the new one hold the pickle; the key is right and the user's own.
    for name in ("result.pickle", "result/result.json", "result/arrays.npz", "result/frame-0.parquet"):
        (entry / name).write_bytes(data)
    assert new_cache(tmp_path).get("index", "k") is None
    assert not marker.exists()


def make_foreign(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make `path` another user's: chown it to nobody (as root), else make this process another user."""
    if os.geteuid() == 0:
        os.chown(path, NOBODY, NOBODY, follow_symlinks=False)
    else:
        other = os.geteuid() + 1
        monkeypatch.setattr(os, "geteuid", lambda: other)


TAMPERINGS = {
    "foreign-root": lambda root, mp: make_foreign(root, mp),
    "foreign-entry": lambda root, mp: make_foreign(root / "index", mp),
    "foreign-file": lambda root, mp: make_foreign(root / "index" / "result" / "result.json", mp),
    "foreign-tree-file": lambda root, mp: make_foreign(root / "index" / "tree" / "data" / "x.json", mp),
    "open-root": lambda root, mp: root.chmod(0o777),
    "group-writable-entry": lambda root, mp: (root / "index").chmod(0o770),
    "other-writable-key": lambda root, mp: (root / "index" / "key").chmod(0o602),
    "linked-tree-file": lambda root, mp: _replace_by_link(root / "index" / "tree" / "data" / "x.json"),
    "fifo-in-tree": lambda root, mp: os.mkfifo(root / "index" / "tree" / "fifo"),
}


def _replace_by_link(path: Path) -> None:
    secret = path.parents[5] / "secret.txt"
    secret.write_text("not for the site", encoding="utf-8")
    path.unlink()
    path.symlink_to(secret)


@pytest.mark.parametrize("tamper", list(TAMPERINGS))
def test_an_entry_not_the_users_own_is_ignored_and_never_read(
    tmp_path: Path, tamper: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    root = record(tmp_path)
    TAMPERINGS[tamper](root, monkeypatch)

    def never(*args: object) -> None:
        pytest.fail("read an untrusted entry")

    monkeypatch.setattr(cache_module, "read_result", never)
    monkeypatch.setattr(cache_module, "_link_tree", never)
    caplog.set_level(logging.INFO, logger="atlasgen")
    into = tmp_path / "into"
    into.mkdir()
    assert new_cache(tmp_path).get("index", "k", into=into) is None
    assert "index: ignoring the recorded stage" in caplog.text
    assert not list(into.iterdir())


def test_a_stage_folder_planted_by_another_user_is_neither_used_nor_deleted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / ".site.stages"
    root.mkdir(mode=0o700)
    (root / "planted").write_text("theirs", encoding="utf-8")
    make_foreign(root, monkeypatch)
    caplog.set_level(logging.INFO, logger="atlasgen")
    cache = new_cache(tmp_path)
    assert cache.put("graph", "k", {"a": 1}) == {"a": 1}
    assert "graph: could not record the stage for --resume" in caplog.text
    assert cache.get("graph", "k") is None
    cache.clear()
    assert sorted(p.name for p in root.iterdir()) == ["planted"]
