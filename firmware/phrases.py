"""Phrase banks: the words the operator is shown, per language, loaded from ``config/phrases``.

    >>> bank = load_phrases("uk")
    >>> bank.greeting("morning")
    'Доброго ранку'
    >>> bank.text("script.help")
    'Чим можу Вам допомогти?'

The Ukrainian bank carries the seed's phrases word for word; ru and en are faithful translations.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from firmware.vocabulary import Language

LANGUAGES: tuple[Language, ...] = tuple(Language)


@dataclass(frozen=True)
class Phrase:
    """A phrase the operator can browse during a call and show full-screen."""

    id: str
    rule: str
    title: str
    text: str


class PhraseBank:
    """One language's phrases: fixed script lines by dotted key, browsable phrases in order."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.language: str = data["language"]
        self.label: str = data.get("label", self.language.upper())
        self._data = data
        self.phrases: tuple[Phrase, ...] = tuple(
            Phrase(p["id"], p.get("rule", ""), p["title"], p["text"]) for p in data.get("phrase", [])
        )

    def text(self, key: str, **fields: Any) -> str:
        node: Any = self._data
        for part in key.split("."):
            node = node[part]
        return node.format(**fields) if fields else node

    def greeting(self, part_of_day: str) -> str:
        return self.text(f"greeting.{part_of_day}")

    def phrase(self, phrase_id: str) -> Phrase:
        for p in self.phrases:
            if p.id == phrase_id:
                return p
        raise KeyError(phrase_id)


def load_phrases(language: str, override: Mapping[str, Any] | None = None) -> PhraseBank:
    """The shipped bank for ``language``; ``override`` (e.g. pushed by the server) wins key by key."""
    text = resources.files("deskunit_config").joinpath("phrases", f"{language}.toml").read_text("utf-8")
    data = tomllib.loads(text)
    if override:
        from firmware.config import merge

        data = merge(data, override)
    return PhraseBank(data)


def load_all(overrides: Mapping[str, Any] | None = None) -> dict[str, PhraseBank]:
    overrides = overrides or {}
    return {lang: load_phrases(lang, overrides.get(lang)) for lang in LANGUAGES}
