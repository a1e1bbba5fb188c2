"""The call's own screens: the opening script (R2-R5) and the resting screen between phrases."""

from __future__ import annotations

from firmware.call.views.base import View
from firmware.call.views.host import ViewHost
from firmware.call.views.phrases import PhraseListView
from firmware.vocabulary import CallEvent, Greeting, Key, Verdict

SCRIPT_STEPS = ("greeting", "address", "help")
#: The record's event for each step of the script, when it is shown.
STEP_SHOWN = (CallEvent.GREETING_SHOWN, CallEvent.ADDRESS_SHOWN, CallEvent.HELP_SHOWN)


class ScriptView(View):
    """The call's opening (R2-R5): greeting and introduction, then how to address, then the offer of help.

    OK goes to the next step; after the last one the call's home screen shows.
    """

    def __init__(self, step: int = 0) -> None:
        self.step = step

    def text(self, host: ViewHost) -> str:
        call, bank, op = host.call, host.bank, host.operator
        assert call is not None
        if self.step == 0:
            intro = bank.text("script.intro", number=op.number if op else "-", name=op.name if op else "")
            text = f"{bank.greeting(call.greeting)}!\n{intro}"
            if call.greeting == Greeting.NEUTRAL:  # R2: never greet wrongly in silence, say why
                text += f"\n{bank.text('ui.clock_untrusted_why')}"
            return text
        return bank.text(f"script.{SCRIPT_STEPS[self.step]}")

    def lines(self, host: ViewHost) -> list[str]:
        return host.screen.wrap(self.text(host))

    def on_key(self, host: ViewHost, key: str) -> bool:
        if key == Key.OK:
            if self.step + 1 < len(SCRIPT_STEPS):
                self.step += 1
                host.note(STEP_SHOWN[self.step])
            else:
                host.replace_view(HomeView())
            return True
        if key == Key.BACK and self.step > 0:
            self.step -= 1
            return True
        if key in (Key.UP, Key.DOWN):
            host.push_view(PhraseListView())
            return True
        return False


class HomeView(View):
    """The call's resting screen: the language and a hint; the status line shows time and line.

    While the caller is hard to follow but heard (LINE amber), the hint gives way to R19's reminder:
    unusual speech, pauses or sounds are not a bad line and not a prank.
    """

    def lines(self, host: ViewHost) -> list[str]:
        call, bank = host.call, host.bank
        hint = bank.text("ui.browse")
        if call is not None and call.line == Verdict.DEGRADED:
            hint = bank.phrase("patience").text
        return host.screen.wrap(f"{bank.text('ui.call')} [{bank.label}]\n{hint}")

    def on_key(self, host: ViewHost, key: str) -> bool:
        if key in (Key.UP, Key.DOWN, Key.OK):
            host.push_view(PhraseListView())
            return True
        return False
