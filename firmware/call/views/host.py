"""What a view may ask of the desk it is shown on: a small protocol, so views never depend on the unit.

The unit's :class:`firmware.call.desk.Desk` implements it; views import nothing of the call layer but this.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from firmware.appeal import AppealForm
from firmware.phrases import Phrase, PhraseBank
from firmware.vocabulary import Deliberate, Greeting, Language, OperatorCheck, Outcome, Verdict


class Canvas(Protocol):
    """The LCD as text: its size and how a text is wrapped and romanised for it."""

    @property
    def rows(self) -> int: ...

    @property
    def cols(self) -> int: ...

    def wrap(self, text: str) -> list[str]:
        """``text`` as the LCD will show it, wrapped to the screen's width."""

    def line(self, text: str) -> str:
        """One row's text in the form the LCD shows it."""


class CallFacts(Protocol):
    """What a view reads of the call in progress."""

    greeting: Greeting
    language: Language
    line: Verdict
    outcome: Outcome


class OperatorFacts(Protocol):
    number: int
    name: str


class Shown(Protocol):
    """A view as the desk stacks it (:class:`firmware.call.views.base.View` is the one implementation)."""

    @property
    def fullscreen(self) -> bool: ...

    def lines(self, host: ViewHost) -> list[str]: ...

    def on_key(self, host: ViewHost, key: str) -> bool: ...


class ViewHost(Protocol):
    """The desk as the views see it: what to draw with, what is going on, and what keys may ask for."""

    screen: Canvas
    banks: Mapping[str, PhraseBank]

    @property
    def language(self) -> Language: ...

    @property
    def bank(self) -> PhraseBank: ...

    @property
    def call(self) -> CallFacts | None: ...

    @property
    def operator(self) -> OperatorFacts | None: ...

    def note(self, kind: str, **extra: object) -> None: ...

    def push_view(self, view: Shown) -> None: ...

    def pop_view(self) -> None: ...

    def replace_view(self, view: Shown) -> None: ...

    def switch_language(self) -> None: ...

    def carry_out(self, action: Deliberate, outcome: Outcome | None = None) -> None:
        """A deliberate action the operator confirmed (see :class:`~firmware.call.views.ConfirmView`)."""

    def show_phrase(self, phrase: Phrase) -> None: ...

    def start_hold(self) -> None: ...

    def press_appeal(self, form: AppealForm, key: str) -> bool:
        """A key on the open appeal form; False lets the desk apply its defaults."""

    def check_operator(self, number: int, pin: str | None) -> OperatorCheck: ...

    def sign_out(self) -> None: ...
