"""The unit's core: turns events into screens, LEDs and records; a call's lifecycle from hook to record.

It runs only on the event loop's thread. Inputs arrive as :mod:`firmware.events`; outputs go to a
text display (rows of text), the LEDs (:class:`firmware.leds.Leds`) and the journal. Everything
time-related reads the injected clock, so the simulator can run an hour of calls in a second. The
state and the operator's actions live in :class:`firmware.call.desk.Desk`.

    >>> unit = Unit(cfg, clock, loop, display=screen, leds=leds, journal=journal)
    >>> unit.sign_in(7, "Олена Петренко")
    >>> loop.post(HookChanged(off_hook=True))     # the screen now greets the caller
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from firmware.call.desk import Desk
from firmware.call.journal_fault import show_on_led
from firmware.call.phase import Phase
from firmware.call.render import render
from firmware.call.screen import AUTO_PAGE_S
from firmware.call.settings import CallSettings
from firmware.call.state import CallState, Operator, Scheduler
from firmware.call.views import HoldConfirmView, ScriptView, SignInView, SignOutView, View
from firmware.clock import Clock
from firmware.config import merge
from firmware.display import TextDisplay
from firmware.events import AudioInput, Event, HookChanged, KeyDown, KeyUp, LineVerdict
from firmware.greeting import greeting_for
from firmware.journal import Journal, JournalFault
from firmware.leds import Leds
from firmware.phrases import PhraseBank, load_all
from firmware.vocabulary import CallEvent, Colour, Key, Language, Led, Verdict

log = logging.getLogger(__name__)

PURGE_PERIOD_S = 3600.0
#: How often a journal that cannot write is retried (and its fault looked at).
JOURNAL_CHECK_S = 5.0


class Unit:
    """Event dispatch and the call's lifecycle; see the module docstring.

    Larger than 25 methods on purpose: it is the unit's public face (the app, the console backend,
    the simulator and the tests call it) and the one dispatcher of every event kind, each a short
    method that hands over to the desk or a room; the state lives in :class:`Desk`."""

    def __init__(
        self,
        cfg: dict[str, Any],
        clock: Clock,
        loop: Scheduler,
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
        self.on_record = on_record
        self.on_call = on_call
        self.desk = Desk(CallSettings.from_config(cfg), clock, loop, cols=display.cols, rows=display.rows,
                         leds=leds, journal=journal, banks=phrases or load_all(cfg.get("phrases")),
                         refresh=self.refresh, finish_call=self.finish_call)
        self._tick = None
        self._page_turn = None
        self.off_hook = False  # the hook as last reported (HookChanged; recovery reads the panel)
        self._journal_fault = JournalFault.NONE
        self.show_journal_fault()
        self.refresh()
        self._schedule_idle_tick()
        self.loop.call_every(PURGE_PERIOD_S, self.purge_personal_data)
        self.loop.call_every(JOURNAL_CHECK_S, self.check_journal)

    # ---------------------------------------------------------------- what others read
    @property
    def call(self) -> CallState | None:
        return self.desk.call

    @property
    def operator(self) -> Operator | None:
        return self.desk.operator

    @property
    def views(self) -> list[View]:
        return self.desk.views

    @property
    def language(self) -> Language:
        return self.desk.language

    @property
    def line_verdict(self) -> Verdict | None:
        return self.desk.line_verdict

    def call_time(self) -> float:
        return self.desk.call_time()

    def hold_elapsed(self) -> float:
        return self.desk.hold.elapsed()

    def roster(self) -> list[dict[str, Any]]:
        return self.desk.roster()

    def sign_in(self, number: int, name: str, since: datetime | None = None) -> None:
        self.desk.sign_in(number, name, since)

    # ---------------------------------------------------------------- events
    def handle(self, event: Event) -> None:
        if isinstance(event, KeyDown):
            self.on_key(event.key)
        elif isinstance(event, KeyUp):
            pass
        elif isinstance(event, HookChanged):
            self.on_hook(event.off_hook)
        elif isinstance(event, LineVerdict):
            self.on_line(Verdict(event.verdict))
        elif isinstance(event, AudioInput):
            self.on_audio_input(event.present)
        else:
            log.warning("unhandled event %s", type(event).__name__)
        self.show_journal_fault()
        self.refresh()

    def refresh(self) -> None:
        self.display.show(render(self.desk))
        if self.desk.call is None and self.desk.screen.paging and self._page_turn is None:
            self._page_turn = self.loop.call_later(AUTO_PAGE_S, self._turn_idle_page)

    def _turn_idle_page(self) -> None:
        self._page_turn = None
        if self.desk.call is None:
            self.refresh()

    def purge_personal_data(self) -> None:
        """Retention, on the journal's own thread: personal data of appeals the server confirmed
        ``appeal.retention_days`` ago is blanked; confirmed records older than ``journal.keep_days`` go."""
        settings = self.desk.settings
        self.journal.upkeep.request_retention(self.clock.now(), settings.appeal.retention_days,
                                              settings.journal_keep_days)

    def check_journal(self) -> None:
        """Timer: writes the journal holds in memory are retried off the loop; its fault shown."""
        if not self.journal.fault.durable:
            self.journal.upkeep.request_retry()
        if self.show_journal_fault():
            self.refresh()

    def show_journal_fault(self) -> bool:
        """The journal's fault on the SYNC LED; True when it changed (the LCD then needs redrawing)."""
        fault = self.journal.fault
        if fault is self._journal_fault:
            return False
        self._journal_fault = fault
        show_on_led(fault, self.leds)
        return True

    def apply_config(self, doc: dict[str, Any]) -> None:
        """A validated config pushed by the central server (roster, directories, phrases) or set on the
        console; loop thread. The typed settings are built again from the merged config."""
        self.cfg = merge(self.cfg, doc)
        self.desk.reconfigure(CallSettings.from_config(self.cfg),
                              load_all(self.cfg.get("phrases")) if "phrases" in doc else None)
        self.refresh()

    # ---------------------------------------------------------------- hook: the call's lifecycle
    def on_hook(self, off_hook: bool) -> None:
        self.off_hook = off_hook
        call = self.desk.call
        if call is not None and call.phase is Phase.WRAP_UP:
            return  # the appeal form stays until saved or discarded; a call picked up meanwhile starts then
        if off_hook == (call is not None):
            return
        if off_hook:
            self.start_call()
        else:
            self.end_call()

    def start_call(self) -> None:
        desk, settings = self.desk, self.desk.settings
        now = self.clock.now()
        greeting = greeting_for(now.time(), settings.greeting, self.clock.trusted)
        desk.call = CallState(
            id=str(uuid.uuid4()),
            started_mono=self.clock.monotonic(),
            started_at=now.isoformat(timespec="seconds"),
            started_wall=now.isoformat(),
            language=settings.language,
            greeting=greeting,
            operator=desk.operator.number if desk.operator else None,
        )
        desk.call.views.append(ScriptView())
        if desk.operator is None:  # R3 needs a number and a name: sign in first, on top of the call
            desk.call.views.append(SignInView())
        desk.note(CallEvent.GREETING_SHOWN, greeting=greeting)
        if not self.clock.trusted:
            desk.note(CallEvent.CLOCK_UNTRUSTED)
        self.leds.set(Led.LINE, Colour.GREEN)
        self._tick = self.loop.call_every(1.0, self._call_tick)
        desk.persist_call()
        if self.on_call:
            self.on_call(True)

    def adopt_call(self, call: CallState, off_hook: bool) -> None:
        """A call restored after a restart (:mod:`firmware.call.recovery`): with the handset still
        off-hook, back into it (ticks, LEDs, hold stages); on-hook, it ended while the unit was down and
        is saved now, unless an appeal was being typed: then, as at any hang-up, the form stays open
        (wrap-up). A call already in its wrap-up at the cut goes on there whatever the hook."""
        desk = self.desk
        assert desk.call is None
        desk.call = call
        self.off_hook = off_hook
        if not off_hook and call.phase is not Phase.WRAP_UP:
            self.end_call()  # closes the hold, settles the outcome; saves, or keeps the typed form open
            if desk.call is None:
                self.refresh()
                return
        self._tick = self.loop.call_every(1.0, self._call_tick)
        if call.phase is not Phase.WRAP_UP:
            self.leds.set(Led.LINE, call.line.colour)
            if call.phase is Phase.ON_HOLD:
                desk.hold.show(call)
            if self.on_call:
                self.on_call(True)
        desk.persist_call()
        self.refresh()

    def end_call(self, ended_at: str | None = None) -> None:
        """The handset went down. The call is saved now, unless its appeal form holds typed data: then
        the form stays on screen (wrap-up) and the record waits until the form is saved or discarded."""
        desk = self.desk
        call = desk.call
        if call is None or call.phase is Phase.WRAP_UP:
            return
        if call.phase is Phase.ON_HOLD:
            desk.end_hold()
        call.ended_at = ended_at or self.clock.now().isoformat(timespec="seconds")
        desk.line.settle_outcome(call)  # how the call ended, read before the line state is let go
        desk.note(CallEvent.CALL_END)
        call.countdown_end = None
        call.silent_since = None
        desk.line_verdict = None
        self.leds.set(Led.LINE, Colour.OFF)
        self.leds.set(Led.HOLD, Colour.OFF)
        if self.on_call:
            self.on_call(False)
        if desk.appeals.unsaved(call):
            call.enter(Phase.WRAP_UP)
            desk.note(CallEvent.APPEAL_PENDING)
            desk.appeals.show(call)
            desk.persist_call()
            log.info("call %s ended with an appeal being typed: the form stays open", call.id)
            return
        self.finish_call()

    def finish_call(self) -> None:
        """Write the ended call's record and clear the draft (one transaction); then, if the handset
        was picked up again while an appeal was finished, the new call starts."""
        desk = self.desk
        call = desk.call
        if call is None or call.ended_at is None:
            return
        if self._tick:
            self._tick.cancel()
            self._tick = None
        desk.appeals.finish(call)
        record = desk.record(call, call.ended_at)
        self.journal.save_and_clear_draft(record, "call", saved_at=self.clock.now())
        log.info("call %s saved: outcome=%s", record["id"], record["outcome"])
        desk.call = None
        if self.on_record:
            self.on_record(record)
        if self.off_hook:
            self.start_call()

    # ---------------------------------------------------------------- keys and the line
    def on_key(self, key: str) -> None:
        desk = self.desk
        call = desk.call
        if call is None:
            self.on_idle_key(key)
            return
        if call.phase is Phase.WRAP_UP:
            if call.views and call.views[-1].on_key(desk, key):
                return
            if key == Key.APPEAL:
                desk.open_appeal()
            return  # the caller is gone: no hold, no language switch
        if key == Key.HOLD and call.phase is Phase.ON_HOLD:
            desk.end_hold()
            return
        if call.views and call.views[-1].on_key(desk, key):
            return
        if key == Key.HOLD:
            if not desk.call_over:
                desk.push_view(HoldConfirmView())
        elif key == Key.APPEAL:
            desk.open_appeal()
        elif key == Key.HASH:
            desk.switch_language()

    def on_idle_key(self, key: str) -> None:
        desk = self.desk
        views = desk.idle_views
        if views and views[-1].on_key(desk, key):
            return
        if desk.operator is None:
            views[:] = [SignInView()]
            views[-1].on_key(desk, key)
        elif key == Key.BACK:
            views.append(SignOutView())

    @property
    def audio_lost(self) -> bool:
        return self.desk.audio_lost

    def on_audio_input(self, present: bool) -> None:
        """The unit's audio input is gone (see :meth:`LineRules.input_lost`) or back: then the next
        verdict, from fresh audio, decides."""
        desk = self.desk
        desk.audio_lost = not present
        if desk.call is None:
            return
        if present:
            desk.note(CallEvent.AUDIO_INPUT_BACK)
            return
        desk.line_verdict = None
        desk.line.input_lost(desk.call)

    def on_line(self, verdict: Verdict) -> None:
        call = self.desk.call
        if call is not None and call.phase is Phase.WRAP_UP:
            return
        self.desk.line_verdict = verdict
        if call is not None:
            self.desk.line.apply(call, verdict)

    def _call_tick(self) -> None:
        call = self.desk.call
        if call is not None and call.appeal_form is not None:
            call.appeal_form.tick(self.clock.monotonic())
        self.refresh()

    def _schedule_idle_tick(self) -> None:
        """Redraw the idle clock at each minute boundary of the wall clock."""
        now = self.clock.now()
        self.loop.call_later(60.0 - now.second - now.microsecond / 1e6 + 0.01, self._on_idle_tick)

    def _on_idle_tick(self) -> None:
        if self.desk.call is None:
            self.refresh()
        self._schedule_idle_tick()
