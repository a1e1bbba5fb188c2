"""The unit's LCD on simulated hardware: the real adapter and RPLCD writing to an HD44780 emulator.

RPLCD waits with real sleeps (``RPLCD.common.usleep``/``msleep``: ~0.1 ms per nibble, 2 ms per
clear) because a real controller needs settling time.  The emulator needs none, so with
``fast=True`` those two functions are swapped for no-ops while any fast simulated display is open;
the originals come back when the last one is closed.  Real hardware never goes through here.

>>> from hwsim.lcd import simulated_display
>>> from firmware.lcd import encode_screen
>>> display, lcd, bus = simulated_display(16, 2, "cyrillic")
>>> display.show(encode_screen(["Їжак"], "cyrillic", cols=16, height=2))
>>> lcd.rows()[0]
'Їжaк            '
>>> display.close()
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from hal.lcd import RplcdDisplay
from hwsim.hd44780 import HD44780, FakeSMBus

_lock = threading.Lock()
_fast_users = 0
_originals: tuple[Callable[[float], None], Callable[[float], None]] | None = None


def _no_sleep(_: float) -> None:
    return None


def skip_rplcd_delays() -> Callable[[], None]:
    """Make RPLCD's delays no-ops until the returned release function is called (reference counted)."""
    global _fast_users, _originals
    from RPLCD import common

    with _lock:
        if _fast_users == 0:
            _originals = (common.usleep, common.msleep)
            common.usleep = common.msleep = _no_sleep
        _fast_users += 1
    released = False

    def release() -> None:
        global _fast_users, _originals
        nonlocal released
        with _lock:
            if released:
                return
            released = True
            _fast_users -= 1
            if _fast_users == 0 and _originals is not None:
                common.usleep, common.msleep = _originals
                _originals = None

    return release


def simulated_display(
    cols: int = 20,
    rows: int = 4,
    rom: str = "cyrillic",
    fast: bool = True,
    address: int = 0x27,
) -> tuple[RplcdDisplay, HD44780, FakeSMBus]:
    """A ready ``RplcdDisplay`` on a fake bus with an ``HD44780`` at ``address``.

    ``rom`` is a property of the glass, not of the driver: it goes to the emulator, whose ``rows()``
    decodes with it.  Close the display to release
    the bus and, with ``fast``, RPLCD's delays.
    """
    lcd = HD44780(cols=cols, rows=rows, rom=rom)
    bus = FakeSMBus()
    bus.attach(address, lcd)
    if fast:
        bus.on_close(skip_rplcd_delays())
    try:
        display = RplcdDisplay(cols=cols, rows=rows, address=address, bus_factory=lambda port: bus)
    except BaseException:
        bus.close()
        raise
    return display, lcd, bus
