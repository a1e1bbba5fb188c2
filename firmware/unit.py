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

from firmware.clock import Clock
from firmware.events import Event, HookChanged, KeyDown, KeyUp, LineVerdict
from firmware.greeting import Boundaries, greeting_for
from firmware.journal import Journal
from firmware.leds import Leds
from firmware.phrases import PhraseBank, load_all
from firmware.text_layout import wrap

log = logging.getLogger(__name__)

CANNOT_HEAR = ("unintelligible", "no_signal")
LINE_COLOUR = {"good": "green", "degraded": "amber", "unintelligible": "red", "no_signal": "red", "silent": "blue"}
LINE_SEVERITY = ("good", "silent", "degraded", "unintelligible", "no_signal")


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
    views: list[View] = field(default_factory=list)


class View:
    """A screen of the call (or of the idle unit): what it shows and what its keys do."""

    fullscreen = False  # True: uses every row (no status line)

    def lines(self, unit: Unit) -> list[str]:
        raise NotImplementedError

    def on_key(self, unit: Unit, key: str) -> bool:
        return False


class ScriptView(View):
    """The call's opening: greeting and introduction (R2, R3), address (R4), offer of help (R5)."""

    def __init__(self) -> None:
        self.step = 0

    def steps(self, unit: Unit) -> list[str]:
        call, bank, op = unit.call, unit.bank, unit.operator
        assert call is not None
        intro = bank.text("script.intro", number=op.number if op else "—", name=op.name if op else "")
        return [f"{bank.greeting(call.greeting)}!\n{intro}", bank.text("script.address"), bank.text("script.help")]

    def lines(self, unit: Unit) -> list[str]:
        text = self.steps(unit)[self.step]
        return [line for part in text.split("\n") for line in wrap(part, unit.display.cols)]

    def on_key(self, unit: Unit, key: str) -> bool:
        if key == "OK":
            if self.step + 1 < len(self.steps(unit)):
                self.step += 1
                unit.note(f"script_{['greeting', 'address', 'help'][self.step]}")
            else:
                unit.replace_view(HomeView())
            return True
        if key == "BACK" and self.step > 0:
            self.step -= 1
            return True
        return False


class HomeView(View):
    """The call's resting screen: a hint to browse phrases; the status line shows time and line."""

    def lines(self, unit: Unit) -> list[str]:
        return wrap(unit.bank.text("ui.call"), unit.display.cols)


