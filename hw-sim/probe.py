"""The simulator's answers when the technician's console looks at the hardware.

:class:`SimProbe` reads the emulated HD44780's memory and the mock pins back, so the console's
``lcd`` and ``selftest`` check what really reached the (fake) silicon. It is the simulator's
``deskunit.console_backend.HardwareProbe``.
"""

from __future__ import annotations

from typing import Any

from firmware.console import Status


class SimProbe:
    """The LCD read back from the controller, the LEDs from their pins, the line from its mode."""

    audio_check_blocks = False

    def __init__(self, sim: Any) -> None:
        self.sim = sim  # a hwsim.unit.SimUnit

    def lcd_rows(self) -> list[str]:
        return list(self.sim.lcd_rows())

    def lcd_readback(self) -> list[str] | None:
        return list(self.sim.lcd_rows())

    def led_colour(self, name: str) -> str:
        return str(self.sim.board.led_colour(name))

    def check_audio(self) -> tuple[str, str]:
        return Status.PASS, f"simulated line (mode {self.sim.line.mode})"
