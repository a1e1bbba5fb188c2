"""Everything that happens to the unit arrives as one of these events, on one queue.

gpiozero callbacks, the audio thread's verdicts, console commands and sync results are turned
into events by the threads that see them; only the event loop's thread acts on them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from firmware.vocabulary import KEYPAD_KEYS, PANEL_KEYS, Key

T = TypeVar("T")

#: Keys on the panel and the keypad, as named in scenarios and on the console.
ALL_KEYS: tuple[Key, ...] = PANEL_KEYS + KEYPAD_KEYS


@dataclass(frozen=True)
class Event:
    """Base class of everything posted to the loop."""


@dataclass(frozen=True)
class KeyDown(Event):
    key: str


@dataclass(frozen=True)
class KeyUp(Event):
    key: str
    held_s: float = 0.0


@dataclass(frozen=True)
class HookChanged(Event):
    off_hook: bool


@dataclass(frozen=True)
class LineVerdict(Event):
    """A decision window of the line analyzer (``report`` is a firmware.line LineReport)."""

    verdict: str
    score: float
    report: Any = field(default=None, compare=False)


@dataclass(frozen=True)
class AudioInput(Event):
    """The unit's own audio input stopped delivering (``present=False``: unplugged, stalled) or is back."""

    present: bool


@dataclass(frozen=True)
class Callback(Event):
    """Run ``fn(*args)`` on the loop's thread (console input, sync results, test probes); not a phone call."""

    fn: Any
    args: tuple = ()


class Subscribers(Generic[T]):
    """Listeners to one kind of news (a saved record): each ``publish`` calls them in order.

    The small subscription API parts are wired with, instead of replacing each other's callbacks.

        >>> saved = Subscribers()
        >>> unsubscribe = saved.subscribe(print)
        >>> saved.publish("record 1")
        record 1
    """

    def __init__(self) -> None:
        self._listeners: list[Callable[[T], None]] = []

    def subscribe(self, fn: Callable[[T], None]) -> Callable[[], None]:
        """Call ``fn`` with everything published from now on; returns the function that stops it."""
        self._listeners.append(fn)

        def unsubscribe() -> None:
            if fn in self._listeners:
                self._listeners.remove(fn)

        return unsubscribe

    def publish(self, value: T) -> None:
        for fn in tuple(self._listeners):
            fn(value)
