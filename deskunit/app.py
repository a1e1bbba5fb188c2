"""One assembly of the unit, for real hardware and for the simulator alike.

:class:`App` wires the event loop, the core, the LEDs, the LCD screen, the journal and the line
monitor around whatever hardware it is given: gpiozero's default pin factory and RPLCD on a Pi, or
MockFactory pins and the HD44780 emulator in the simulator (:mod:`hwsim.unit`).

    >>> app = App.build(cfg, RealClock(), frame_display=RplcdDisplay(), state_dir=Path("/var/lib/deskunit"))
    >>> app.loop.run_forever()
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from firmware.audio_watch import CHECK_S as AUDIO_CHECK_S
from firmware.audio_watch import AudioWatch
from firmware.call.unit import Unit
from firmware.clock import Clock, RealClock
from firmware.display import FrameDisplay, LcdScreen, parse_size
from firmware.events import HookChanged
from firmware.journal import Journal
from firmware.leds import Leds
from firmware.line_monitor import LineMonitor
from firmware.loop import EventLoop
from hal.gpio import PanelInputs, RgbLed, panel_leds

log = logging.getLogger("deskunit")


@dataclass
class App:
    """The unit's parts, wired; ``closers`` run in reverse order on :meth:`close`."""

    cfg: dict[str, Any]
    clock: Clock
    loop: EventLoop
    unit: Unit
    panel: PanelInputs
    hw_leds: dict[str, RgbLed]
    screen: LcdScreen
    journal: Journal
    monitor: LineMonitor
    state_dir: Path
    closers: list[Callable[[], None]] = field(default_factory=list)
    sync: Any = None
    audio: AudioWatch | None = None  # audio blocks go through it to the line monitor
    #: the hardware parts and how each is doing ("ok", "missing (reason)"...), for the console's status
    parts: dict[str, Callable[[], str]] = field(default_factory=dict)

    @classmethod
    def build(cls, cfg: dict[str, Any], clock: Clock, *, frame_display: FrameDisplay, state_dir: Path,
              pin_factory: Any = None) -> App:
        cols, rows = parse_size(cfg["lcd"]["size"])
        screen = LcdScreen(frame_display, cols, rows, cfg["lcd"]["rom"])
        holder: dict[str, Unit] = {}
        loop = EventLoop(clock, handler=lambda e: holder["unit"].handle(e))
        panel = PanelInputs(cfg["pins"], loop.post, clock, pin_factory=pin_factory, call_later=loop.call_later)
        hw_leds = panel_leds(cfg["pins"], pin_factory=pin_factory)
        leds = Leds({name: led.set_rgb for name, led in hw_leds.items()}, loop.call_later)
        journal = Journal(Path(state_dir) / "journal.sqlite3")
        monitor = LineMonitor(cfg["audio"]["sample_rate"], loop.post)
        unit = Unit(cfg, clock, loop, display=screen, leds=leds, journal=journal, on_call=monitor.set_active)
        holder["unit"] = unit
        start_display = getattr(frame_display, "start", None)
        if start_display is not None:  # an hal.lcd_keeper.LcdKeeper: opens, probes and heals the LCD
            start_display(loop.call_later)
        app = cls(cfg, clock, loop, unit, panel, hw_leds, screen, journal, monitor, Path(state_dir))
        app.audio = AudioWatch(clock, monitor, loop.post)
        loop.call_every(AUDIO_CHECK_S, app.audio.check)
        app.closers += [journal.close, *(led.close for led in hw_leds.values()), panel.close, loop.stop]
        return app

    def attach_sync(self, client: Any, **options: Any) -> Any:
        """Start a :class:`firmware.sync.SyncWorker` over ``client`` wired to this unit: a push after
        each saved record, the SYNC LED and pushed config applied on the loop's thread."""
        from firmware.sync import SyncWorker

        unit = self.unit
        worker = SyncWorker(self.journal, client, self.loop, self.clock,
                            on_led=lambda colour: unit.leds.set("sync", colour, blink=False),
                            on_config=unit.apply_config, **options)
        previous = unit.on_record

        def on_record(record: dict[str, Any]) -> None:
            if previous is not None:
                previous(record)
            worker.kick()

        unit.on_record = on_record
        self.sync = worker
        self.closers.append(worker.stop)  # closers run last-in first-out: before the journal closes
        worker.start()
        return worker

    def sync_hook_state(self) -> None:
        """Tell the core where the handset is now (after a restart it may already be off-hook)."""
        if self.panel.off_hook():
            self.loop.post(HookChanged(off_hook=True))

    def close(self) -> None:
        while self.closers:
            try:
                self.closers.pop()()
            except Exception:
                log.exception("closing")


