"""The call record, and the call in progress as a crash-safe draft: one definition of both formats.

The draft is the record so far (``ended_at`` null) plus ``panel``, what a restarted unit needs to
put the operator back where they were (the open appeal form, the hold timer, the countdown), and
``screen``, the opening script's step or the home screen. It lives in the journal's ``drafts`` table
under :data:`CALL_DRAFT`; :mod:`firmware.call.recovery` turns it back into a call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from firmware.appeal import AppealForm
from firmware.call.phase import Phase
from firmware.call.state import CallState
from firmware.vocabulary import CallEvent, Greeting, Language, Outcome, Verdict

CALL_DRAFT = "call"


def build_record(call: CallState, unit_id: str, ended_at: str | None) -> dict[str, Any]:
    """The call record (DESIGN.md, "The call record"); ``ended_at`` None for a draft."""
    return {
        "id": call.id,
        "unit": unit_id,
        "operator": call.operator,
        "started_at": call.started_at,
        "ended_at": ended_at,
        "language": call.language,
        "greeting": call.greeting,
        "outcome": call.outcome,
        "hold_total_s": round(call.hold_total_s, 1),
        "hold_max_s": round(call.hold_max_s, 1),
        "line_worst": call.line_worst,
        "events": call.events,
        "appeal": call.appeal,
        "callback_ring_s": call.callback_ring_s,
    }


@dataclass(frozen=True)
class DraftPanel:
    """The live panel state a record does not carry. ``None`` flags: an older draft did not say."""

    appeal_form: Mapping[str, Any] | None = None
    appeal_open: bool = False
    hold_elapsed_s: float | None = None
    call_time_s: float = 0.0
    cannot_hear_shown: bool | None = None
    caller_heard: bool | None = None
    started_wall: str | None = None  # the call's start to the microsecond (the record keeps seconds)
    hung_up_at: str | None = None  # the handset went down with an appeal still open (wrap-up)

    def to_dict(self) -> dict[str, Any]:
        return {"appeal_form": self.appeal_form, "appeal_open": self.appeal_open,
                "hold_elapsed_s": self.hold_elapsed_s, "call_time_s": self.call_time_s,
                "cannot_hear_shown": self.cannot_hear_shown, "caller_heard": self.caller_heard,
                "started_wall": self.started_wall, "hung_up_at": self.hung_up_at}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DraftPanel:
        def flag(key: str) -> bool | None:
            return bool(data[key]) if key in data else None

        return cls(appeal_form=data.get("appeal_form") or None, appeal_open=bool(data.get("appeal_open")),
                   hold_elapsed_s=data.get("hold_elapsed_s"), call_time_s=float(data.get("call_time_s") or 0.0),
                   cannot_hear_shown=flag("cannot_hear_shown"), caller_heard=flag("caller_heard"),
                   started_wall=data.get("started_wall") or None, hung_up_at=data.get("hung_up_at") or None)


@dataclass(frozen=True)
class DraftScreen:
    """Where the operator was: the opening script's step, or the call's home screen."""

    script_step: int | None = None
    home: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"home": True} if self.home else {"script_step": self.script_step}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DraftScreen:
        step = data.get("script_step")
        return cls(script_step=step if isinstance(step, int) else None, home=bool(data.get("home")))


@dataclass(frozen=True)
class CallDraft:
    """A call in progress as the journal keeps it; :meth:`to_dict` / :meth:`from_dict` are the format."""

    record: Mapping[str, Any]
    panel: DraftPanel = field(default_factory=DraftPanel)
    screen: DraftScreen = field(default_factory=DraftScreen)

    def to_dict(self) -> dict[str, Any]:
        return {**self.record, "ended_at": None, "panel": self.panel.to_dict(), "screen": self.screen.to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CallDraft:
        """Raises KeyError, TypeError or ValueError for a draft that cannot be read as a call."""
        record = {k: v for k, v in data.items() if k not in ("panel", "screen")}
        for key in ("id", "started_at", "events"):
            if key not in record:
                raise KeyError(key)
        return cls(record, DraftPanel.from_dict(data.get("panel") or {}),
                   DraftScreen.from_dict(data.get("screen") or {}))

    @property
    def operator(self) -> int | None:
        number = self.record.get("operator")
        return number if isinstance(number, int) and not isinstance(number, bool) else None

    def to_call(self, started_mono: float) -> CallState:
        """The call again, its monotonic start at ``started_mono`` so call times carry on."""
        r = self.record
        events = [dict(e) for e in r["events"]]
        types = {e.get("type") for e in events}
        worst = r.get("line_worst") or Verdict.GOOD
        panel = self.panel
        return CallState(
            id=str(r["id"]),
            started_mono=started_mono,
            started_at=str(r["started_at"]),
            language=Language(r.get("language") or Language.UK),
            greeting=Greeting(r.get("greeting") or Greeting.NEUTRAL),
            events=events,
            outcome=Outcome(r.get("outcome") or Outcome.ANSWERED),
            line_worst=Verdict(worst) if worst in tuple(Verdict) else Verdict.GOOD,
            hold_total_s=float(r.get("hold_total_s") or 0.0),
            hold_max_s=float(r.get("hold_max_s") or 0.0),
            appeal=r.get("appeal"),
            callback_ring_s=r.get("callback_ring_s"),
            operator=self.operator,
            cannot_hear_shown=(panel.cannot_hear_shown if panel.cannot_hear_shown is not None
                               else CallEvent.CANNOT_HEAR_SHOWN in types),
            caller_heard=panel.caller_heard if panel.caller_heard is not None else CallEvent.CALLER_RESUMED in types,
            started_wall=panel.started_wall,
            ended_at=panel.hung_up_at,
            phase=Phase.WRAP_UP if panel.hung_up_at else Phase.TALKING,
        )

    def last_event_t(self) -> float:
        """The call time the draft itself vouches for: its last event, or the call time it was saved at."""
        last = max((float(e.get("t", 0.0)) for e in self.record["events"]), default=0.0)
        return max(last, self.panel.call_time_s)

    @property
    def appeal_pending(self) -> bool:
        """An appeal form with typed data that was never saved: it must come back on screen."""
        form = self.panel.appeal_form
        if self.record.get("appeal") is not None or not form:
            return False
        try:
            return AppealForm.from_dict(form).has_typed()
        except (KeyError, TypeError, ValueError):
            return True  # unreadable, but something was typed: recovery reports it
