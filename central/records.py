"""Call records beyond their JSON Schema (docs/record.md).

The shape of a record (keys, types, enums) is checked against ``CallRecord`` in
``central/openapi.yaml``; this module holds only what a schema cannot say: timestamps that carry an
offset and lie in a sane range, an end not before the start, the canonical id, and the R11 deadline.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from firmware.deadline import ForwardRule, forward_deadline
from firmware.exc import DeskunitError

# Far enough either way for any real call; a year-9999 timestamp would overflow date arithmetic.
FIRST_YEAR, LAST_YEAR = 2000, 2199


class RecordError(DeskunitError, ValueError):
    """A record that does not make sense; `field` is a dotted path such as ``appeal.forward_due``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def canonical_json(value: Any) -> str:
    """The one text form of a JSON value, so that equal bodies compare equal as strings."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def parse_timestamp(field: str, value: Any) -> datetime:
    """An ISO 8601 timestamp that carries its UTC offset (a naive time is ambiguous on a unit)."""
    if not isinstance(value, str):
        raise RecordError(field, "must be an ISO 8601 string with offset")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise RecordError(field, "not an ISO 8601 timestamp") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise RecordError(field, "timestamp must carry a UTC offset")
    if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        raise RecordError(field, f"must lie in the years {FIRST_YEAR}-{LAST_YEAR}")
    return parsed


def check_record(record: dict[str, Any]) -> dict[str, Any]:
    """Check what the schema cannot; returns the record with ``id`` in canonical lower-case form."""
    started = parse_timestamp("started_at", record["started_at"])
    ended = parse_timestamp("ended_at", record["ended_at"])
    if ended < started:
        raise RecordError("ended_at", "is before started_at")
    appeal = record.get("appeal")
    if appeal and appeal.get("forward_due") is not None:
        # R11, the same rule as the unit's: kept as sent, but never before the call, nor later than
        # the rule allows
        problem = ForwardRule().check(started, parse_timestamp("appeal.forward_due", appeal["forward_due"]))
        if problem:
            raise RecordError("appeal.forward_due", problem)
    if appeal and appeal.get("forward_to") is not None and not appeal["forward_to"].strip():
        raise RecordError("appeal.forward_to", "must name a court body or be null")
    record_id = str(uuid.UUID(record["id"]))
    return record if record_id == record["id"] else {**record, "id": record_id}


def local_due(record: Mapping[str, Any]) -> tuple[date, datetime]:
    """R11: when an appeal forwarded elsewhere is due.

    Returns the call's local date and the instant the deadline passes, as the unit counts it
    (`firmware.deadline`): the appeal's own ``forward_due`` (the cut-off of the day it was registered,
    or of the next working day) when it has one, else the midnight after the call's date in the
    record's own offset.
    """
    ended = datetime.fromisoformat(record["ended_at"])
    deadline = forward_deadline(record["ended_at"], (record.get("appeal") or {}).get("forward_due"))
    assert deadline is not None  # check_record has parsed both timestamps
    return ended.date(), deadline
