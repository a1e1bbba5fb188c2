"""The `/api/v1` endpoints as an ASGI application built from ``central/openapi.yaml``.

For every request, in this order: the route and method come from the spec; the token its
``security`` names is checked **before any byte of the body is read** (an anonymous client cannot
make the server buffer 16 MB); the body is read up to `MAX_BODY_BYTES`, parsed strictly
(`central.jsonbody`) and validated against the operation's schema; query and path parameters too;
then the handler runs (named after the ``operationId``) and, when ``check_responses`` is on (tests),
its answer is validated against the documented response schema.

Auth: units send ``Authorization: Bearer <unit token>``; management endpoints take the separate
management token from the server's configuration. One access line per request: method, path
(without the query), status, unit and milliseconds; never a body, which carries personal data.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from anyio import to_thread

from central import jsonbody, spec
from central.commit import GroupCommitter
from central.faults import FaultPlan, Faults
from central.metrics import Metrics
from central.records import RecordError, check_record
from central.spec import Access, Operation, SpecError
from central.store import SaveResult, Store, token_hash
from firmware.exc import DeskunitError

PREFIX = spec.PREFIX
MAX_BODY_BYTES = 16 * 1024 * 1024
MAX_LONG_POLL_S = 30.0
# Another server process on the same PostgreSQL database cannot wake our long polls: look again this often.
FEED_RECHECK_S = 1.0
TOKEN_CACHE_S = 10.0

access_log = logging.getLogger("central.access")
log = logging.getLogger("central.server")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass
class Response:
    """A JSON response (``body`` None: no body, as for 304)."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


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

    def response(self) -> Response:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        return Response(self.status, body, dict(self.headers))


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": 'Bearer realm="deskunit"'})


def _invalid(err: SpecError | RecordError | jsonbody.BodyError) -> ApiError:
    return ApiError(400, "invalid", f"{err.field}: {err.message}", err.field)


def _handler_name(operation_id: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation_id).lower()


@dataclass
class Call:
    """One request as a handler sees it: validated parameters and body, and who asked."""

    params: dict[str, Any]
    body: Any
    headers: dict[str, str]
    unit: str | None = None


@dataclass
class _Route:
    pattern: re.Pattern[str]
    operations: dict[str, Operation]


