"""What the line analyzer's verdicts do to a call: R16's countdown to reach a caller the operator cannot
hear, R19's patience with a caller who is hard to follow, R21's silent caller and the callback."""

from __future__ import annotations

from firmware.call.settings import LineSettings
from firmware.call.state import CallHost, CallState, Scheduler
from firmware.clock import Clock
from firmware.leds import Leds
from firmware.vocabulary import Led, Outcome, Verdict

#: A caller who has not said a word yet: the operator is still greeting them; remind only after this.
SILENT_REMINDER_S = 8.0


class LineRules:
    """Applies verdicts to the host's call: the LINE LED, ``line_worst``, the countdown and the silence."""

    def __init__(self, host: CallHost, clock: Clock, loop: Scheduler, leds: Leds) -> None:
        self.host = host
        self.clock = clock
        self.loop = loop
        self.leds = leds

    @property
    def settings(self) -> LineSettings:
        return self.host.settings.line

    def apply(self, call: CallState, verdict: Verdict) -> None:
        previous, call.line = call.line, verdict
        self.leds.set(Led.LINE, verdict.colour)
        if call.hold_started is not None:
            return  # the caller is waiting on hold: nobody is trying to talk, so no line rules apply
        if verdict.severity > call.line_worst.severity:
            call.line_worst = verdict
        now = self.clock.monotonic()
        if verdict.heard:
            call.caller_heard = True
            if call.cannot_hear_shown:  # contact is back: a new bad spell gets its own countdown (R16)
                call.cannot_hear_shown = False
                self.host.note("line_recovered", verdict=verdict)
                self.host.persist_call()
        if verdict.cannot_hear:
            if call.countdown_end is None and not call.cannot_hear_shown:
                countdown = self.settings.countdown_s
                call.countdown_end = now + countdown
                self.host.note("countdown_start", verdict=verdict)
                call_id = call.id
                self.loop.call_later(countdown, lambda: self._countdown_over(call_id))
        elif call.countdown_end is not None:
            call.countdown_end = None
            self.host.note("countdown_cancelled", verdict=verdict)
        if verdict == Verdict.SILENT:
            if call.silent_since is None:
                call.silent_since = now
                self.host.note("caller_silent")
                call_id = call.id
                self.loop.call_later(self.settings.silent_callback_s, lambda: self._silent_over(call_id))
        elif call.silent_since is not None:
            call.silent_since = None
            if previous == Verdict.SILENT:
                self.host.note("caller_resumed")

    def silent_for(self, call: CallState) -> float:
        if call.silent_since is None:
            return 0.0
        return self.clock.monotonic() - call.silent_since

    def silence_worth_noting(self, call: CallState) -> bool:
        """A silence the operator should be told about (not a caller who has not spoken yet)."""
        return call.silent_since is not None and (call.caller_heard or self.silent_for(call) >= SILENT_REMINDER_S)

    def callback_due(self, call: CallState) -> bool:
        """R21: the caller has been silent long enough that a callback is the way on."""
        return self.silent_for(call) >= self.settings.silent_callback_s

    def countdown_left(self, call: CallState) -> int:
        """Whole seconds left of R16's countdown, rounded up."""
        assert call.countdown_end is not None
        return max(0, int(call.countdown_end - self.clock.monotonic() + 0.999))

    def settle_outcome(self, call: CallState) -> None:
        """At the end of a call that was just answered, how it ended: on a line the operator could not
        hear («call again» shown, contact not back since), or with a caller gone silent."""
        if call.outcome == Outcome.ANSWERED and call.cannot_hear_shown:
            call.outcome = Outcome.BAD_LINE
        elif call.outcome == Outcome.ANSWERED and call.silent_since is not None and self.callback_due(call):
            call.outcome = Outcome.CALLER_SILENT

    def _countdown_over(self, call_id: str) -> None:
        call = self.host.call
        if call is None or call.id != call_id or call.countdown_end is None:
            return
        if self.clock.monotonic() + 1e-6 < call.countdown_end:
            return
        call.countdown_end = None
        call.cannot_hear_shown = True
        self.host.note("cannot_hear_shown")
        self.host.persist_call()
        self.host.refresh()

    def _silent_over(self, call_id: str) -> None:
        call = self.host.call
        if call is None or call.id != call_id or call.silent_since is None:
            return
        if self.silent_for(call) >= self.settings.silent_callback_s - 1e-6:
            self.host.note("callback_suggested")
            self.host.refresh()
