"""The central server's API over real HTTP on loopback, with SQLite in a temporary directory."""

from __future__ import annotations

import importlib.util
import sqlite3
import sys
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import pytest

if importlib.util.find_spec("central") is None:  # until pyproject lists the `central` package
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from central import CentralServer  # noqa: E402
from central.testing import call, make_appeal, make_record  # noqa: E402

ADMIN = "admin-secret-token"
# 2025-03-05 12:00:00 Kyiv (UTC+2): the fixed "now" of the server's clock in these tests.
NOON = datetime.fromisoformat("2025-03-05T12:00:00+02:00").timestamp()


class FakeClock:
    """Epoch seconds the test moves by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOON)


@pytest.fixture
def server(tmp_path: Path, clock: FakeClock):
    with CentralServer(tmp_path / "central.db", admin_token=ADMIN, clock=clock) as srv:
        srv.add_unit("unit-1", "tok-1", "Desk 1")
        srv.add_unit("unit-2", "tok-2")
        yield srv


def post(srv: CentralServer, record: dict, token: str = "tok-1"):
    return call(srv.url, "POST", "/api/v1/records", token, record)


def row_count(srv: CentralServer, table: str) -> int:
    with sqlite3.connect(srv.store.path) as conn:  # type: ignore[attr-defined]
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


# --- records ---------------------------------------------------------------------------------------
def test_post_record_stores_it_once_and_repeats_are_duplicates(server: CentralServer) -> None:
    record = make_record("unit-1")
    first = post(server, record)
    again = post(server, record)
    assert (first.status, first.body) == (201, {"id": record["id"], "status": "created"})
    assert (again.status, again.body["status"]) == (200, "duplicate")
    assert row_count(server, "records") == 1
    assert (server.count_records("unit-1"), server.count_records("unit-2"), server.count_records()) == (1, 0, 1)


def test_same_id_with_another_body_is_a_conflict(server: CentralServer) -> None:
    record = make_record("unit-1")
    post(server, record)
    reply = post(server, {**record, "outcome": "callback"})
    assert reply.status == 409
    assert reply.body["field"] == "id"
    stored = call(server.url, "GET", "/api/v1/records?unit=unit-1", ADMIN).body["records"]
    assert [r["body"]["outcome"] for r in stored] == ["answered"]


def test_key_order_does_not_make_a_conflict(server: CentralServer) -> None:
    record = make_record("unit-1")
    post(server, record)
    reordered = dict(reversed(list(record.items())))
    assert post(server, reordered).status == 200


def test_upper_case_uuid_is_the_same_record(server: CentralServer) -> None:
    record = make_record("unit-1")
    post(server, record)
    assert post(server, {**record, "id": record["id"].upper()}).body["status"] == "duplicate"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": None}, "id"),
        ({"id": "not-a-uuid"}, "id"),
        ({"started_at": "2025-03-05T10:00:00"}, "started_at"),
        ({"ended_at": "yesterday"}, "ended_at"),
        ({"ended_at": "2025-03-05T09:00:00+02:00"}, "ended_at"),
        ({"greeting": "night"}, "greeting"),
        ({"outcome": "lost"}, "outcome"),
        ({"hold_total_s": -1}, "hold_total_s"),
        ({"events": [{"type": "x"}]}, "events[0]"),
        ({"appeal": make_appeal(kind="rant")}, "appeal.kind"),
        ({"appeal": make_appeal(full_name="")}, "appeal.full_name"),
        ({"appeal": make_appeal(phone=None, email=None)}, "appeal.phone"),
        ({"appeal": make_appeal(send_info_via="pigeon")}, "appeal.send_info_via"),
        ({"appeal": "yes"}, "appeal"),
        ({"appeal": make_appeal(forward_to="Суд", forward_due="2025-03-05T09:00+02:00")}, "appeal.forward_due"),
        ({"appeal": make_appeal(forward_to="Суд", forward_due="2025-03-05T17:00")}, "appeal.forward_due"),
        ({"appeal": make_appeal(forward_to="Суд", forward_due="2025-04-30T17:00+03:00")}, "appeal.forward_due"),
    ],
)
def test_invalid_record_is_rejected_naming_the_field(server: CentralServer, change: dict, field: str) -> None:
    reply = post(server, make_record("unit-1", **change))
    assert reply.status == 400
    assert reply.body["field"] == field
    assert field in reply.body["message"]
    assert row_count(server, "records") == 0


def test_body_that_is_not_json_is_400(server: CentralServer) -> None:
    reply = call(server.url, "POST", "/api/v1/records", "tok-1", b"{not json")
    assert (reply.status, reply.body["field"]) == (400, "body")


# --- auth ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_unit_endpoints_need_a_known_token(server: CentralServer, token: str | None) -> None:
    reply = call(server.url, "POST", "/api/v1/records", token, make_record("unit-1"))
    assert reply.status == 401
    assert reply.headers["www-authenticate"].startswith("Bearer")
    assert row_count(server, "records") == 0


def test_a_unit_may_not_post_another_units_record(server: CentralServer) -> None:
    reply = post(server, make_record("unit-2"), token="tok-1")
    assert (reply.status, reply.body["field"]) == (403, "unit")
    assert row_count(server, "records") == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/v1/notifications"), ("GET", "/api/v1/forwards"), ("GET", "/api/v1/records")],
)
def test_management_endpoints_refuse_unit_tokens(server: CentralServer, method: str, path: str) -> None:
    assert call(server.url, method, path, "tok-1").status == 403
    assert call(server.url, method, path).status == 401
    assert call(server.url, method, path, "nope").status == 401
    assert call(server.url, method, path, ADMIN).status == 200


def test_management_token_is_not_a_unit_token(server: CentralServer) -> None:
    assert post(server, make_record("unit-1"), token=ADMIN).status == 403


def test_tokens_are_not_stored_in_clear(server: CentralServer) -> None:
    with sqlite3.connect(server.store.path) as conn:  # type: ignore[attr-defined]
        dump = "\n".join(conn.iterdump())
    assert "tok-1" not in dump and ADMIN not in dump


# --- batches ---------------------------------------------------------------------------------------
def test_batch_reports_each_record(server: CentralServer) -> None:
    known = make_record("unit-1")
    post(server, known)
    fresh = make_record("unit-1")
    changed = {**known, "outcome": "transfer"}
    reply = call(server.url, "POST", "/api/v1/records/batch", "tok-1", {"records": [fresh, known, changed]})
    assert reply.status == 200
    assert [(r["id"], r["status"], r["code"]) for r in reply.body["results"]] == [
        (fresh["id"], "created", 201),
        (known["id"], "duplicate", 200),
        (known["id"], "conflict", 409),
    ]
    assert (reply.body["created"], reply.body["duplicate"], reply.body["conflict"]) == (1, 1, 1)
    assert row_count(server, "records") == 2


def test_batch_with_one_bad_record_stores_nothing(server: CentralServer) -> None:
    records = [make_record("unit-1") for _ in range(3)] + [make_record("unit-1", greeting="night")]
    reply = call(server.url, "POST", "/api/v1/records/batch", "tok-1", {"records": records})
    assert (reply.status, reply.body["field"]) == (400, "records[3].greeting")
    assert row_count(server, "records") == 0


def test_batch_is_one_transaction(server: CentralServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A storage failure half-way through a batch leaves no record of it behind."""
    import central.store as store_module

    real = store_module.local_due
    calls = {"n": 0}

    def fail_on_second(record):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk on fire")
        return real(record)

    monkeypatch.setattr(store_module, "local_due", fail_on_second)
    appeal = make_appeal(forward_to="Київський апеляційний суд")
    records = [make_record("unit-1", appeal=appeal) for _ in range(3)]
    reply = call(server.url, "POST", "/api/v1/records/batch", "tok-1", {"records": records})
    assert reply.status == 500
    assert "disk" not in str(reply.body)
    for table in ("records", "notifications", "forwards"):
        assert row_count(server, table) == 0
    monkeypatch.setattr(store_module, "local_due", real)
    reply = call(server.url, "POST", "/api/v1/records/batch", "tok-1", {"records": records})
    assert reply.body["created"] == 3


