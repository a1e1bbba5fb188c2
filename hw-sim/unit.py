"""A whole unit on simulated hardware: the real core, real gpiozero, RPLCD and SQLite, fake silicon.

The same assembly serves the scenario runner (a virtual clock, audio produced as time advances)
and ``deskunit run --sim`` (the real clock, an audio thread at the line's pace).

    >>> sim = SimUnit.create(cfg, VirtualClock(wall_start=...), state_dir=tmp)
    >>> sim.hook(off=True); sim.advance(1.5)
    >>> "Доброго" in sim.lcd_text()
    True
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from firmware.clock import Clock, VirtualClock
from firmware.display import parse_size
from hal.assembly import App
from hwsim.audio import SimLine
from hwsim.gpio import SimBoard, SimFactory
from hwsim.lcd import simulated_display
from hwsim.matching import shows

log = logging.getLogger(__name__)
AUDIO_STEP_S = 0.1
#: The technician PIN of ``deskunit run --sim`` when the configuration sets none (shown on its panel).
SIM_TECHNICIAN_PIN = "2580"
MAX_AUDIO_BEHIND_S = 2.0  # after a stall, the line does not replay what it missed


class ObservedDisplay:
    """Passes frames to the LCD driver and then tells listeners the glass changed."""

    def __init__(self, display: Any) -> None:
        self.display = display
        self.listeners: list = []

    def show(self, frame: Any) -> None:
        self.display.show(frame)
        for fn in self.listeners:
            fn()


#: The simulator's operator, in its roster when the config names none (no PIN: simulator only).
SIM_OPERATOR = {"number": 7, "name": "Олена Петренко"}


class SimUnit:
    """A whole unit on simulated hardware: the shared :class:`hal.assembly.App` plus the fake silicon."""

    def __init__(self, app: App, board: SimBoard, lcd: Any, bus: Any, display: Any, line: SimLine,
                 tmp: Any = None) -> None:
        self.app = app
        self.cfg, self.clock, self.loop, self.unit = app.cfg, app.clock, app.loop, app.unit
        self.panel, self.screen, self.journal, self.monitor = app.panel, app.screen, app.journal, app.monitor
        self.state_dir = app.state_dir
        self.board = board
        self.lcd = lcd  # the HD44780 emulator
        self.bus = bus  # the fake SMBus (counts writes)
        self.display = display  # hal.lcd.RplcdDisplay, really driving RPLCD
        self.line = line
        self.on_screen: list[Callable[[list[str]], None]] = []
        self.before_advance: list[Callable[[], None]] = []
        self.server_up = True
        self.central: Any = None
        self.technician_pin: str | None = None  # the console's PIN, when the simulator chose it
        self._tmp = tmp
        self._stop = threading.Event()
        self._audio_thread: threading.Thread | None = None

    @classmethod
    def create(cls, cfg: dict[str, Any], clock: Clock, state_dir: Path | None = None,
               base_dir: Path | None = None, real_lcd_delays: bool = False, journal: Any = None) -> SimUnit:
        tmp = None
        if state_dir is None:
            tmp = tempfile.TemporaryDirectory(prefix="deskunit-sim-")
            state_dir = Path(tmp.name)
        if not cfg.get("operators"):
            # A real unit's config lists its operators, each with a PIN; the simulator brings its own.
            cfg = {**cfg, "operators": [dict(SIM_OPERATOR)]}
        cols, rows = parse_size(cfg["lcd"]["size"])
        display, emulator, bus = simulated_display(cols, rows, cfg["lcd"]["rom"], fast=not real_lcd_delays)
        observed = ObservedDisplay(display)
        factory = SimFactory()
        app = App.build(cfg, clock, frame_display=observed, state_dir=Path(state_dir), pin_factory=factory,
                        journal=journal)
        app.closers.insert(0, display.close)
        board = SimBoard(factory, cfg["pins"], app.panel.keypad.layout, clock)
        line = SimLine(cfg["audio"]["sample_rate"], base_dir=base_dir)
        sim = cls(app, board, emulator, bus, display, line, tmp)
        observed.listeners.append(lambda: [fn(sim.lcd_rows()) for fn in sim.on_screen])
        return sim

    # ---------------------------------------------------------------- driving it
    def hook(self, off: bool) -> None:
        self.board.set_hook(off)

    def press(self, key: str) -> None:
        self.board.press(key)

    def release(self, key: str) -> None:
        self.board.release(key)

    def feed_audio(self, seconds: float) -> None:
        n = int(round(seconds * self.line.sample_rate))
        if n > 0:
            self.monitor.feed(self.line.read(n))

    def advance(self, seconds: float) -> None:
        """Virtual clock only: move time on, with audio flowing in 100 ms steps while a call is on."""
        self.advance_to(self.clock.monotonic() + seconds)

    def advance_to(self, t: float) -> None:
        clock = self.clock
        assert isinstance(clock, VirtualClock)
        self.loop.run_pending()
        while clock.monotonic() < t - 1e-9:
            self.journal.upkeep.settle()  # lockstep: the journal's thread finishes before time moves
            for hook in self.before_advance:
                hook()
            if self.monitor.wanted:
                step = min(AUDIO_STEP_S, t - clock.monotonic())
                self.feed_audio(step)
                self.loop.run_until(clock.monotonic() + step)
            else:
                due = self.loop.next_due()
                target = t if due is None else min(t, due)
                self.loop.run_until(target)
                if self.monitor.wanted:
                    continue
                if due is None or due > t:
                    break
        self.loop.run_until(t)
        self.journal.upkeep.settle()

    def attach_server(self, server: Any) -> None:
        """The central server this unit syncs to (a ``central.CentralServer``), for ``set_server``
        and ``synced_count``; its current up/down state is applied at once."""
        self.central = server
        if not self.server_up:
            server.set_down(True)

    @property
    def sync(self) -> Any:
        """The unit's sync worker, once one is attached (:func:`hwsim.sync_sim.attach_sync`)."""
        return self.app.sync

    def set_server(self, up: bool) -> None:
        """The simulated central server up or down (a scenario's ``server`` step)."""
        self.server_up = up
        if self.central is not None:
            self.central.set_down(not up)

    def synced_count(self) -> int:
        return 0 if self.central is None else self.central.count_records(self.cfg["unit"]["id"])

    # ---------------------------------------------------------------- real time
    def start_realtime(self) -> None:
        """Run the loop and the audio on the real clock (``deskunit run --sim``)."""
        self.loop.start()
        self._audio_thread = threading.Thread(target=self._audio_realtime, name="sim-audio", daemon=True)
        self._audio_thread.start()

    def _audio_realtime(self) -> None:
        """The caller's audio at the unit clock's pace (a simulator clock may run faster than real)."""
        next_t = time.monotonic()
        fed_to = self.clock.monotonic()
        while not self._stop.is_set():
            now = self.clock.monotonic()
            self.feed_audio(min(now - fed_to, MAX_AUDIO_BEHIND_S))
            fed_to = now
            next_t += AUDIO_STEP_S
            self._stop.wait(max(0.0, next_t - time.monotonic()))

    # ---------------------------------------------------------------- reading it
    def lcd_rows(self) -> list[str]:
        return self.lcd.rows(self.cfg["lcd"]["rom"])

    def lcd_text(self) -> str:
        return " ".join(self.lcd_rows())

    def shows(self, text: str) -> bool:
        """Whether the LCD shows ``text``, matched as scenarios match it (look-alikes folded)."""
        return shows(text, self.lcd_text(), self.cfg["lcd"]["rom"])

    def led(self, name: str) -> str:
        return self.board.led_value(name)

    def close(self) -> None:
        self._stop.set()
        self.app.close()
        if self._tmp is not None:
            self._tmp.cleanup()
