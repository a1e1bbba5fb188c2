"""Notices when the unit's own audio input stops during a call, and when it is back.

The audio thread hands every block through :meth:`AudioWatch.feed` on its way to the line monitor.
A timer on the loop's clock checks that blocks keep coming while a call is judged: after
:data:`STALL_S` without one (a USB interface unplugged, a stream that stalled) it posts
``AudioInput(present=False)``; the first block after that restarts the line monitor, so no verdict
comes from audio older than the gap, and posts ``AudioInput(present=True)``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from firmware.clock import Clock
from firmware.events import AudioInput, Event
from firmware.line_monitor import LineMonitor

STALL_S = 0.7
CHECK_S = 0.1


class AudioWatch:
    """Between the audio source and the line monitor; see the module docstring."""

    def __init__(self, clock: Clock, monitor: LineMonitor, post: Callable[[Event], None]) -> None:
        self.clock = clock
        self.monitor = monitor
        self._post = post
        self.lost = False
        self.blocks = 0
        self._last = clock.monotonic()
        self._watching = False
        self._lock = threading.Lock()
        self._timer_on = False

    def feed(self, samples: np.ndarray) -> None:
        """A block from the audio input (audio thread)."""
        with self._lock:
            self._last = self.clock.monotonic()
            self.blocks += 1
            back, self.lost = self.lost, False
        if back:
            self.monitor.restart()
            self._post(AudioInput(present=True))
        self.monitor.feed(samples)

    def call_active(self, active: bool, call_later: Callable[[float, Callable[[], None]], object]) -> None:
        """A call began or ended (loop thread): check every :data:`CHECK_S` while one is on (no timer
        runs between calls, so a virtual clock can leap over idle days)."""
        if active and not self._timer_on:
            self._timer_on = True

            def tick() -> None:
                self.check()
                if self.monitor.wanted:
                    call_later(CHECK_S, tick)
                else:
                    self._timer_on = False

            call_later(CHECK_S, tick)

    def check(self) -> None:
        """Loop timer: during a call, no block for :data:`STALL_S` means the input is lost."""
        now = self.clock.monotonic()
        if not self.monitor.wanted:
            self._watching = False
            return
        with self._lock:
            if not self._watching:  # a call began: count from now; the core must hear of a loss again
                self._watching, self._last = True, now
                if self.lost:
                    self._post(AudioInput(present=False))
            if not self.lost and now - self._last >= STALL_S - 1e-9:
                self.lost = True
                self._post(AudioInput(present=False))