def test_batch_of_another_unit_is_refused_whole(server: CentralServer) -> None:
    records = [make_record("unit-1"), make_record("unit-2")]
    reply = call(server.url, "POST", "/api/v1/records/batch", "tok-1", {"records": records})
    assert (reply.status, reply.body["field"]) == (403, "records[1].unit")
    assert row_count(server, "records") == 0


@pytest.mark.parametrize(
    ("body", "field"), [({"records": []}, "records"), ({"records": "x"}, "records"), ([make_record("unit-1")], "body")]
)
def test_batch_shape_is_checked(server: CentralServer, body: object, field: str) -> None:
    reply = call(server.url, "POST", "/api/v1/records/batch", "tok-1", body)
    assert (reply.status, reply.body["field"]) == (400, field)


# --- R10: management notifications -----------------------------------------------------------------
def test_appeal_notifies_management_at_once(server: CentralServer) -> None:
    plain = make_record("unit-1")
    with_appeal = make_record("unit-1", appeal=make_appeal())
    second = make_record("unit-2", appeal=make_appeal(kind="request"))
    post(server, plain)
    post(server, with_appeal)
    post(server, with_appeal)  # a duplicate is not a second appeal
    call(server.url, "POST", "/api/v1/records", "tok-2", second)
    feed = call(server.url, "GET", "/api/v1/notifications?after=0", ADMIN).body
    items = feed["notifications"]
    assert [n["record_id"] for n in items] == [with_appeal["id"], second["id"]]
    assert items[0]["seq"] < items[1]["seq"] == feed["last_seq"]
    assert items[0]["appeal"]["kind"] == "complaint" and items[0]["unit"] == "unit-1"
    later = call(server.url, "GET", f"/api/v1/notifications?after={items[0]['seq']}", ADMIN).body
    assert [n["record_id"] for n in later["notifications"]] == [second["id"]]
    empty = call(server.url, "GET", f"/api/v1/notifications?after={feed['last_seq']}", ADMIN).body
    assert empty == {"notifications": [], "last_seq": feed["last_seq"]}


