"""A config document the central server pushes: checked key by key before the unit takes it.

A bad document is refused with a :class:`firmware.exc.ConfigError` naming the key, and the unit
keeps the last good one (principle 6).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from firmware.config import validate_directories, validate_operators
from firmware.exc import ConfigError
from firmware.phrases import LANGUAGES, phrase_behaviour_problems

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
    for key in doc:
        if key not in ("phrases", "operators", "directories"):
            raise ConfigError(str(key), "unknown key in pushed config")
    if "operators" in doc:
        validate_operators(doc["operators"])
    if "phrases" in doc:
        _validate_phrases(doc["phrases"])
    if "directories" in doc:
        validate_directories(doc["directories"])
    return dict(doc)


def _validate_phrases(phrases: Any) -> None:
    if not isinstance(phrases, Mapping):
        raise ConfigError("phrases", "must be a table of languages")
    for lang, bank in phrases.items():
        where = f"phrases.{lang}"
        if lang not in LANGUAGES:
            raise ConfigError(where, f"unknown language (one of {', '.join(LANGUAGES)})")
        if not isinstance(bank, Mapping):
            raise ConfigError(where, "must be a table")
        _check_phrase_table(bank, where)


def _check_phrase_table(table: Mapping[str, Any], where: str) -> None:
    for key, value in table.items():
        here = f"{where}.{key}"
        if key == "phrase":
            if not isinstance(value, list):
                raise ConfigError(here, "must be a list of [[phrase]] tables")
            for i, p in enumerate(value):
                if not isinstance(p, Mapping):
                    raise ConfigError(f"{here}[{i}]", "must be a table")
                for k in ("id", "title", "text"):
                    if not isinstance(p.get(k), str) or not p[k].strip():
                        raise ConfigError(f"{here}[{i}].{k}", "must be non-empty text")
                for k, problem in phrase_behaviour_problems(p).items():
                    raise ConfigError(f"{here}[{i}].{k}", problem)
        elif isinstance(value, Mapping):
            _check_phrase_table(value, here)
        elif not isinstance(value, str) or not value.strip():
            raise ConfigError(here, "must be non-empty text")
        elif len(value) > 1000:
            raise ConfigError(here, "longer than 1000 characters")
