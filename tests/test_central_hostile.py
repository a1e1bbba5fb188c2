"""Hostile bodies (issue 18): one rule for both stores, answered 400 and never stored, never a 500.

NaN, Infinity, NUL characters, deep nesting and a year-9999 timestamp used to be stored by SQLite and
refused by PostgreSQL (a 500 that made a unit retry the record for ever), or crash the handler. The
same tests run on SQLite and, with ``DESKUNIT_TEST_PG_URL``, on PostgreSQL.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from central_fixtures import pg_schema

from central import CentralServer
from central.testing import call, make_appeal, make_record

ADMIN = "admin-secret-token"
SECRET_NAME = "Таємна Особа"


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request, tmp_path: Path) -> Iterator[CentralServer]:
    if request.param == "sqlite":
        db_ctx = None
        db = str(tmp_path / "c.db")
    else:
        db_ctx = pg_schema()
        db = db_ctx.__enter__()
    try:
        with CentralServer(db, admin_token=ADMIN) as srv:
            srv.add_unit("unit-1", "tok-1")
            yield srv
    finally:
        if db_ctx is not None:
            db_ctx.__exit__(None, None, None)


def raw_post(srv: CentralServer, text: str, path: str = "/api/v1/records"):
    return call(srv.url, "POST", path, "tok-1", text.encode("utf-8"))


def record_text(**override: str) -> str:
    """A valid record as JSON text, with some values replaced by raw JSON fragments."""
    record = make_record("unit-1", appeal=make_appeal(full_name=SECRET_NAME))
    text = json.dumps(record, ensure_ascii=False)
    for key, fragment in override.items():
        text = text.replace(f'"{key}": {json.dumps(record[key])}', f'"{key}": {fragment}', 1)
    return text


@pytest.mark.parametrize(
    ("fragment", "field"),
    [("NaN", "body"), ("Infinity", "body"), ("-Infinity", "body"), ("1e400", "hold_total_s")],
)
def test_non_finite_numbers_are_refused(server: CentralServer, fragment: str, field: str) -> None:
    reply = raw_post(server, record_text(hold_total_s=fragment))
    assert (reply.status, reply.body["error"], reply.body["field"]) == (400, "invalid", field)
    assert server.count_records() == 0


@pytest.mark.parametrize("where", ["essence", "key"])
def test_nul_characters_are_refused_wherever_they_are(server: CentralServer, where: str) -> None:
    record = make_record("unit-1", appeal=make_appeal(essence="до\x00кінця"))
    if where == "key":
        record = make_record("unit-1", extra={"a\x00b": 1})
    reply = call(server.url, "POST", "/api/v1/records/batch", "tok-1", {"records": [make_record("unit-1"), record]})
    assert reply.status == 400
    assert reply.body["field"] == ("records[1].appeal.essence" if where == "essence" else "records[1].extra")
    assert "NUL" in reply.body["message"]
    assert server.count_records() == 0


@pytest.mark.parametrize("depth", [40, 100_000])
def test_deep_nesting_is_a_400_not_a_500(server: CentralServer, depth: int) -> None:
    text = record_text(events="[" + "[" * depth + "]" * depth + "]")
    reply = raw_post(server, text)
    assert (reply.status, reply.body["error"]) == (400, "invalid")
    assert "nested deeper" in reply.body["message"]


@pytest.mark.parametrize("key", ["ended_at", "started_at"])
def test_year_9999_is_a_400_not_a_500(server: CentralServer, key: str) -> None:
    record = make_record("unit-1", started_at="2025-03-05T10:00:00+02:00", ended_at="9999-12-31T23:59:59+02:00")
    if key == "started_at":
        record.update(started_at="0001-01-01T00:00:00+02:00", ended_at="2025-03-05T10:00:00+02:00")
    reply = call(server.url, "POST", "/api/v1/records", "tok-1", record)
    assert (reply.status, reply.body["field"]) == (400, key)
    forwarded = make_record(
        "unit-1", appeal=make_appeal(forward_to="Суд", forward_due="9999-12-31T23:59+02:00"), outcome="forwarded"
    )
    reply = call(server.url, "POST", "/api/v1/records", "tok-1", forwarded)
    assert (reply.status, reply.body["field"]) == (400, "appeal.forward_due")
    assert server.count_records() == 0


def test_what_was_refused_leaves_nothing_personal_in_the_log(server: CentralServer, caplog) -> None:
    with caplog.at_level(logging.DEBUG):
        raw_post(server, record_text(hold_total_s="NaN"))
        call(server.url, "POST", "/api/v1/records", "tok-1",
             make_record("unit-1", appeal=make_appeal(full_name=SECRET_NAME, essence="x\x00y")))
        call(server.url, "POST", "/api/v1/records", "tok-1",
             make_record("unit-1", appeal=make_appeal(full_name=SECRET_NAME), ended_at="9999-01-01T00:00:00+00:00"))
    assert SECRET_NAME not in caplog.text and "0441234567" not in caplog.text


def test_stored_records_read_back_as_strict_json(server: CentralServer) -> None:
    record = make_record("unit-1", hold_total_s=1.5, appeal=make_appeal(essence="лапки \" і \\ та \u2028"))
    assert call(server.url, "POST", "/api/v1/records", "tok-1", record).status == 201
    [stored] = call(server.url, "GET", "/api/v1/records", ADMIN).body["records"]
    assert stored["body"] == record


def test_a_database_error_logs_its_type_only(server: CentralServer, caplog, monkeypatch) -> None:
    """Database messages quote the values they choke on; the log line names only the error's type."""
    store = server.store

    def boom(groups):  # noqa: ANN001
        raise RuntimeError(f"value too long: {groups[0][0][0]['appeal']['full_name']}")

    monkeypatch.setattr(store, "save_groups", boom)
    with caplog.at_level(logging.DEBUG):
        reply = call(server.url, "POST", "/api/v1/records", "tok-1",
                     make_record("unit-1", appeal=make_appeal(full_name=SECRET_NAME)))
    assert reply.status == 500 and SECRET_NAME not in json.dumps(reply.body, ensure_ascii=False)
    assert "RuntimeError" in caplog.text and SECRET_NAME not in caplog.text
