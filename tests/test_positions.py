"""The published positions file round-trips and seeds the next build by model id."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from atlasgen.artifacts import FILENAME, read_previous, write_positions
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
