"""The core's view of the LCD: rows of text in, an encoded frame out to the hardware display.

The LCD driver (hal.lcd.RplcdDisplay) only rewrites cells that changed, so redrawing the same text
costs nothing on the bus; this layer also skips encoding when the text did not change.
"""

from __future__ import annotations

from typing import Any, Protocol

from firmware.lcd.codec import encode_screen


class TextDisplay(Protocol):
    """What the core needs of the LCD: its size, and showing rows of text."""

    cols: int
    rows: int

    def show(self, rows: list[str]) -> None: ...


class FrameDisplay(Protocol):
    def show(self, frame: Any) -> None: ...


class LcdScreen:
    """Implements :class:`TextDisplay` over a frame display for a given size and character ROM.

    ``text`` is what was last sent to the glass (the console's ``lcd`` command reads it).
    """

    def __init__(self, frame_display: FrameDisplay, cols: int, rows: int, rom: str) -> None:
        self.frame_display = frame_display
        self.cols, self.rows, self.rom = cols, rows, rom
        self.text: list[str] = [""] * rows

    def show(self, rows: list[str]) -> None:
        if rows == self.text:
            return
        self.frame_display.show(encode_screen(rows, self.rom, self.cols))
        self.text = list(rows)


def parse_size(size: str) -> tuple[int, int]:
    cols, rows = size.lower().split("x")
    return int(cols), int(rows)
