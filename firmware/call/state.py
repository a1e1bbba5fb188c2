"""A call in progress and the operator at the desk: plain data the call layer's rooms share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from firmware.appeal import AppealForm
from firmware.call.phase import Phase, check_transition
from firmware.call.settings import CallSettings
from firmware.call.views.base import View
from firmware.clock import Clock
from firmware.leds import Leds
from firmware.vocabulary import Greeting, Language, Outcome, Verdict


@dataclass(frozen=True)
class Operator:
    """The operator signed in at the desk (R3: the caller hears the number and name)."""

    number: int
    name: str


@dataclass
class CallState:
    """A call in progress: what will become its record, plus the live panel state."""

    id: str
    started_mono: float
    started_at: str
    language: Language
    greeting: Greeting
    events: list[dict[str, Any]] = field(default_factory=list)
    outcome: Outcome = Outcome.ANSWERED
    line: Verdict = Verdict.GOOD
    line_worst: Verdict = Verdict.GOOD
    phase: Phase = Phase.TALKING
    hold_started: float | None = None
    hold_total_s: float = 0.0
    hold_max_s: float = 0.0
    countdown_end: float | None = None
    cannot_hear_shown: bool = False
    silent_since: float | None = None
    caller_heard: bool = False  # R21 is about a caller who *went* silent, not one not yet speaking
    appeal: dict[str, Any] | None = None
    callback_ring_s: float | None = None  # R22: how long the callback rings (set when the call ends)
    operator: int | None = None  # who took the call (R3), kept with it through a restart
    appeal_form: AppealForm | None = None
    ended_at: str | None = None  # wall time the handset went down (the record's ``ended_at``)
    started_wall: str | None = None  # wall time of the start, to the microsecond: a restart resumes from it
    views: list[View] = field(default_factory=list)

    def elapsed(self, now: float) -> float:
        """Seconds since the call started, at monotonic time ``now``."""
        return now - self.started_mono

    def note(self, kind: str, now: float, **extra: Any) -> None:
        """Add an event to the call's record (``t``: seconds since the call started)."""
        self.events.append({"t": round(self.elapsed(now), 2), "type": kind, **extra})

    def enter(self, phase: Phase) -> Phase:
        """Move to ``phase`` (see :data:`firmware.call.phase.TRANSITIONS`); returns the phase left."""
        check_transition(self.phase, phase)
        left, self.phase = self.phase, phase
        return left


class CallHost(Protocol):
    """What a room of the call layer needs of the desk: the call, its event log, saving and redrawing."""

    call: CallState | None
    settings: CallSettings

    def note(self, kind: str, **extra: Any) -> None: ...

    def persist_call(self) -> bool: ...

    def journal_fault_text(self) -> str | None: ...

    def refresh(self) -> None: ...

    def finish_call(self) -> None: ...


class Cancellable(Protocol):
    def cancel(self) -> None: ...


class Scheduler(Protocol):
    """What the call layer needs of the event loop: timers on its thread."""

    def call_later(self, delay: float, fn: Callable[[], None]) -> Cancellable: ...

    def call_every(self, period: float, fn: Callable[[], None]) -> Cancellable: ...


class Room:
    """A part of the call layer that acts on the host's call with the clock, timers and the LEDs."""

    def __init__(self, host: CallHost, clock: Clock, loop: Scheduler, leds: Leds) -> None:
        self.host = host
        self.clock = clock
        self.loop = loop
        self.leds = leds
