"""R2: which greeting fits the time of day, with configurable boundaries.

    >>> part_of_day(time(9, 15), Boundaries.from_config({"morning": "05:00", "day": "12:00",
    ...                                                   "evening": "18:00"}))
    <Greeting.MORNING: 'morning'>

An untrusted clock gets the neutral greeting: better no time-of-day than a wrong one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time

from firmware.vocabulary import Greeting


def hhmm(text: str) -> time:
    """``"HH:MM"`` (validated by the config) as a time of day."""
    h, m = text.split(":")
    return time(int(h), int(m))


@dataclass(frozen=True)
class Boundaries:
    """Local times at which morning, day and evening begin (evening runs past midnight)."""

    morning: time
    day: time
    evening: time

    @classmethod
    def from_config(cls, section: Mapping[str, str]) -> Boundaries:
        return cls(hhmm(section["morning"]), hhmm(section["day"]), hhmm(section["evening"]))


def part_of_day(now: time, bounds: Boundaries) -> Greeting:
    if bounds.morning <= now < bounds.day:
        return Greeting.MORNING
    if bounds.day <= now < bounds.evening:
        return Greeting.DAY
    return Greeting.EVENING


def greeting_for(now: time, bounds: Boundaries, clock_trusted: bool) -> Greeting:
    """The greeting key: morning, day, evening, or neutral when the clock cannot be believed."""
    return part_of_day(now, bounds) if clock_trusted else Greeting.NEUTRAL
