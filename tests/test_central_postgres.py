"""The central server on PostgreSQL: runs only when ``DESKUNIT_TEST_PG_URL`` names a server.

Each test works in a schema of its own (dropped afterwards), so any database the URL names will do,
e.g. ``DESKUNIT_TEST_PG_URL=postgresql://postgres@127.0.0.1:5432/postgres``.
"""

from __future__ import annotations

import os
import threading
from datetime import datetime
from urllib.parse import quote

import pytest
from central_fixtures import pg_schema

from central import CentralServer
from central.testing import call, make_appeal, make_record

PG_URL = os.environ.get("DESKUNIT_TEST_PG_URL")
ADMIN = "admin-secret-token"
NOON = datetime.fromisoformat("2025-03-05T12:00:00+02:00").timestamp()

pytestmark = pytest.mark.skipif(
    not PG_URL, reason="set DESKUNIT_TEST_PG_URL=postgresql://... to test the PostgreSQL backend"
)


@pytest.fixture
def pg_url() -> str:
    with pg_schema() as url:
        yield url


@pytest.fixture
def server(pg_url: str):
    clock = {"now": NOON}
    with CentralServer(pg_url, admin_token=ADMIN, clock=lambda: clock["now"]) as srv:
        srv.add_unit("unit-1", "tok-1")
        srv.add_unit("unit-2", "tok-2")
        srv.clock = clock  # type: ignore[attr-defined]
        yield srv


def post(srv: CentralServer, record: dict, token: str = "tok-1"):
    return call(srv.url, "POST", "/api/v1/records", token, record)


def test_health_names_postgresql(server: CentralServer) -> None:
    assert call(server.url, "GET", "/api/v1/health").body == {"status": "ok", "storage": "postgresql"}


def test_idempotency_conflict_and_auth(server: CentralServer) -> None:
    record = make_record("unit-1")
    assert post(server, record).status == 201
    assert post(server, record).body["status"] == "duplicate"
    assert post(server, {**record, "outcome": "transfer"}).status == 409
    assert post(server, make_record("unit-2")).status == 403
    assert post(server, make_record("unit-1"), token="bad").status == 401
    rows = call(server.url, "GET", "/api/v1/records?unit=unit-1", ADMIN).body["records"]
    assert [r["body"] for r in rows] == [record]
    assert server.count_records("unit-1") == 1


def test_batch_notifications_and_forwards(server: CentralServer) -> None:
    court = "Київський апеляційний суд"
    forwarded = make_record("unit-1", appeal=make_appeal(forward_to=court), ended_at="2025-03-05T23:30:00+02:00")
    plain_appeal = make_record("unit-1", appeal=make_appeal())
    batch = [forwarded, plain_appeal, make_record("unit-1"), forwarded]
    reply = call(server.url, "POST", "/api/v1/records/batch", "tok-1", {"records": batch})
    assert [r["status"] for r in reply.body["results"]] == ["created", "created", "created", "duplicate"]
    feed = call(server.url, "GET", "/api/v1/notifications", ADMIN).body["notifications"]
    assert [n["record_id"] for n in feed] == [forwarded["id"], plain_appeal["id"]]
    queued = call(server.url, "GET", f"/api/v1/forwards?status=queued&body={quote(court)}", ADMIN).body
    [item] = queued["forwards"]
    assert (item["due"], item["overdue"]) == ("2025-03-05", False)
    assert datetime.fromisoformat(item["due_at"]) == datetime.fromisoformat("2025-03-06T00:00:00+02:00")
    server.clock["now"] = datetime.fromisoformat("2025-03-06T00:00:01+02:00").timestamp()  # type: ignore[attr-defined]
    assert call(server.url, "GET", "/api/v1/forwards", ADMIN).body["forwards"][0]["overdue"] is True
    sent = call(server.url, "POST", f"/api/v1/forwards/{forwarded['id']}/sent", ADMIN).body
    assert (sent["status"], sent["sent_late"]) == ("sent", True)


def test_invalid_batch_stores_nothing(server: CentralServer) -> None:
    batch = [make_record("unit-1"), make_record("unit-1", outcome="lost")]
    assert call(server.url, "POST", "/api/v1/records/batch", "tok-1", {"records": batch}).status == 400
    assert call(server.url, "GET", "/api/v1/records", ADMIN).body["records"] == []


def test_config_etag(server: CentralServer) -> None:
    etag = server.set_config({"roster": [1, 2], "phrases": {"uk": {"hello": "Доброго дня"}}})
    got = call(server.url, "GET", "/api/v1/config", "tok-1")
    assert (got.headers["etag"], got.body["phrases"]["uk"]["hello"]) == (etag, "Доброго дня")
    assert call(server.url, "GET", "/api/v1/config", "tok-1", headers={"If-None-Match": etag}).status == 304


def test_concurrent_posts_keep_every_record_once_and_the_feed_in_order(server: CentralServer) -> None:
    shared = [make_record("unit-1", appeal=make_appeal()) for _ in range(5)]
    statuses: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        for record in [make_record("unit-1", appeal=make_appeal()) for _ in range(10)] + shared:
            status = post(server, record).status
            with lock:
                statuses.append(status)

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses.count(201) == 205 and statuses.count(200) == 95
    feed = call(server.url, "GET", "/api/v1/notifications?limit=1000", ADMIN).body["notifications"]
    seqs = [n["seq"] for n in feed]
    assert len(set(n["record_id"] for n in feed)) == len(seqs) == 205
    assert seqs == sorted(seqs)


def test_cursor_never_skips_under_concurrent_writers_and_readers(server: CentralServer) -> None:
    """Readers paging with ``after=<last seq>`` while 8 units write batches see every record exactly once.

    Plain records (no appeal) are the case the old code got wrong: it only serialised writers of
    appeals, so a later sequence number could commit first and a reader's cursor passed the earlier one.
    """
    units = [f"cursor-{n}" for n in range(8)]
    for unit in units:
        server.add_unit(unit, f"tok-{unit}")
    written: list[str] = []
    lock = threading.Lock()
    writing = threading.Event()
    writing.set()
    errors: list[str] = []

    def writer(unit: str) -> None:
        for _ in range(20):
            batch = [make_record(unit) for _ in range(15)]
            reply = call(server.url, "POST", "/api/v1/records/batch", f"tok-{unit}", {"records": batch})
            if reply.status != 200 or reply.body["created"] != len(batch):
                errors.append(f"{unit}: {reply.status}")
            with lock:
                written.extend(r["id"] for r in batch)

    def reader(seen: list[str]) -> None:
        after = 0
        while True:
            still_writing = writing.is_set()
            page = call(server.url, "GET", f"/api/v1/records?after={after}&limit=37", ADMIN).body
            seen.extend(r["id"] for r in page["records"])
            after = page["last_seq"]
            if not page["records"] and not still_writing:
                return

    views: list[list[str]] = [[] for _ in range(3)]
    readers = [threading.Thread(target=reader, args=(v,)) for v in views]
    writers = [threading.Thread(target=writer, args=(u,)) for u in units]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join()
    writing.clear()
    for t in readers:
        t.join()
    assert errors == []
    assert len(written) == 8 * 20 * 15
    for seen in views:
        assert len(seen) == len(set(seen)), "a record was seen twice"
        assert set(seen) == set(written), f"{len(set(written) - set(seen))} records skipped"
