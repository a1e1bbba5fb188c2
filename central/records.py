"""Validation of call records as the units send them (docs/record.md).

The server checks the shape a unit promises; it does not second-guess the content. Unknown keys are
kept (a newer unit may send more than this server knows), known keys must have the documented types.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from firmware.deadline import day_end
from firmware.vocabulary import AppealKind, Greeting, Outcome, SendVia, Verdict

GREETINGS: tuple[str, ...] = tuple(Greeting)
OUTCOMES: tuple[str, ...] = tuple(Outcome)
LINE_VERDICTS: tuple[str, ...] = tuple(Verdict)
APPEAL_KINDS: tuple[str, ...] = tuple(AppealKind)
SEND_INFO_VIA: tuple[str, ...] = tuple(SendVia)


class RecordError(ValueError):
    """A record that does not match the schema; `field` is a dotted path such as ``appeal.kind``."""

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
        raise RecordError(field, f"not an ISO 8601 timestamp: {value!r}") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise RecordError(field, "timestamp must carry a UTC offset")
    return parsed


def _optional_str(obj: Mapping[str, Any], key: str, prefix: str) -> None:
    if key in obj and obj[key] is not None and not isinstance(obj[key], str):
        raise RecordError(prefix + key, "must be a string or null")


def _choice(obj: Mapping[str, Any], key: str, prefix: str, choices: tuple[str, ...], nullable: bool) -> None:
    if key not in obj or (nullable and obj[key] is None):
        return
    if obj[key] not in choices:
        raise RecordError(prefix + key, f"must be one of {', '.join(choices)}")


def _number(obj: Mapping[str, Any], key: str, prefix: str, nullable: bool = False) -> None:
    if key not in obj or (nullable and obj[key] is None):
        return
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise RecordError(prefix + key, "must be a non-negative number")


def _nonempty_str(obj: Mapping[str, Any], key: str, prefix: str) -> None:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        raise RecordError(prefix + key, "required, a non-empty string")


def validate_appeal(appeal: Any) -> None:
    """An appeal (R9): who, where, what, which kind, and a way to reach the caller."""
    prefix = "appeal."
    if not isinstance(appeal, dict):
        raise RecordError("appeal", "must be an object or null")
    for key in ("full_name", "residence", "essence"):
        _nonempty_str(appeal, key, prefix)
    if appeal.get("kind") not in APPEAL_KINDS:
        raise RecordError(prefix + "kind", f"required, one of {', '.join(APPEAL_KINDS)}")
    for key in ("phone", "email", "forward_to", "accessible_office"):
        _optional_str(appeal, key, prefix)
    if not (appeal.get("phone") or appeal.get("email")):
        raise RecordError(prefix + "phone", "a phone or an e-mail is required")
    _choice(appeal, "send_info_via", prefix, SEND_INFO_VIA, nullable=True)
    _number(appeal, "callback_ring_s", prefix, nullable=True)
    if appeal.get("forward_to") is not None and not appeal["forward_to"].strip():
        raise RecordError(prefix + "forward_to", "must name a court body or be null")


def validate_record(record: Any) -> dict[str, Any]:
    """Check one record; returns it with ``id`` normalised to the canonical lower-case UUID form."""
    if not isinstance(record, dict):
        raise RecordError("record", "must be a JSON object")
    raw_id = record.get("id")
    if not isinstance(raw_id, str):
        raise RecordError("id", "required, a UUID string")
    try:
        record_id = str(uuid.UUID(raw_id))
    except ValueError:
        raise RecordError("id", f"not a UUID: {raw_id!r}") from None
    if not isinstance(record.get("unit"), str) or not record["unit"]:
        raise RecordError("unit", "required, the unit id")
    started = parse_timestamp("started_at", record.get("started_at"))
    ended = parse_timestamp("ended_at", record.get("ended_at"))
    if ended < started:
        raise RecordError("ended_at", "is before started_at")
    if (
        "operator" in record
        and record["operator"] is not None
        and (isinstance(record["operator"], bool) or not isinstance(record["operator"], int | str))
    ):
        raise RecordError("operator", "must be the operator's number")
    _optional_str(record, "language", "")
    _choice(record, "greeting", "", GREETINGS, nullable=True)
    _choice(record, "outcome", "", OUTCOMES, nullable=True)
    _choice(record, "line_worst", "", LINE_VERDICTS, nullable=True)
    _number(record, "hold_total_s", "")
    _number(record, "hold_max_s", "")
    events = record.get("events", [])
    if not isinstance(events, list):
        raise RecordError("events", "must be a list")
    for i, event in enumerate(events):
        if not isinstance(event, dict) or "type" not in event or "t" not in event:
            raise RecordError(f"events[{i}]", "must be an object with t and type")
    if record.get("appeal") is not None:
        validate_appeal(record["appeal"])
    if record_id != raw_id:
        record = {**record, "id": record_id}
    return record


def local_due(record: Mapping[str, Any]) -> tuple[date, datetime]:
    """R11: an appeal forwarded elsewhere is due the same local day as the call ended.

    Returns the due date and the instant the deadline passes (midnight after it, in the record's own
    offset: the unit's local time is what the operator and the caller agreed on).
    """
    ended = datetime.fromisoformat(record["ended_at"])
    return ended.date(), day_end(ended)
