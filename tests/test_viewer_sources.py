"""The viewer's sources, read as text: the map library stays inside site/src/map.js.

Every other module sees the view API that map.js returns, so swapping Leaflet for another map library is one
file; and no module knows a layer by its id (what a layer is comes from atlas.json's layer entries).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "site" / "src"
# `import x from 'm'`, `import { a } from "m"`, `import 'm'`, `export * from 'm'`, `import('m')`
IMPORT = re.compile(r"""(?:\bimport|\bexport)\s*(?:[\w*{}\s,$]+\s*from\s*)?\(?\s*['"]([^'"]+)['"]""")
# Leaflet's own names, which only a module holding a Leaflet map could call
LEAFLET_API = re.compile(
    r"\b(?:latLngToContainerPoint|containerPointToLatLng|createPane|getContainer|latLng|circleMarker|divIcon)\b"
)


def _sources() -> dict[str, str]:
    files = {p.name: p.read_text(encoding="utf-8") for p in sorted(SRC.glob("*.js"))}
    assert "map.js" in files and len(files) > 10
    return files


def imports(text: str) -> list[str]:
    return IMPORT.findall(text)


def test_the_import_parser_sees_every_form() -> None:
    text = """import * as L from 'leaflet/dist/leaflet-src.esm.js';
import 'leaflet/dist/leaflet.css';
import { a, b } from "./x.js";
export { c } from './y.js';
const m = await import('leaflet');"""
    assert imports(text) == [
        "leaflet/dist/leaflet-src.esm.js",
        "leaflet/dist/leaflet.css",
        "./x.js",
        "./y.js",
        "leaflet",
    ]


def test_only_map_js_imports_leaflet() -> None:
    users = sorted(name for name, text in _sources().items() if any("leaflet" in m for m in imports(text)))
    assert users == ["map.js"]


@pytest.mark.parametrize("name", [n for n in sorted(p.name for p in SRC.glob("*.js")) if n != "map.js"])
def test_no_module_but_map_js_calls_leaflet(name: str) -> None:
    text = (SRC / name).read_text(encoding="utf-8")
    assert not LEAFLET_API.findall(text), name
    assert "view.map" not in text and not re.search(r"\bL\.", text), name


def test_no_module_knows_a_layer_by_its_id() -> None:
    for name, text in _sources().items():
        compared = re.findall(r"\.id\s*===?\s*['\"](\w+)['\"]", text)
        assert [c for c in compared if c != "string"] == [], (
            name
        )  # `typeof l.id === 'string'` is a type check
