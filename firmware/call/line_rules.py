"""What the line analyzer's verdicts do to a call: R16's countdown to reach a caller the operator cannot
hear, R19's patience with a caller who is hard to follow, R21's silent caller and the callback."""

from __future__ import annotations

from firmware.call.phase import Phase
from firmware.call.settings import LineSettings
from firmware.call.state import CallState, Room
from firmware.vocabulary import CallEvent, Colour, Led, Outcome, Verdict

#: A caller who has not said a word yet: the operator is still greeting them; remind only after this.
SILENT_REMINDER_S = 8.0


class LineRules(Room):
    """Applies verdicts to the host's call: the LINE LED, ``line_worst``, the countdown and the silence."""

    @property
    def settings(self) -> LineSettings:
        return self.host.settings.line

    def apply(self, call: CallState, verdict: Verdict) -> None:
        previous, call.line = call.line, verdict
        self.leds.set(Led.LINE, verdict.colour)
        if call.phase is Phase.ON_HOLD:
            return  # the caller is waiting on hold: nobody is trying to talk, so no line rules apply
        if verdict.severity > call.line_worst.severity:
            call.line_worst = verdict
        if verdict.heard:
            call.caller_heard = True
            if call.cannot_hear_shown:  # contact is back: a new bad spell gets its own countdown (R16)
                call.cannot_hear_shown = False
                self.host.note(CallEvent.LINE_RECOVERED, verdict=verdict)
                self.host.persist_call()
        left = call.enter(self._phase_for(call, verdict))
        now = self.clock.monotonic()
        if call.phase is Phase.COUNTDOWN and left is not Phase.COUNTDOWN:
            countdown = self.settings.countdown_s
            call.countdown_end = now + countdown
            self.host.note(CallEvent.COUNTDOWN_START, verdict=verdict)
            call_id = call.id
            self.loop.call_later(countdown, lambda: self._countdown_over(call_id))
        elif left is Phase.COUNTDOWN and call.phase is not Phase.COUNTDOWN:
            call.countdown_end = None
            self.host.note(CallEvent.COUNTDOWN_CANCELLED, verdict=verdict)
        if call.phase is Phase.CALLER_SILENT and left is not Phase.CALLER_SILENT:
            call.silent_since = now
            self.host.note(CallEvent.CALLER_SILENT)
            call_id = call.id
            self.loop.call_later(self.settings.silent_callback_s, lambda: self._silent_over(call_id))
        elif left is Phase.CALLER_SILENT and call.phase is not Phase.CALLER_SILENT:
            call.silent_since = None
            if previous == Verdict.SILENT:
                self.host.note(CallEvent.CALLER_RESUMED)

    def input_lost(self, call: CallState) -> None:
        """The unit's own audio input is gone: nothing is known about the caller. LINE blinks amber, and
        a countdown or a silence timer in progress stops (it would run on audio that no longer comes)."""
        self.host.note(CallEvent.AUDIO_INPUT_LOST)
        self.leds.set(Led.LINE, Colour.AMBER, blink=True)
        if call.phase is Phase.ON_HOLD:
            return
        left = call.enter(Phase.TALKING)
        if left is Phase.COUNTDOWN:
            call.countdown_end = None
            self.host.note(CallEvent.COUNTDOWN_CANCELLED, verdict="no_input")
        elif left is Phase.CALLER_SILENT:
            call.silent_since = None

    @staticmethod
    def _phase_for(call: CallState, verdict: Verdict) -> Phase:
        if verdict.cannot_hear:  # R16: a countdown per bad spell; within a spell, the phrase stays
            return Phase.CANNOT_HEAR if call.cannot_hear_shown else Phase.COUNTDOWN
        return Phase.CALLER_SILENT if verdict == Verdict.SILENT else Phase.TALKING

    def silent_for(self, call: CallState) -> float:
        if call.silent_since is None:
            return 0.0
        return self.clock.monotonic() - call.silent_since

    def silence_worth_noting(self, call: CallState) -> bool:
        """A silence the operator should be told about (not a caller who has not spoken yet)."""
        return call.phase is Phase.CALLER_SILENT and (call.caller_heard or self.silent_for(call) >= SILENT_REMINDER_S)

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
        elif call.outcome == Outcome.ANSWERED and call.phase is Phase.CALLER_SILENT and self.callback_due(call):
            call.outcome = Outcome.CALLER_SILENT

    def _countdown_over(self, call_id: str) -> None:
        call = self.host.call
        if call is None or call.id != call_id or call.phase is not Phase.COUNTDOWN:
            return
        assert call.countdown_end is not None
        if self.clock.monotonic() + 1e-6 < call.countdown_end:
            return
        call.enter(Phase.CANNOT_HEAR)
        call.countdown_end = None
        call.cannot_hear_shown = True
        self.host.note(CallEvent.CANNOT_HEAR_SHOWN)
        self.host.persist_call()
        self.host.refresh()

    def _silent_over(self, call_id: str) -> None:
        call = self.host.call
        if call is None or call.id != call_id or call.phase is not Phase.CALLER_SILENT:
            return
        if self.silent_for(call) >= self.settings.silent_callback_s - 1e-6:
            self.host.note(CallEvent.CALLBACK_SUGGESTED)
            self.host.refresh()
