"""R11: an appeal outside the center's competence is forwarded to its court body the same working day.

One rule, used by the unit (which stamps ``forward_due`` on the appeal when it is saved), its sync
(which blinks the SYNC LED red while an unsent forward is near its deadline) and the central server
(which stores the unit's due time, checks it against the same rule and lists forwards by it).

The due time is the configured cut-off on the day the appeal is registered when that is a working
day and the cut-off is still ahead; otherwise the cut-off of the next working day. It is never in
the past. Days are counted in the time zone of the moment given (the unit's local zone).

    >>> rule = ForwardRule(time(17, 0))
    >>> rule.due(datetime(2026, 11, 23, 9, 30, tzinfo=KYIV)).isoformat()   # a Monday morning
    '2026-11-23T17:00:00+02:00'
    >>> rule.due(datetime(2026, 11, 27, 23, 59, 23, tzinfo=KYIV)).isoformat()   # Friday night
    '2026-11-30T17:00:00+02:00'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

#: Day names as the config spells them, Monday first (``datetime.weekday()`` order).
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_WORKING_DAYS = frozenset(range(5))
#: A forward still unsent this long before its due time is at risk (SYNC blinks red, the idle screen says so).
DEFAULT_WARN_S = 1800.0


@dataclass(frozen=True)
class ForwardRule:
    """R11's deadline: ``cutoff`` on working days (``working_days``: weekday numbers, Monday 0)."""

    cutoff: time = time(17, 0)
    working_days: frozenset[int] = field(default=DEFAULT_WORKING_DAYS)
    warn_s: float = DEFAULT_WARN_S

    @classmethod
    def from_config(cls, appeal: Mapping[str, Any]) -> ForwardRule:
        """From the config's ``[appeal]`` table (``forward_cutoff``, ``working_days``, ``forward_warn_min``)."""
        hh, mm = str(appeal.get("forward_cutoff", "17:00")).split(":")
        days = appeal.get("working_days")
        return cls(time(int(hh), int(mm)),
                   working_days(days) if days is not None else DEFAULT_WORKING_DAYS,
                   float(appeal.get("forward_warn_min", DEFAULT_WARN_S / 60)) * 60)

    def due(self, registered: datetime) -> datetime:
        """When an appeal registered at ``registered`` (aware) must have been forwarded; never before it."""
        tz = registered.tzinfo
        day = registered.date()
        for _ in range(8):
            if day.weekday() in self.working_days:
                due = datetime.combine(day, self.cutoff, tzinfo=tz)
                if due > registered:
                    return due
            day += timedelta(days=1)
        # no working day at all: the same day would have been the rule; never a time already past
        return max(datetime.combine(registered.date(), self.cutoff, tzinfo=tz), registered)

    def check(self, registered: datetime, due: datetime) -> str | None:
        """Why ``due`` cannot be the deadline of an appeal registered at ``registered``, or None.

        The server keeps the unit's due time (the unit knew its own working days when it saved the
        appeal) but refuses one in the past or later than this rule allows."""
        if due.tzinfo is None:
            return "needs a UTC offset"
        if due < registered:
            return f"is before the appeal was registered ({registered.isoformat(timespec='minutes')})"
        latest = self.due(registered + timedelta(days=7))
        if due > latest:
            return f"is later than the rule allows ({latest.isoformat(timespec='minutes')})"
        return None

    def at_risk(self, now: datetime, due: datetime) -> bool:
        """Whether a forward not yet sent at ``now`` is within :attr:`warn_s` of its due time (or past it)."""
        return now >= due - timedelta(seconds=self.warn_s)


def working_days(names: Iterable[str]) -> frozenset[int]:
    """``["mon", "tue", ...]`` as weekday numbers; raises ValueError naming an unknown day."""
    out = set()
    for name in names:
        key = str(name).strip().lower()[:3]
        if key not in DAY_NAMES:
            raise ValueError(f"unknown day {name!r} (use {', '.join(DAY_NAMES)})")
        out.add(DAY_NAMES.index(key))
    return frozenset(out)


def day_end(ended: datetime) -> datetime:
    """Midnight after ``ended``'s own local date, in its own offset (old records without ``forward_due``)."""
    return datetime.combine(ended.date() + timedelta(days=1), time(0), tzinfo=ended.tzinfo)


def forward_deadline(ended_at: str | None, due: str | None = None) -> datetime | None:
    """A record's deadline: the appeal's own ``forward_due`` when it has one (aware), else the end of
    the day the call ended; None when neither can be read."""
    if due:
        try:
            parsed = datetime.fromisoformat(due)
            if parsed.tzinfo is not None:
                return parsed
        except ValueError:
            pass
    try:
        ended = datetime.fromisoformat(ended_at)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if ended.tzinfo is None:
        return None
    return day_end(ended)
