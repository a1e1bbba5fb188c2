"""A config document the central server pushes: checked key by key before the unit takes it.

A bad document is refused with a :class:`firmware.exc.ConfigError` naming the key, and the unit
keeps the last good one (principle 6). The checks are the config file's own (``deskunit config
check`` runs the same functions): operators (PIN hashes, PBKDF2 rounds bounded, name length),
directories, and phrase banks rendered with sample values (:mod:`firmware.phrase_check`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from firmware.config import MAX_DEPTH, too_deep, validate_directories, validate_operators
from firmware.exc import ConfigError
from firmware.phrase_check import check_phrase_overrides

#: The journal draft holding the last good pushed config and its ETag.
PUSHED_CONFIG_DRAFT = "pushed_config"


def validate_pushed_config(doc: Any) -> dict[str, Any]:
    """Check a config document the server pushed; raise :class:`ConfigError` naming the key.

    It may carry ``phrases`` (per language, overriding the shipped banks key by key), ``operators``
    (the roster, as in the config file) and ``directories`` (``court_bodies`` and ``offices``).

        >>> validate_pushed_config({"operators": [{"number": 7, "name": "Олена Петренко"}]})["operators"][0]["number"]
        7
        >>> validate_pushed_config({"operators": [{"number": 0, "name": "X"}]})
        Traceback (most recent call last):
        firmware.exc.ConfigError: operators[0].number: must be a number 1-9999 (got 0)
    """
    if not isinstance(doc, Mapping):
        raise ConfigError("pushed config", "must be a JSON object")
    deep = too_deep(doc)
    if deep is not None:
        raise ConfigError(deep, f"nested deeper than {MAX_DEPTH} levels")
    for key in doc:
        if key not in ("phrases", "operators", "directories"):
            raise ConfigError(str(key), "unknown key in pushed config")
    if "operators" in doc:
        validate_operators(doc["operators"])
    if "phrases" in doc:
        check_phrase_overrides(doc["phrases"])
    if "directories" in doc:
        validate_directories(doc["directories"])
    return dict(doc)
