"""The call's side of the appeal form (R9, R11, R22, R24, R25): opening it, feeding it keys with the
time, committing each confirmed field, and saving the appeal into the call before the screen says so."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from firmware.appeal import AppealForm
from firmware.call.phase import Phase
from firmware.call.state import CallHost, CallState, Scheduler
from firmware.call.views import AppealView, ConfirmView, MessageView, View
from firmware.clock import Clock
from firmware.phrases import PhraseBank
from firmware.vocabulary import CallEvent, Deliberate, FormAction, Outcome

log = logging.getLogger(__name__)

#: A little over the multi-tap timeout, so the pending letter is committed on screen without a key.
MULTITAP_SETTLE_S = 1.05


class AppealDesk:
    """Opens, drives and saves the host's call's appeal form; ``views`` is the call's view stack."""

    def __init__(self, host: CallHost, clock: Clock, loop: Scheduler,
                 views: Callable[[], list[View]], bank: Callable[[], PhraseBank]) -> None:
        self.host = host
        self.clock = clock
        self.loop = loop
        self._views = views
        self._bank = bank

    def open(self, call: CallState) -> None:
        """APPEAL: the form at its first field, keeping anything already entered in this call."""
        if call.appeal_form is None:
            call.appeal_form = AppealForm(call.language, self.host.settings.directories,
                                          long_ring_s=self.host.settings.appeal.long_ring_s,
                                          default_country=self.host.settings.appeal.default_country)
        call.appeal_form.language = call.language
        call.appeal_form.open()
        self._views().append(AppealView(call.appeal_form))
        self.host.note(CallEvent.APPEAL_OPENED)

    def show(self, call: CallState) -> None:
        """Put the form (with what was typed) on top of the screen, where it was or at its first field."""
        form = call.appeal_form
        if form is None:
            return
        views = self._views()
        views[:] = [v for v in views if not isinstance(v, AppealView)]
        views.append(AppealView(form))

    def press(self, call: CallState, form: AppealForm, key: str) -> bool:
        """A key on the open form; False when it is not the form's (HOLD, say)."""
        form.language = call.language
        form.needs_forward_to = call.outcome == Outcome.OUTSIDE_COMPETENCE
        result = form.press(key, self.clock.monotonic())
        if result.action == FormAction.TYPED:
            self.loop.call_later(MULTITAP_SETTLE_S, lambda: self.tick(form))
        if result.action == FormAction.SAVED:
            assert result.appeal is not None
            self.save(call, result.appeal)
        elif result.action == FormAction.CLOSED and call.phase is Phase.WRAP_UP:
            # the caller is gone: the form closes only by saving, or by a confirmed discard
            self._views().append(ConfirmView(Deliberate.DISCARD_APPEAL))
        elif result.action == FormAction.CLOSED:
            views = self._views()
            if len(views) > 1:
                views.pop()
        if result.handled and result.action != FormAction.SAVED:
            self.host.persist_call()  # every key that changed the form: a power cut loses at most the next
        return result.handled

    def tick(self, form: AppealForm) -> None:
        if form.tick(self.clock.monotonic()):
            self.host.refresh()

    def save(self, call: CallState, appeal: dict[str, Any]) -> None:
        """Put the appeal into the call and commit it before the screen says it is saved."""
        if appeal.get("forward_to"):
            due = self.host.settings.appeal.forward.due(self.clock.now())
            appeal["forward_due"] = due.isoformat(timespec="minutes")
            if call.outcome == Outcome.ANSWERED:
                call.outcome = Outcome.OUTSIDE_COMPETENCE
        call.appeal = appeal
        self.host.note(CallEvent.APPEAL_SAVED)
        durable = self.host.persist_call()  # durable (SQLite, synchronous=FULL) before the LCD says so
        views = self._views()
        views[:] = [view for view in views if not isinstance(view, AppealView)]
        bank = self._bank()
        if call.phase is Phase.WRAP_UP:
            self.host.finish_call()  # the caller hung up before: now the record is written
        if durable:
            self._views().append(MessageView(bank.text("ui.saved")))
            log.info("appeal saved in call %s", call.id)
        else:  # held in memory and retried: the operator must not be told it is safe
            self._views().append(MessageView(f"{bank.text('ui.not_saved')}: {self.host.journal_fault_text()}"))
            log.error("appeal in call %s not saved yet: the journal cannot write", call.id)

    def discard(self) -> None:
        """The operator confirmed throwing away the appeal typed in a call that has ended."""
        call = self.host.call
        if call is None or call.phase is not Phase.WRAP_UP:
            return
        call.appeal_form = None
        self.host.note(CallEvent.APPEAL_DISCARDED)
        views = self._views()
        views[:] = [view for view in views if not isinstance(view, AppealView)]
        self.host.finish_call()
        self._views().append(MessageView(self._bank().text("ui.appeal_discarded")))

    def unsaved(self, call: CallState) -> bool:
        """Typed but never saved with APPEAL: the form must not disappear."""
        return call.appeal is None and call.appeal_form is not None and call.appeal_form.has_typed()

    def finish(self, call: CallState) -> None:
        """At the end of the call, R22's ring time for a callback: the appeal's answer (the usual ring
        unless the caller needs more time); a callback marked without an appeal is to a caller who
        went silent or could not be heard (R21), so it rings longer."""
        if call.outcome != Outcome.CALLBACK:
            return
        ring = self.host.settings.appeal
        if call.appeal is None:
            call.callback_ring_s = ring.long_ring_s
            return
        if call.appeal.get("callback_ring_s") is None:
            call.appeal["callback_ring_s"] = ring.normal_ring_s
        call.callback_ring_s = call.appeal["callback_ring_s"]
