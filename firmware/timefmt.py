"""Durations as people read them on the LCD, the console and the service status.

    >>> mmss(75.9)
    '01:15'
"""

from __future__ import annotations


def mmss(seconds: float) -> str:
    """Whole minutes and seconds, ``MM:SS`` (minutes grow past 99 rather than wrap)."""
    s = int(seconds)
    return f"{s // 60:02d}:{s % 60:02d}"
