"""The operator's shift outlives a restart: who is signed in is kept in the journal.

A power cut or a crash between calls must not sign the operator out: the README promises that a power
cut loses at most the key in flight, and an operator who has to sign in again after every blip meets
the next call with nobody signed in.  So signing in writes the journal draft :data:`SHIFT_DRAFT` (the
operator's number and when the shift began; no name, no PIN) and ending the shift clears it
(:func:`end_shift`).  At
start-up :func:`firmware.call.recovery.restore_shift` signs that operator in again, unless

- the shift is over by the clock: it began more than :data:`SHIFT_MAX_S` ago (a unit switched off
  for the night comes back to another shift, maybe another operator), or the clock is behind it;
- the number has left the roster (a pushed config while the unit was down).

Pure logic on the loop's thread, like the rest of :mod:`firmware.call`; :func:`shift_over` says why a
kept shift is over by the clock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from firmware.journal import Journal

SHIFT_DRAFT = "shift"
#: The longest shift: one that began longer ago than this is over, whoever signs in next.
SHIFT_MAX_S = 12 * 3600.0


def keep_shift(journal: Journal, number: int, since: datetime) -> None:
    """Record that operator ``number`` has been signed in since ``since``."""
    journal.put_draft(SHIFT_DRAFT, {"operator": number, "since": since.isoformat()})


def end_shift(journal: Journal) -> None:
    """Record that nobody is signed in."""
    journal.put_draft(SHIFT_DRAFT, None)


def kept_shift(data: Any) -> tuple[int, datetime]:
    """(operator number, start) of a shift draft; ValueError if it cannot be read as one."""
    try:
        return int(data["operator"]), datetime.fromisoformat(str(data["since"]))
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(type(e).__name__) from None


def shift_over(since: datetime, now: datetime) -> str | None:
    """Why a shift begun at ``since`` is over at ``now``, or None when it goes on (TypeError if only one
    of them has a time zone)."""
    age = (now - since).total_seconds()
    if not 0.0 <= age <= SHIFT_MAX_S:
        return f"the shift began {age / 3600.0:.1f} h ago"
    return None
