"""Keeps the LCD showing the latest frame through bus errors, supply dips and a missing module.

The core hands frames to :class:`LcdKeeper` as to any display and never sees an ``OSError``. Behind
it, an :class:`hal.lcd.RplcdDisplay` (made by ``open_display``, so a module that is missing at
start-up is simply opened later) is watched:

- a failed write: the display is re-initialised (the HD44780's 4-bit sequence) and the whole
  screen redrawn, at once and then with growing pauses while it keeps failing;
- a controller reset by a supply dip, which no write reports: every ``probe_s`` the controller is
  asked where its cursor is (:meth:`RplcdDisplay.responds`); a wrong answer is treated as a failure.

All of it runs on the event loop's thread (``call_later`` is the loop's), like every other output.

    >>> keeper = LcdKeeper(lambda: RplcdDisplay(20, 4))    # doctest: +SKIP
    >>> keeper.start(loop.call_later); keeper.show(frame)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from enum import Enum
from typing import Any

log = logging.getLogger(__name__)

PROBE_S = 0.5
#: After this many probes without a new frame (10 s), the screen is probed every IDLE_PROBE_S.
BUSY_PROBES = 20
IDLE_PROBE_S = 30.0
#: Pauses between recovery attempts: the first is quick (a single glitch), then they grow.
BACKOFF_S = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)


class LcdState(Enum):
    """How the LCD is doing, for the console's ``status`` and the logs."""

    OK = "ok"
    RECOVERING = "recovering"
    MISSING = "missing"


class LcdKeeper:
    """A self-healing frame display; see the module docstring."""

    def __init__(self, open_display: Callable[[], Any], probe_s: float = PROBE_S,
                 on_drawn: Callable[[], None] | None = None) -> None:
        self._open = open_display
        self._call_later: Callable[[float, Callable[[], None]], Any] | None = None
        self.probe_s = probe_s
        self.on_drawn = on_drawn  # told after a recovery redrew the glass (the simulator's screen log)
        self.display: Any = None
        self.state = LcdState.MISSING
        self.reason = "not opened yet"
        self.recoveries = 0
        self._frame: Any = None
        self._attempt = 0
        self._retry: Any = None
        self._idle_probes = 0

    # ---------------------------------------------------------------- the FrameDisplay interface
    def show(self, frame: Any) -> None:
        self._frame = frame
        self._idle_probes = 0
        if self.state is not LcdState.OK:
            return  # the pending recovery draws the newest frame
        try:
            self.display.show(frame)
        except OSError as e:
            self._failed(f"write failed: {e}")

    def close(self, clear: bool = False) -> None:
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        if self.display is not None:
            with contextlib.suppress(OSError):  # closing a module that is gone
                self.display.close(clear=clear)

    # ---------------------------------------------------------------- recovery
    def start(self, call_later: Callable[[float, Callable[[], None]], Any]) -> None:
        """Open the display now (or keep trying) and start probing it; ``call_later`` is the loop's."""
        self._call_later = call_later
        self._recover()
        self._call_later(self.probe_s, self._probe)

    def _probe(self) -> None:
        self._idle_probes += 1
        # every probe_s for a while after the screen last changed, then slowly: a screen that stands
        # still for days (a virtual clock leaping over them) is not polled a million times
        self._call_later(self.probe_s if self._idle_probes <= BUSY_PROBES else IDLE_PROBE_S, self._probe)
        if self.state is not LcdState.OK:
            return
        try:
            if self.display.responds():
                return
            reason = "controller reset (it does not answer as initialised)"
        except OSError as e:
            reason = f"probe failed: {e}"
        self._failed(reason)

    def _failed(self, reason: str) -> None:
        if self.state is LcdState.OK:
            log.warning("lcd: %s; re-initialising", reason)
        self.state, self.reason = LcdState.RECOVERING, reason
        self._schedule()

    def _schedule(self) -> None:
        if self._retry is None:
            delay = BACKOFF_S[min(self._attempt, len(BACKOFF_S) - 1)]
            self._attempt += 1
            self._retry = self._call_later(delay, self._recover)

    def _recover(self) -> None:
        self._retry = None
        try:
            if self.display is None:
                self.display = self._open()
            else:
                self.display.reinit()
            if self._frame is not None:
                self.display.show(self._frame)
        except OSError as e:
            if self.display is None or self.state is LcdState.MISSING:
                if self._attempt == 0:
                    log.error("lcd: not found: %s; retrying", e)
                self.state = LcdState.MISSING
            else:
                self.state = LcdState.RECOVERING
            self.reason = str(e)
            self._schedule()
            return
        if self.state is not LcdState.OK:
            if self._attempt:
                log.info("lcd: back after %d attempt(s)", self._attempt)
                self.recoveries += 1
            self.state, self.reason, self._attempt = LcdState.OK, "", 0
            if self.on_drawn is not None:
                self.on_drawn()
