"""Polling for a condition that another thread or process brings about, for tests on the real clock."""
from __future__ import annotations

import time
from collections.abc import Callable


def until(cond: Callable[[], object], timeout: float, interval: float = 0.01) -> bool:
    """True as soon as `cond()` is true, False once `timeout` seconds have passed without it."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(interval)
    return False
