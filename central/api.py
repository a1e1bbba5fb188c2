"""The `/api/v1` endpoints, independent of the HTTP transport: a request in, a response out.

Auth: units send ``Authorization: Bearer <unit token>``; management endpoints take the separate
management (admin) token from the server's configuration. See ``central/openapi.yaml``.
"""

from __future__ import annotations

import hmac
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from central.records import RecordError, validate_record
from central.store import SaveResult, Store, token_hash
from firmware.exc import DeskunitError

PREFIX = "/api/v1"
MAX_BODY_BYTES = 16 * 1024 * 1024
MAX_BATCH = 1000
MAX_LONG_POLL_S = 30.0


@dataclass
class Request:
    """One HTTP request as the API sees it."""

    method: str
    path: str
    query: Mapping[str, list[str]] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


@dataclass
class Response:
    """A JSON response (``body`` None: no body, as for 304); ``unit`` is who asked, for the log."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    unit: str | None = None


class ApiError(DeskunitError):
    """An error answered to the client as ``{"error": code, "message": ..., "field": ...}``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field_name: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field_name
        self.headers = headers or {}

    def response(self, unit: str | None = None) -> Response:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        return Response(self.status, body, dict(self.headers), unit)


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": 'Bearer realm="deskunit"'})


@dataclass
class _Caller:
    unit: str | None = None
    management: bool = False