GPIO_RETRY_S = 30.0


def _part(state: str, reason: str) -> str:
    return state if not reason else f"{state} ({reason})"


class GpioChip:
    """gpiozero's pin factory for this board, or, when there is no GPIO chip (or no pin library),
    gpiozero's MockFactory as a stand-in so the rest of the unit runs; ``error`` says why."""

    def __init__(self) -> None:
        from gpiozero import Device

        self.error: str | None = None
        try:
            if Device.pin_factory is None:
                Device.pin_factory = Device._default_pin_factory()
            self.factory = Device.pin_factory
        except Exception as e:  # BadPinFactory, lgpio.error "can not open gpiochip", PermissionError...
            from gpiozero.pins.mock import MockFactory

            self.error = f"{type(e).__name__}: {e}"
            log.error("gpio: no GPIO (keys, keypad, hook, LEDs): %s; retrying every %.0f s", self.error,
                      GPIO_RETRY_S)
            self.factory = MockFactory()

    def available(self) -> bool:
        """Whether a real pin factory can be made now."""
        from gpiozero import Device

        try:
            Device._default_pin_factory().close()
        except Exception:
            return False
        log.info("gpio: GPIO is available now; restarting to use it")
        return True


def run_hardware(cfg: dict[str, Any]) -> int:
    """``deskunit run``: RPLCD, gpiozero and sounddevice/PyAudio on a Raspberry Pi."""
    from zoneinfo import ZoneInfo

    from deskunit.systemd import supervise
    from firmware.call.recovery import recover
    from hal.audio import AudioCapture
    from hal.lcd import RplcdDisplay, i2c_bus_factory
    from hal.lcd_keeper import LcdKeeper

    cols, rows = parse_size(cfg["lcd"]["size"])
    # A part missing at start-up is logged by name and retried; the unit serves on without it.
    display = LcdKeeper(lambda: RplcdDisplay(cols=cols, rows=rows, address=cfg["lcd"]["i2c_address"],
                                             port=cfg["lcd"]["i2c_port"], bus_factory=i2c_bus_factory()))
    gpio = GpioChip()
    app = App.build(cfg, RealClock(ZoneInfo(cfg["unit"]["timezone"])), frame_display=display,
                    state_dir=Path(cfg["unit"]["state_dir"]), pin_factory=gpio.factory)
    app.closers.insert(0, display.close)
    capture = AudioCapture(app.audio.feed, cfg["audio"]["sample_rate"], cfg["audio"]["backend"],
                           cfg["audio"]["device"])
    capture.start()
    app.closers.append(capture.stop)
    app.parts.update(lcd=lambda: _part(display.state.value, display.reason),
                     audio=lambda: _part(capture.state.value, capture.reason or f"{capture.blocks} blocks read"),
                     gpio=lambda: _part("ok" if gpio.error is None else "missing", gpio.error or ""))
    if cfg["server"]["url"]:
        from firmware.sync import SyncClient

        app.attach_sync(SyncClient.from_config(cfg))
    from deskunit.console_backend import attach_console

    restart_requested = threading.Event()

    def restart() -> None:
        restart_requested.set()
        app.loop.stop()

    try:
        attach_console(app, cfg["console"]["port"], restart=restart)  # the technician's serial console
    except Exception as e:  # no UART must not mean no unit: the operators come first
        log.error("technician console unavailable on %s: %s", cfg["console"]["port"], e)
    supervision = supervise(app.loop, app.unit)  # watchdog pings from the loop's own thread
    if gpio.error is not None:  # keys and LEDs come back by starting afresh once the chip is there
        app.loop.call_every(GPIO_RETRY_S, lambda: gpio.available() and restart())

    def on_signal(*_: Any) -> None:
        supervision.stopping()
        app.loop.stop()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    # a call draft left by a crash goes first, so the hook's state cannot start a second call
    app.loop.call_soon(lambda: recover(app.unit, off_hook=app.panel.off_hook()))
    app.sync_hook_state()
    app.loop.call_soon(supervision.ready)  # LCD, GPIO and audio are up; sent once the loop turns
    log.info("deskunit running")
    app.loop.run_forever()
    app.close()
    if restart_requested.is_set():  # the console's `restart`: the same process, started afresh
        log.info("restarting on the technician's request")
        os.execv(sys.executable, [sys.executable, "-m", "deskunit.cli", *sys.argv[1:]])
    return 0
