"""Progress bars draw on a terminal only; in a file or a CI log each step is one line (issue 15 minor item)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from atlasgen.cli import cli
from atlasgen.progress import LineBar, bar, bar_class

EDGES = "source,target,relation\norg/a,org/b,finetune\norg/b,org/c,finetune\norg/c,org/d,quantized\n"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_build_logged_to_a_file_writes_one_line_per_step(tmp_path: Path) -> None:
    (tmp_path / "edges.csv").write_text(EDGES, encoding="utf-8")
    args = ["build", str(tmp_path / "edges.csv"), "--out", str(tmp_path / "site"), "--workers", "1"]
    result = CliRunner().invoke(cli, args)  # stderr is not a terminal here, as in CI
    assert result.exit_code == 0, result.output
    assert "\r" not in result.output and "it/s" not in result.output and "block/s" not in result.output
    steps = [line for line in result.output.splitlines() if re.fullmatch(r"\S+ z\d+: .*", line)]
    assert steps and all(re.fullmatch(r"\w+ z\d+: [\d,]+ blocks? in \d+\.\d s", line) for line in steps)
    assert len(steps) == len({line.split(":")[0] for line in steps}), "one line per layer and zoom"
    assert "relation z0: 1 block in" in result.output
    quiet = CliRunner().invoke(cli, [*args[:-4], "--out", str(tmp_path / "q"), "--workers", "1", "-q"])
    assert quiet.exit_code == 0 and quiet.output == ""


def test_a_line_bar_says_once_how_many_and_how_long(capsys: pytest.CaptureFixture[str]) -> None:
    assert list(bar(range(3), desc="layout", unit="island")) == [0, 1, 2]
    assert list(bar(np.array([5, 6]), desc="arrays", unit="island", enabled=False)) == [5, 6]
    with bar(desc="Listing models", unit=" models", total=10, initial=4) as listing:
        listing.update(6)
    with bar(desc="nothing", unit="block", enabled=False) as silent:
        silent.update()
    lines = capsys.readouterr().err.splitlines()
    assert [re.sub(r"in \d+\.\d s$", "in T", line) for line in lines] == [
        "layout: 3 islands in T",
        "Listing models: 10 models in T",
    ]


def test_on_a_terminal_the_bar_is_tqdms(monkeypatch: pytest.MonkeyPatch) -> None:
    from tqdm import tqdm

    monkeypatch.setattr("sys.stderr", Terminal())
    shown = bar(range(2), desc="layout", unit="island")
    assert isinstance(shown, tqdm) and list(shown) == [0, 1]
    assert bar_class(True) is None  # the library's own bar
    assert not isinstance(bar(desc="x", unit="block", enabled=False), tqdm)


def test_a_library_bar_class_off_a_terminal_prints_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    cls = bar_class(True)
    assert cls is not None
    download = cls(total=300, desc="models.parquet", unit="B")
    download.update(100)
    download.update(200)
    download.close()
    silent = bar_class(False)
    assert silent is not None
    silent(total=5, desc="quiet", unit="B").close()
    assert re.fullmatch(r"models\.parquet: 300 B in \d+\.\d s\n", capsys.readouterr().err)
    assert isinstance(LineBar(desc="d", unit="block"), LineBar)
