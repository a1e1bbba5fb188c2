"""Short screens that ask or tell one thing: a message, R17's hold consent, and the confirmation every
deliberate action (ending for abuse, marking an outcome, discarding an appeal) asks for."""

from __future__ import annotations

from firmware.call.views.base import PagedView, View
from firmware.call.views.host import ViewHost
from firmware.phrases import HOLD_CONSENT
from firmware.vocabulary import Deliberate, Key, Outcome


class MessageView(PagedView):
    """A short message (e.g. what to do now) that OK or BACK dismisses."""

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def text(self, host: ViewHost) -> str:
        return self.message

    def on_key(self, host: ViewHost, key: str) -> bool:
        return self.turn_or_close(host, key)


class QuestionView(View):
    """A yes/no question with «OK - так, BACK - ні» always on the last row (its :meth:`footer`); a question
    longer than the rows above it pages by itself. Other keys wait for the answer."""

    def text(self, host: ViewHost) -> str:
        raise NotImplementedError

    def lines(self, host: ViewHost) -> list[str]:
        return host.screen.wrap(self.text(host))

    def footer(self, host: ViewHost) -> tuple[str, ...] | None:
        return host.bank.text("ui.yes_no"), host.bank.text("ui.yes_no_short")

    def yes(self, host: ViewHost) -> None:
        raise NotImplementedError

    def on_key(self, host: ViewHost, key: str) -> bool:
        if key == Key.OK:
            host.pop_view()
            self.yes(host)
        elif key == Key.BACK:
            host.pop_view()
        return True  # nothing else happens until the operator answers


class HoldConfirmView(QuestionView):
    """R17: ask the caller's consent to wait; OK (consent given) starts the hold timer, BACK cancels."""

    def text(self, host: ViewHost) -> str:
        bank = host.bank  # what to ask the caller, then the question for the operator
        return f"{bank.phrase(HOLD_CONSENT).text}\n{bank.text('ui.hold_question')}"

    def yes(self, host: ViewHost) -> None:
        host.start_hold()

    def on_key(self, host: ViewHost, key: str) -> bool:
        if key == Key.HOLD:  # HOLD again: the operator changed their mind
            host.pop_view()
            return True
        return super().on_key(host, key)


class ConfirmView(QuestionView):
    """A deliberate action, carried out only on OK: see :class:`~firmware.vocabulary.Deliberate`."""

    def __init__(self, action: Deliberate, outcome: Outcome | None = None) -> None:
        self.action = action
        self.outcome = outcome

    def text(self, host: ViewHost) -> str:
        bank = host.bank
        if self.action == Deliberate.END_FOR_ABUSE:
            return bank.text("ui.confirm_abuse")
        if self.action == Deliberate.DISCARD_APPEAL:
            return bank.text("ui.confirm_discard")
        assert self.outcome is not None
        call = host.call
        if self.outcome == Outcome.ANSWERED and call is not None:
            return bank.text("ui.confirm_unset", what=bank.text(f"ui.outcome_{call.outcome}"))
        return bank.text("ui.confirm_outcome", what=bank.text(f"ui.outcome_{self.outcome}"))

    def yes(self, host: ViewHost) -> None:
        host.carry_out(self.action, self.outcome)
