"""The sync's decisions as plain functions of plain values: retry delays and the SYNC LED.

Nothing here does I/O or keeps a thread: the worker's loop side calls these with what it knows.

    >>> sync_led(pending=2, push_failures=0, red_after_failures=3, auth_error=False, parked=0,
    ...          deadline_at_risk=False)
    <Colour.AMBER: 'amber'>
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from typing import Any

from firmware.vocabulary import Colour


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


def sync_led(*, pending: int, push_failures: int, red_after_failures: int, auth_error: bool, parked: int,
             deadline_at_risk: bool) -> Colour:
    """The SYNC LED's colour: red when the token or certificate is refused, a record is parked, a
    same-day forward is at risk, or pending records met ``red_after_failures`` failed pushes in a row;
    amber while records are pending; green when all are synced."""
    if auth_error or parked or deadline_at_risk or (pending and push_failures >= red_after_failures):
        return Colour.RED
    return Colour.AMBER if pending else Colour.GREEN


@dataclass(frozen=True)
class SyncState:
    """What the sync last knew, as the loop published it (immutable: any thread may read it)."""

    led: Colour = Colour.GREEN
    pending: int = 0
    last_ok: str | None = None
    last_error: str | None = None
    deadline_at_risk: bool = False
    parked: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
