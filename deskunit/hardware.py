"""``deskunit run``: the unit on a Raspberry Pi's real hardware, wired and supervised.

RPLCD on the I2C bus, gpiozero's default pin factory, sounddevice/PyAudio for the line, the
technician's console on the UART, the central server when ``server.url`` is set, systemd's watchdog.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from deskunit.console_backend import attach_console
from deskunit.systemd import supervise
from firmware.call.recovery import recover
from firmware.clock import RealClock
from firmware.console import ConsoleSettings
from firmware.display import parse_size
from firmware.sync import ServerSettings, SyncClient, SyncSettings
from hal.assembly import App

log = logging.getLogger("deskunit")


GPIO_RETRY_S = 30.0


def stop_handler(loop: Any, supervision: Any) -> Callable[..., None]:
    """The SIGTERM and SIGINT handler: tell systemd the unit is stopping and end the loop.

    Python runs it on the main thread, which is the loop's, between two of its steps: it may be
    holding the event queue's lock right then, so the handler only sets the loop's stop flag
    (`EventLoop.request_stop`) and never waits for a lock."""

    def on_signal(*_: Any) -> None:
        supervision.stopping()
        loop.request_stop()

    return on_signal


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
    if ServerSettings.from_config(cfg).url:
        app.attach_sync(SyncClient.from_config(cfg), SyncSettings())

    restart_requested = threading.Event()

    def restart() -> None:
        restart_requested.set()
        app.loop.stop()

    try:
        attach_console(app, restart=restart)  # the technician's serial console, on console.port
    except Exception as e:  # no UART must not mean no unit: the operators come first
        log.error("technician console unavailable on %s: %s", ConsoleSettings.from_config(cfg).port, e)
    supervision = supervise(app.loop, app.unit)  # watchdog pings from the loop's own thread
    if gpio.error is not None:  # keys and LEDs come back by starting afresh once the chip is there
        app.loop.call_every(GPIO_RETRY_S, lambda: gpio.available() and restart())

    on_signal = stop_handler(app.loop, supervision)
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