class HoldConfirmView(View):
    """R17: the caller must agree to wait before the hold timer starts."""

    def lines(self, unit: Unit) -> list[str]:
        return wrap(unit.bank.text("ui.hold_confirm"), unit.display.cols)

    def on_key(self, unit: Unit, key: str) -> bool:
        if key == "OK":
            unit.pop_view()
            unit.start_hold()
            return True
        if key in ("BACK", "HOLD"):
            unit.pop_view()
            return True
        return False


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
        self.bounds = Boundaries.from_config(cfg["greeting"])
        self.on_record = on_record
        self.on_call = on_call
        self.operator: Operator | None = None
        self.call: CallState | None = None
        self.off_hook = False
        self.line_verdict: str | None = None
        self._tick = None
        self._idle_tick = None
        self.refresh()
        self._schedule_idle_tick()

    # ---------------------------------------------------------------- helpers
    @property
    def language(self) -> str:
        return self.call.language if self.call else self.cfg["unit"]["language"]

    @property
    def bank(self) -> PhraseBank:
        return self.banks[self.language]

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
        else:
            log.warning("unhandled event %r", event)
        self.refresh()

    def sign_in(self, number: int, name: str) -> None:
        self.operator = Operator(number, name)
        log.info("operator %s signed in", number)
        self.refresh()

    def sign_out(self) -> None:
        self.operator = None
        self.refresh()

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
        greeting = greeting_for(now.time(), self.bounds, self.clock.trusted)
        self.call = CallState(
            id=str(uuid.uuid4()),
            started_mono=self.clock.monotonic(),
            started_at=now.isoformat(timespec="seconds"),
            language=self.cfg["unit"]["language"],
            greeting=greeting,
        )
        self.call.views.append(ScriptView())
        self.note("greeting_shown", greeting=greeting)
        if self.line_verdict:
            self.on_line(self.line_verdict)
        else:
            self.leds.set("line", "green")
        self._tick = self.loop.call_every(1.0, self.refresh)
        self.persist_call()
        if self.on_call:
            self.on_call(True)

    def end_call(self) -> None:
        call = self.call
        if call is None:
            return
        if call.hold_started is not None:
            self.end_hold()
        if self._tick:
            self._tick.cancel()
            self._tick = None
        if call.outcome == "answered" and call.cannot_hear_shown:
            call.outcome = "bad_line"
        elif call.outcome == "answered" and call.silent_since is not None and self._silent_for() >= self.silent_limit:
            call.outcome = "caller_silent"
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
            "operator": self.operator.number if self.operator else None,
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
        """Keep the call in progress as a draft, so a crash or power cut does not lose it."""
        if self.call is not None:
            draft = self.build_record(self.call)
            draft["ended_at"] = None
            self.journal.put_draft("call", draft)

    # ---------------------------------------------------------------- keys and views
    def on_key(self, key: str) -> None:
        call = self.call
        if call is None:
            return
        if key == "HOLD" and call.hold_started is not None:
            self.end_hold()
            return
        if call.views and call.views[-1].on_key(self, key):
            return
        if key == "HOLD":
            self.push_view(HoldConfirmView())

    def push_view(self, view: View) -> None:
        if self.call is not None:
            self.call.views.append(view)

    def pop_view(self) -> None:
        if self.call is not None and len(self.call.views) > 1:
            self.call.views.pop()

    def replace_view(self, view: View) -> None:
        if self.call is not None:
            self.call.views[-1] = view

    # ---------------------------------------------------------------- hold (R17, R18)
    def start_hold(self) -> None:
        call = self.call
        if call is None or call.hold_started is not None:
            return
        call.hold_started = self.clock.monotonic()
        self.note("hold_start")
        self.leds.set("hold", "green")
        hold = self.cfg["hold"]
        call_id, started = call.id, call.hold_started
        self.loop.call_later(hold["warn_s"], lambda: self._hold_stage(call_id, started, "amber"))
        self.loop.call_later(hold["limit_s"], lambda: self._hold_stage(call_id, started, "red"))
        self.persist_call()

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
        return 0.0 if call is None or call.hold_started is None else self.clock.monotonic() - call.hold_started

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
        self.persist_call()

    # ---------------------------------------------------------------- the line (R16, R19, R21)
    @property
    def silent_limit(self) -> float:
        return float(self.cfg["line"]["silent_callback_s"])

    def _silent_for(self) -> float:
        call = self.call
        return 0.0 if call is None or call.silent_since is None else self.clock.monotonic() - call.silent_since

    def on_line(self, verdict: str) -> None:
        self.line_verdict = verdict
        call = self.call
        if call is None:
            return
        previous, call.line = call.line, verdict
        if LINE_SEVERITY.index(verdict) > LINE_SEVERITY.index(call.line_worst):
            call.line_worst = verdict
        self.leds.set("line", LINE_COLOUR[verdict])
        now = self.clock.monotonic()
        if verdict in CANNOT_HEAR:
            if call.countdown_end is None and not call.cannot_hear_shown:
                call.countdown_end = now + float(self.cfg["line"]["countdown_s"])
                self.note("countdown_start", verdict=verdict)
                call_id = call.id
                self.loop.call_later(self.cfg["line"]["countdown_s"], lambda: self._countdown_over(call_id))
        elif call.countdown_end is not None:
            call.countdown_end = None
            self.note("countdown_cancelled", verdict=verdict)
        if verdict in ("good", "degraded"):
            call.caller_heard = True
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
        if call is not None and call.id == call_id and call.silent_since is not None and self._silent_for() >= self.silent_limit - 1e-6:
            self.note("callback_suggested")
            self.refresh()

    # ---------------------------------------------------------------- rendering
    def refresh(self) -> None:
        self.display.show(self.render())

    def render(self) -> list[str]:
        rows, cols = self.display.rows, self.display.cols
        if self.call is None:
            return self._fit(self.idle_lines(), rows)
        call = self.call
        bank = self.bank
        body: list[str]
        if call.cannot_hear_shown and call.line in CANNOT_HEAR:
            return self._fit(wrap(bank.text("script.cannot_hear"), cols), rows)
        if call.countdown_end is not None:
            left = max(0, int(call.countdown_end - self.clock.monotonic() + 0.999))
            body = wrap(f"{bank.text('ui.countdown')}: {left} с", cols)
        elif call.hold_started is not None:
            body = [f"{bank.text('ui.hold_on')} {mmss(self.hold_elapsed())}"]
            if self.hold_elapsed() >= self.cfg["hold"]["limit_s"]:
                body += wrap(bank.text("ui.hold_over"), cols)
        elif call.silent_since is not None and call.caller_heard:
            key = "ui.silent_callback" if self._silent_for() >= self.silent_limit else "ui.silent"
            body = wrap(bank.text(key), cols)
        else:
            view = call.views[-1]
            if view.fullscreen:
                return self._fit(view.lines(self), rows)
            body = view.lines(self)
        return self._fit(body, rows - 1) + [self.status_line()]

    def status_line(self) -> str:
        call = self.call
        assert call is not None
        bank = self.bank
        verdict = bank.text(f"ui.line_{call.line}")
        return f"{mmss(self.call_time())} {bank.text('ui.line')}: {verdict}"[: self.display.cols]

    def idle_lines(self) -> list[str]:
        bank, clock = self.bank, self.clock
        now = clock.now()
        lines = []
        if self.operator:
            lines.append(bank.text("script.intro", number=self.operator.number, name="").strip())
            lines.append(self.operator.name)
        else:
            lines += wrap(bank.text("ui.signed_out"), self.display.cols)
        stamp = now.strftime("%H:%M %d.%m")
        if not clock.trusted:
            lines.insert(0, bank.text("ui.clock_untrusted"))
            stamp = now.strftime("%H:%M") + "?"
        lines.append(f"{stamp} {bank.text('ui.queue')}: {self.journal.pending_count()}")
        return lines

    def _fit(self, lines: list[str], n: int) -> list[str]:
        lines = [line[: self.display.cols] for line in lines]
        if len(lines) > n and self.call is None:
            lines = lines[: n - 1] + [lines[-1]]  # the idle screen keeps its clock line
        return (lines + [""] * n)[:n]

    def _schedule_idle_tick(self) -> None:
        """Redraw the idle clock at each minute boundary of the wall clock."""
        seconds = self.clock.now().second + self.clock.now().microsecond / 1e6
        self._idle_tick = self.loop.call_later(60.0 - seconds + 0.01, self._on_idle_tick)

    def _on_idle_tick(self) -> None:
        if self.call is None:
            self.refresh()
        self._schedule_idle_tick()


def mmss(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 60:02d}:{s % 60:02d}"
