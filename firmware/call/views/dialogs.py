"""Short screens that ask or tell one thing: a message, and R17's hold consent."""

from __future__ import annotations

from firmware.call.views.base import PagedView, View
from firmware.call.views.host import ViewHost
from firmware.vocabulary import Key


class MessageView(PagedView):
    """A short message (e.g. what to do now) that any key except HOLD/APPEAL dismisses."""

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def text(self, host: ViewHost) -> str:
        return self.message

    def on_key(self, host: ViewHost, key: str) -> bool:
        if self.turn(host, key):
            return True
        if key in (Key.OK, Key.BACK):
            host.pop_view()
            return True
        return False


class HoldConfirmView(View):
    """R17: ask the caller's consent to wait; OK (consent given) starts the hold timer, BACK cancels."""

    fullscreen = True

    def lines(self, host: ViewHost) -> list[str]:
        bank = host.bank
        return host.screen.wrap(f"{bank.phrase('hold_consent').text}\n{bank.text('ui.hold_confirm')}")

    def on_key(self, host: ViewHost, key: str) -> bool:
        if key == Key.OK:
            host.pop_view()
            host.start_hold()
            return True
        if key in (Key.BACK, Key.HOLD):
            host.pop_view()
            return True
        return True  # nothing else happens until the operator answers
