"""Coming back after a crash: the call in progress, kept as the journal's call draft, is restored.

The desk keeps the call in progress in the journal as a :class:`~firmware.call.draft.CallDraft`. If
the unit dies (kill -9, a power cut, the watchdog), that draft is still there at the next start, and
:func:`restore_call` decides what it becomes:

- the handset is still **off-hook**: the operator is still talking, so the unit comes back into
  the same call (same record id, its events so far, the hold still running if the caller was on
  hold, the opening script at the step the operator had reached), with an ``unit_restarted`` event;
- the handset is **on-hook**: the call ended while the unit was down; it is saved as a record with
  ``ended_at`` = the restart time and an ``unit_restarted`` event (an open hold is closed then);
- either way, an appeal form with typed data never saved comes back on screen and stays until it
  is saved or discarded (a call that had already ended waits in its wrap-up, as before the cut).

Before the call, :func:`restore_shift` signs the operator of the shift kept in the journal in again
(:mod:`firmware.call.shift`): a power cut between calls does not end a shift either.

Pure logic on the loop's thread, no hardware:

    >>> restore_call(unit, journal.get_draft("call"), off_hook=panel.off_hook())
    <Recovery.RESUMED: 'resumed'>
"""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum
from typing import Any

from firmware.appeal import AppealForm
from firmware.call.draft import CALL_DRAFT, CallDraft
from firmware.call.hold import HoldTimer
from firmware.call.operators import operator_name
from firmware.call.phase import Phase
from firmware.call.shift import SHIFT_DRAFT, end_shift, kept_shift, shift_over
from firmware.call.state import CallState
from firmware.call.unit import Unit
from firmware.call.views import SCRIPT_STEPS, STEP_SHOWN, AppealView, HomeView, MessageView, ScriptView, View
from firmware.clock import Clock
from firmware.vocabulary import CallEvent

log = logging.getLogger(__name__)

#: A wall-clock gap longer than this is not believed as the call's age (a clock set while down).
MAX_BELIEVED_AGE_S = 12 * 3600.0


class Recovery(StrEnum):
    """What became of a call draft at start-up."""

    NONE = "none"  # no draft: the unit stopped between calls
    RESUMED = "resumed"  # the unit is in the call again
    ENDED = "ended"  # the call was saved as ended
    BUSY = "busy"  # the unit already has a call (the draft is left alone)
    INVALID = "invalid"  # the draft cannot be read as a call (left in the journal for a technician)


def recover(unit: Unit, off_hook: bool) -> Recovery:
    """Sign the shift's operator in again (:func:`restore_shift`), then look for the call draft in
    ``unit.journal`` and restore it; see :func:`restore_call`."""
    restore_shift(unit)
    draft = unit.journal.get_draft(CALL_DRAFT)
    if draft is None:
        return Recovery.NONE
    return restore_call(unit, draft, off_hook)


def restore_shift(unit: Unit) -> bool:
    """Sign the operator of the shift kept in the journal in again, if the shift still holds (see
    :mod:`firmware.call.shift`); True if that was done."""
    data = unit.journal.get_draft(SHIFT_DRAFT)
    if data is None or unit.operator is not None:
        return False
    try:
        number, since = kept_shift(data)
        why = shift_over(since, unit.clock.now())
    except (ValueError, TypeError) as e:  # TypeError: a start without its time zone
        log.error("shift draft unreadable (%s): the operator signs in again", e)
        end_shift(unit.journal)
        return False
    name = operator_name(unit.roster(), number)
    if name is None:
        why = "no longer on the roster"
    if why is not None or name is None:  # (a missing name has its why: the test only narrows the type)
        log.info("operator %s not signed in again after the restart: %s", number, why)
        end_shift(unit.journal)
        return False
    unit.sign_in(number, name, since)
    log.info("operator %s still signed in after the restart", number)
    return True


