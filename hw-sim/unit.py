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
from hal.lcd import RplcdDisplay
from hal.lcd_keeper import LcdKeeper
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
        if hasattr(display, "on_drawn"):  # an LcdKeeper redraws by itself after a recovery
            display.on_drawn = self._changed

    def show(self, frame: Any) -> None:
        self.display.show(frame)
        self._changed()

    def _changed(self) -> None:
        for fn in self.listeners:
            fn()

    def start(self, call_later: Any) -> None:
        start = getattr(self.display, "start", None)
        if start is not None:
            start(call_later)


#: The simulator's operator, in its roster when the config names none (no PIN: simulator only).
SIM_OPERATOR = {"number": 7, "name": "Олена Петренко"}


class SimUnit:
    """A whole unit on simulated hardware: the shared :class:`hal.assembly.App` plus the fake silicon.

    Larger than 25 methods on purpose: it is the one handle the scenarios, the panel and the tests
    drive the simulated unit through, one short method per thing they do or read (the hook, a key,
    audio, time, a fault, a power cut, the server, the LCD and LEDs); the work is in the fake parts.
    """

    def __init__(self, app: App, board: SimBoard, lcd: Any, bus: Any, display: Any, line: SimLine,
                 tmp: Any = None) -> None:
        self._wire(app)
        self.state_dir = app.state_dir
        self.board = board
        self.lcd = lcd  # the HD44780 emulator
        self.bus = bus  # the fake SMBus (counts writes)
        self.display = display  # hal.lcd.RplcdDisplay, really driving RPLCD
        self.line = line
        self.on_screen: list[Callable[[list[str]], None]] = []
        self.before_advance: list[Callable[[], None]] = []
        self.server_up = True
        self.powered = True
        self.realtime = False
        self.audio_plugged = True  # the USB audio interface (a fault unplugs it)
        self.central: Any = None
        self.technician_pin: str | None = None  # the console's PIN, when the simulator chose it
        self._tmp = tmp
        self._stop = threading.Event()
        self._audio_thread: threading.Thread | None = None

    def _wire(self, app: App) -> None:
        """Point the shortcuts at ``app``'s parts (again after a power cycle)."""
        self.app = app
        self.cfg, self.clock, self.loop, self.unit = app.cfg, app.clock, app.loop, app.unit
        self.panel, self.screen, self.journal, self.monitor = app.panel, app.screen, app.journal, app.monitor
        loop = app.loop
        if hasattr(self, "board"):
            board = self.board

            def chatter(fn: Callable[[], None]) -> None:
                fn()
                board.factory.drain()  # its edges reach the callbacks before virtual time moves on

            board.schedule = lambda delay, fn: loop.call_soon(loop.call_later, delay, lambda: chatter(fn))

    @classmethod
    def create(cls, cfg: dict[str, Any], clock: Clock, state_dir: Path | None = None,
               base_dir: Path | None = None, real_lcd_delays: bool = False, journal: Any = None,
               gpio: str = "mock", bounce_s: float = 0.0) -> SimUnit:
        tmp = None
        if state_dir is None:
            tmp = tempfile.TemporaryDirectory(prefix="deskunit-sim-")
            state_dir = Path(tmp.name)
        if not cfg.get("operators"):
            # A real unit's config lists its operators, each with a PIN; the simulator brings its own.
            cfg = {**cfg, "operators": [dict(SIM_OPERATOR)]}
        cols, rows = parse_size(cfg["lcd"]["size"])
        display, emulator, bus = simulated_display(cols, rows, cfg["lcd"]["rom"], fast=not real_lcd_delays)
        observed = ObservedDisplay(LcdKeeper(lambda: display))
        factory = SimFactory(delivery=gpio)
        app = App.build(cfg, clock, frame_display=observed, state_dir=Path(state_dir), pin_factory=factory,
                        journal=journal)
        app.closers.insert(0, display.close)
        app.closers.insert(0, factory.close)
        board = SimBoard(factory, cfg["pins"], app.panel.keypad.layout, clock, bounce_s=bounce_s)
        line = SimLine(cfg["audio"]["sample_rate"], base_dir=base_dir)
        sim = cls(app, board, emulator, bus, display, line, tmp)
        sim._wire(app)
        sim.describe_parts()
        observed.listeners.append(lambda: [fn(sim.lcd_rows()) for fn in sim.on_screen])
        return sim

    # ---------------------------------------------------------------- driving it
    def hook(self, off: bool) -> None:
        self.board.set_hook(off)

    def press(self, key: str) -> None:
        self.board.press(key)

    def release(self, key: str) -> None:
        self.board.release(key)

    def tap(self, key: str) -> None:
        """A short press and release, held until the unit saw it (see :meth:`SimBoard.tap`)."""
        self.board.tap(key, seen=self.app.panel.is_down)

    def feed_audio(self, seconds: float) -> None:
        n = int(round(seconds * self.line.sample_rate))
        if n > 0 and self.audio_plugged and self.powered:
            self.app.audio.feed(self.line.read(n))

    def advance(self, seconds: float) -> None:
        """Virtual clock only: move time on, with audio flowing in 100 ms steps while a call is on."""
        self.advance_to(self.clock.monotonic() + seconds)

    def settle(self) -> None:
        """Let queued pin edges reach their callbacks and the loop handle what they posted (virtual
        time stands still meanwhile, as the real one hardly moves)."""
        if not self.powered:
            return
        for _ in range(1000):
            self.board.factory.drain()
            if not self.loop.run_pending():
                return

    def _run_until(self, t: float) -> None:
        self.settle()
        self.loop.run_until(t)
        self.settle()

    def advance_to(self, t: float) -> None:
        clock = self.clock
        assert isinstance(clock, VirtualClock)
        if not self.powered:  # time goes on for the desk, not for the unit
            clock.advance_to(t)
            return
        self.settle()
        while clock.monotonic() < t - 1e-9:
            self.journal.upkeep.settle()  # lockstep: the journal's thread finishes before time moves
            for hook in self.before_advance:
                hook()
            if self.monitor.wanted:
                step = min(AUDIO_STEP_S, t - clock.monotonic())
                self.feed_audio(step)
                self._run_until(clock.monotonic() + step)
            else:
                due = self.loop.next_due()
                target = t if due is None else min(t, due)
                self._run_until(target)
                if self.monitor.wanted:
                    continue
                if due is None or due > t:
                    break
        self._run_until(t)
        self.journal.upkeep.settle()

    # ---------------------------------------------------------------- faults and power
    def inject_fault(self, spec: str) -> None:
        """A hardware fault (see :mod:`hwsim.faults`): ``lcd_bus[:N]``, ``lcd_power``, ``audio_unplug``..."""
        from hwsim.faults import inject

        inject(self, spec)

    def describe_parts(self) -> None:
        """The console's ``status`` names the simulated parts and their faults, as on a Pi."""
        keeper = self.app.screen.frame_display.display
        self.app.parts.update(
            lcd=lambda: keeper.state.value + (f" ({keeper.reason})" if keeper.reason else ""),
            audio=lambda: "ok (simulated)" if self.audio_plugged else "lost (unplugged)",
            gpio=lambda: f"ok (simulated, {self.board.factory.delivery} delivery)")

    def power_cut(self) -> None:
        """The unit loses power at once, like kill -9: no shutdown code runs, only what the journal
        committed survives. The GPIO pins float back to inputs (LEDs dark), the LCD module goes dark
        with it; the handset, the caller and the keys stay as they are and may change meanwhile."""
        if not self.powered:
            return
        self.powered = False
        app = self.app
        if self.realtime:
            app.loop.stop()
        if app.sync is not None:
            app.sync.stop()  # its thread dies with the process; what it had sent, the server keeps
        app.journal.close()  # every write was committed at once: what is on disk is what a kill -9 leaves
        for device in (*app.hw_leds.values(), app.panel):
            device.close()  # the pins are released as a reset Pi releases them
        self.board.schedule = None
        self.board.reassert()
        self.lcd.power_cycle()
        self.before_advance.clear()

    def power_on(self) -> None:
        """Power is back: the unit boots on the same state directory, as ``deskunit run`` does
        (crash recovery first, then the handset's position), and syncs again if it did."""
        if self.powered:
            return
        self.powered = True
        cfg, clock = self.cfg, self.clock
        cols, rows = parse_size(cfg["lcd"]["size"])
        bus = self.bus
        timing = self.display.timing  # the glass is the same module: no waits if it had none before the cut
        observed = ObservedDisplay(LcdKeeper(lambda: RplcdDisplay(cols=cols, rows=rows, bus_factory=lambda _: bus,
                                                                  timing=timing)))
        app = App.build(cfg, clock, frame_display=observed, state_dir=self.state_dir, pin_factory=self.board.factory)
        app.closers.insert(0, self.board.factory.close)
        # what outlives the unit (the central server started for it) is stopped with the new one
        app.closers += [c for c in self.app.closers if getattr(c, "__self__", None) is self.central is not None]
        observed.listeners.append(lambda: [fn(self.lcd_rows()) for fn in self.on_screen])
        self._wire(app)
        self.describe_parts()
        self.board.reassert()
        from firmware.call.recovery import recover

        app.loop.call_soon(lambda: recover(app.unit, off_hook=app.panel.off_hook()))
        app.sync_hook_state()
        if self.central is not None:
            from hwsim.sync_sim import attach_sync

            attach_sync(self, self.central)
        if self.realtime:
            self.start_realtime()

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
        self.realtime = True
        self.loop.start()
        if self._audio_thread is None:
            self._audio_thread = threading.Thread(target=self._audio_realtime, name="sim-audio", daemon=True)
            self._audio_thread.start()

    def _audio_realtime(self) -> None:
        """The caller's audio at the unit clock's pace (a simulator clock may run faster than real)."""
        next_t = time.monotonic()
        fed_to = self.clock.monotonic()
        while not self._stop.is_set():
            now = self.clock.monotonic()
            try:
                self.feed_audio(min(now - fed_to, MAX_AUDIO_BEHIND_S))
            except Exception:  # the simulated line must outlive one bad step, as a sound card does
                log.exception("simulated audio step failed")
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
