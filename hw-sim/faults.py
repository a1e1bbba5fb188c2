"""Faults the simulator can inject, as a scenario's ``fault`` step, ``run --sim`` or the panel ask.

``lcd_bus[:N]``: the next N I2C writes to the LCD fail (a loose wire); ``lcd_power``: the LCD module's
supply dips (controller reset, garbage DDRAM, deaf until initialised again); ``audio_unplug`` /
``audio_replug``: the USB audio interface disappears / comes back. Power cuts of the whole unit are
:meth:`hwsim.unit.SimUnit.power_cut` and ``power_on``.

    >>> parse_fault("lcd_bus:3")
    ('lcd_bus', 3)
"""

from __future__ import annotations

from typing import Any

FAULTS = ("lcd_bus", "lcd_power", "audio_unplug", "audio_replug")
POWER_STEPS = ("cut", "on")


def parse_fault(spec: Any) -> tuple[str, int]:
    """``"lcd_bus:3"`` -> ("lcd_bus", 3); raises ValueError naming what is wrong."""
    if not isinstance(spec, str):
        raise ValueError(f"must be text, one of {', '.join(FAULTS)} (got {spec!r})")
    kind, _, count = spec.partition(":")
    if kind not in FAULTS:
        raise ValueError(f"unknown fault {spec!r}: use one of lcd_bus[:N], lcd_power, audio_unplug, audio_replug")
    if not count:
        return kind, 1
    if kind != "lcd_bus" or not count.isdigit() or not 1 <= int(count) <= 10000:
        raise ValueError(f"{spec!r}: only lcd_bus takes a count, a whole number 1-10000")
    return kind, int(count)


def inject(sim: Any, spec: str) -> None:
    """Apply fault ``spec`` to a :class:`hwsim.unit.SimUnit`."""
    kind, count = parse_fault(spec)
    if kind == "lcd_bus":
        sim.bus.fail_next(count)
    elif kind == "lcd_power":
        sim.lcd.power_cycle()
    else:
        sim.audio_plugged = kind == "audio_replug"
