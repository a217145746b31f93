"""A stage's result as plain data files (JSON, npz, parquet) that reading back can never run code from.

The stage cache (cache.py) used to pickle results; unpickling runs whatever a file says, so a planted entry
ran commands as the building user. Here a result is a tree of JSON values (None, bool, int, float, str,
lists, dicts with str keys) whose leaves may also be tuples, dicts with other keys, numpy arrays and scalars
(``arrays.npz``, loaded with ``allow_pickle=False``), pandas frames (``frame-N.parquet``) and instances of the
few dataclasses in ``DATACLASSES`` (looked up in that table, never by a name the file chooses).

Writing is exact or nothing: :func:`write_result` raises :class:`NotRecordable` for any value it cannot
bring back identically (an object array, a dict subclass, a frame parquet does not round-trip: each frame is
read back and compared, dtypes, categories and index included), so a resumed build is the fresh build byte
for byte or the stage simply runs again.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import math
import os
from pathlib import Path
from typing import Any

RESULT = "result.json"
ARRAYS = "arrays.npz"
# The dataclasses a result may hold, by the name written in the file.
DATACLASSES = {"Graph": ("atlasgen.graph.dag", "Graph")}


class NotRecordable(ValueError):
    """A value the data files cannot bring back exactly."""


def write_result(value: Any, folder: Path) -> None:
    """Write ``value`` into ``folder`` (which exists) as result.json, arrays.npz and frame-N.parquet."""
    import numpy as np

    writer = _Writer(folder)
    tree = writer.encode(value)
    if writer.arrays:
        with private_file(folder / ARRAYS) as handle:
            np.savez(handle, **writer.arrays)
    with private_file(folder / RESULT) as handle:
        handle.write(json.dumps(tree, allow_nan=False, separators=(",", ":")).encode("utf-8"))


def read_result(folder: Path) -> Any:
    """The value :func:`write_result` wrote into ``folder``."""
    import numpy as np

    tree = json.loads((folder / RESULT).read_text(encoding="utf-8"))
    arrays: dict[str, Any] = {}
    if (folder / ARRAYS).is_file():
        with np.load(folder / ARRAYS, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    return _decode(tree, folder, arrays)


def private_file(path: Path) -> Any:
    """A new file only the owner can write (0600), failing if something is already there."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600), "wb")


