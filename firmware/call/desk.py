"""The desk: the operator, the call in progress and its screens, and what the operator's keys ask for.

It is the views' :class:`~firmware.call.views.host.ViewHost` and the rooms' host
(:class:`~firmware.call.state.CallHost`); the rooms themselves (hold, line rules, appeals) do the work.
Runs only on the event loop's thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from firmware.appeal import AppealForm
from firmware.call.appeals import AppealDesk
from firmware.call.draft import CALL_DRAFT, CallDraft, DraftPanel, DraftScreen, build_record
from firmware.call.hold import HoldTimer
from firmware.call.journal_fault import fault_text
from firmware.call.line_rules import LineRules
from firmware.call.operators import PinLockout, check_operator, operator_name
from firmware.call.phase import Phase
from firmware.call.screen import Screen
from firmware.call.settings import CallSettings
from firmware.call.shift import end_shift, keep_shift
from firmware.call.state import CallState, Operator, Scheduler
from firmware.call.views import AppealView, HomeView, MessageView, PhraseView, ScriptView, View
from firmware.clock import Clock
from firmware.journal import Journal
from firmware.leds import Leds
from firmware.phrases import Appendix, Phrase, PhraseBank
from firmware.vocabulary import CallEvent, Deliberate, Language, OperatorCheck, Outcome, Verdict

log = logging.getLogger(__name__)


class Desk:
    """State and actions of the desk; see the module docstring. ``refresh`` redraws the LCD.

    Larger than 25 methods on purpose: it is the one host both the views (``ViewHost``) and the rooms
    (``CallHost``) talk to, and each method is the few lines of one thing they ask of it (push a
    view, sign in, set the outcome, start the hold, open the appeal); the work itself is in the rooms
    (hold, line rules, appeals, operators), so splitting the host would only split its protocol."""

    def __init__(self, settings: CallSettings, clock: Clock, loop: Scheduler, *, cols: int, rows: int,
                 leds: Leds, journal: Journal, banks: Mapping[str, PhraseBank], refresh: Callable[[], None],
                 finish_call: Callable[[], None] = lambda: None) -> None:
        self.settings = settings
        self.clock = clock
        self.leds = leds
        self.journal = journal
        self.banks = banks
        self.refresh = refresh
        self.finish_call = finish_call  # the unit writes an ended call's record (after a wrap-up)
        self.operator: Operator | None = None
        self.call: CallState | None = None
        self.idle_views: list[View] = []
        self.line_verdict: Verdict | None = None
        self.audio_lost = False  # the unit's own audio input delivers nothing (firmware.audio_watch)
        self.screen = Screen(cols, rows, lambda: self.settings.rom, lambda: self.language, clock)
        self.pin_lockout = PinLockout(clock.monotonic)
        self.hold = HoldTimer(self, clock, loop, leds)
        self.line = LineRules(self, clock, loop, leds)
        self.appeals = AppealDesk(self, clock, loop, lambda: self.views, lambda: self.bank)

    def reconfigure(self, settings: CallSettings, banks: Mapping[str, PhraseBank] | None = None) -> None:
        """A validated config pushed by the server or set on the console applies from now on."""
        self.settings = settings
        if banks is not None:
            self.banks = banks

    # ---------------------------------------------------------------- what is going on
    @property
    def language(self) -> Language:
        return self.call.language if self.call else self.settings.language

    @property
    def bank(self) -> PhraseBank:
        return self.banks[self.language]

    @property
    def views(self) -> list[View]:
        return self.call.views if self.call is not None else self.idle_views

    def call_time(self) -> float:
        return self.call.elapsed(self.clock.monotonic()) if self.call else 0.0

    def note(self, kind: str, **extra: Any) -> None:
        """Add an event to the call in progress, if any."""
        if self.call is not None:
            self.call.note(kind, self.clock.monotonic(), **extra)

    def record(self, call: CallState, ended_at: str | None) -> dict[str, Any]:
        return build_record(call, self.settings.unit_id, ended_at)

    def persist_call(self) -> bool:
        """Keep the call in progress as a draft, so a crash or power cut does not lose it; True when
        durable (else the journal holds it in memory and retries)."""
        call = self.call
        if call is None:
            return True
        panel = DraftPanel(
            appeal_form=call.appeal_form.to_dict() if call.appeal_form else None,
            appeal_open=any(isinstance(v, AppealView) for v in call.views),
            hold_elapsed_s=round(self.hold.elapsed(), 2) if call.phase is Phase.ON_HOLD else None,
            call_time_s=round(self.call_time(), 2),
            cannot_hear_shown=call.cannot_hear_shown,
            caller_heard=call.caller_heard,
            started_wall=call.started_wall,
            hung_up_at=call.ended_at,
        )
        base = next((v for v in call.views if isinstance(v, ScriptView | HomeView)), None)
        screen = DraftScreen(script_step=base.step) if isinstance(base, ScriptView) else DraftScreen(home=True)
        return self.journal.put_draft(CALL_DRAFT, CallDraft(self.record(call, None), panel, screen).to_dict())

    def journal_fault_text(self) -> str | None:
        """What is wrong with the journal, in the call's language; None when nothing is."""
        return fault_text(self.journal.fault, self.bank)

    # ---------------------------------------------------------------- the view stack
    def push_view(self, view: View) -> None:
        self.views.append(view)

    def pop_view(self) -> None:
        views = self.views
        if len(views) > 1 or (self.call is None and views):
            views.pop()

    def replace_view(self, view: View) -> None:
        self.views[-1] = view

    # ---------------------------------------------------------------- operators
    def roster(self) -> list[dict[str, Any]]:
        return [dict(op) for op in self.settings.operators]

    def sign_in(self, number: int, name: str, since: datetime | None = None) -> None:
        """Operator ``number`` begins a shift, or goes on after a restart with the one the journal kept
        as begun at ``since`` (already recorded: nothing to write)."""
        self.operator = Operator(number, name)
        if since is None:
            keep_shift(self.journal, number, self.clock.now())
        if self.call is not None and self.call.operator is None:  # signed in as the call began
            self.call.operator = number
        self.idle_views.clear()
        log.info("operator %s signed in", number)
        self.refresh()

    def sign_out(self) -> None:
        if self.operator:
            log.info("operator %s signed out", self.operator.number)
        self.operator = None
        end_shift(self.journal)
        self.idle_views.clear()
        self.refresh()

    def check_operator(self, number: int, pin: str | None) -> OperatorCheck:
        guard = self.pin_lockout
        if guard.locked_for(number):
            return OperatorCheck.LOCKED
        result = check_operator(self.settings.operators, number, pin)
        name = operator_name(self.settings.operators, number)
        if result == OperatorCheck.BAD_PIN:
            return OperatorCheck.LOCKED if guard.failed(number) else result
        if result == OperatorCheck.OK and name is not None:
            guard.succeeded(number)
            self.sign_in(number, name)
        return result

    # ---------------------------------------------------------------- what the keys ask for
    def switch_language(self) -> None:
        """R1: the next language both sides accept, for the rest of this call."""
        call = self.call
        if call is None:
            return
        call.language = call.language.next()
        if call.appeal_form is not None:  # the form's labels follow at once, not at the next key
            call.appeal_form.language = call.language
        self.note(CallEvent.LANGUAGE, language=call.language)
        self.persist_call()

    def carry_out(self, action: Deliberate, outcome: Outcome | None = None) -> None:
        """A deliberate action the operator confirmed: mark (or clear) an outcome, end the call for
        abuse, or discard the appeal typed in a call that has ended."""
        if action == Deliberate.END_FOR_ABUSE:
            self.end_for_abuse()
        elif action == Deliberate.DISCARD_APPEAL:
            self.appeals.discard()
        elif outcome is not None:
            self.set_outcome(outcome)

    def set_outcome(self, outcome: Outcome) -> None:
        """The operator marks what the call came to (R7, R17, R21), or clears the mark (``ANSWERED``)."""
        call = self.call
        if call is None:
            return
        call.outcome = outcome
        self.note(CallEvent.OUTCOME, outcome=outcome)
        self.push_view(MessageView(self.bank.text(f"ui.outcome_{outcome}_set")))
        self.persist_call()

    def show_phrase(self, phrase: Phrase) -> None:
        """The phrase full-screen, noted with what the bank says showing it adds (event, appendix).
        Reading is only reading: a phrase's ``outcome`` or ``ends_call`` is offered as a confirmed entry
        at the end of the phrase list, never taken from OK on the phrase (issue 13)."""
        extra = self.office_text() if phrase.appendix is Appendix.OFFICES else ""
        self.push_view(PhraseView(phrase, extra))
        self.note(CallEvent.PHRASE_SHOWN, phrase=phrase.id)
        if phrase.event:
            self.note(phrase.event)
        self.persist_call()

    def office_text(self) -> str:
        """R24: the accessible offices from the directory, with their ramp / door / lift facts."""
        bank = self.bank
        offices = self.settings.directories.get("offices") or []
        if not offices:
            return bank.text("ui.office_none")
        parts = []
        for office in offices:  # the facts first: they are what the caller asks about (ramp, door, lift)
            facts = " ".join(f"{bank.text(f'ui.{k}')}{'+' if office.get(k) else '-'}"
                             for k in ("ramp", "wide_door", "lift"))
            parts.append(f"{office.get('name', '')}: {facts}. {office.get('address', '')}")
        return "\n".join(parts)

    def end_for_abuse(self) -> None:
        """R15: OK on a phrase that ends the call (such language is inadmissible); recorded as abuse."""
        call = self.call
        if call is None:
            return
        call.outcome = Outcome.ABUSE
        self.note(CallEvent.ABUSE_ENDED)
        self.views[:] = [MessageView(self.bank.text("ui.abuse_ended"))]
        if self.appeals.unsaved(call):  # what was typed stays reachable (APPEAL)
            self.appeals.show(call)
        self.persist_call()

    @property
    def call_over(self) -> bool:
        """The call ended for abuse or the handset is down: no hold, no new appeal."""
        call = self.call
        return call is not None and (call.outcome == Outcome.ABUSE or call.phase is Phase.WRAP_UP)

    def start_hold(self) -> None:
        call = self.call
        if call is None or call.phase is Phase.ON_HOLD or self.call_over:
            return
        self.hold.start(call)
        self.persist_call()

    def end_hold(self) -> None:
        call = self.call
        if call is None or call.phase is not Phase.ON_HOLD:
            return
        self.hold.end(call)
        if self.line_verdict is not None:
            self.line.apply(call, self.line_verdict)  # back to the caller: the line rules apply again
        self.persist_call()

    def open_appeal(self) -> None:
        call = self.call
        if call is None:
            return
        if self.call_over and not self.appeals.unsaved(call):
            return  # a call ended for abuse takes no new appeal; one already typed stays reachable
        self.appeals.open(call)

    def press_appeal(self, form: AppealForm, key: str) -> bool:
        assert self.call is not None
        return self.appeals.press(self.call, form, key)
