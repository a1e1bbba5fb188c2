"""R11: an appeal outside the center's competence is forwarded to its court body the same day.

One definition of the deadline for the unit (which stamps ``forward_due`` on the appeal), its sync
(which turns the SYNC LED red when a deadline is at risk) and the central server (which lists
forwards by due time).

    >>> forward_due(datetime(2026, 11, 23, 9, 30, tzinfo=KYIV), time(17, 0)).isoformat()
    '2026-11-23T17:00:00+02:00'
"""

from __future__ import annotations

from datetime import datetime, time, timedelta


def forward_due(now: datetime, cutoff: time) -> datetime:
    """The same day by the configured cut-off, or the end of the day (23:59) when registered later."""
    due = now.replace(hour=cutoff.hour, minute=cutoff.minute, second=0, microsecond=0)
    if now >= due:
        due = now.replace(hour=23, minute=59, second=0, microsecond=0)
    return due


def day_end(ended: datetime) -> datetime:
    """Midnight after ``ended``'s own local date, in its own offset: when "the same day" is over."""
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
