"""The sync's decisions as plain functions of plain values: retry delays, R11 deadlines, the LED.

Nothing here does I/O or keeps a thread: the worker's loop side calls these with what it knows.

    >>> sync_led(pending=2, push_failures=0, red_after_failures=3, auth_error=False, parked=0,
    ...          deadline_at_risk=False)
    'amber'
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from datetime import time as dtime
from typing import Any


@dataclass
class Backoff:
    """Capped exponential backoff with jitter: the n-th retry waits a uniform draw from
    ``[base, min(cap, base * 2**(n-1))]``. The floor keeps a burst of failures from turning the LED
    red within a second; the spread keeps a fleet from retrying in step after an outage.

        >>> b = Backoff(base_s=2.0, cap_s=300.0, rng=random.Random(1))
        >>> [round(b.delay(n)) for n in (1, 2, 12)]
        [2, 4, 230]
    """

    base_s: float = 2.0
    cap_s: float = 300.0
    rng: random.Random = field(default_factory=random.Random)

    def ceiling(self, failures: int) -> float:
        return min(self.cap_s, self.base_s * 2 ** min(max(failures, 1) - 1, 32))

    def delay(self, failures: int) -> float:
        return self.rng.uniform(self.base_s, self.ceiling(failures))


def forward_deadline(ended_at: str | None, forward_due: str | None = None) -> datetime | None:
    """R11: the appeal's own ``forward_due`` (the unit's configured same-day cut-off) when it has one,
    else midnight after the call's local date (the record's own offset, as the server counts it)."""
    if forward_due:
        try:
            due = datetime.fromisoformat(forward_due)
            if due.tzinfo is not None:
                return due
        except ValueError:
            pass
    try:
        ended = datetime.fromisoformat(ended_at)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if ended.tzinfo is None:
        return None
    return datetime.combine(ended.date() + timedelta(days=1), dtime(0), tzinfo=ended.tzinfo)


def sync_led(*, pending: int, push_failures: int, red_after_failures: int, auth_error: bool, parked: int,
             deadline_at_risk: bool) -> str:
    """The SYNC LED's colour: red when the token or certificate is refused, a record is parked, a
    same-day forward is at risk, or pending records met ``red_after_failures`` failed pushes in a row;
    amber while records are pending; green when all are synced."""
    if auth_error or parked or deadline_at_risk or (pending and push_failures >= red_after_failures):
        return "red"
    return "amber" if pending else "green"


@dataclass(frozen=True)
class SyncState:
    """What the sync last knew, as the loop published it (immutable: any thread may read it)."""

    led: str = "green"
    pending: int = 0
    last_ok: str | None = None
    last_error: str | None = None
    deadline_at_risk: bool = False
    parked: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
