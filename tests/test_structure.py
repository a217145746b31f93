"""The package's shape rules (docs/contributing.md): no import cycles, no private names across modules, stages
import only earlier stages. Read from the sources by scripts/code_shape.py, so the rules can't drift."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("code_shape", ROOT / "scripts" / "code_shape.py")
assert _spec and _spec.loader
shape = importlib.util.module_from_spec(_spec)
sys.modules["code_shape"] = shape
_spec.loader.exec_module(shape)

# The pipeline's order: a stage may import itself and the stages before it, never one after it.
ORDER = ("ingest", "graph", "layout", "tiles", "index", "publish")


def test_no_import_cycles() -> None:
    assert shape.cycles(shape.graph(shape.modules(ROOT))) == []


def test_no_module_imports_another_modules_private_name() -> None:
    assert shape.private_imports(shape.modules(ROOT)) == []


def test_stages_import_only_earlier_stages() -> None:
    edges = shape.graph(shape.modules(ROOT))
    late = []
    for module, imported in edges.items():
        stage = module.split(".")[1] if module.count(".") >= 1 else ""
        if stage not in ORDER:
            continue
        for other in imported:
            target = other.split(".")[1] if other.count(".") >= 1 else ""
            if target in ORDER and ORDER.index(target) > ORDER.index(stage):
                late.append(f"{module} imports {other}")
    assert late == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert shape.cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_importing_a_sibling_through_its_package_counts_as_importing_the_package(tmp_path: Path) -> None:
    """`from pkg import sub` reads pkg's namespace and runs its __init__: a cycle when that __init__ imports
    the importer (layout/__init__ -> atlas -> `from atlasgen.layout import stable`)."""
    pkg = tmp_path / "atlasgen" / "pkg"
    pkg.mkdir(parents=True)
    (tmp_path / "atlasgen" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("from atlasgen.pkg.a import f\n")
    (pkg / "a.py").write_text("from atlasgen.pkg import b\n\ndef f(): ...\n")
    (pkg / "b.py").write_text("")
    assert shape.cycles(shape.graph(shape.modules(tmp_path))) == [["atlasgen.pkg", "atlasgen.pkg.a"]]
    (pkg / "a.py").write_text("import atlasgen.pkg.b as b\n\ndef f(): ...\n")  # the sibling module itself
    assert shape.cycles(shape.graph(shape.modules(tmp_path))) == []
