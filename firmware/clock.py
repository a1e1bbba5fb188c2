"""The unit's one clock: monotonic time for timers, wall time for people, and whether to trust it.

A Raspberry Pi has no real-time clock: after a power cut its wall clock starts from whatever
fake-hwclock saved, until NTP or the central server sets it. Logic therefore asks the clock both
*what time it is* and *whether that can be believed* (R2: never greet wrongly in silence).

Two implementations share one interface:

    >>> clock = VirtualClock(wall_start=datetime(2026, 11, 23, 9, 15, tzinfo=KYIV))
    >>> clock.advance(180.0)            # a three-minute hold runs in no time
    >>> clock.now().strftime("%H:%M")
    '09:18'

:class:`RealClock` reads the operating system; :class:`VirtualClock` only moves when told to.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from firmware.vocabulary import ClockSource

KYIV = ZoneInfo("Europe/Kyiv")

#: Wall clock an untrusted virtual clock starts from: what a Pi without RTC or network may show.
UNTRUSTED_EPOCH = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)


@dataclass(frozen=True)
class ClockStatus:
    """What the clock says about itself: the time, whether it is trusted, and who set it."""

    now: datetime
    trusted: bool
    source: ClockSource


class Clock:
    """Interface: monotonic seconds for timers, an aware wall-clock datetime, and its trust."""

    tz: tzinfo = KYIV

    def monotonic(self) -> float:
        raise NotImplementedError

    def now(self) -> datetime:
        raise NotImplementedError

    @property
    def trusted(self) -> bool:
        raise NotImplementedError

    @property
    def source(self) -> ClockSource:
        raise NotImplementedError

    def set_wall(self, when: datetime, source: ClockSource | str) -> None:
        """Set the wall clock from a trusted source (the central server, a technician)."""
        raise NotImplementedError

    def status(self) -> ClockStatus:
        return ClockStatus(self.now(), self.trusted, self.source)

    def real_seconds(self, seconds: float) -> float:
        """How long ``seconds`` of this clock take on the machine's own clock (a simulator may run
        faster); the real-time loop waits that long for its next timer."""
        return seconds


class VirtualClock(Clock):
    """A clock that moves only when :meth:`advance` is called: deterministic and instant.

    Only monotonic time advances; wall time is derived from it through the zone (``tz``), so it
    follows DST changes as a real clock does.

    ``wall_start`` is the wall time at monotonic 0; without it the clock is untrusted and
    starts at :data:`UNTRUSTED_EPOCH`, as a Pi that booted with no network would.
    """

    def __init__(self, wall_start: datetime | None = None, tz: tzinfo = KYIV) -> None:
        self.tz = tz
        self._t = 0.0
        self._lock = threading.Lock()
        self._trusted = wall_start is not None
        self._source = ClockSource.SCENARIO if wall_start is not None else ClockSource.NONE
        self._wall_at_zero = (wall_start or UNTRUSTED_EPOCH).astimezone(tz)

    def monotonic(self) -> float:
        return self._t

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a virtual clock never runs backwards")
        with self._lock:
            self._t += seconds

    def advance_to(self, t: float) -> None:
        with self._lock:
            if t > self._t:
                self._t = t

    def now(self) -> datetime:
        # elapsed seconds are added in UTC, then shown in the zone: a call across a DST change ends
        # at the right local time (aware arithmetic in one zone would add wall-clock hours)
        return (self._wall_at_zero.astimezone(UTC) + timedelta(seconds=self._t)).astimezone(self.tz)

    @property
    def trusted(self) -> bool:
        return self._trusted

    @property
    def source(self) -> ClockSource:
        return self._source

    def set_wall(self, when: datetime, source: ClockSource | str) -> None:
        with self._lock:
            self._wall_at_zero = when.astimezone(self.tz) - timedelta(seconds=self._t)
            self._trusted, self._source = True, ClockSource(source)

    def jump_wall(self, seconds: float) -> None:
        """Move the wall clock without touching monotonic time (tests of clock jumps)."""
        with self._lock:
            self._wall_at_zero += timedelta(seconds=seconds)


class RealClock(Clock):
    """The operating system's clocks; trusted once the kernel reports NTP sync or a source set it."""

    def __init__(self, tz: tzinfo = KYIV) -> None:
        self.tz = tz
        self._source = ClockSource.NONE
        self._offset = 0.0  # applied when the unit may not set the system clock itself

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.fromtimestamp(time.time() + self._offset, self.tz)

    @property
    def trusted(self) -> bool:
        if self._source != ClockSource.NONE:
            return True
        if kernel_clock_synchronised():
            self._source = ClockSource.NTP
            return True
        return False

    @property
    def source(self) -> ClockSource:
        return self._source if self.trusted else ClockSource.NONE

    def set_wall(self, when: datetime, source: ClockSource | str) -> None:
        self._offset = when.timestamp() - time.time()
        self._source = ClockSource(source)


class _Timex(ctypes.Structure):
    # struct timex from <sys/timex.h>: we only read `status`; the tail pads the kernel's reserved ints.
    _fields_ = [
        ("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long), ("status", ctypes.c_int),
        ("constant", ctypes.c_long), ("precision", ctypes.c_long), ("tolerance", ctypes.c_long),
        ("time_sec", ctypes.c_long), ("time_usec", ctypes.c_long), ("tick", ctypes.c_long),
        ("ppsfreq", ctypes.c_long), ("jitter", ctypes.c_long), ("shift", ctypes.c_int),
        ("stabil", ctypes.c_long), ("jitcnt", ctypes.c_long), ("calcnt", ctypes.c_long),
        ("errcnt", ctypes.c_long), ("stbcnt", ctypes.c_long), ("tai", ctypes.c_int),
        ("_reserved", ctypes.c_int * 11),
    ]


_STA_UNSYNC = 0x0040
_TIME_ERROR = 5


def kernel_clock_synchronised() -> bool:
    """True when the kernel says an NTP daemon keeps the clock in sync (adjtimex, read-only)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        tx = _Timex()
        state = libc.adjtimex(ctypes.byref(tx))
    except (OSError, AttributeError):
        return False
    return state not in (-1, _TIME_ERROR) and not tx.status & _STA_UNSYNC
