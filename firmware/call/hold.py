"""R17, R18: the caller waits on hold with consent; the HOLD LED shows how long (green, amber, red blinking)."""

from __future__ import annotations

from firmware.call.settings import HoldSettings
from firmware.call.state import CallHost, CallState, Scheduler
from firmware.clock import Clock
from firmware.leds import Leds
from firmware.vocabulary import Colour, Led


class HoldTimer:
    """Starts and ends holds of the host's call and moves the HOLD LED through its stages on the loop."""

    def __init__(self, host: CallHost, clock: Clock, loop: Scheduler, leds: Leds) -> None:
        self.host = host
        self.clock = clock
        self.loop = loop
        self.leds = leds

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
        call.hold_started = self.clock.monotonic()
        self.host.note("hold_start")
        if call.countdown_end is not None:  # on hold nobody tries to reach the caller
            call.countdown_end = None
            self.host.note("countdown_cancelled", verdict="hold")
        call.silent_since = None
        self.show(call)

    def end(self, call: CallState) -> None:
        spell = self.elapsed()
        call.hold_total_s += spell
        call.hold_max_s = max(call.hold_max_s, spell)
        call.hold_started = None
        self.host.note("hold_end", duration_s=round(spell, 1))
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
        if call is None or call.id != call_id or call.hold_started != started:
            return  # that hold is over
        self.leds.set(Led.HOLD, colour, blink=colour == Colour.RED)
        if colour == Colour.RED:
            self.host.note("hold_limit")
        self.host.refresh()
