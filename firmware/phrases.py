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
from enum import StrEnum
from importlib import resources
from typing import Any

from firmware.vocabulary import Language, Outcome

LANGUAGES: tuple[Language, ...] = tuple(Language)


class Appendix(StrEnum):
    """A directory whose entries follow a phrase's text on the screen."""

    OFFICES = "offices"  # R24: the accessible offices, with their ramp / door / lift facts


@dataclass(frozen=True)
class Phrase:
    """A phrase the operator can browse during a call and show full-screen, and what showing it does.

    ``outcome``: the phrase list offers to mark the call so (confirmed; reading it marks nothing);
    ``event``: an event added to the record when it is shown; ``appendix``: a directory shown after
    the text; ``ends_call``: the phrase list offers to end the conversation for abuse (R15, confirmed).
    """

    id: str
    rule: str
    title: str
    text: str
    outcome: Outcome | None = None
    event: str | None = None
    appendix: Appendix | None = None
    ends_call: bool = False

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Phrase:
        problems = phrase_behaviour_problems(data)
        if problems:
            key, problem = next(iter(problems.items()))
            raise ValueError(f"phrase {data.get('id', '?')!r}: {key}: {problem}")
        return cls(data["id"], data.get("rule", ""), data["title"], data["text"],
                   outcome=Outcome(data["outcome"]) if data.get("outcome") else None,
                   event=data.get("event") or None,
                   appendix=Appendix(data["appendix"]) if data.get("appendix") else None,
                   ends_call=data.get("ends_call", False))


def phrase_behaviour_problems(data: Mapping[str, Any]) -> dict[str, str]:
    """What is wrong with a phrase table's behaviour keys, by key (empty: nothing)."""
    problems = {}
    for key, kind in (("outcome", Outcome), ("appendix", Appendix)):
        value = data.get(key)
        if value is not None and value not in tuple(kind):
            problems[key] = f"{value!r} is not one of {', '.join(kind)}"
    event = data.get("event")
    if event is not None and (not isinstance(event, str) or not event.isidentifier()):
        problems["event"] = "must be an event name (letters, digits and _)"
    if not isinstance(data.get("ends_call", False), bool):
        problems["ends_call"] = "must be true or false"
    return problems


class PhraseBank:
    """One language's phrases: fixed script lines by dotted key, browsable phrases in order."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.language: str = data["language"]
        self.label: str = data.get("label", self.language.upper())
        self._data = data
        self.phrases: tuple[Phrase, ...] = tuple(Phrase.from_dict(p) for p in data.get("phrase", []))

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