def test_notifications_long_poll_wakes_on_a_new_appeal(server: CentralServer) -> None:
    record = make_record("unit-1", appeal=make_appeal())
    timer = threading.Timer(0.3, post, (server, record))
    timer.start()
    started = datetime.now()
    reply = call(server.url, "GET", "/api/v1/notifications?after=0&wait=10", ADMIN)
    timer.join()
    assert [n["record_id"] for n in reply.body["notifications"]] == [record["id"]]
    assert (datetime.now() - started).total_seconds() < 5


def test_notification_query_is_checked(server: CentralServer) -> None:
    reply = call(server.url, "GET", "/api/v1/notifications?after=x", ADMIN)
    assert (reply.status, reply.body["field"]) == (400, "after")


# --- R11: forwards ---------------------------------------------------------------------------------
COURT = "Київський апеляційний суд"


def forward_record(ended_at: str = "2025-03-05T10:04:30+02:00", court: str = COURT) -> dict:
    appeal = make_appeal(forward_to=court)
    return make_record("unit-1", appeal=appeal, outcome="forwarded", ended_at=ended_at)


def test_forward_is_due_the_same_local_day(server: CentralServer, clock: FakeClock) -> None:
    # 23:30 in Kyiv is 21:30 UTC: the deadline is the local midnight, not the UTC one.
    late = forward_record(ended_at="2025-03-05T23:30:00+02:00")
    late["started_at"] = "2025-03-05T23:20:00+02:00"
    post(server, late)
    post(server, forward_record(court="Господарський суд"))
    queued = call(server.url, "GET", f"/api/v1/forwards?status=queued&body={quote(COURT)}", ADMIN).body["forwards"]
    assert len(queued) == 1
    item = queued[0]
    assert (item["record_id"], item["due"], item["status"], item["overdue"]) == (
        late["id"],
        "2025-03-05",
        "queued",
        False,
    )
    assert datetime.fromisoformat(item["due_at"]) == datetime.fromisoformat("2025-03-06T00:00:00+02:00")
    clock.now = datetime.fromisoformat("2025-03-06T00:00:01+02:00").timestamp()
    queued = call(server.url, "GET", "/api/v1/forwards?status=queued", ADMIN).body["forwards"]
    assert [f["overdue"] for f in queued] == [True, True]


