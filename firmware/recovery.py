"""Coming back after a crash: the call in progress, kept as the journal's "call" draft, is restored.

:meth:`firmware.unit.Unit.persist_call` keeps the call in progress in the journal (``drafts`` table,
name ``"call"``). If the unit dies (kill -9, a power cut, the watchdog), that draft is still there
at the next start, and :func:`restore_call` decides what it becomes:

- the handset is still **off-hook**: the operator is still talking, so the unit comes back into
  the same call (same record id, its events so far, the hold still running if the caller was on
  hold, the opening script at the step the operator had reached), with an ``unit_restarted`` event;
- the handset is **on-hook**: the call ended while the unit was down; it is saved as a record with
  ``ended_at`` = the restart time and an ``unit_restarted`` event (an open hold is closed then).

Pure logic on the loop's thread, no hardware:

    >>> draft = journal.get_draft("call")
    >>> restore_call(unit, draft, off_hook=panel.off_hook())
    'resumed'
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from firmware.appeal import AppealForm
from firmware.unit import LINE_SEVERITY, CallState
from firmware.views import SCRIPT_STEPS, AppealView, HomeView, MessageView, ScriptView, View

log = logging.getLogger(__name__)

CALL_DRAFT = "call"
#: A wall-clock gap longer than this is not believed as the call's age (a clock set while down).
MAX_BELIEVED_AGE_S = 12 * 3600.0


def recover(unit: Any, off_hook: bool) -> str:
    """Look for the call draft in ``unit.journal`` and restore it; see :func:`restore_call`."""
    draft = unit.journal.get_draft(CALL_DRAFT)
    if draft is None:
        return "none"
    return restore_call(unit, draft, off_hook)


def restore_call(unit: Any, draft: dict[str, Any], off_hook: bool) -> str:
    """Turn the crash-time ``draft`` back into the unit's call; returns what happened.

    ``"resumed"``: the unit is in the call again; ``"ended"``: the call was saved as ended;
    ``"busy"``: the unit already has a call (the draft is left alone); ``"invalid"``: the draft
    cannot be read as a call (left in the journal for a technician, never deleted).
    """
    if unit.call is not None:
        return "busy"
    try:
        call = call_from_draft(draft, unit.clock)
    except (KeyError, TypeError, ValueError) as e:
        log.error("call draft unreadable, left in the journal: %s", type(e).__name__)
        return "invalid"
    _restore_operator(unit, draft.get("operator"))
    open_hold_t = _open_hold_start(call.events)
    unit.call = call  # from here on unit.note() and unit.call_time() work on the restored call
    unit.note("unit_restarted", off_hook=off_hook)
    if not off_hook:
        if open_hold_t is not None:
            call.hold_started = call.started_mono + open_hold_t
        unit.end_call()  # closes the hold, settles the outcome, saves, drops the draft
        unit.refresh()
        log.info("call %s saved after restart (handset on-hook)", call.id)
        return "ended"
    if open_hold_t is not None:
        # the caller has been on hold on the phone all along: the hold timer keeps its start
        call.hold_started = call.started_mono + open_hold_t
    call.views[:] = restore_views(unit, draft, call)
    _restore_appeal_form(unit, draft, call)
    unit.resume_call(call)
    log.info("call %s resumed after restart (handset off-hook)", call.id)
    return "resumed"


def call_from_draft(draft: dict[str, Any], clock: Any) -> CallState:
    """A :class:`CallState` from a draft, its monotonic start placed so call times carry on."""
    events = [dict(e) for e in draft["events"]]
    last_t = max((float(e.get("t", 0.0)) for e in events), default=0.0)
    age = call_age(draft["started_at"], clock, last_t)
    line_worst = draft.get("line_worst") or "good"
    if line_worst not in LINE_SEVERITY:
        line_worst = "good"
    call = CallState(
        id=str(draft["id"]),
        started_mono=clock.monotonic() - age,
        started_at=str(draft["started_at"]),
        language=draft.get("language") or "uk",
        greeting=draft.get("greeting") or "neutral",
        events=events,
        outcome=draft.get("outcome") or "answered",
        line_worst=line_worst,
        hold_total_s=float(draft.get("hold_total_s") or 0.0),
        hold_max_s=float(draft.get("hold_max_s") or 0.0),
        appeal=draft.get("appeal"),
        operator=draft.get("operator") if isinstance(draft.get("operator"), int) else None,
    )
    types = {e.get("type") for e in events}
    panel = draft.get("panel") or {}
    call.cannot_hear_shown = bool(panel.get("cannot_hear_shown", "cannot_hear_shown" in types))
    call.caller_heard = bool(panel.get("caller_heard", "caller_resumed" in types))
    return call


def call_age(started_at: str, clock: Any, last_event_t: float) -> float:
    """Seconds since the call started: from the wall clock when it can be believed, else the last event.

    A Pi without an RTC may restart with a wall clock that jumped; an age below the last event's
    time, or above :data:`MAX_BELIEVED_AGE_S`, is not believed.
    """
    try:
        started = datetime.fromisoformat(started_at)
        age = (clock.now() - started).total_seconds()
    except (TypeError, ValueError):
        return last_event_t
    if not clock.trusted or not last_event_t <= age <= MAX_BELIEVED_AGE_S:
        return last_event_t
    return age


def restore_views(unit: Any, draft: dict[str, Any], call: CallState) -> list[View]:
    """The screen the operator was on, as far as the draft tells.

    An explicit ``draft["screen"]`` (``{"script_step": n}`` or ``{"home": true}``), when the unit
    stores one, wins; otherwise the opening script at the last step noted in the events. A call
    ended for abuse (R15) shows its message again.
    """
    types = [e.get("type") for e in call.events]
    if "abuse_ended" in types:
        return [MessageView(unit.banks[call.language].text("ui.abuse_ended"))]
    screen = draft.get("screen") or {}
    if screen.get("home"):
        return [HomeView()]
    step = screen.get("script_step")
    if not isinstance(step, int):
        step = max((i for i, name in enumerate(SCRIPT_STEPS) if f"{name}_shown" in types), default=0)
    return [ScriptView(min(max(step, 0), len(SCRIPT_STEPS) - 1))]


def _restore_appeal_form(unit: Any, draft: dict[str, Any], call: CallState) -> None:
    """The appeal form as it was at the last confirmed field, on screen again if it was open."""
    panel = draft.get("panel") or {}
    state = panel.get("appeal_form")
    if not state:
        return
    try:
        call.appeal_form = AppealForm.from_dict(state, unit.cfg.get("directories"))
    except (KeyError, TypeError, ValueError) as e:
        log.error("appeal form draft unreadable: %s", type(e).__name__)
        return
    if panel.get("appeal_open"):
        call.views.append(AppealView(call.appeal_form))


def _open_hold_start(events: list[dict[str, Any]]) -> float | None:
    """The call time of a hold_start with no hold_end after it (the caller was on hold), or None."""
    started = None
    for e in events:
        if e.get("type") == "hold_start":
            started = float(e.get("t", 0.0))
        elif e.get("type") == "hold_end":
            started = None
    return started


def _restore_operator(unit: Any, number: Any) -> None:
    """A crash does not sign the operator out: sign the draft's operator in again if nobody is."""
    if unit.operator is not None or not isinstance(number, int):
        return
    entry = next((op for op in unit.roster() if op.get("number") == number), None)
    if entry is not None:
        unit.sign_in(number, entry["name"])
