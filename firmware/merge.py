"""Deep merge of configuration tables: a site file over the defaults, an override over a phrase bank.

    >>> merge({"lcd": {"size": "20x4", "rom": "A00"}}, {"lcd": {"size": "16x2"}})
    {'lcd': {'size': '16x2', 'rom': 'A00'}}
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge ``over`` onto ``base`` (tables merge, everything else replaces)."""
    out = copy.deepcopy(dict(base))
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out
