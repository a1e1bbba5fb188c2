"""Fault injection for tests: ways the network and the server fail, as a unit sees them.

Kept apart from the product logic: the server only consults a `Faults` object when it was given one,
once per request, and gets back a `FaultPlan` saying what to do to that request. Each armed fault
fires for the next N matching requests (``n=None``: until cleared); ``only`` restricts it to paths
starting with a prefix, so that e.g. a clock query does not use up a fault meant for a record post.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

RECORDS_PATH = "/api/v1/records"


@dataclass(frozen=True)
class FaultPlan:
    """What to do to one request. ``fail_status`` answers before any work is done; the others apply
    to the response after the request was handled (so a record is stored in those cases)."""

    delay_s: float = 0.0
    fail_status: int | None = None
    malformed: bool = False
    truncate: bool = False
    drop: bool = False

    @property
    def clean(self) -> bool:
        return self == FaultPlan()


@dataclass
class _Armed:
    remaining: int | None
    only: str | None
    value: float | int | bool = True

    def matches(self, path: str) -> bool:
        return self.only is None or path.startswith(self.only)


@dataclass
class FaultCounts:
    """How many times each fault fired, for tests that want to be sure the fault was exercised."""

    failed: int = 0
    delayed: int = 0
    malformed: int = 0
    truncated: int = 0
    dropped: int = 0
    refused_periods: int = 0


class Faults:
    """Thread-safe set of armed faults that a `CentralServer` consults per request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: dict[str, list[_Armed]] = {}
        self._down = False
        self._listeners: list[Callable[[bool], None]] = []
        self.counts = FaultCounts()

    # --- arming ----------------------------------------------------------------------------------
    def _arm(self, kind: str, n: int | None, only: str | None, value: float | int | bool = True) -> None:
        if n is not None and n < 1:
            raise ValueError("n must be at least 1 (or None for 'until cleared')")
        with self._lock:
            self._armed.setdefault(kind, []).append(_Armed(n, only, value))

    def fail_next(self, n: int | None = 1, status: int = 503, only: str | None = None) -> None:
        """Answer the next N requests with a 5xx error and do nothing else (nothing is stored)."""
        if not 500 <= status <= 599:
            raise ValueError("fail_next is for 5xx statuses")
        self._arm("fail", n, only, status)

    def delay(self, seconds: float, n: int | None = None, only: str | None = None) -> None:
        """Hold the response of the next N requests (default: all, until cleared) for `seconds`.

        The request is handled first, so a client that gives up waiting has still had its record stored.
        """
        self._arm("delay", n, only, float(seconds))

    def malformed_next(self, n: int | None = 1, only: str | None = None) -> None:
        """Handle the request, then answer with a body that is not valid JSON (correct length)."""
        self._arm("malformed", n, only)

    def truncate_next(self, n: int | None = 1, only: str | None = None) -> None:
        """Handle the request, then send a Content-Length larger than the body sent, and close."""
        self._arm("truncate", n, only)

    def drop_after_store_next(self, n: int | None = 1, only: str | None = RECORDS_PATH) -> None:
        """Handle the request (the record is stored), then close the connection without any response."""
        self._arm("drop", n, only)

    def clear(self) -> None:
        """Disarm every per-request fault (a "down" server stays down until `up()`)."""
        with self._lock:
            self._armed.clear()

    # --- the server going away -------------------------------------------------------------------
    def down(self) -> None:
        """Stop listening: new connections are refused and open ones are closed."""
        self._set_down(True)

    def up(self) -> None:
        """Listen again on the same port."""
        self._set_down(False)

    @property
    def is_down(self) -> bool:
        with self._lock:
            return self._down

    def _set_down(self, down: bool) -> None:
        with self._lock:
            changed = self._down != down
            self._down = down
            listeners = list(self._listeners)
            if changed and down:
                self.counts.refused_periods += 1
        if changed:
            for listener in listeners:
                listener(down)

    def subscribe(self, listener: Callable[[bool], None]) -> None:
        """Called by the server: `listener(down)` runs whenever the server should go down or come up."""
        with self._lock:
            self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[bool], None]) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    # --- consulted by the server -----------------------------------------------------------------
    def _take(self, kind: str, path: str) -> _Armed | None:
        for armed in self._armed.get(kind, []):
            if armed.matches(path):
                if armed.remaining is not None:
                    armed.remaining -= 1
                    if armed.remaining == 0:
                        self._armed[kind].remove(armed)
                return armed
        return None

    def plan(self, path: str) -> FaultPlan:
        """Decide (and use up) the faults for one request to `path`."""
        with self._lock:
            if not self._armed:
                return FaultPlan()
            fail = self._take("fail", path)
            if fail is not None:
                self.counts.failed += 1
                return FaultPlan(fail_status=int(fail.value))
            delay = self._take("delay", path)
            drop = self._take("drop", path) is not None
            truncate = not drop and self._take("truncate", path) is not None
            malformed = not (drop or truncate) and self._take("malformed", path) is not None
            self.counts.delayed += delay is not None
            self.counts.dropped += drop
            self.counts.truncated += truncate
            self.counts.malformed += malformed
            return FaultPlan(
                delay_s=float(delay.value) if delay else 0.0,
                malformed=malformed,
                truncate=truncate,
                drop=drop,
            )
