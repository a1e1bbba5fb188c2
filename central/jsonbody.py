"""Strict JSON for request bodies: what both stores can hold, refused before any store sees it.

PostgreSQL refuses a NUL character and NaN/Infinity that SQLite would store, and a deeply nested
document makes a recursive parser fail with an internal error. One rule for both stores: such a
body is invalid (400), with the path of the offending value, and never reaches the database (whose
error messages would quote the value into its logs).
"""

from __future__ import annotations

import json
from typing import Any

from firmware.exc import DeskunitError

MAX_DEPTH = 32


class BodyError(DeskunitError, ValueError):
    """An unacceptable body; ``field`` is a dotted path such as ``records[3].appeal.essence``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _no_constants(name: str) -> Any:
    raise BodyError("body", f"{name} is not a JSON number")


def join_path(parts: list[str | int] | tuple[str | int, ...]) -> str:
    """``["records", 3, "unit"]`` -> ``records[3].unit`` (the form error messages use)."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "body"


def _check(value: Any, path: list[str | int], depth: int) -> None:
    if depth > MAX_DEPTH:
        raise BodyError(join_path(path), f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        if "\x00" in value:
            raise BodyError(join_path(path), "contains a NUL character")
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise BodyError(join_path(path), "is not a finite number")
    elif isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                raise BodyError(join_path(path), "has a key with a NUL character")
            path.append(key)
            _check(item, path, depth + 1)
            path.pop()
    elif isinstance(value, list):
        for i, item in enumerate(value):
            path.append(i)
            _check(item, path, depth + 1)
            path.pop()


def parse(data: bytes) -> Any:
    """Parse a request body; raises `BodyError` for anything both stores could not keep as sent."""
    if not data:
        raise BodyError("body", "a JSON body is required")
    try:
        # 1e400 parses to inf: refused by the walk below like a literal Infinity.
        value = json.loads(data, parse_constant=_no_constants)
    except RecursionError:
        raise BodyError("body", f"nested deeper than {MAX_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError) as exc:
        if isinstance(exc, BodyError):
            raise
        raise BodyError("body", f"body is not valid JSON: {exc}") from None
    _check(value, [], 0)
    return value
