"""The unit's LCD on simulated hardware: the real adapter and RPLCD writing to an HD44780 emulator.

RPLCD waits with real sleeps (~0.1 ms per nibble, 2 ms per clear) because a real controller needs
settling time. The emulator needs none, so with ``fast=True`` the display is given
:meth:`hal.lcd.LcdTiming.none`: RPLCD's own code runs without waiting, for this display only.
Real hardware never goes through here.

>>> from hwsim.lcd import simulated_display
>>> from firmware.lcd import encode_screen
>>> display, lcd, bus = simulated_display(16, 2, "cyrillic")
>>> display.show(encode_screen(["Їжак"], "cyrillic", cols=16, height=2))
>>> lcd.rows()[0]
'Їжaк            '
>>> display.close()
"""

from __future__ import annotations

from hal.lcd import LcdTiming, RplcdDisplay
from hwsim.hd44780 import HD44780, FakeSMBus


def simulated_display(
    cols: int = 20,
    rows: int = 4,
    rom: str = "cyrillic",
    fast: bool = True,
    address: int = 0x27,
) -> tuple[RplcdDisplay, HD44780, FakeSMBus]:
    """A ready ``RplcdDisplay`` on a fake bus with an ``HD44780`` at ``address``.

    ``rom`` is a property of the glass, not of the driver: it goes to the emulator, whose ``rows()``
    decodes with it. ``fast``: RPLCD does not wait for the (emulated) controller. Close the display
    to release the bus.
    """
    lcd = HD44780(cols=cols, rows=rows, rom=rom)
    bus = FakeSMBus()
    bus.attach(address, lcd)
    try:
        display = RplcdDisplay(cols=cols, rows=rows, address=address, bus_factory=lambda port: bus,
                               timing=LcdTiming.none() if fast else None)
    except BaseException:
        bus.close()
        raise
    return display, lcd, bus
