"""Durations as people read them on the LCD, the console and the service status.

    >>> mmss(75.9)
    '01:15'
    >>> remaining(0.2)
    '0:01'
"""

from __future__ import annotations


def mmss(seconds: float) -> str:
    """Whole minutes and seconds, ``MM:SS`` (minutes grow past 99 rather than wrap)."""
    s = int(seconds)
    return f"{s // 60:02d}:{s % 60:02d}"


def remaining(seconds: float) -> str:
    """Time left as ``M:SS``, rounded up: a lock with 0.2 s to go still says 0:01, never 0:00."""
    s = max(0, int(seconds + 0.999))
    return f"{s // 60}:{s % 60:02d}"
