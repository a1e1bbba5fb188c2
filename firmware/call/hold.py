"""R17, R18: the caller waits on hold with consent; the HOLD LED shows how long (green, amber, red blinking)."""

from __future__ import annotations

from firmware.call.phase import Phase
from firmware.call.settings import HoldSettings
from firmware.call.state import CallState, Room
from firmware.vocabulary import CallEvent, Colour, Led


class HoldTimer(Room):
    """Starts and ends holds of the host's call and moves the HOLD LED through its stages on the loop."""

    @property
    def settings(self) -> HoldSettings:
        return self.host.settings.hold

    def elapsed(self) -> float:
        call = self.host.call
        if call is None or call.hold_started is None:
            return 0.0
        return self.clock.monotonic() - call.hold_started

    def over_limit(self) -> bool:
        return self.elapsed() >= self.settings.limit_s

    def start(self, call: CallState) -> None:
        self.resume(call, self.clock.monotonic())
        self.host.note(CallEvent.HOLD_START)
        if call.countdown_end is not None:  # on hold nobody tries to reach the caller
            call.countdown_end = None
            self.host.note(CallEvent.COUNTDOWN_CANCELLED, verdict="hold")
        call.silent_since = None
        self.show(call)

    @staticmethod
    def resume(call: CallState, started: float) -> None:
        """The call is on hold since ``started`` (monotonic): a new hold, or one running through a restart."""
        call.enter(Phase.ON_HOLD)
        call.hold_started = started

    def end(self, call: CallState) -> None:
        spell = self.elapsed()
        call.hold_total_s += spell
        call.hold_max_s = max(call.hold_max_s, spell)
        call.enter(Phase.TALKING)
        call.hold_started = None
        self.host.note(CallEvent.HOLD_END, duration_s=round(spell, 1))
        self.leds.set(Led.HOLD, Colour.OFF)

    def show(self, call: CallState) -> None:
        """The HOLD LED now, and its amber (2:30) and red-blinking (3:00) stages still to come."""
        hold = self.settings
        elapsed = self.elapsed()
        colour = (Colour.RED if elapsed >= hold.limit_s else Colour.AMBER if elapsed >= hold.warn_s
                  else Colour.GREEN)
        self.leds.set(Led.HOLD, colour, blink=colour == Colour.RED)
        call_id, started = call.id, call.hold_started
        for stage, at in ((Colour.AMBER, hold.warn_s), (Colour.RED, hold.limit_s)):
            if elapsed < at:
                self.loop.call_later(at - elapsed, lambda s=stage: self._stage(call_id, started, s))

    def _stage(self, call_id: str, started: float | None, colour: Colour) -> None:
        call = self.host.call
        if call is None or call.id != call_id or call.phase is not Phase.ON_HOLD or call.hold_started != started:
            return  # that hold is over
        self.leds.set(Led.HOLD, colour, blink=colour == Colour.RED)
        if colour == Colour.RED:
            self.host.note(CallEvent.HOLD_LIMIT)
        self.host.refresh()
