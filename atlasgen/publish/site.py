"""The static site: the built viewer bundle, ``atlas.json`` and ``.nojekyll``."""

from __future__ import annotations

import base64
import copy
import shutil
from pathlib import Path

from atlasgen.errors import BuildError
from atlasgen.jsonio import dumps

BUNDLE_FILES = ("index.html", "app.js", "app.css")
MAX_INDEXED_ZOOM = (
    9  # tile-existence bitmaps up to this zoom (32 KiB at z9); deeper tiles are asked for blindly
)


def viewer_dir() -> Path:
    """The built viewer bundle (``atlasgen/viewer`` inside the installed package)."""
    return Path(__file__).resolve().parent.parent / "viewer"


def write_site(out_dir: Path, manifest: dict) -> None:
    """Copy the viewer bundle into ``out_dir`` and write ``atlas.json`` and ``.nojekyll``.

    Each layer whose tiles lie under ``out_dir`` as ``<prefix>{z}/{x}/{y}<suffix>`` gains ``exists``: per
    zoom, a base64 bitmap of the tiles that were written (bit ``y * side + x``, least significant bit
    first; ``side`` = 2**z tiles, times world size / 256 for a map grown past 256), so the viewer never
    requests a tile the generator skipped as empty.
    """
    bundle = viewer_dir()
    missing = [name for name in BUNDLE_FILES if not (bundle / name).is_file()]
    if missing:
        raise BuildError(
            f"viewer bundle not built: run `make viewer` (npm --prefix site ci && npm --prefix site run build); "
            f"{bundle} lacks {', '.join(missing)}"
        )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.copytree(bundle, out_dir, dirs_exist_ok=True)
    write_manifest(out_dir, manifest)
    (out_dir / ".nojekyll").write_text("", encoding="utf-8")


def write_manifest(out_dir: Path, manifest: dict) -> None:
    """Write ``atlas.json`` into a site whose viewer is in place: ``manifest`` with each local layer's
    tile-existence bitmaps (see ``write_site``). The publish stage rewrites it once the tiles are known."""
    manifest = copy.deepcopy(manifest)
    across = int(manifest.get("world", {}).get("size", 256)) // 256
    for layer in manifest.get("layers", []):
        exists = tile_index(out_dir, layer, across)
        if exists is not None:
            layer["exists"] = exists
    (out_dir / "atlas.json").write_text(dumps(manifest) + "\n", encoding="utf-8")


def tile_index(out_dir: Path, layer: dict, tiles_across: int = 1) -> dict[str, str] | None:
    """Per-zoom bitmaps of the tiles present on disk, or None when the URL template is not a local pyramid."""
    url = str(layer.get("url", ""))
    head, sep, tail = url.partition("{z}/{x}/{y}")
    if not sep or "{" in head or "{" in tail or "://" in head:
        return None
    root = out_dir / head
    if not root.is_dir():
        return None
    lo, hi = int(layer.get("min_zoom", 0)), min(int(layer.get("max_zoom", 0)), MAX_INDEXED_ZOOM)
    bitmaps = {}
    for z in range(lo, hi + 1):
        side = tiles_across << z
        bits = bytearray((side * side + 7) // 8)
        for x_dir in (root / str(z)).glob("*"):
            for tile in x_dir.glob(f"*{tail}"):
                x, y = _int(x_dir.name), _int(tile.name[: len(tile.name) - len(tail)] if tail else tile.name)
                if x is not None and y is not None and 0 <= x < side and 0 <= y < side:
                    i = y * side + x
                    bits[i >> 3] |= 1 << (i & 7)
        bitmaps[str(z)] = base64.b64encode(bytes(bits)).decode("ascii")
    return bitmaps


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() else None