def test_the_units_forward_due_is_stored_and_kept(server: CentralServer, clock: FakeClock) -> None:
    """R11, one rule on both sides: a Friday-night appeal is due Monday 17:00, not at midnight."""
    record = forward_record(ended_at="2025-03-07T23:59:40+02:00")
    record["started_at"] = "2025-03-07T23:55:00+02:00"
    record["appeal"]["forward_due"] = "2025-03-10T17:00+02:00"
    assert post(server, record).status in (200, 201)
    item = call(server.url, "GET", "/api/v1/forwards?status=queued", ADMIN).body["forwards"][0]
    assert datetime.fromisoformat(item["due_at"]) == datetime.fromisoformat("2025-03-10T17:00:00+02:00")


def test_forward_marked_sent_leaves_the_queue(server: CentralServer, clock: FakeClock) -> None:
    record = forward_record()
    post(server, record)
    clock.now += 3600
    reply = call(server.url, "POST", f"/api/v1/forwards/{record['id']}/sent", ADMIN)
    assert reply.status == 200
    assert (reply.body["status"], reply.body["overdue"], reply.body["sent_late"]) == ("sent", False, False)
    first_sent = reply.body["sent_at"]
    clock.now += 3600
    again = call(server.url, "POST", f"/api/v1/forwards/{record['id']}/sent", ADMIN)
    assert again.body["sent_at"] == first_sent
    assert call(server.url, "GET", "/api/v1/forwards?status=queued", ADMIN).body["forwards"] == []
    sent = call(server.url, "GET", "/api/v1/forwards?status=sent", ADMIN).body["forwards"]
    assert [f["record_id"] for f in sent] == [record["id"]]


def test_forward_sent_for_unknown_record_is_404(server: CentralServer) -> None:
    assert call(server.url, "POST", f"/api/v1/forwards/{uuid.uuid4()}/sent", ADMIN).status == 404
    assert call(server.url, "POST", "/api/v1/forwards/xyz/sent", ADMIN).status == 400
    assert call(server.url, "POST", f"/api/v1/forwards/{uuid.uuid4()}/sent", "tok-1").status == 403


def test_appeal_without_forward_to_is_not_queued(server: CentralServer) -> None:
    post(server, make_record("unit-1", appeal=make_appeal()))
    assert call(server.url, "GET", "/api/v1/forwards", ADMIN).body["forwards"] == []


# --- config ----------------------------------------------------------------------------------------
def test_config_etag_and_304(server: CentralServer) -> None:
    assert call(server.url, "GET", "/api/v1/config", "tok-1").status == 404
    fleet = {"phrases": {"uk": {"closing": "Дякуємо за звернення"}}, "roster": [7, 8]}
    put = call(server.url, "PUT", "/api/v1/config", ADMIN, fleet)
    assert put.status == 200
    etag = put.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    got = call(server.url, "GET", "/api/v1/config", "tok-1")
    assert (got.status, got.body, got.headers["etag"]) == (200, fleet, etag)
    cached = call(server.url, "GET", "/api/v1/config", "tok-1", headers={"If-None-Match": etag})
    assert (cached.status, cached.body, cached.headers["etag"]) == (304, None, etag)
    fleet["roster"].append(9)
    new_etag = call(server.url, "PUT", "/api/v1/config", ADMIN, fleet).headers["etag"]
    assert new_etag != etag
    stale = call(server.url, "GET", "/api/v1/config", "tok-1", headers={"If-None-Match": etag})
    assert (stale.status, stale.body["roster"]) == (200, [7, 8, 9])


def test_config_per_unit_overrides_the_fleet(server: CentralServer) -> None:
    server.set_config({"roster": [1]})
    call(server.url, "PUT", "/api/v1/config?unit=unit-2", ADMIN, {"roster": [2]})
    assert call(server.url, "GET", "/api/v1/config", "tok-1").body == {"roster": [1]}
    assert call(server.url, "GET", "/api/v1/config", "tok-2").body == {"roster": [2]}


def test_config_put_needs_management_and_an_object(server: CentralServer) -> None:
    assert call(server.url, "PUT", "/api/v1/config", "tok-1", {"a": 1}).status == 403
    assert call(server.url, "PUT", "/api/v1/config", ADMIN, [1, 2]).status == 400
    assert call(server.url, "GET", "/api/v1/config").status == 401


