"""The one JSON encoding of every published data file: sorted keys, compact, UTF-8, no NaN.

Sorted keys and fixed separators make the bytes a function of the value alone, so a rebuild from the same
inputs is byte-for-byte identical (the index, labels, licence changes and atlas.json all rely on it);
``ensure_ascii=False`` keeps ids readable and JSON's own escaping is the only escaping (no HTML entities).
"""

from __future__ import annotations

import json
from typing import Any


def dumps(obj: Any) -> str:
    """``obj`` as deterministic compact JSON text; NaN and infinities are a bug, not data."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
