"""`atlasgen serve` (atlasgen/tools/serve.py): files only, never a folder listing; a bad port is a one-line
error."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from atlasgen.cli import cli
from atlasgen.tools.serve import make_server


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.json").write_text("[1]", encoding="utf-8")
    (tmp_path / "atlas.json").write_text("{}", encoding="utf-8")
    (tmp_path / "index.html").write_text("<!doctype html>", encoding="utf-8")
    return tmp_path


@pytest.fixture
def base(site: Path) -> Iterator[str]:
    server = make_server(site, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def status(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def test_folders_are_never_listed(base: str) -> None:
    assert status(f"{base}/") == (200, b"<!doctype html>")
    assert status(f"{base}/data/x.json") == (200, b"[1]")
    for folder in ("/data/", "/data"):  # the second is redirected to the first
        code, body = status(base + folder)
        assert code == 404 and b"x.json" not in body


@pytest.mark.parametrize("port", ["99999", "-1", "65536"])
def test_a_port_out_of_range_is_a_one_line_error(site: Path, port: str) -> None:
    result = CliRunner().invoke(cli, ["serve", str(site), "--port", port])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert result.output.strip().count("\n") == 0 and "Error:" in result.output
    assert "65535" in result.output
