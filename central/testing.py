"""Helpers for tests and benchmarks that talk to a `CentralServer`: valid records and one JSON call.

Deliberately tiny: this is not the unit's sync client (no retries, no outbox), just enough to
exercise the server from outside, over real HTTP.
"""

from __future__ import annotations

import http.client
import json
import ssl
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit


def make_record(unit: str, appeal: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    """A valid call record for `unit` (docs/record.md); keyword arguments override."""
    record: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "unit": unit,
        "operator": 7,
        "started_at": "2025-03-05T10:00:00+02:00",
        "ended_at": "2025-03-05T10:04:30+02:00",
        "language": "uk",
        "greeting": "morning",
        "outcome": "answered",
        "hold_total_s": 0,
        "hold_max_s": 0,
        "line_worst": "good",
        "events": [{"t": 0.0, "type": "greeting_shown"}],
        "appeal": appeal,
    }
    record.update(fields)
    return record


def make_appeal(**fields: Any) -> dict[str, Any]:
    """A valid appeal (R9); keyword arguments override."""
    appeal: dict[str, Any] = {
        "full_name": "Петренко Олена Іванівна",
        "residence": "м. Київ",
        "essence": "Не отримала повістку",
        "kind": "complaint",
        "phone": "0441234567",
        "email": None,
        "forward_to": None,
        "send_info_via": None,
        "accessible_office": None,
        "callback_ring_s": None,
    }
    appeal.update(fields)
    return appeal


@dataclass
class Reply:
    """A parsed reply: status, headers (lower-case names) and the JSON body (None when empty)."""

    status: int
    headers: dict[str, str]
    body: Any


def call(
    base_url: str,
    method: str,
    path: str,
    token: str | None = None,
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
    context: ssl.SSLContext | None = None,
) -> Reply:
    """One request on a fresh connection; raises what http.client raises when the reply is broken."""
    parts = urlsplit(base_url)
    if parts.scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=timeout, context=context
        )
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    send_headers = dict(headers or {})
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        send_headers.setdefault("Content-Type", "application/json")
    if token is not None:
        send_headers["Authorization"] = f"Bearer {token}"
    try:
        conn.request(method, path, body=data, headers=send_headers)
        resp = conn.getresponse()
        raw = resp.read()
        reply_headers = {k.lower(): v for k, v in resp.getheaders()}
    finally:
        conn.close()
    return Reply(resp.status, reply_headers, json.loads(raw) if raw else None)


@contextmanager
def temporary_schema(url: str, prefix: str = "deskunit_test") -> Iterator[str]:
    """``url`` with its search_path set to a fresh PostgreSQL schema, dropped on exit (tests and benchmarks)."""
    import psycopg

    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def record_ids(url: str, admin_token: str, unit: str) -> list[str]:
    """Every record id the server at ``url`` holds for ``unit``, paged through GET /records."""
    ids: list[str] = []
    after = 0
    while True:
        reply = call(url, "GET", f"/api/v1/records?unit={unit}&after={after}&limit=1000", token=admin_token)
        assert reply.status == 200, reply.status
        if not reply.body["records"]:
            return ids
        ids += [r["id"] for r in reply.body["records"]]
        after = reply.body["last_seq"]
