"""The unit's core: one object that owns all state and turns events into screens, LEDs and records.

It runs only on the event loop's thread. Inputs arrive as :mod:`firmware.events`; outputs go to a
text display (rows of text), the LEDs (:class:`firmware.leds.Leds`) and the journal. Everything
time-related reads the injected clock, so the simulator can run an hour of calls in a second.

    >>> unit = Unit(cfg, clock, loop, display=screen, leds=leds, journal=journal)
    >>> unit.sign_in(7, "Олена Петренко")
    >>> loop.post(HookChanged(off_hook=True))     # the screen now greets the caller
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from firmware.appeal import AppealForm
from firmware.clock import Clock
from firmware.config import merge
from firmware.events import AudioInput, Event, HookChanged, KeyDown, KeyUp, LineVerdict
from firmware.greeting import Boundaries, greeting_for
from firmware.journal import Journal
from firmware.lcd import display_text, wrap
from firmware.leds import Leds
from firmware.phrases import LANGUAGES, Phrase, PhraseBank, load_all
from firmware.pins import verify_pin
from firmware.views import AppealView, HoldConfirmView, HomeView, MessageView, PhraseView, ScriptView, View

log = logging.getLogger(__name__)

CANNOT_HEAR = ("unintelligible", "no_signal")
LINE_COLOUR = {"good": "green", "degraded": "amber", "unintelligible": "red", "no_signal": "red",
               "silent": "blue"}
LINE_SEVERITY = ("good", "silent", "degraded", "unintelligible", "no_signal")
#: Showing one of these phrases records what kind of call it was (R7, R15).
PHRASE_OUTCOMES = {"outside_competence": "outside_competence"}
AUTO_PAGE_S = 3.0
PURGE_PERIOD_S = 3600.0
#: A caller who has not said a word yet: the operator is still greeting them; remind only after this.
SILENT_REMINDER_S = 8.0


class TextDisplay(Protocol):
    """What the core needs of the LCD: its size, and showing rows of text."""

    cols: int
    rows: int

    def show(self, rows: list[str]) -> None: ...


@dataclass(frozen=True)
class Operator:
    number: int
    name: str


@dataclass
class CallState:
    """A call in progress: what will become its record, plus the live panel state."""

    id: str
    started_mono: float
    started_at: str
    language: str
    greeting: str
    events: list[dict[str, Any]] = field(default_factory=list)
    outcome: str = "answered"
    line: str = "good"
    line_worst: str = "good"
    hold_started: float | None = None
    hold_total_s: float = 0.0
    hold_max_s: float = 0.0
    countdown_end: float | None = None
    cannot_hear_shown: bool = False
    silent_since: float | None = None
    caller_heard: bool = False  # R21 is about a caller who *went* silent, not one not yet speaking
    appeal: dict[str, Any] | None = None
    operator: int | None = None  # who took the call (R3), kept with it through a restart
    appeal_form: AppealForm | None = None
    views: list[View] = field(default_factory=list)


class Unit:
    """All of the unit's state and behaviour; see the module docstring."""

    def __init__(
        self,
        cfg: dict[str, Any],
        clock: Clock,
        loop: Any,
        *,
        display: TextDisplay,
        leds: Leds,
        journal: Journal,
        phrases: dict[str, PhraseBank] | None = None,
        on_record: Callable[[dict[str, Any]], None] | None = None,
        on_call: Callable[[bool], None] | None = None,
    ) -> None:
        self.cfg = cfg
        self.clock = clock
        self.loop = loop
        self.display = display
        self.leds = leds
        self.journal = journal
        self.banks = phrases or load_all(cfg.get("phrases"))
        self.on_record = on_record
        self.on_call = on_call
        self.operator: Operator | None = None
        self.call: CallState | None = None
        self.idle_views: list[View] = []
        self.off_hook = False
        self.line_verdict: str | None = None
        self.audio_lost = False  # the unit's own audio input delivers nothing (firmware.audio_watch)
        self._tick = None
        self._paged_body: list[list[str]] | None = None
        self._paged_since = 0.0
        self.refresh()
        self._schedule_idle_tick()
        self.loop.call_every(PURGE_PERIOD_S, self.purge_personal_data)

    # ---------------------------------------------------------------- helpers
    @property
    def language(self) -> str:
        return self.call.language if self.call else self.cfg["unit"]["language"]

    @property
    def bank(self) -> PhraseBank:
        return self.banks[self.language]

    def wrap(self, text: str) -> list[str]:
        """``text`` as the LCD will show it (romanised on A00/A02), wrapped to the screen's width."""
        return wrap(self.display_line(text), self.display.cols)

    def display_line(self, text: str) -> str:
        """One row's text in the form the LCD shows it (romanised on A00/A02)."""
        return display_text(text, self.cfg["lcd"]["rom"], self.language)

    def call_time(self) -> float:
        return self.clock.monotonic() - self.call.started_mono if self.call else 0.0

    def note(self, kind: str, **extra: Any) -> None:
        """Add an event to the call's record (t: seconds since the call started)."""
        if self.call is not None:
            self.call.events.append({"t": round(self.call_time(), 2), "type": kind, **extra})

    # ---------------------------------------------------------------- events
    def handle(self, event: Event) -> None:
        if isinstance(event, KeyDown):
            self.on_key(event.key)
        elif isinstance(event, KeyUp):
            pass
        elif isinstance(event, HookChanged):
            self.on_hook(event.off_hook)
        elif isinstance(event, LineVerdict):
            self.on_line(event.verdict)
        elif isinstance(event, AudioInput):
            self.on_audio_input(event.present)
        else:
            log.warning("unhandled event %s", type(event).__name__)
        self.refresh()

    def purge_personal_data(self) -> int:
        """Retention: personal data of appeals the server confirmed long enough ago is blanked locally."""
        purged = self.journal.purge_personal(self.clock.now(), self.cfg["appeal"]["retention_days"])
        if purged:
            log.info("retention: personal data purged from %d records", purged)
        return purged

    def apply_config(self, doc: dict[str, Any]) -> None:
        """A validated config pushed by the central server (roster, directories, phrases) or set on the
        console; loop thread. Everything derived from the config is read from it when needed."""
        self.cfg = merge(self.cfg, doc)
        if "phrases" in doc:
            self.banks = load_all(self.cfg.get("phrases"))
        self.refresh()

    # ---------------------------------------------------------------- operators
    def roster(self) -> list[dict[str, Any]]:
        return list(self.cfg.get("operators") or [])

    def sign_in(self, number: int, name: str) -> None:
        self.operator = Operator(number, name)
        if self.call is not None and self.call.operator is None:  # signed in as the call began
            self.call.operator = number
        self.idle_views.clear()
        log.info("operator %s signed in", number)
        self.refresh()

    def sign_out(self) -> None:
        if self.operator:
            log.info("operator %s signed out", self.operator.number)
        self.operator = None
        self.idle_views.clear()
        self.refresh()

    def check_operator(self, number: int, pin: str | None) -> str:
        """'ok' (signed in), 'pin' (a PIN is needed), 'unknown' or 'bad_pin'."""
        entry = next((op for op in self.roster() if op["number"] == number), None)
        if entry is None:
            return "unknown"
        stored = entry.get("pin_hash", "")
        if stored and pin is None:
            return "pin"
        if stored and not verify_pin(pin or "", stored):
            log.warning("wrong PIN for operator %s", number)
            return "bad_pin"
        self.sign_in(number, entry["name"])
        return "ok"

    # ---------------------------------------------------------------- hook
    def on_hook(self, off_hook: bool) -> None:
        if off_hook == self.off_hook:
            return
        self.off_hook = off_hook
        if off_hook:
            self.start_call()
        else:
            self.end_call()

    def start_call(self) -> None:
        now = self.clock.now()
        bounds = Boundaries.from_config(self.cfg["greeting"])  # from cfg each call: a pushed change applies
        greeting = greeting_for(now.time(), bounds, self.clock.trusted)
        self.call = CallState(
            id=str(uuid.uuid4()),
            started_mono=self.clock.monotonic(),
            started_at=now.isoformat(timespec="seconds"),
            language=self.cfg["unit"]["language"],
            greeting=greeting,
            operator=self.operator.number if self.operator else None,
        )
        self.call.views.append(ScriptView())
        if self.operator is None:  # R3 needs a number and a name: sign in first, on top of the call
            from firmware.idle_views import SignInView

            self.call.views.append(SignInView())
        self.note("greeting_shown", greeting=greeting)
        if not self.clock.trusted:
            self.note("clock_untrusted")
        self.leds.set("line", "green")
        self._tick = self.loop.call_every(1.0, self._call_tick)
        self.persist_call()
        if self.on_call:
            self.on_call(True)

    def resume_call(self, call: CallState) -> None:
        """Back into a call after a restart (crash recovery): ticks, LEDs, hold stages, the line."""
        self.call = call
        self.off_hook = True
        self._tick = self.loop.call_every(1.0, self._call_tick)
        self.leds.set("line", LINE_COLOUR.get(call.line, "green"))
        if call.hold_started is not None:
            self._schedule_hold_stages(call)
        self.persist_call()
        if self.on_call:
            self.on_call(True)
        self.refresh()

    def end_call(self) -> None:
        call = self.call
        if call is None:
            return
        if call.hold_started is not None:
            self.end_hold()
        if self._tick:
            self._tick.cancel()
            self._tick = None
        if call.appeal is None and call.appeal_form is not None and any(call.appeal_form.values.values()):
            self.note("appeal_unsaved")  # typed but never saved with APPEAL: the center should know
            log.warning("call %s ended with an appeal form that was not saved", call.id)
        if call.outcome == "answered" and call.cannot_hear_shown:
            call.outcome = "bad_line"
        elif call.outcome == "answered" and call.silent_since is not None and self._silent_for() >= self.silent_limit:
            call.outcome = "caller_silent"
        if call.outcome == "callback" and call.appeal is not None and call.appeal.get("callback_ring_s") is None:
            call.appeal["callback_ring_s"] = self.cfg["appeal"]["normal_ring_s"]  # R22: the usual ring time
        self.note("call_end")
        record = self.build_record(call)
        self.journal.save_and_clear_draft(record, "call", saved_at=self.clock.now())
        log.info("call %s saved: outcome=%s", record["id"], record["outcome"])
        self.call = None
        self.line_verdict = None
        if self.on_call:
            self.on_call(False)
        self.leds.set("line", "off")
        self.leds.set("hold", "off")
        if self.on_record:
            self.on_record(record)

    def build_record(self, call: CallState) -> dict[str, Any]:
        return {
            "id": call.id,
            "unit": self.cfg["unit"]["id"],
            "operator": call.operator,
            "started_at": call.started_at,
            "ended_at": self.clock.now().isoformat(timespec="seconds"),
            "language": call.language,
            "greeting": call.greeting,
            "outcome": call.outcome,
            "hold_total_s": round(call.hold_total_s, 1),
            "hold_max_s": round(call.hold_max_s, 1),
            "line_worst": call.line_worst,
            "events": call.events,
            "appeal": call.appeal,
        }

    def persist_call(self) -> None:
        """Keep the call in progress as a draft, so a crash or power cut does not lose it.

        The draft is the record so far plus ``panel``: what the restarted unit needs to put the
        operator back where they were (the open appeal form, the hold timer, the countdown).
        """
        call = self.call
        if call is None:
            return
        draft = self.build_record(call)
        draft["ended_at"] = None
        draft["panel"] = {
            "appeal_form": call.appeal_form.to_dict() if call.appeal_form else None,
            "appeal_open": any(isinstance(v, AppealView) for v in call.views),
            "hold_elapsed_s": round(self.hold_elapsed(), 2) if call.hold_started is not None else None,
            "call_time_s": round(self.call_time(), 2),
            "cannot_hear_shown": call.cannot_hear_shown,
            "caller_heard": call.caller_heard,
        }
        base = next((v for v in call.views if isinstance(v, ScriptView | HomeView)), None)
        draft["screen"] = {"script_step": base.step} if isinstance(base, ScriptView) else {"home": True}
        self.journal.put_draft("call", draft)

    # ---------------------------------------------------------------- keys and views
    @property
    def views(self) -> list[View]:
        return self.call.views if self.call is not None else self.idle_views

    def on_key(self, key: str) -> None:
        call = self.call
        if call is None:
            self.on_idle_key(key)
            return
        if key == "HOLD" and call.hold_started is not None:
            self.end_hold()
            return
        if call.views and call.views[-1].on_key(self, key):
            return
        if key == "HOLD":
            self.push_view(HoldConfirmView())
        elif key == "APPEAL":
            self.open_appeal()
        elif key == "#":
            self.switch_language()

    def on_idle_key(self, key: str) -> None:
        from firmware.idle_views import SignInView, SignOutView

        if self.idle_views and self.idle_views[-1].on_key(self, key):
            return
        if self.operator is None:
            self.idle_views[:] = [SignInView()]
            self.idle_views[-1].on_key(self, key)
        elif key == "BACK":
            self.idle_views.append(SignOutView())

    def push_view(self, view: View) -> None:
        self.views.append(view)

    def pop_view(self) -> None:
        views = self.views
        if len(views) > 1 or (self.call is None and views):
            views.pop()

    def replace_view(self, view: View) -> None:
        self.views[-1] = view

    def switch_language(self) -> None:
        """R1: the next language both sides accept, for the rest of this call."""
        call = self.call
        if call is None:
            return
        call.language = LANGUAGES[(LANGUAGES.index(call.language) + 1) % len(LANGUAGES)]
        self.note("language", language=call.language)
        self.persist_call()

    def set_outcome(self, outcome: str) -> None:
        """The operator will call the caller back, or has transferred them (R17, R21)."""
        call = self.call
        if call is None:
            return
        call.outcome = outcome
        self.note("outcome", outcome=outcome)
        self.push_view(MessageView(self.bank.text(f"ui.outcome_{outcome}_set")))
        self.persist_call()

    def show_phrase(self, phrase: Phrase) -> None:
        extra = self.office_text() if phrase.id == "office" else ""
        self.push_view(PhraseView(phrase, extra))
        self.note("phrase_shown", phrase=phrase.id)
        if phrase.id == "apology":
            self.note("apology_shown")
        outcome = PHRASE_OUTCOMES.get(phrase.id)
        if outcome and self.call is not None and self.call.outcome == "answered":
            self.call.outcome = outcome
        self.persist_call()

    # ---------------------------------------------------------------- appeals (R9, R11, R22, R25)
    def open_appeal(self) -> None:
        """APPEAL: the form at its first field, keeping anything already entered in this call."""
        call = self.call
        if call is None:
            return
        if call.appeal_form is None:
            call.appeal_form = AppealForm(call.language, self.cfg.get("directories"),
                                          long_ring_s=self.cfg["appeal"]["long_ring_s"])
        call.appeal_form.open()
        self.push_view(AppealView(call.appeal_form))
        self.note("appeal_opened")

    def tick_form(self, form: AppealForm) -> None:
        if form.tick(self.clock.monotonic()):
            self.refresh()

    def save_appeal(self, appeal: dict[str, Any]) -> None:
        """Put the appeal into the call and commit it before the screen says it is saved."""
        call = self.call
        assert call is not None
        if appeal.get("forward_to"):
            appeal["forward_due"] = self.forward_due()
            if call.outcome == "answered":
                call.outcome = "outside_competence"
        call.appeal = appeal
        self.note("appeal_saved")
        self.persist_call()  # durable (SQLite, synchronous=FULL) before the LCD says so
        self.views[:] = [view for view in self.views if not isinstance(view, AppealView)]
        self.push_view(MessageView(self.bank.text("ui.saved")))
        log.info("appeal saved in call %s", call.id)

    def forward_due(self) -> str:
        """R11: the same day, by the configured cut-off (or the end of the day when registered later)."""
        now = self.clock.now()
        hh, mm = (int(x) for x in self.cfg["appeal"]["forward_cutoff"].split(":"))
        cutoff = now.replace(hour=hh, minute=mm, second=0, microsecond=0)
        if now >= cutoff:
            cutoff = now.replace(hour=23, minute=59, second=0, microsecond=0)
        return cutoff.isoformat(timespec="minutes")

    def office_text(self) -> str:
        """R24: the accessible offices from the directory, with their ramp / door / lift facts."""
        bank = self.bank
        offices = (self.cfg.get("directories") or {}).get("offices") or []
        if not offices:
            return bank.text("ui.office_none")
        parts = []
        for office in offices:  # the facts first: they are what the caller asks about (ramp, door, lift)
            facts = " ".join(f"{bank.text(f'ui.{k}')}{'+' if office.get(k) else '-'}"
                             for k in ("ramp", "wide_door", "lift"))
            parts.append(f"{office.get('name', '')}: {facts}. {office.get('address', '')}")
        return "\n".join(parts)

    def end_for_abuse(self) -> None:
        """R15: the operator ends the call after saying such language is inadmissible; logged."""
        call = self.call
        if call is None:
            return
        call.outcome = "abuse"
        self.note("abuse_ended")
        self.views[:] = [MessageView(self.bank.text("ui.abuse_ended"))]
        self.persist_call()

    # ---------------------------------------------------------------- hold (R17, R18)
    def start_hold(self) -> None:
        call = self.call
        if call is None or call.hold_started is not None:
            return
        call.hold_started = self.clock.monotonic()
        self.note("hold_start")
        if call.countdown_end is not None:  # on hold nobody tries to reach the caller
            call.countdown_end = None
            self.note("countdown_cancelled", verdict="hold")
        call.silent_since = None
        self._schedule_hold_stages(call)
        self.persist_call()

    def _schedule_hold_stages(self, call: CallState) -> None:
        """The HOLD LED now, and its amber (2:30) and red-blinking (3:00) stages still to come."""
        hold = self.cfg["hold"]
        elapsed = self.hold_elapsed()
        colour = "red" if elapsed >= hold["limit_s"] else "amber" if elapsed >= hold["warn_s"] else "green"
        self.leds.set("hold", colour, blink=colour == "red")
        call_id, started = call.id, call.hold_started
        for stage, at in (("amber", hold["warn_s"]), ("red", hold["limit_s"])):
            if elapsed < at:
                self.loop.call_later(at - elapsed, lambda s=stage: self._hold_stage(call_id, started, s))

    def _hold_stage(self, call_id: str, started: float | None, colour: str) -> None:
        call = self.call
        if call is None or call.id != call_id or call.hold_started != started:
            return  # that hold is over
        self.leds.set("hold", colour, blink=colour == "red")
        if colour == "red":
            self.note("hold_limit")
        self.refresh()

    def hold_elapsed(self) -> float:
        call = self.call
        if call is None or call.hold_started is None:
            return 0.0
        return self.clock.monotonic() - call.hold_started

    def end_hold(self) -> None:
        call = self.call
        if call is None or call.hold_started is None:
            return
        spell = self.hold_elapsed()
        call.hold_total_s += spell
        call.hold_max_s = max(call.hold_max_s, spell)
        call.hold_started = None
        self.note("hold_end", duration_s=round(spell, 1))
        self.leds.set("hold", "off")
        if self.line_verdict is not None:
            self.on_line(self.line_verdict)  # back to the caller: the line rules apply again
        self.persist_call()

    # ---------------------------------------------------------------- the line (R16, R19, R21)
    @property
    def silent_limit(self) -> float:
        return float(self.cfg["line"]["silent_callback_s"])

    def _silent_for(self) -> float:
        call = self.call
        if call is None or call.silent_since is None:
            return 0.0
        return self.clock.monotonic() - call.silent_since

    def on_audio_input(self, present: bool) -> None:
        """The unit's audio input is gone (LINE blinks amber: no verdict, no countdown, no silence timer,
        since nothing is known about the caller) or back (the next verdict, from fresh audio, decides)."""
        self.audio_lost = not present
        call = self.call
        if call is None:
            return
        if present:
            self.note("audio_input_back")
            return
        self.note("audio_input_lost")
        self.line_verdict = None
        if call.countdown_end is not None:
            call.countdown_end = None
            self.note("countdown_cancelled", verdict="no_input")
        call.silent_since = None
        self.leds.set("line", "amber", blink=True)

    def on_line(self, verdict: str) -> None:
        self.line_verdict = verdict
        call = self.call
        if call is None:
            return
        previous, call.line = call.line, verdict
        self.leds.set("line", LINE_COLOUR[verdict])
        if call.hold_started is not None:
            return  # the caller is waiting on hold: nobody is trying to talk, so no line rules apply
        if LINE_SEVERITY.index(verdict) > LINE_SEVERITY.index(call.line_worst):
            call.line_worst = verdict
        now = self.clock.monotonic()
        if verdict in ("good", "degraded"):
            call.caller_heard = True
        if verdict in CANNOT_HEAR:
            if call.countdown_end is None and not call.cannot_hear_shown:
                countdown = float(self.cfg["line"]["countdown_s"])
                call.countdown_end = now + countdown
                self.note("countdown_start", verdict=verdict)
                call_id = call.id
                self.loop.call_later(countdown, lambda: self._countdown_over(call_id))
        elif call.countdown_end is not None:
            call.countdown_end = None
            self.note("countdown_cancelled", verdict=verdict)
        if verdict == "silent":
            if call.silent_since is None:
                call.silent_since = now
                self.note("caller_silent")
                call_id = call.id
                self.loop.call_later(self.silent_limit, lambda: self._silent_over(call_id))
        elif call.silent_since is not None:
            call.silent_since = None
            if previous == "silent":
                self.note("caller_resumed")

    def _call_tick(self) -> None:
        if self.call is not None and self.call.appeal_form is not None:
            self.call.appeal_form.tick(self.clock.monotonic())
        self.refresh()

    def _countdown_over(self, call_id: str) -> None:
        call = self.call
        if call is None or call.id != call_id or call.countdown_end is None:
            return
        if self.clock.monotonic() + 1e-6 < call.countdown_end:
            return
        call.countdown_end = None
        call.cannot_hear_shown = True
        self.note("cannot_hear_shown")
        self.persist_call()
        self.refresh()

    def _silent_over(self, call_id: str) -> None:
        call = self.call
        if call is None or call.id != call_id or call.silent_since is None:
            return
        if self._silent_for() >= self.silent_limit - 1e-6:
            self.note("callback_suggested")
            self.refresh()

    # ---------------------------------------------------------------- rendering
    def refresh(self) -> None:
        self.display.show(self.render())

    def render(self) -> list[str]:
        rows = self.display.rows
        call = self.call
        if call is None:
            if self.idle_views:
                return self._fit(self.idle_views[-1].lines(self), rows)
            return self._fit(self.idle_lines(), rows, keep_last=True)
        bank = self.bank
        if call.cannot_hear_shown and call.line in CANNOT_HEAR:
            return self._fit(self.wrap(bank.text("script.cannot_hear")), rows)
        view = call.views[-1]
        body: list[str]
        if call.countdown_end is not None:
            left = max(0, int(call.countdown_end - self.clock.monotonic() + 0.999))
            body = self.wrap(f"{bank.text('ui.countdown')}: {left:2d} с")
        elif call.hold_started is not None:
            body = self.wrap(bank.text("ui.hold_over")) if self.hold_elapsed() >= self.cfg["hold"]["limit_s"] else []
        elif call.silent_since is not None and not view.fullscreen and (
                call.caller_heard or self._silent_for() >= SILENT_REMINDER_S):
            key = "ui.silent_callback" if self._silent_for() >= self.silent_limit else "ui.silent"
            body = self.wrap(bank.text(key))
        elif view.fullscreen or (rows <= 2 and isinstance(view, AppealView)):
            return self._fit(view.lines(self), rows)
        else:
            body = view.lines(self)
        return self._compose(body, rows)

    def _compose(self, body: list[str], rows: int) -> list[str]:
        """Body above the status line; a body one row too long takes the status row, a longer one pages
        by itself every few seconds (nothing the operator must read is ever cut off)."""
        if len(body) <= rows - 1:
            return self._fit(body, rows - 1) + [self.status_line()]
        if len(body) <= rows:
            return self._fit(body, rows)
        per = max(1, rows - 1)
        pages = [body[i:i + per] for i in range(0, len(body), per)]
        now = self.clock.monotonic()
        if self._paged_body != pages:  # a new text starts at its first page
            self._paged_body, self._paged_since = pages, now
        page = pages[int((now - self._paged_since + 1e-6) // AUTO_PAGE_S) % len(pages)]
        return self._fit(page, per) + ([self.status_line()] if rows > 1 else [])

    def status_line(self) -> str:
        """Call time and line state; on hold, the hold timer instead (R18: the operator watches it)."""
        call = self.call
        assert call is not None
        bank = self.bank
        if call.hold_started is not None:
            text = f"{bank.text('ui.hold_on')} {mmss(self.hold_elapsed())}"
        else:
            state = "no_input" if self.audio_lost else call.line
            text = f"{mmss(self.call_time())} {bank.text('ui.line')}: {bank.text(f'ui.line_{state}')}"
        return self.display_line(text)[: self.display.cols]

    def idle_lines(self) -> list[str]:
        bank, clock = self.bank, self.clock
        now = clock.now()
        lines = []
        if not clock.trusted:
            lines += self.wrap(bank.text("ui.clock_untrusted"))
        if self.operator:
            lines += self.wrap(bank.text("script.intro", number=self.operator.number, name="").strip())
            lines += self.wrap(self.operator.name)
        else:
            lines += self.wrap(bank.text("ui.signed_out"))
        stamp = now.strftime("%H:%M %d.%m") if clock.trusted else now.strftime("%H:%M") + "?"
        lines += self.wrap(f"{stamp} {bank.text('ui.queue')}: {self.journal.pending_count()}")
        return lines

    def _fit(self, lines: list[str], n: int, keep_last: bool = False) -> list[str]:
        lines = [line[: self.display.cols] for line in lines]
        if len(lines) > n and keep_last:
            lines = lines[: n - 1] + [lines[-1]]  # the idle screen keeps its clock line
        return (lines + [""] * n)[:n]

    def _schedule_idle_tick(self) -> None:
        """Redraw the idle clock at each minute boundary of the wall clock."""
        now = self.clock.now()
        self.loop.call_later(60.0 - now.second - now.microsecond / 1e6 + 0.01, self._on_idle_tick)

    def _on_idle_tick(self) -> None:
        if self.call is None:
            self.refresh()
        self._schedule_idle_tick()


def mmss(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 60:02d}:{s % 60:02d}"
