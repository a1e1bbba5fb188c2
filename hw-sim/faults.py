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


def command(sim: Any, text: Any) -> str:
    """A fault or a power step asked for by a person (``run --sim``'s ``fault``/``power`` lines, the
    browser panel): ``lcd_bus:3``, ``lcd_power``, ``audio_unplug``, ``audio_replug``, ``power:cut``,
    ``power:on``. Raises ValueError naming what is wrong; returns what was done."""
    if not isinstance(text, str):
        raise ValueError('"fault" must be a string')
    if text.startswith("power:"):
        step = text.partition(":")[2]
        if step not in POWER_STEPS:
            raise ValueError(f"power must be power:cut or power:on (got {text!r})")
        sim.power_cut() if step == "cut" else sim.power_on()  # from this thread: a cut stops the loop
        return f"power {step}"
    parse_fault(text)
    if sim.powered:
        sim.loop.call_soon(inject, sim, text)  # on the loop's thread, between two bus transfers
    else:
        inject(sim, text)
    return f"fault {text}"
