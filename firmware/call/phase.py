"""The call's phase: what the call is about right now, as one state machine.

The phase decides what the LCD shows above the status line. Its timestamps live in the call
(:attr:`~firmware.call.state.CallState.countdown_end`, ``hold_started``, ``silent_since``), each set
exactly while its phase lasts.

- ``talking``: a verdict the operator cannot follow starts R16's ``countdown`` (or, once the
  "cannot hear" phrase has been shown in this call, goes straight to ``cannot_hear``); a silent
  caller makes it ``caller_silent``; HOLD with consent makes it ``on_hold``;
- ``countdown`` runs out into ``cannot_hear``; a better verdict returns to ``talking``;
- any phase but ``on_hold`` follows the line's next verdict; ``on_hold`` only ends with HOLD,
  back to ``talking``, where the line's current verdict applies again;
- a heard caller after ``cannot_hear`` means contact is back: the next bad spell starts a new
  ``countdown`` (R16, each spell its own 10 s);
- the handset going down with an appeal typed but not saved makes any phase ``wrap_up``: the caller
  is gone, the form stays until it is saved or discarded, then the call's record is written.
"""

from __future__ import annotations

from enum import StrEnum


class Phase(StrEnum):
    """See the module docstring."""

    TALKING = "talking"  # operator and caller talk: the top view shows
    COUNTDOWN = "countdown"  # R16: the operator cannot hear the caller; seconds left to make contact
    CANNOT_HEAR = "cannot_hear"  # R16: the countdown ran out with the line still bad: "cannot hear you"
    CALLER_SILENT = "caller_silent"  # R21: a live line and a silent caller; past a while, call back
    ON_HOLD = "on_hold"  # R17, R18: the caller waits with consent; the line rules rest
    WRAP_UP = "wrap_up"  # the caller hung up; the typed appeal stays on screen until saved or discarded


#: Every allowed change of phase (staying in a phase is always allowed).
TRANSITIONS: dict[Phase, frozenset[Phase]] = {
    Phase.TALKING: frozenset({Phase.COUNTDOWN, Phase.CANNOT_HEAR, Phase.CALLER_SILENT, Phase.ON_HOLD,
                              Phase.WRAP_UP}),
    Phase.COUNTDOWN: frozenset({Phase.TALKING, Phase.CANNOT_HEAR, Phase.CALLER_SILENT, Phase.ON_HOLD, Phase.WRAP_UP}),
    Phase.CANNOT_HEAR: frozenset({Phase.TALKING, Phase.CALLER_SILENT, Phase.ON_HOLD, Phase.WRAP_UP}),
    Phase.CALLER_SILENT: frozenset({Phase.TALKING, Phase.COUNTDOWN, Phase.CANNOT_HEAR, Phase.ON_HOLD,
                                    Phase.WRAP_UP}),
    Phase.ON_HOLD: frozenset({Phase.TALKING}),
    Phase.WRAP_UP: frozenset(),
}


def check_transition(current: Phase, target: Phase) -> None:
    """Raise ValueError for a change the machine does not allow (a bug, never an input error)."""
    if target is not current and target not in TRANSITIONS[current]:
        raise ValueError(f"call phase {current} cannot become {target}")