class Api:
    """Routes requests to handlers; holds the store, the management token hash and the clock."""

    def __init__(
        self,
        store: Store,
        admin_token: str,
        clock: Callable[[], float] = time.time,
        tz: str | tzinfo = "Europe/Kyiv",
    ) -> None:
        self.store = store
        self._admin_hash = token_hash(admin_token)
        self._clock = clock
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        self._feed = threading.Condition()
        self._routes: list[tuple[str, re.Pattern[str], Callable[..., Response]]] = [
            ("GET", re.compile(r"/health"), self.health),
            ("GET", re.compile(r"/time"), self.time),
            ("POST", re.compile(r"/records"), self.post_record),
            ("POST", re.compile(r"/records/batch"), self.post_batch),
            ("GET", re.compile(r"/records"), self.list_records),
            ("GET", re.compile(r"/notifications"), self.notifications),
            ("GET", re.compile(r"/forwards"), self.forwards),
            ("POST", re.compile(r"/forwards/(?P<record_id>[^/]+)/sent"), self.forward_sent),
            ("GET", re.compile(r"/config"), self.get_config),
            ("PUT", re.compile(r"/config"), self.put_config),
        ]

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), self.tz)

    # --- dispatch --------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        caller = _Caller()
        try:
            response = self._dispatch(request, caller)
        except ApiError as err:
            response = err.response(caller.unit)
        if response.unit is None:
            response.unit = caller.unit or ("management" if caller.management else None)
        return response

    def _dispatch(self, request: Request, caller: _Caller) -> Response:
        if not request.path.startswith(PREFIX + "/"):
            raise ApiError(404, "not_found", f"no such resource: {request.path}")
        sub = request.path[len(PREFIX) :]
        allowed = []
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(sub)
            if match:
                if method == request.method:
                    return handler(request, caller, **match.groupdict())
                allowed.append(method)
        if allowed:
            raise ApiError(
                405, "method_not_allowed", f"use {', '.join(allowed)}", headers={"Allow": ", ".join(allowed)}
            )
        raise ApiError(404, "not_found", f"no such resource: {request.path}")

    # --- auth ------------------------------------------------------------------------------------
    @staticmethod
    def _bearer(request: Request) -> str:
        value = request.header("Authorization")
        if not value:
            raise _unauthorized("missing Authorization: Bearer <token>")
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized("use Authorization: Bearer <token>")
        return token.strip()

    def _is_admin(self, token: str) -> bool:
        return hmac.compare_digest(token_hash(token), self._admin_hash)

    def _unit(self, request: Request, caller: _Caller) -> str:
        token = self._bearer(request)
        unit = self.store.unit_for_token(token)
        if unit is None:
            if self._is_admin(token):
                raise ApiError(403, "forbidden", "this endpoint takes a unit token")
            raise _unauthorized("unknown token")
        caller.unit = unit
        return unit

    def _management(self, request: Request, caller: _Caller) -> None:
        token = self._bearer(request)
        if self._is_admin(token):
            caller.management = True
            return
        if self.store.unit_for_token(token) is not None:
            raise ApiError(403, "forbidden", "this endpoint takes the management token")
        raise _unauthorized("unknown token")

    # --- helpers ---------------------------------------------------------------------------------
    @staticmethod
    def _json_body(request: Request) -> Any:
        if len(request.body) > MAX_BODY_BYTES:
            raise ApiError(413, "too_large", f"body larger than {MAX_BODY_BYTES} bytes")
        if not request.body:
            raise ApiError(400, "invalid", "a JSON body is required", "body")
        try:
            return json.loads(request.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(400, "invalid", f"body is not valid JSON: {exc}", "body") from None

    @staticmethod
    def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
        values = request.query.get(name)
        if not values:
            return default
        try:
            value = int(values[0])
        except ValueError:
            raise ApiError(400, "invalid", f"{name} must be an integer", name) from None
        if not low <= value <= high:
            raise ApiError(400, "invalid", f"{name} must be between {low} and {high}", name)
        return value

    @staticmethod
    def _str_param(request: Request, name: str) -> str | None:
        values = request.query.get(name)
        return values[0] if values else None

    @staticmethod
    def _check_record(raw: Any, unit: str, prefix: str = "") -> dict[str, Any]:
        try:
            record = validate_record(raw)
        except RecordError as err:
            raise ApiError(400, "invalid", f"{prefix}{err.field}: {err.message}", prefix + err.field) from None
        if record["unit"] != unit:
            raise ApiError(403, "forbidden", f"{prefix}unit: a unit may only post its own records", prefix + "unit")
        return record

    def _saved(self, results: list[SaveResult], records: list[dict[str, Any]]) -> None:
        if any(r.status == "created" for r in results) and any(rec.get("appeal") for rec in records):
            with self._feed:
                self._feed.notify_all()

    # --- endpoints -------------------------------------------------------------------------------
    def health(self, request: Request, caller: _Caller) -> Response:
        try:
            self.store.ping()
        except Exception as exc:  # noqa: BLE001 - any storage failure means "not healthy"
            return Response(503, {"status": "unavailable", "storage": self.store.kind, "reason": type(exc).__name__})
        return Response(200, {"status": "ok", "storage": self.store.kind})

    def time(self, request: Request, caller: _Caller) -> Response:
        epoch = self._clock()
        now = datetime.fromtimestamp(epoch, self.tz)
        body = {
            "now": now.isoformat(),
            "utc": now.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "epoch": round(epoch, 6),
            "timezone": str(self.tz),
        }
        return Response(200, body, {"Cache-Control": "no-store"})

    def post_record(self, request: Request, caller: _Caller) -> Response:
        unit = self._unit(request, caller)
        record = self._check_record(self._json_body(request), unit)
        [result] = self.store.save_records([record], self.now())
        self._saved([result], [record])
        if result.status == "conflict":
            raise ApiError(409, "conflict", "a different record is already stored under this id", "id")
        return Response(result.http_status, {"id": result.id, "status": result.status}, unit=unit)

    def post_batch(self, request: Request, caller: _Caller) -> Response:
        unit = self._unit(request, caller)
        doc = self._json_body(request)
        if not isinstance(doc, dict) or not isinstance(doc.get("records"), list):
            raise ApiError(400, "invalid", 'body must be {"records": [...]}', "records")
        raw = doc["records"]
        if not 1 <= len(raw) <= MAX_BATCH:
            raise ApiError(400, "invalid", f"records must hold 1 to {MAX_BATCH} records", "records")
        records = [self._check_record(r, unit, f"records[{i}].") for i, r in enumerate(raw)]
        results = self.store.save_records(records, self.now())
        self._saved(results, records)
        items = [{"id": r.id, "status": r.status, "code": r.http_status} for r in results]
        counts = {s: sum(1 for r in results if r.status == s) for s in ("created", "duplicate", "conflict")}
        return Response(200, {"results": items, **counts}, unit=unit)

    def list_records(self, request: Request, caller: _Caller) -> Response:
        self._management(request, caller)
        after = self._int_param(request, "after", 0, 0, 2**62)
        limit = self._int_param(request, "limit", 100, 1, 1000)
        rows = self.store.list_records(self._str_param(request, "unit"), after, limit)
        return Response(200, {"records": rows, "last_seq": rows[-1]["seq"] if rows else after})

    def notifications(self, request: Request, caller: _Caller) -> Response:
        self._management(request, caller)
        after = self._int_param(request, "after", 0, 0, 2**62)
        limit = self._int_param(request, "limit", 100, 1, 1000)
        wait = self._int_param(request, "wait", 0, 0, int(MAX_LONG_POLL_S))
        rows = self.store.notifications(after, limit)
        deadline = time.monotonic() + wait
        while not rows and time.monotonic() < deadline:
            with self._feed:
                self._feed.wait(timeout=max(0.0, deadline - time.monotonic()))
            rows = self.store.notifications(after, limit)
        return Response(200, {"notifications": rows, "last_seq": rows[-1]["seq"] if rows else after})

    def _forward_item(self, row: dict[str, Any], now: datetime) -> dict[str, Any]:
        due_at: datetime = row["due_at"]
        item = {**row, "due_at": due_at.isoformat()}
        if row["status"] == "queued":
            item["overdue"] = now >= due_at
        else:
            sent = datetime.fromisoformat(row["sent_at"])
            item["overdue"] = False
            item["sent_late"] = sent >= due_at
        return item

    def forwards(self, request: Request, caller: _Caller) -> Response:
        self._management(request, caller)
        status = self._str_param(request, "status")
        if status not in (None, "queued", "sent"):
            raise ApiError(400, "invalid", "status must be queued or sent", "status")
        now = self.now()
        rows = self.store.forwards(status, self._str_param(request, "body"))
        return Response(200, {"now": now.isoformat(), "forwards": [self._forward_item(r, now) for r in rows]})

    def forward_sent(self, request: Request, caller: _Caller, record_id: str) -> Response:
        self._management(request, caller)
        try:
            rid = str(uuid.UUID(record_id))
        except ValueError:
            raise ApiError(400, "invalid", "record_id must be a UUID", "record_id") from None
        now = self.now()
        row = self.store.mark_forward_sent(rid, now)
        if row is None:
            raise ApiError(404, "not_found", "no forward for this record")
        return Response(200, self._forward_item(row, now))

    def get_config(self, request: Request, caller: _Caller) -> Response:
        unit = self._unit(request, caller)
        found = self.store.get_config(unit)
        if found is None:
            raise ApiError(404, "not_found", "no config document for this unit or the fleet")
        doc, etag = found
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if_none_match = request.header("If-None-Match")
        if if_none_match and (if_none_match.strip() == "*" or etag in [t.strip() for t in if_none_match.split(",")]):
            return Response(304, None, headers, unit)
        return Response(200, doc, headers, unit)

    def put_config(self, request: Request, caller: _Caller) -> Response:
        self._management(request, caller)
        doc = self._json_body(request)
        if not isinstance(doc, dict):
            raise ApiError(400, "invalid", "the config document must be a JSON object", "body")
        unit = self._str_param(request, "unit")
        etag = self.store.put_config(doc, unit)
        return Response(200, {"etag": etag, "scope": unit or "fleet"}, {"ETag": etag})
