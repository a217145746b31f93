"""Licence rules, in one place: which licence a model declares, its family, and when two declared licences
differ. The map's licence layer, the lineage and predict tools, the trends statistics and the site's
licence-change files all read licences through these functions, so they never disagree.

Everything here is about Hub metadata *as declared* (``NOTE``), never a legal assessment. Hub tags are e.g.
``apache-2.0``, ``mit``, ``llama2``, ``llama3.1``, ``gemma``, ``cc-by-nc-4.0``, ``creativeml-openrail-m``,
sometimes with a ``license:`` prefix; "unknown", "none" or an empty value declare nothing.
"""

from __future__ import annotations

import fnmatch
import math

import numpy as np
import numpy.typing as npt
import pandas as pd

NOTE = "as declared in Hub metadata; not a legal assessment"

# Licence families: (key, legend label, fnmatch patterns on the lower-cased licence without `license:`). The
# first family with a matching pattern wins; a declared licence matching none is "other", none declared is
# "unknown". The order is the licence layer's legend and colour-key order (tiles/palette.py colours them).
FAMILIES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("apache", "Apache 2.0", ("apache*",)),
    ("mit", "MIT", ("mit",)),
    ("llama", "Llama community (2, 3, 3.x, 4)", ("llama*",)),
    ("gemma", "Gemma terms", ("gemma*",)),
    ("qwen", "Qwen / Tongyi Qianwen", ("qwen*", "tongyi-qianwen*")),
    ("cc-by", "Creative Commons BY (any variant)", ("cc-by*",)),
    ("openrail", "OpenRAIL (incl. CreativeML, BigScience, BigCode)", ("*openrail*",)),
    ("other", "Other licence", ()),
    ("unknown", "No licence stated", ()),
)
_UNSTATED = {"", "unknown", "none", "nan"}


def _normal(text: str) -> str:
    """The comparable form of a licence: lower case, without a ``license:`` prefix, trimmed."""
    return text.lower().removeprefix("license:").strip()


def licence_family(licence: object) -> str:
    """The FAMILIES key of one licence value (None/NaN/"unknown"/"" -> "unknown")."""
    if licence is None or (isinstance(licence, float) and math.isnan(licence)):
        return "unknown"
    text = str(licence).strip().lower().removeprefix("license:")
    if text in _UNSTATED:
        return "unknown"
    for family, _, patterns in FAMILIES:
        if any(fnmatch.fnmatchcase(text, p) for p in patterns):
            return family
    return "other"


def declared(value: object) -> str | None:
    """A declared licence as text, or None when none is declared (missing, empty, "unknown", ...)."""
    return None if licence_family(value) == "unknown" else str(value).strip()


def same(a: str, b: str) -> bool:
    """Whether two declared licences are the same value (case-insensitive, ``license:`` prefix ignored)."""
    return _normal(a) == _normal(b)


def stated(licences: pd.Series) -> npt.NDArray[np.bool_]:
    """Per model, whether it declares a licence; each distinct value is classified once."""
    codes, uniques = pd.factorize(licences.astype(object), use_na_sentinel=True)
    known = np.array([licence_family(u) != "unknown" for u in uniques] + [False], dtype=bool)
    return known[codes]  # code -1 (missing) picks the trailing False
