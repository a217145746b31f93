"""Model ids as the Hub resolves them: exactly, else in any case.

A bottom module (it imports nothing from atlasgen): the ingest stage, the graph stage and the tools all look
ids up the same way. The Hub treats `Org/Model` and `org/model` as one repository (its URLs and API answer
either spelling), so wherever an id is typed (`build --focus`, `lineage`, `figure --center`) or named as a
parent (graph.dag), an exact match comes first, then the one id that differs only in case. Several ids that
differ only in case (a private registry may have them) make such a spelling ambiguous: the caller names them.

Look-alikes: ids that differ only in case, or whose text is the same after Unicode normalisation (NFC: `é`
as one character or as `e` and a combining accent), are counted (`lookalikes`), never merged: both may be
rows of the snapshot, and an id names a model exactly as it is spelled there.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Match:
    """Where a typed id is: `index` (None when not found), and the ids it matched when they are several."""

    index: int | None
    ambiguous: tuple[str, ...] = ()

    def problem(self, wanted: str) -> str:
        """What to tell the user when `index` is None."""
        if self.ambiguous:
            return f"{wanted!r} matches several ids that differ only in case: {', '.join(self.ambiguous)}"
        return f"no model {wanted!r}"


def _series(ids: Any) -> pd.Series:
    return pd.Series(np.asarray(list(ids) if isinstance(ids, (set, frozenset)) else ids, dtype=object))


def resolve(ids: Any, wanted: str) -> Match:
    """The position of `wanted` in the sequence `ids`: the first exact match, else the one match in any case."""
    values = _series(ids)
    exact = np.flatnonzero((values == wanted).to_numpy())
    if exact.size:
        return Match(int(exact[0]))
    folded = np.flatnonzero((values.str.lower() == wanted.lower()).to_numpy())
    if folded.size == 1:
        return Match(int(folded[0]))
    return Match(None, tuple(sorted(set(values.iloc[folded]))))


def by_case(missing: Iterable[str], known: Any) -> dict[str, str]:
    """Each of `missing` that differs only in case from exactly one of `known`, mapped to that id."""
    wanted, values = _series(missing), _series(known)
    if wanted.empty or values.empty:
        return {}
    lower = values.str.lower()
    unique = ~lower.duplicated(keep=False)  # a spelling two known ids share names neither
    target = pd.Series(values[unique].to_numpy(), index=lower[unique].to_numpy())
    hits = wanted.str.lower().map(target)
    return {w: h for w, h in zip(wanted, hits, strict=True) if isinstance(h, str) and h != w}


def lookalikes(ids: pd.Series) -> dict[str, int]:
    """Of distinct `ids`, how many share their spelling with another up to case (`case`) or up to Unicode
    normalisation (`unicode`, NFC). Only non-ASCII ids are normalised: ASCII text is its own NFC form."""
    values = _series(ids)
    nfc = values.copy()
    nonascii = np.array([not v.isascii() for v in values], dtype=bool)
    nfc[nonascii] = [unicodedata.normalize("NFC", v) for v in values[nonascii]]
    return {
        "case": int(values.str.lower().duplicated(keep=False).sum()),
        "unicode": int(nfc.duplicated(keep=False).sum()),
    }
