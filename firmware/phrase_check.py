"""Whether phrase overrides (the site config's ``[phrases]``, or the central server's) leave every
bank usable: one check for ``deskunit config check``, the daemon's start and a pushed config.

An override is merged over the shipped bank as the unit would merge it, and the result must still
hold every text the shipped bank has (a missing one fails each off-hook), render each text with
sample values (only the fields the unit fills into that text, as the shipped one has them, and the
operator's ``{number}`` and ``{name}``, with no format spec: ``{x}`` or ``{name:>99999999}`` would
fail or flood at run time), and keep the phrases the call
flows show by id (:data:`~firmware.phrases.REQUIRED_PHRASES`: a one-entry list breaks HOLD).

    >>> check_phrase_overrides({"uk": {"script": {"intro": "Оператор {x}"}}})
    Traceback (most recent call last):
    firmware.exc.ConfigError: phrases.uk.script.intro: unknown field {x} (the unit fills in {name}, {number})
"""

from __future__ import annotations

import string
from collections.abc import Iterator, Mapping
from typing import Any

from firmware.exc import ConfigError
from firmware.merge import merge
from firmware.phrases import (
    LANGUAGES,
    REQUIRED_PHRASES,
    TEXT_FIELDS,
    PhraseBank,
    phrase_behaviour_problems,
    shipped_bank,
)

MAX_TEXT = 1000
#: Keys of a bank that are not shown texts.
_NOT_TEXT = {"language"}


def check_phrase_overrides(phrases: Any, where: str = "phrases") -> None:
    """Raise :class:`ConfigError` naming the first key whose override would break a bank."""
    if not isinstance(phrases, Mapping):
        raise ConfigError(where, "must be a table of languages, e.g. [phrases.uk]")
    for lang, override in phrases.items():
        here = f"{where}.{lang}"
        if lang not in LANGUAGES:
            raise ConfigError(here, f"unknown language (one of {', '.join(LANGUAGES)})")
        if not isinstance(override, Mapping):
            raise ConfigError(here, "must be a table of phrase keys")
        _check_table(override, here)
        shipped = shipped_bank(lang)
        bank = merge(shipped, override)
        for dotted, _ in _texts(shipped):
            value = _lookup(bank, dotted)
            if not isinstance(value, str):
                raise ConfigError(f"{here}.{dotted}", "missing: the unit shows this text" if value is None
                                  else "must be text (the unit shows it)")
        for dotted, text in _texts(bank):
            shipped_text = _lookup(shipped, dotted)
            allowed = _fields(shipped_text) if isinstance(shipped_text, str) and shipped_text else set()
            _check_render(text, f"{here}.{dotted}", allowed | set(TEXT_FIELDS))
        _check_phrase_list(bank.get("phrase"), f"{here}.phrase")
        try:
            PhraseBank(bank)
        except (KeyError, TypeError, ValueError) as e:
            raise ConfigError(here, f"not a usable phrase bank ({e})") from None


def _check_table(table: Mapping[str, Any], where: str, depth: int = 0) -> None:
    if depth > 4:
        raise ConfigError(where, "nested too deeply for a phrase bank")
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
            _check_table(value, here, depth + 1)
        elif not isinstance(value, str) or not value.strip():
            raise ConfigError(here, f"must be non-empty text (got {type(value).__name__})")
        elif len(value) > MAX_TEXT:
            raise ConfigError(here, f"longer than {MAX_TEXT} characters")


def _fields(text: str) -> set[str]:
    """The ``{fields}`` a shipped text has: the ones the unit fills into that text."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}
    except ValueError:
        return set()


def _check_render(text: str, where: str, allowed: set[str]) -> None:
    """The text renders with the fields the unit fills into it, and with nothing else."""
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as e:
        raise ConfigError(where, f"cannot be filled in ({e}; write {{{{ and }}}} for braces)") from None
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in allowed:
            raise ConfigError(where, f"unknown field {{{name}}} (the unit fills in "
                                     f"{', '.join('{' + f + '}' for f in sorted(allowed))})")
        if spec or conversion:
            raise ConfigError(where, f"{{{name}}} takes no format spec or conversion")
    text.format(**dict.fromkeys(allowed, "7"))


def _check_phrase_list(phrases: Any, where: str) -> None:
    ids = [p.get("id") for p in phrases or [] if isinstance(p, Mapping)]
    missing = [pid for pid in REQUIRED_PHRASES if pid not in ids]
    if missing:
        raise ConfigError(where, f"must keep at least the phrases {', '.join(REQUIRED_PHRASES)} (the call flows show "
                                 f"them; {len(ids)} given, missing {', '.join(missing)})")
    if len(set(ids)) != len(ids):
        raise ConfigError(where, "a phrase id is listed twice")


def _texts(bank: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(dotted key, text) of every text of a bank, the browsable phrases' titles and texts included."""
    for key, value in bank.items():
        dotted = f"{prefix}{key}"
        if key == "phrase" and isinstance(value, list):
            for i, p in enumerate(value):
                if isinstance(p, Mapping):
                    for k in ("title", "text"):
                        if isinstance(p.get(k), str):
                            yield f"{dotted}[{i}].{k}", p[k]
        elif isinstance(value, Mapping):
            yield from _texts(value, dotted + ".")
        elif isinstance(value, str) and key not in _NOT_TEXT:
            yield dotted, value


def _lookup(bank: Mapping[str, Any], dotted: str) -> Any:
    node: Any = bank
    for part in dotted.split("."):
        if "[" in part:  # a browsable phrase: its list is checked on its own
            return ""
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node
