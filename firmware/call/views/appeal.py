"""The appeal form (R9) on the panel; the form itself is :class:`firmware.appeal.AppealForm`."""

from __future__ import annotations

from firmware.appeal import AppealForm
from firmware.call.views.base import View
from firmware.call.views.host import ViewHost


class AppealView(View):
    """The appeal form on the LCD; its keys go to the desk's appeal room (:meth:`ViewHost.press_appeal`).

    Every confirmed field is committed as part of the call's draft, so a crash loses at most the
    field being typed; APPEAL saves the appeal into the call and says «Збережено» after the commit.
    """

    def __init__(self, form: AppealForm) -> None:
        self.form = form

    @property
    def fullscreen(self) -> bool:  # type: ignore[override]
        """A message (what is missing, why a number is wrong) gets the status row too, to be read whole."""
        return bool(self.form.message)

    def lines(self, host: ViewHost) -> list[str]:
        screen = host.screen
        if self.form.message:  # the whole message, however long: the screen pages it
            return screen.wrap(self.form.message)
        rows = screen.rows if screen.rows <= 2 else screen.rows - 1
        return self.form.lines(screen.cols, rows, show=screen.line)

    def on_key(self, host: ViewHost, key: str) -> bool:
        return host.press_appeal(self.form, key)