class Api:
    """The handlers, one per ``operationId``; holds the store, the management token hash and the clock.

    Larger than 25 methods on purpose: one handler per ``operationId`` of the OpenAPI document (plus
    the few checks they share), so the document and this class read side by side."""

    def __init__(
        self,
        store: Store,
        admin_token: str,
        clock: Callable[[], float] = time.time,
        tz: str | tzinfo = "Europe/Kyiv",
        *,
        faults: Faults | None = None,
        metrics: Metrics | None = None,
        check_responses: bool = False,
        committer: GroupCommitter | None = None,
    ) -> None:
        self.store = store
        self.committer = committer
        self._admin_hash = token_hash(admin_token)
        self._clock = clock
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        self.faults = faults
        self.metrics = metrics or Metrics(store, clock)
        self.check_responses = check_responses
        self._feed = asyncio.Event()
        self._tokens: dict[str, tuple[str, float]] = {}
        self._routes: list[_Route] = []
        for op in spec.operations():
            if not callable(getattr(self, _handler_name(op.operation_id), None)):
                raise TypeError(f"no handler for operation {op.operation_id}")
            regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", op.path)
            route = next((r for r in self._routes if r.pattern.pattern == regex), None)
            if route is None:
                route = _Route(re.compile(regex), {})
                self._routes.append(route)
            route.operations[op.method] = op

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), self.tz)

    def is_admin(self, token: str) -> bool:
        return hmac.compare_digest(token_hash(token), self._admin_hash)

    # --- the ASGI side ---------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        path = scope["path"]
        plan = self.faults.plan(path) if self.faults is not None else FaultPlan()
        call = Call({}, None, {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]})
        op: Operation | None = None
        if plan.fail_status is not None:
            response = Response(
                plan.fail_status, {"error": "unavailable", "message": "injected failure"}, {"Retry-After": "1"}
            )
        else:
            try:
                op, path_params = self._route(scope["method"], path)
                response = await self._serve(op, path_params, scope, receive, call)
            except ApiError as err:
                response = err.response()
            except Exception as exc:
                # Only the type: a database error's message can quote the personal data it choked on.
                log.error("internal error on %s %s: %s", scope["method"], path, type(exc).__name__)
                response = Response(500, {"error": "internal", "message": "internal server error"})
            if self.check_responses and op is not None:
                response = self._checked(op, response)
        if plan.delay_s:
            await asyncio.sleep(plan.delay_s)
        status = await self._send(response, plan, send, call)
        seconds = time.perf_counter() - started
        self.metrics.request(op.operation_id if op else "unknown", seconds)
        access_log.info("%s %s %s unit=%s %.1fms", scope["method"], path, status, call.unit or "-", seconds * 1000)

    def _route(self, method: str, path: str) -> tuple[Operation, dict[str, str]]:
        sub = path[len(PREFIX) :] if path.startswith(PREFIX + "/") else None
        if sub is not None:
            for route in self._routes:
                match = route.pattern.fullmatch(sub)
                if match:
                    if method in route.operations:
                        return route.operations[method], match.groupdict()
                    allowed = ", ".join(route.operations)
                    raise ApiError(405, "method_not_allowed", f"use {allowed}", headers={"Allow": allowed})
        raise ApiError(404, "not_found", "no such resource")

    async def _serve(
        self, op: Operation, path_params: dict[str, str], scope: Scope, receive: Receive, call: Call
    ) -> Response:
        await self._authorize(op, call)
        if op.body is not None:
            call.body = self._parse(await self._read_body(call.headers, receive))
            try:
                op.check_body(call.body)
            except SpecError as err:
                raise _invalid(err) from None
        query = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
        try:
            call.params = op.query(query, path_params)
        except SpecError as err:
            raise _invalid(err) from None
        handler = getattr(self, _handler_name(op.operation_id))
        return await handler(call)

    def _checked(self, op: Operation, response: Response) -> Response:
        """Tests run with this on: an answer its schema does not allow is a bug, shown as a 500."""
        try:
            if response.status < 500:
                op.check_response(response.status, response.body)
        except SpecError as err:
            log.error("response of %s does not match the spec: %s", op.operation_id, err)
            return Response(500, {"error": "internal", "message": f"response does not match the spec: {err}"})
        return response

    async def _authorize(self, op: Operation, call: Call) -> None:
        if op.access is Access.PUBLIC:
            return
        value = call.headers.get("authorization")
        if not value:
            raise _unauthorized("missing Authorization: Bearer <token>")
        scheme, _, token = value.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise _unauthorized("use Authorization: Bearer <token>")
        admin = self.is_admin(token)
        unit = None if admin else await self._unit_for(token)
        if op.access is Access.MANAGEMENT:
            if admin:
                call.unit = "management"
                return
            if unit is not None:
                call.unit = unit
                raise ApiError(403, "forbidden", "this endpoint takes the management token")
            raise _unauthorized("unknown token")
        if unit is None:
            if admin:
                raise ApiError(403, "forbidden", "this endpoint takes a unit token")
            raise _unauthorized("unknown token")
        call.unit = unit

    async def _unit_for(self, token: str) -> str | None:
        """The token's unit; known tokens are remembered for `TOKEN_CACHE_S` (a token rotated by
        another process stops working within that time; `forget_tokens` makes it at once here)."""
        key = token_hash(token)
        cached = self._tokens.get(key)
        now = time.monotonic()
        if cached is not None and cached[1] > now:
            return cached[0]
        unit = await to_thread.run_sync(self.store.unit_for_token, token)
        if unit is None:
            self._tokens.pop(key, None)
        else:
            if len(self._tokens) > 10_000:
                self._tokens.clear()
            self._tokens[key] = (unit, now + TOKEN_CACHE_S)
        return unit

    def forget_tokens(self) -> None:
        """Called when tokens change in this process (enrolment, rotation)."""
        self._tokens.clear()

    @staticmethod
    async def _read_body(headers: dict[str, str], receive: Receive) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            raise ApiError(411, "length_required", "send a Content-Length (chunked bodies are not accepted)")
        try:
            length = int(headers.get("content-length") or 0)
        except ValueError:
            raise ApiError(400, "invalid", "bad Content-Length") from None
        if length > MAX_BODY_BYTES:
            raise ApiError(413, "too_large", f"body larger than {MAX_BODY_BYTES} bytes")
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ApiError(400, "invalid", "the client went away before sending the body")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise ApiError(413, "too_large", f"body larger than {MAX_BODY_BYTES} bytes")
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)

    @staticmethod
    def _parse(data: bytes) -> Any:
        try:
            return jsonbody.parse(data)
        except jsonbody.BodyError as err:
            raise _invalid(err) from None

    async def _send(self, response: Response, plan: FaultPlan, send: Send, call: Call) -> str:
        data = b""
        if response.body is not None:
            data = json.dumps(response.body, ensure_ascii=False, allow_nan=False).encode("utf-8")
            if plan.malformed:
                data = data[: max(1, len(data) // 2)] + b"\x00<not json"
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()]
        if response.body is not None:
            headers.append((b"content-type", b"application/json; charset=utf-8"))
        headers.append((b"content-length", str(len(data)).encode()))
        if response.status >= 400 and call.body is None and call.headers.get("content-length", "0") != "0":
            # The body was never read: the connection cannot carry another request after it.
            headers.append((b"connection", b"close"))
        if plan.drop:
            await _abort(send)
            return "dropped"
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        if plan.truncate:
            await send({"type": "http.response.body", "body": data[: len(data) // 2], "more_body": True})
            await _abort(send)
            return f"{response.status}-truncated"
        await send({"type": "http.response.body", "body": data})
        return str(response.status)

    # --- helpers ---------------------------------------------------------------------------------
    def _check_record(self, raw: dict[str, Any], unit: str, prefix: str = "") -> dict[str, Any]:
        try:
            record = check_record(raw)
        except RecordError as err:
            raise ApiError(400, "invalid", f"{prefix}{err.field}: {err.message}", prefix + err.field) from None
        if record["unit"] != unit:
            raise ApiError(403, "forbidden", f"{prefix}unit: a unit may only post its own records", prefix + "unit")
        return record

    async def _save(self, records: list[dict[str, Any]]) -> list[SaveResult]:
        if self.committer is None:
            results = await to_thread.run_sync(self.store.save_records, records, self.now())
        else:
            results = await asyncio.wrap_future(self.committer.submit(records, self.now()))
        self.metrics.saved(results)
        if any(r.status == "created" for r in results) and any(rec.get("appeal") for rec in records):
            self._feed.set()
            self._feed = asyncio.Event()
        return results

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

    # --- handlers, one per operationId -----------------------------------------------------------
    async def health(self, call: Call) -> Response:
        try:
            await to_thread.run_sync(self.store.ping)
        except Exception as exc:  # noqa: BLE001 - any storage failure means "not healthy"
            return Response(503, {"status": "unavailable", "storage": self.store.kind, "reason": type(exc).__name__})
        return Response(200, {"status": "ok", "storage": self.store.kind})

    async def get_time(self, call: Call) -> Response:
        epoch = self._clock()
        now = datetime.fromtimestamp(epoch, self.tz)
        body = {
            "now": now.isoformat(),
            "utc": now.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "epoch": round(epoch, 6),
            "timezone": str(self.tz),
        }
        return Response(200, body, {"Cache-Control": "no-store"})

    async def post_record(self, call: Call) -> Response:
        assert call.unit is not None
        record = self._check_record(call.body, call.unit)
        [result] = await self._save([record])
        if result.status == "conflict":
            raise ApiError(409, "conflict", "a different record is already stored under this id", "id")
        return Response(result.http_status, {"id": result.id, "status": result.status})

    async def post_record_batch(self, call: Call) -> Response:
        assert call.unit is not None
        records = [self._check_record(r, call.unit, f"records[{i}].") for i, r in enumerate(call.body["records"])]
        results = await self._save(records)
        self.metrics.batch()
        items = [{"id": r.id, "status": r.status, "code": r.http_status} for r in results]
        counts = {s: sum(1 for r in results if r.status == s) for s in ("created", "duplicate", "conflict")}
        return Response(200, {"results": items, **counts})

    async def list_records(self, call: Call) -> Response:
        p = call.params
        rows = await to_thread.run_sync(self.store.list_records, p.get("unit"), p["after"], p["limit"])
        return Response(200, {"records": rows, "last_seq": rows[-1]["seq"] if rows else p["after"]})

    async def list_notifications(self, call: Call) -> Response:
        after, limit = call.params["after"], call.params["limit"]
        deadline = time.monotonic() + min(call.params["wait"], MAX_LONG_POLL_S)
        while True:
            feed = self._feed
            rows = await to_thread.run_sync(self.store.notifications, after, limit)
            left = deadline - time.monotonic()
            if rows or left <= 0:
                return Response(200, {"notifications": rows, "last_seq": rows[-1]["seq"] if rows else after})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(feed.wait(), timeout=min(left, FEED_RECHECK_S))

    async def list_forwards(self, call: Call) -> Response:
        p = call.params
        cursor = None
        if p.get("cursor"):
            due_at, _, rid = p["cursor"].partition("|")
            try:
                datetime.fromisoformat(due_at)
                cursor = (due_at, str(uuid.UUID(rid)))
            except ValueError:
                raise ApiError(400, "invalid", "cursor: not a cursor this server gave", "cursor") from None
        now = self.now()
        rows = await to_thread.run_sync(self.store.forwards, p.get("status"), p.get("body"), p["limit"], cursor)
        items = [self._forward_item(r, now) for r in rows]
        nxt = f"{rows[-1]['due_at'].isoformat()}|{rows[-1]['record_id']}" if len(rows) == p["limit"] else None
        return Response(200, {"now": now.isoformat(), "forwards": items, "next": nxt})

    async def mark_forward_sent(self, call: Call) -> Response:
        rid = str(uuid.UUID(call.params["record_id"]))
        now = self.now()
        row = await to_thread.run_sync(self.store.mark_forward_sent, rid, now)
        if row is None:
            raise ApiError(404, "not_found", "no forward for this record")
        return Response(200, self._forward_item(row, now))

    async def get_config(self, call: Call) -> Response:
        assert call.unit is not None
        found = await to_thread.run_sync(self.store.get_config, call.unit)
        if found is None:
            raise ApiError(404, "not_found", "no config document for this unit or the fleet")
        doc, etag = found
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if_none_match = call.headers.get("if-none-match")
        if if_none_match and (if_none_match.strip() == "*" or etag in [t.strip() for t in if_none_match.split(",")]):
            return Response(304, None, headers)
        return Response(200, doc, headers)

    async def put_config(self, call: Call) -> Response:
        unit = call.params.get("unit")
        etag = await to_thread.run_sync(self.store.put_config, call.body, unit)
        return Response(200, {"etag": etag, "scope": unit or "fleet"}, {"ETag": etag})


async def _abort(send: Send) -> None:
    """Close the connection now, without (the rest of) a response: a fault only tests arm.

    uvicorn's ``send`` is a method of the request cycle, which holds the transport.
    """
    transport = send.__self__.transport  # type: ignore[attr-defined]
    transport.close()
    # Let the protocol see the close, so uvicorn does not answer 500 on a socket already closed.
    for _ in range(3):
        await asyncio.sleep(0)
