"""Who may sign in at the desk: the roster from the config (and the central server), PINs kept hashed."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
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
