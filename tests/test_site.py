"""write_site: copies the viewer bundle, writes atlas.json (with tile-existence bitmaps) and .nojekyll."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from atlasgen.errors import BuildError
from atlasgen.publish import site

MANIFEST = {
    "title": "Model Atlas",
    "generator": {"name": "atlasgen", "version": "0.1.0"},
    "snapshot": {"label": "tiny", "format": "csv", "date": "2025-06-11"},
    "counts": {"models": 2},
    "world": {"size": 256, "bounds": [1.0, 2.0, 200.0, 250.0]},
    "layers": [
        {
            "id": "relation",
            "url": "tiles/relation/{z}/{x}/{y}.png",
            "min_zoom": 0,
            "max_zoom": 2,
            "legend": [],
        }
    ],
    "data": {"ids": {"template": "data/ids/{bucket}.json"}, "note": 'hostile "><img src=x> ü \u202e'},
}


@pytest.fixture
def bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "viewer"
    (folder / "assets").mkdir(parents=True)
    for name in ("index.html", "app.js", "app.css"):
        (folder / name).write_text(f"/* {name} */", encoding="utf-8")
    (folder / "assets" / "layers.png").write_bytes(b"\x89PNG")
    monkeypatch.setattr(site, "viewer_dir", lambda: folder)
    return folder


def _tile(out: Path, z: int, x: int, y: int) -> None:
    path = out / "tiles" / "relation" / str(z) / str(x) / f"{y}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG")


def _bit(bitmap: str, i: int) -> bool:
    raw = base64.b64decode(bitmap)
    return bool(raw[i >> 3] >> (i & 7) & 1)


def test_write_site_copies_bundle_and_writes_manifest(bundle: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    _tile(out, 0, 0, 0)
    _tile(out, 2, 3, 1)
    _tile(out, 2, 0, 2)
    site.write_site(out, MANIFEST)
    for name in ("index.html", "app.js", "app.css", "assets/layers.png"):
        assert (out / name).read_bytes() == (bundle / name).read_bytes()
    assert (out / ".nojekyll").is_file()
    text = (out / "atlas.json").read_text(encoding="utf-8")
    atlas = json.loads(text)
    assert text == json.dumps(atlas, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
    assert atlas["data"] == MANIFEST["data"]
    assert 'hostile \\"><img src=x> ü \u202e' in text  # JSON's escaping only
    exists = atlas["layers"][0]["exists"]
    assert sorted(exists) == ["0", "1", "2"]
    assert _bit(exists["0"], 0)
    assert not any(_bit(exists["1"], i) for i in range(4))
    assert [i for i in range(16) if _bit(exists["2"], i)] == [1 * 4 + 3, 2 * 4 + 0]
    assert "exists" not in MANIFEST["layers"][0]  # the caller's manifest is left alone


def test_write_site_is_deterministic(bundle: Path, tmp_path: Path) -> None:
    site.write_site(tmp_path / "a", MANIFEST)
    site.write_site(tmp_path / "b", dict(reversed(list(MANIFEST.items()))))
    assert (tmp_path / "a" / "atlas.json").read_bytes() == (tmp_path / "b" / "atlas.json").read_bytes()


def test_remote_tile_urls_get_no_index(bundle: Path, tmp_path: Path) -> None:
    manifest = {"layers": [{"id": "r", "url": "https://example.org/{z}/{x}/{y}.png", "max_zoom": 3}]}
    site.write_site(tmp_path / "s", manifest)
    assert "exists" not in json.loads((tmp_path / "s" / "atlas.json").read_text())["layers"][0]


def test_missing_bundle_is_a_build_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(site, "viewer_dir", lambda: tmp_path / "nowhere")
    with pytest.raises(BuildError, match="viewer bundle not built: run `make viewer`"):
        site.write_site(tmp_path / "out", MANIFEST)
    assert not (tmp_path / "out" / "atlas.json").exists()


def test_viewer_dir_is_inside_the_package() -> None:
    assert site.viewer_dir().name == "viewer"
    assert site.viewer_dir().parent == Path(site.__file__).resolve().parent.parent  # atlasgen/viewer
