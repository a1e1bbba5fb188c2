"""The call's side of the appeal form (R9, R11, R22, R24, R25): opening it, feeding it keys with the
time, committing each confirmed field, and saving the appeal into the call before the screen says so."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from firmware.appeal import AppealForm
from firmware.call.state import CallHost, CallState, Scheduler
from firmware.call.views import AppealView, MessageView, View
from firmware.clock import Clock
from firmware.deadline import forward_due
from firmware.phrases import PhraseBank
from firmware.vocabulary import CallEvent, FormAction, Outcome

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
                                          long_ring_s=self.host.settings.appeal.long_ring_s)
        call.appeal_form.open()
        self._views().append(AppealView(call.appeal_form))
        self.host.note(CallEvent.APPEAL_OPENED)

    def press(self, call: CallState, form: AppealForm, key: str) -> bool:
        """A key on the open form; False when it is not the form's (HOLD, say)."""
        form.language = call.language
        form.needs_forward_to = call.outcome == Outcome.OUTSIDE_COMPETENCE
        result = form.press(key, self.clock.monotonic())
        if result.action == FormAction.TYPED:
            self.loop.call_later(MULTITAP_SETTLE_S, lambda: self.tick(form))
        elif result.action == FormAction.CONFIRMED:
            self.host.persist_call()
        elif result.action == FormAction.SAVED:
            assert result.appeal is not None
            self.save(call, result.appeal)
        elif result.action == FormAction.CLOSED:
            self.host.persist_call()
            views = self._views()
            if len(views) > 1:
                views.pop()
        return result.handled

    def tick(self, form: AppealForm) -> None:
        if form.tick(self.clock.monotonic()):
            self.host.refresh()

    def save(self, call: CallState, appeal: dict[str, Any]) -> None:
        """Put the appeal into the call and commit it before the screen says it is saved."""
        if appeal.get("forward_to"):
            cutoff = self.host.settings.appeal.forward_cutoff
            appeal["forward_due"] = forward_due(self.clock.now(), cutoff).isoformat(timespec="minutes")
            if call.outcome == Outcome.ANSWERED:
                call.outcome = Outcome.OUTSIDE_COMPETENCE
        call.appeal = appeal
        self.host.note(CallEvent.APPEAL_SAVED)
        durable = self.host.persist_call()  # durable (SQLite, synchronous=FULL) before the LCD says so
        views = self._views()
        views[:] = [view for view in views if not isinstance(view, AppealView)]
        bank = self._bank()
        if durable:
            views.append(MessageView(bank.text("ui.saved")))
            log.info("appeal saved in call %s", call.id)
        else:  # held in memory and retried: the operator must not be told it is safe
            views.append(MessageView(f"{bank.text('ui.not_saved')}: {self.host.journal_fault_text()}"))
            log.error("appeal in call %s not saved yet: the journal cannot write", call.id)

    def unsaved(self, call: CallState) -> bool:
        """Typed but never saved with APPEAL: the center should know."""
        return call.appeal is None and call.appeal_form is not None and any(call.appeal_form.values.values())

    def finish(self, call: CallState) -> None:
        """At the end of the call: R22's usual ring time for a callback that did not ask for a longer one."""
        if call.outcome == Outcome.CALLBACK and call.appeal is not None and call.appeal.get("callback_ring_s") is None:
            call.appeal["callback_ring_s"] = self.host.settings.appeal.normal_ring_s
