"""Everything that happens to the unit arrives as one of these events, on one queue.

gpiozero callbacks, the audio thread's verdicts, console commands and sync results are turned
into events by the threads that see them; only the event loop's thread acts on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from firmware.vocabulary import KEYPAD_KEYS, PANEL_KEYS, Key

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
class Call(Event):
    """Run a function on the loop's thread (console commands, sync results, test probes)."""

    fn: Any
    args: tuple = ()
