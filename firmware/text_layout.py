"""Interim line wrapping for the screens; replaced by firmware.lcd.layout when it lands."""

from __future__ import annotations

import textwrap


def wrap(text: str, cols: int) -> list[str]:
    lines: list[str] = []
    for para in text.split("\n"):
        lines.extend(textwrap.wrap(para, cols, break_on_hyphens=False) or [""])
    return lines
