"""The package's shape: modules per folder, the largest modules and functions, import cycles, private imports.

    python scripts/code_shape.py [ROOT]     # ROOT: a checkout (default: this one)

Reads the sources with ``ast`` (nothing is imported), so it also measures an older checkout
(``git worktree add /tmp/old <commit>``). tests/test_structure.py asserts the rules it reports.
"""

from __future__ import annotations

import ast
import sys
from collections import Counter
from pathlib import Path


def modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the atlasgen package under ``root``."""
    found = {}
    for path in sorted((root / "atlasgen").rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> list[tuple[str, str]]:
    """(module imported, name imported or '') for every atlasgen import in a module, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, "") for alias in node.names if alias.name.startswith("atlasgen")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("atlasgen"):
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                if sub in known:  # `from pkg import sub` runs pkg's __init__ too: an edge to both
                    found += [(node.module, ""), (sub, "")]
                else:
                    found.append((node.module, alias.name))
    return found


def graph(known: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the atlasgen modules it imports (a package import counts as its __init__)."""
    return {
        name: {mod for mod, _ in imports(name, path, known) if mod in known} for name, path in known.items()
    }


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def private_imports(known: dict[str, Path]) -> list[str]:
    """``a imports b._x``: a module using a private name of another module."""
    bad = []
    for name, path in known.items():
        for mod, imported in imports(name, path, known):
            if imported.startswith("_") and not imported.startswith("__") and mod != name:
                bad.append(f"{name} imports {mod}.{imported}")
    return bad


def functions(known: dict[str, Path]) -> list[tuple[int, str]]:
    """(lines, module.function) for every function and method."""
    sizes = []
    for name, path in known.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno:
                sizes.append((node.end_lineno - node.lineno + 1, f"{name}.{node.name}"))
    return sorted(sizes, reverse=True)


def main() -> int:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1]
    known = modules(root)
    folders = Counter(str(path.parent.relative_to(root)) for path in known.values())
    lines = sorted(
        ((len(p.read_text(encoding="utf-8").splitlines()), n) for n, p in known.items()), reverse=True
    )
    sizes = functions(known)
    median = sorted(s for s, _ in sizes)[len(sizes) // 2]
    print(f"{len(known)} modules; per folder: " + ", ".join(f"{f} {c}" for f, c in sorted(folders.items())))
    print("largest modules: " + ", ".join(f"{n} {k}" for k, n in lines[:6]))
    print(
        f"{len(sizes)} functions, median {median} lines; largest: "
        + ", ".join(f"{n} {k}" for k, n in sizes[:6])
    )
    found = cycles(graph(known))
    print(f"import cycles: {len(found)}" + "".join(f"\n  {' <-> '.join(c)}" for c in found))
    bad = private_imports(known)
    print(f"private imports across modules: {len(bad)}" + "".join(f"\n  {b}" for b in bad))
    return 0


if __name__ == "__main__":
    sys.exit(main())