# --- time, health, listing, routing ----------------------------------------------------------------
def test_time_endpoint_gives_wall_clock_with_offset(server: CentralServer, clock: FakeClock) -> None:
    reply = call(server.url, "GET", "/api/v1/time")
    assert reply.status == 200
    now = datetime.fromisoformat(reply.body["now"])
    assert now.utcoffset() is not None
    assert now.timestamp() == reply.body["epoch"] == clock.now
    assert reply.body["now"] == "2025-03-05T12:00:00+02:00"
    assert reply.body["utc"] == "2025-03-05T10:00:00Z"
    assert reply.body["timezone"] == "Europe/Kyiv"
    assert reply.headers["cache-control"] == "no-store"


def test_health(server: CentralServer) -> None:
    assert call(server.url, "GET", "/api/v1/health").body == {"status": "ok", "storage": "sqlite"}


def test_list_records_by_unit_with_paging(server: CentralServer) -> None:
    mine = [make_record("unit-1") for _ in range(3)]
    for record in mine:
        post(server, record)
    call(server.url, "POST", "/api/v1/records", "tok-2", make_record("unit-2"))
    page = call(server.url, "GET", "/api/v1/records?unit=unit-1&limit=2", ADMIN).body
    assert [r["id"] for r in page["records"]] == [r["id"] for r in mine[:2]]
    assert page["records"][0]["received_at"].startswith("2025-03-05T10:00:00")
    rest = call(server.url, "GET", f"/api/v1/records?unit=unit-1&after={page['last_seq']}", ADMIN).body
    assert [r["body"] for r in rest["records"]] == [mine[2]]


def test_unknown_path_and_wrong_method(server: CentralServer) -> None:
    assert call(server.url, "GET", "/api/v1/nothing").status == 404
    assert call(server.url, "GET", "/").status == 303  # the management page wants a login first
    reply = call(server.url, "DELETE", "/api/v1/records", ADMIN)
    assert reply.status == 405
    assert set(reply.headers["allow"].split(", ")) == {"GET", "POST"}


def test_log_lines_name_the_request_but_never_the_body(server: CentralServer, caplog) -> None:
    record = make_record("unit-1", appeal=make_appeal(full_name="Секретна Особа", phone="0999999999"))
    with caplog.at_level("DEBUG", logger="central"):
        post(server, record)
        post(server, make_record("unit-1", greeting="bad", appeal=make_appeal(full_name="Секретна Особа")))
        # the server writes its access line just after the response: give its thread a moment
        deadline = time.monotonic() + 5
        while sum(r.name == "central.access" for r in caplog.records) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    lines = [r.getMessage() for r in caplog.records if r.name == "central.access"]
    assert lines[0].startswith("POST /api/v1/records 201 unit=unit-1 ")
    assert lines[1].startswith("POST /api/v1/records 400 unit=unit-1 ")
    everything = caplog.text
    assert "Секретна" not in everything and "0999999999" not in everything


# --- concurrency -----------------------------------------------------------------------------------
def test_twenty_threads_posting_lose_nothing_and_duplicate_nothing(server: CentralServer) -> None:
    per_thread = 15
    shared = [make_record("unit-1", appeal=make_appeal()) for _ in range(5)]
    statuses: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    own: list[dict] = []

    def worker() -> None:
        try:
            mine = [make_record("unit-1", appeal=make_appeal()) for _ in range(per_thread)]
            with lock:
                own.extend(mine)
            for record in mine + shared:  # everyone also posts the same five records
                reply = post(server, record)
                with lock:
                    statuses.append(reply.status)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert statuses.count(201) == 20 * per_thread + len(shared)
    assert statuses.count(200) == 19 * len(shared)
    assert row_count(server, "records") == 20 * per_thread + len(shared)
    seqs = [n["seq"] for n in call(server.url, "GET", "/api/v1/notifications?limit=1000", ADMIN).body["notifications"]]
    assert len(seqs) == len(set(seqs)) == 20 * per_thread + len(shared)
    assert seqs == sorted(seqs)
