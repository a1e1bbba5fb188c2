"""An I2C bus for ``deskunit run`` on a machine without the LCD: the HD44780 emulator behind a fake
SMBus that fails on cue. The daemon takes it with ``DESKUNIT_I2C_BUS=hwsim.bench_bus:open_bus``
(see :func:`hal.lcd.i2c_bus_factory`); nothing in the unit imports this module by itself.

Set by environment variables, since the daemon runs in its own process:

- ``DESKUNIT_BENCH_LCD``: ``present`` (default) or ``absent`` (nothing answers at the address);
- ``DESKUNIT_BENCH_LCD_FAULTS``: comma-separated ``fail@N`` (write N fails) and ``power@N`` (a
  supply dip just before write N), N counted from the bus's first write;
- ``DESKUNIT_BENCH_LCD_DUMP``: a file that always holds the glass as a person would read it (rows,
  one a line), rewritten within 0.1 s of a change.

    >>> bus = open_bus(1)     # doctest: +SKIP
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from hwsim.hd44780 import HD44780, FakeSMBus

ADDRESS = 0x27
DUMP_EVERY_S = 0.1


def open_bus(port: int) -> FakeSMBus:
    bus = FakeSMBus(port)
    if os.environ.get("DESKUNIT_BENCH_LCD", "present") == "absent":
        return bus
    lcd = HD44780(cols=20, rows=4, rom="cyrillic")
    bus.attach(ADDRESS, lcd)
    for item in filter(None, os.environ.get("DESKUNIT_BENCH_LCD_FAULTS", "").split(",")):
        kind, _, index = item.partition("@")
        bus.at_write(int(index), {"fail": lambda: bus.fail_next(1), "power": lcd.power_cycle}[kind])
    dump = os.environ.get("DESKUNIT_BENCH_LCD_DUMP")
    if dump:
        threading.Thread(target=_dump, args=(lcd, bus, Path(dump)), name="bench-lcd-dump", daemon=True).start()
    return bus


def _dump(lcd: HD44780, bus: FakeSMBus, path: Path) -> None:
    shown = None
    stop = threading.Event()
    while not stop.wait(DUMP_EVERY_S):
        text = "\n".join(lcd.rows()) + f"\n# writes={bus.writes} failed={bus.failed_writes}\n"
        if text != shown:
            tmp = path.with_suffix(".tmp")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
            shown = text