class _Writer:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.arrays: dict[str, Any] = {}
        self.frames = 0

    def encode(self, value: Any) -> Any:
        import numpy as np
        import pandas as pd

        kind = type(value)
        if value is None or kind in (bool, int, str):
            return value
        if kind is float:
            return value if math.isfinite(value) else {"$float": repr(value)}
        if kind is list:
            return [self.encode(v) for v in value]
        if kind is tuple:
            return {"$tuple": [self.encode(v) for v in value]}
        if kind is dict:
            if all(type(k) is str and not k.startswith("$") for k in value):
                return {k: self.encode(v) for k, v in value.items()}
            return {"$items": [[self.encode(k), self.encode(v)] for k, v in value.items()]}
        if kind is np.ndarray or isinstance(value, np.generic):
            return {"$array": self._array(np.asarray(value)), "scalar": kind is not np.ndarray}
        if kind is pd.DataFrame:
            return {"$frame": self._frame(value)}
        if dataclasses.is_dataclass(value) and (name := _dataclass_name(kind)) is not None:
            fields = {f.name: self.encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
            return {"$dataclass": name, "fields": fields}
        raise NotRecordable(f"a {kind.__module__}.{kind.__qualname__}")

    def _array(self, array: Any) -> str:
        if array.dtype.hasobject:
            raise NotRecordable(f"an array of {array.dtype}")
        name = f"a{len(self.arrays)}"
        self.arrays[name] = array
        return name

    def _frame(self, frame: Any) -> str:
        name = f"frame-{self.frames}.parquet"
        self.frames += 1
        path = self.folder / name
        try:
            with private_file(path) as handle:
                frame.to_parquet(handle, engine="pyarrow", compression="zstd")
            back = _read_frame(path)
        except Exception as exc:  # pyarrow raises many kinds; any of them means "not recordable"
            raise NotRecordable(f"a frame parquet cannot hold ({exc})") from exc
        if (problem := frame_difference(frame, back)) is not None:
            raise NotRecordable(f"a frame parquet does not round-trip: {problem}")
        return name


def _dataclass_name(kind: type) -> str | None:
    for name, (module, attr) in DATACLASSES.items():
        if kind.__module__ == module and kind.__qualname__ == attr:
            return name
    return None


def _decode(tree: Any, folder: Path, arrays: dict[str, Any]) -> Any:
    if isinstance(tree, list):
        return [_decode(v, folder, arrays) for v in tree]
    if not isinstance(tree, dict):
        return tree
    if "$float" in tree:
        return float(tree["$float"])
    if "$tuple" in tree:
        return tuple(_decode(v, folder, arrays) for v in tree["$tuple"])
    if "$items" in tree:
        return {_decode(k, folder, arrays): _decode(v, folder, arrays) for k, v in tree["$items"]}
    if "$array" in tree:
        array = arrays[tree["$array"]]
        return array[()] if tree["scalar"] else array
    if "$frame" in tree:
        return _read_frame(folder / _plain_name(tree["$frame"]))
    if "$dataclass" in tree:
        module, attr = DATACLASSES[tree["$dataclass"]]  # a KeyError for any other name: not ours
        kind = getattr(importlib.import_module(module), attr)
        return kind(**{k: _decode(v, folder, arrays) for k, v in tree["fields"].items()})
    return {k: _decode(v, folder, arrays) for k, v in tree.items()}


def _read_frame(path: Path) -> Any:
    """A parquet written from a frame, as that frame: text columns that were ``object`` (str and None, as the
    graph's are) come back ``object`` with None, not as pandas 3's ``str`` with NaN."""
    import pandas as pd
    import pyarrow.parquet as pq

    frame = pd.read_parquet(path, engine="pyarrow")
    columns = (pq.read_schema(path).pandas_metadata or {}).get("columns", [])
    for column in columns:
        name = column.get("name")
        if column.get("numpy_type") == "object" and name in frame.columns and frame[name].dtype == "str":
            text = frame[name].astype(object)
            frame[name] = text.where(text.notna(), None)
    return frame


def _plain_name(name: str) -> str:
    """A file name inside the entry, never a path out of it."""
    if not isinstance(name, str) or Path(name).name != name or name.startswith("."):
        raise ValueError(f"not a file name of the entry: {name!r}")
    return name


def frame_difference(a: Any, b: Any) -> str | None:
    """How frame ``b`` differs from ``a`` (columns, index, dtypes, categories, values); None if identical."""
    if list(a.columns) != list(b.columns) or a.columns.dtype != b.columns.dtype:
        return "columns"
    if type(a.index) is not type(b.index) or a.index.dtype != b.index.dtype or not a.index.equals(b.index):
        return "index"
    if a.attrs != b.attrs:
        return "attrs"
    for i, column in enumerate(a.columns):
        x, y = a.iloc[:, i], b.iloc[:, i]
        if str(x.dtype) != str(y.dtype) or x.dtype != y.dtype:
            return f"{column}: dtype {x.dtype} became {y.dtype}"
        if x.dtype == "category" and not _same_categories(x, y):
            return f"{column}: categories"
        if x.dtype == object:
            if not _same_objects(x.to_numpy(), y.to_numpy()):
                return f"{column}: values"
        elif not x.equals(y):
            return f"{column}: values"
    return None


def _same_categories(x: Any, y: Any) -> bool:
    cx, cy = x.cat.categories, y.cat.categories
    return (
        cx.dtype == cy.dtype
        and cx.equals(cy)
        and bool((x.cat.codes.to_numpy() == y.cat.codes.to_numpy()).all())
    )


def _same_objects(a: Any, b: Any) -> bool:
    """Two object arrays hold the same values of the same types (a fast path for text with None)."""
    import pandas as pd

    infer = pd.api.types.infer_dtype
    if infer(a, skipna=True) != "string" or infer(b, skipna=True) != "string":
        return all(_same_value(u, v) for u, v in zip(a.tolist(), b.tolist(), strict=True))
    na, nb = pd.isna(a), pd.isna(b)
    if not (na == nb).all() or not all(_same_value(u, v) for u, v in zip(a[na], b[nb], strict=True)):
        return False
    return bool((a[~na] == b[~nb]).all())


def _same_value(u: Any, v: Any) -> bool:
    """Same type and value (NaN equal to NaN), so that None and NaN, 1 and 1.0 are told apart."""
    if type(u) is not type(v):
        return False
    if isinstance(u, float) and math.isnan(u):
        return math.isnan(v)
    try:
        return bool(u == v)
    except (TypeError, ValueError):  # arrays and the like: not something a frame here holds
        return False
