"""``deskunit run``: the unit on a real Raspberry Pi (RPLCD, gpiozero, sounddevice)."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import Any

from firmware.clock import RealClock
from firmware.display import LcdScreen, parse_size
from firmware.journal import Journal
from firmware.leds import Leds
from firmware.line_monitor import LineMonitor
from firmware.loop import EventLoop
from firmware.unit import Unit

log = logging.getLogger("deskunit")


def run_hardware(cfg: dict[str, Any]) -> int:
    from zoneinfo import ZoneInfo

    from hal.audio import AudioCapture
    from hal.gpio import PanelInputs, panel_leds
    from hal.lcd import RplcdDisplay

    clock = RealClock(ZoneInfo(cfg["unit"]["timezone"]))
    cols, rows = parse_size(cfg["lcd"]["size"])
    display = RplcdDisplay(cols=cols, rows=rows, address=cfg["lcd"]["i2c_address"], port=cfg["lcd"]["i2c_port"])
    screen = LcdScreen(display, cols, rows, cfg["lcd"]["rom"])
    holder: dict[str, Unit] = {}
    loop = EventLoop(clock, handler=lambda e: holder["unit"].handle(e))
    leds_hw = panel_leds(cfg["pins"])
    leds = Leds({n: led.set_rgb for n, led in leds_hw.items()}, loop.call_later)
    journal = Journal(Path(cfg["unit"]["state_dir"]) / "journal.sqlite3")
    monitor = LineMonitor(cfg["audio"]["sample_rate"], loop.post)
    unit = Unit(cfg, clock, loop, display=screen, leds=leds, journal=journal, on_call=monitor.set_active)
    holder["unit"] = unit
    panel = PanelInputs(cfg["pins"], loop.post, clock)
    capture = AudioCapture(monitor.feed, cfg["audio"]["sample_rate"], cfg["audio"]["backend"],
                           cfg["audio"]["device"] or None)
    capture.start()
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: (loop.stop(), done.set()))
    if panel.off_hook():
        loop.post(__import__("firmware.events", fromlist=["HookChanged"]).HookChanged(True))
    log.info("deskunit running")
    loop.run_forever()
    capture.stop()
    panel.close()
    journal.close()
    return 0