def restore_call(unit: Unit, data: dict[str, Any], off_hook: bool) -> Recovery:
    """Turn the crash-time draft ``data`` back into the unit's call; see :class:`Recovery`.

    An appeal form holding typed data comes back on screen whatever the hook: with the handset
    down the call is over (``ended_at`` is when it went down, if the unit saw it, else the restart)
    and the form waits to be saved or discarded, as at any hang-up.
    """
    if unit.call is not None:
        return Recovery.BUSY
    try:
        draft = CallDraft.from_dict(data)
        started = draft.panel.started_wall or str(draft.record["started_at"])
        age = call_age(started, unit.clock, draft.last_event_t())
        call = draft.to_call(unit.clock.monotonic() - age)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        log.error("call draft unreadable, left in the journal: %s", type(e).__name__)
        return Recovery.INVALID
    _restore_operator(unit, draft.operator)
    unit.off_hook = off_hook
    open_hold_t = _open_hold_start(call.events)
    call.note(CallEvent.UNIT_RESTARTED, unit.clock.monotonic(), off_hook=off_hook)
    pending = draft.appeal_pending and _restore_appeal_form(unit, draft, call)
    call.views[:] = restore_views(unit, draft, call)  # every call comes back on a screen, as it was live
    if call.phase is Phase.WRAP_UP:  # hung up before the cut, the form still open
        if pending:
            _show_form(call)
        unit.adopt_call(call, off_hook)
        if not pending:  # nothing left to finish: the record is written now
            unit.finish_call()
            unit.refresh()
            return Recovery.ENDED
        log.info("call %s: its appeal form is back after a restart", call.id)
        return Recovery.RESUMED
    if open_hold_t is not None:
        # the caller has been on hold on the phone all along: the hold timer keeps its start
        HoldTimer.resume(call, call.started_mono + open_hold_t)
    if pending or (call.appeal_form is not None and draft.panel.appeal_open):
        _show_form(call)
    unit.adopt_call(call, off_hook)
    if unit.call is None or unit.call.id != call.id:
        log.info("call %s saved after restart (handset on-hook)", call.id)
        return Recovery.ENDED
    log.info("call %s resumed after restart (handset %s)", call.id, "off-hook" if off_hook else "on-hook")
    return Recovery.RESUMED


def call_age(started_at: str, clock: Clock, last_event_t: float) -> float:
    """Seconds since the call started: from the wall clock when it can be believed, else the draft's own
    call time.

    The wall clock goes on while the unit is down (kill -9, a restart); a Pi without an RTC that lost
    power may come back with a clock that jumped. An age below the call time the draft vouches for,
    or above :data:`MAX_BELIEVED_AGE_S`, is not believed.
    """
    try:
        started = datetime.fromisoformat(started_at)
        age = (clock.now() - started).total_seconds()
    except (TypeError, ValueError):
        return last_event_t
    if not last_event_t <= age <= MAX_BELIEVED_AGE_S:
        return last_event_t
    return age


def restore_views(unit: Unit, draft: CallDraft, call: CallState) -> list[View]:
    """The screen the operator was on, as far as the draft tells.

    The draft's screen (the script step or the home screen), when it says, wins; otherwise the
    opening script at the last step noted in the events. A call ended for abuse (R15) shows its
    message again.
    """
    types = [e.get("type") for e in call.events]
    if CallEvent.ABUSE_ENDED in types:
        return [MessageView(unit.desk.banks[call.language].text("ui.abuse_ended"))]
    if draft.screen.home:
        return [HomeView()]
    step = draft.screen.script_step
    if step is None:
        step = max((i for i, shown in enumerate(STEP_SHOWN) if shown in types), default=0)
    return [ScriptView(min(max(step, 0), len(SCRIPT_STEPS) - 1))]


def _restore_appeal_form(unit: Unit, draft: CallDraft, call: CallState) -> bool:
    """The appeal form as it was at the last key; True when it holds typed data never saved."""
    state = draft.panel.appeal_form
    if not state:
        return False
    try:
        call.appeal_form = AppealForm.from_dict(state, unit.desk.settings.directories)
    except (KeyError, TypeError, ValueError) as e:
        log.error("appeal form draft unreadable: %s", type(e).__name__)
        return False
    return unit.desk.appeals.unsaved(call)


def _show_form(call: CallState) -> None:
    """The appeal form on top of the restored call's screens."""
    assert call.appeal_form is not None
    call.views[:] = [v for v in call.views if not isinstance(v, AppealView)]
    call.views.append(AppealView(call.appeal_form))


def _open_hold_start(events: list[dict[str, Any]]) -> float | None:
    """The call time of a hold_start with no hold_end after it (the caller was on hold), or None."""
    started = None
    for e in events:
        if e.get("type") == CallEvent.HOLD_START:
            started = float(e.get("t", 0.0))
        elif e.get("type") == CallEvent.HOLD_END:
            started = None
    return started


def _restore_operator(unit: Unit, number: int | None) -> None:
    """A crash does not sign the operator out: sign the draft's operator in again if nobody is."""
    if unit.operator is not None or number is None:
        return
    name = operator_name(unit.roster(), number)
    if name is not None:
        unit.sign_in(number, name)
