"""The simulator's real-time clock, which a person at the browser panel can set and speed up.

``deskunit run --sim`` runs on the machine's clocks, like the unit on a Pi, but trying the greeting
of the evening at noon, or a three-minute hold, should not need waiting for them: the panel's clock
control sets the wall time (trusted, source ``panel``) and a rate (1x real time up to
:data:`MAX_RATE`). Monotonic and wall time both run at the rate, continuously across a change.

    >>> clock = SimClock()
    >>> clock.set_wall(datetime(2026, 11, 23, 18, 5, tzinfo=KYIV), ClockSource.PANEL)
    >>> clock.set_rate(10.0)           # ten seconds of unit time per real second
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, tzinfo

from firmware.clock import KYIV, RealClock
from firmware.vocabulary import ClockSource

RATES = (1.0, 2.0, 5.0, 10.0)
MAX_RATE = RATES[-1]


class SimClock(RealClock):
    """:class:`RealClock` with a settable wall time and a rate; trusted once anyone sets it."""

    def __init__(self, tz: tzinfo = KYIV) -> None:
        super().__init__(tz)
        self._lock = threading.Lock()
        self._rate = 1.0
        self._real0 = time.monotonic()
        self._mono0 = self._real0
        self._wall_minus_mono = time.time() - self._mono0

    @property
    def rate(self) -> float:
        return self._rate

    def monotonic(self) -> float:
        with self._lock:
            return self._mono0 + (time.monotonic() - self._real0) * self._rate

    def real_seconds(self, seconds: float) -> float:
        return seconds / self._rate

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.monotonic() + self._wall_minus_mono, self.tz)

    def set_wall(self, when: datetime, source: ClockSource | str) -> None:
        self._wall_minus_mono = when.timestamp() - self.monotonic()
        self._source = ClockSource(source)

    def set_rate(self, rate: float) -> None:
        """Run at ``rate`` times real time from now on (1 to :data:`MAX_RATE`); time never jumps."""
        if not 1.0 <= rate <= MAX_RATE:
            raise ValueError(f"rate must be between 1 and {MAX_RATE:g} (got {rate:g})")
        with self._lock:
            real = time.monotonic()
            self._mono0 += (real - self._real0) * self._rate
            self._real0, self._rate = real, rate
