"""Who may sign in at the desk: the roster from the config (and the central server), PINs kept hashed,
and the lockout after wrong keypad PINs (:class:`PinLockout`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from firmware.pin_hash import verify_pin
from firmware.vocabulary import OperatorCheck

log = logging.getLogger(__name__)


def find_operator(roster: Iterable[Mapping[str, Any]], number: int) -> Mapping[str, Any] | None:
    return next((op for op in roster if op.get("number") == number), None)


def operator_name(roster: Iterable[Mapping[str, Any]], number: int) -> str | None:
    """The roster's name for operator ``number``, or None when the roster does not know them."""
    entry = find_operator(roster, number)
    return None if entry is None else str(entry["name"])


def check_operator(roster: Iterable[Mapping[str, Any]], number: int, pin: str | None) -> OperatorCheck:
    """Whether operator ``number`` may sign in with ``pin`` (None: not asked for yet)."""
    entry = find_operator(roster, number)
    if entry is None:
        return OperatorCheck.UNKNOWN
    stored = entry.get("pin_hash", "")
    if stored and pin is None:
        return OperatorCheck.PIN
    if stored and not verify_pin(pin or "", stored):
        log.warning("wrong PIN for operator %s", number)
        return OperatorCheck.BAD_PIN
    return OperatorCheck.OK


#: Wrong keypad PINs in a row for one operator number before sign-in as that number waits.
MAX_PIN_FAILURES = 5
#: How long it waits, in seconds of the unit's clock.
PIN_LOCK_S = 300.0


class PinLockout:
    """Wrong PINs per operator number: :data:`MAX_PIN_FAILURES` in a row lock that number for
    :data:`PIN_LOCK_S` (a four-digit PIN would otherwise fall to someone at the keypad in an evening).

        >>> guard = PinLockout(clock.monotonic)
        >>> guard.failed(7)   # True once that failure locked the number
        False
    """

    def __init__(self, monotonic: Callable[[], float], max_failures: int = MAX_PIN_FAILURES,
                 lock_s: float = PIN_LOCK_S) -> None:
        self._monotonic = monotonic
        self.max_failures = max_failures
        self.lock_s = lock_s
        self._failures: dict[int, int] = {}
        self._until: dict[int, float] = {}

    def locked_for(self, number: int) -> float:
        """Seconds until ``number`` may try again (0: now)."""
        left = self._until.get(number, 0.0) - self._monotonic()
        if left <= 0:
            self._until.pop(number, None)
            return 0.0
        return left

    def failed(self, number: int) -> bool:
        self._failures[number] = self._failures.get(number, 0) + 1
        if self._failures[number] < self.max_failures:
            return False
        self._failures.pop(number)
        self._until[number] = self._monotonic() + self.lock_s
        log.warning("operator %s: %d wrong PINs, sign-in locked for %.0f s", number, self.max_failures, self.lock_s)
        return True

    def succeeded(self, number: int) -> None:
        self._failures.pop(number, None)
