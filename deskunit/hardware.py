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


def run_hardware(cfg: dict[str, Any]) -> int:
    """``deskunit run``: RPLCD, gpiozero and sounddevice/PyAudio on a Raspberry Pi."""
    from zoneinfo import ZoneInfo

    from hal.audio import AudioCapture
    from hal.lcd import RplcdDisplay

    cols, rows = parse_size(cfg["lcd"]["size"])
    display = RplcdDisplay(cols=cols, rows=rows, address=cfg["lcd"]["i2c_address"], port=cfg["lcd"]["i2c_port"])
    app = App.build(cfg, RealClock(ZoneInfo(cfg["unit"]["timezone"])), frame_display=display,
                    state_dir=Path(cfg["unit"]["state_dir"]))
    app.closers.insert(0, display.close)
    capture = AudioCapture(app.monitor.feed, cfg["audio"]["sample_rate"], cfg["audio"]["backend"],
                           cfg["audio"]["device"] or None)
    capture.start()
    app.closers.append(capture.stop)
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
