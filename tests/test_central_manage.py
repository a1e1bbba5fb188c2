"""The management page, /metrics and schema migrations, over real HTTP (the browser test drives the page too)."""

from __future__ import annotations

import csv
import http.client
import io
import re
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest

from central import CentralServer
from central.migrations import LATEST, MIGRATIONS
from central.testing import call, make_appeal, make_record

ADMIN = "admin-secret-token"
NOON = datetime.fromisoformat("2025-03-05T12:00:00+02:00").timestamp()
COURT = "Київський апеляційний суд"


class Clock:
    def __init__(self) -> None:
        self.now = NOON

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def server(tmp_path: Path, clock: Clock) -> Iterator[CentralServer]:
    with CentralServer(tmp_path / "c.db", admin_token=ADMIN, clock=clock) as srv:
        srv.add_unit("unit-1", "tok-1")
        srv.add_unit("unit-2", "tok-2")
        yield srv


class Browser:
    """Just enough of a browser: a cookie jar, forms as urlencoded POSTs, no redirects followed."""

    def __init__(self, srv: CentralServer) -> None:
        self.port = srv.port
        self.cookie = ""

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, dict, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body, headers)
        resp = conn.getresponse()
        text = resp.read().decode("utf-8")
        found = {k.lower(): v for k, v in resp.getheaders()}
        if "set-cookie" in found:
            self.cookie = found["set-cookie"].split(";")[0]
        conn.close()
        return resp.status, found, text

    def login(self, token: str = ADMIN) -> int:
        return self.request("POST", "/login", {"token": token})[0]


def post(srv: CentralServer, record: dict, token: str = "tok-1") -> None:
    assert call(srv.url, "POST", "/api/v1/records", token, record).status == 201


def seed(srv: CentralServer) -> dict[str, dict]:
    records = {
        "forward": make_record("unit-1", operator=7, appeal=make_appeal(forward_to=COURT, full_name="Іван Сірко"),
                               outcome="forwarded", line_worst="degraded",
                               started_at="2025-03-05T09:00:00+02:00", ended_at="2025-03-05T09:05:00+02:00"),
        "plain": make_record("unit-2", operator=8, appeal=make_appeal(full_name="Марія Коваль"),
                             started_at="2025-03-04T14:00:00+02:00", ended_at="2025-03-04T14:03:00+02:00"),
        "no_appeal": make_record("unit-2", line_worst="no_signal",
                                 started_at="2025-03-04T14:10:00+02:00", ended_at="2025-03-04T14:12:00+02:00"),
    }  # fmt: skip
    post(srv, records["forward"])
    post(srv, records["plain"], "tok-2")
    post(srv, records["no_appeal"], "tok-2")
    return records


def test_the_page_needs_the_management_token(server: CentralServer) -> None:
    browser = Browser(server)
    status, headers, _ = browser.request("GET", "/")
    assert (status, headers["location"]) == (303, "/login")
    assert browser.login("tok-1") == 401 and browser.cookie == ""
    assert browser.login() == 303
    status, _, html = browser.request("GET", "/")
    assert status == 200 and "<h1>Appeals</h1>" in html


def test_session_cookie_is_httponly_and_strict(server: CentralServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("POST", "/login", urlencode({"token": ADMIN}), {"Content-Type": "application/x-www-form-urlencoded"})
    cookie = conn.getresponse().getheader("set-cookie").lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_appeals_listed_with_due_time_filtered_marked_sent_and_exported(server: CentralServer, clock: Clock) -> None:
    records = seed(server)
    browser = Browser(server)
    browser.login()
    _, _, html = browser.request("GET", "/")
    assert "Іван Сірко" in html and "Марія Коваль" in html
    assert "2025-03-06 00:00" in html  # R11: due by the local midnight after the call
    _, _, html = browser.request("GET", "/?" + urlencode({"unit": "unit-2"}))
    assert "Марія Коваль" in html and "Іван Сірко" not in html
    _, _, html = browser.request("GET", "/?" + urlencode({"operator": "7", "status": "queued"}))
    assert "Іван Сірко" in html and "Марія Коваль" not in html
    _, _, html = browser.request("GET", "/?" + urlencode({"date_from": "2025-03-05", "date_to": "2025-03-05"}))
    assert "Іван Сірко" in html and "Марія Коваль" not in html
    clock.now += 13 * 3600  # past midnight: the queued forward is overdue
    _, _, html = browser.request("GET", "/")
    assert "overdue" in html
    csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
    rid = records["forward"]["id"]
    assert browser.request("POST", f"/forwards/{rid}/sent", {"csrf": "forged", "back": "/"})[0] == 403
    status, headers, _ = browser.request("POST", f"/forwards/{rid}/sent", {"csrf": csrf, "back": "/?unit=unit-1"})
    assert (status, headers["location"]) == (303, "/?unit=unit-1")
    forwards = call(server.url, "GET", "/api/v1/forwards", ADMIN).body["forwards"]
    assert [(f["status"], f["sent_late"]) for f in forwards] == [("sent", True)]
    status, headers, text = browser.request("GET", "/appeals.csv?status=sent")
    assert status == 200 and headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["record_id"], r["full_name"], r["status"]) for r in rows] == [(rid, "Іван Сірко", "sent")]
    assert browser.request("POST", "/logout", {})[0] == 303
    assert browser.request("GET", "/appeals.csv")[0] == 303


def test_line_quality_chart_shows_the_bad_share_per_unit_and_hour(server: CentralServer) -> None:
    seed(server)
    post(server, make_record("unit-1", line_worst="good"))  # 10:04 local, good
    browser = Browser(server)
    browser.login()
    _, _, html = browser.request("GET", "/")
    units = html[html.index('id="chart-units"') :]
    assert "unit-1: 1 of 2 calls" in units and "unit-2: 1 of 2 calls" in units
    hours = html[html.index('id="chart-hours"') :]
    assert "09:00: 1 of 1 calls" in hours and "10:00: 0 of 1 calls" in hours and "14:00: 1 of 2 calls" in hours


def test_metrics_for_prometheus(server: CentralServer, clock: Clock) -> None:
    seed(server)
    call(server.url, "POST", "/api/v1/records/batch", "tok-1", {"records": [make_record("unit-1")]})
    clock.now += 600
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", "/metrics")
    assert conn.getresponse().status == 401
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", "/metrics", headers={"Authorization": f"Bearer {ADMIN}"})
    text = conn.getresponse().read().decode()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    assert values["deskunit_central_records_stored"] == 4
    assert values['deskunit_central_records_total{status="created"}'] == 4
    assert values["deskunit_central_batches_total"] == 1
    assert values["deskunit_central_units_seen"] == 2
    assert values['deskunit_central_unit_last_seen_age_seconds{unit="unit-1"}'] == 600
    assert (values["deskunit_central_forwards_due"], values["deskunit_central_forwards_overdue"]) == (1, 0)
    assert values['deskunit_central_request_seconds_count{operation="postRecord"}'] == 3
    assert "Сірко" not in text


def test_paging_of_forwards(server: CentralServer) -> None:
    records = [make_record("unit-1", appeal=make_appeal(forward_to=COURT)) for _ in range(5)]
    for record in records:
        post(server, record)
    seen, cursor = [], None
    while True:
        query = "/api/v1/forwards?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = call(server.url, "GET", query.replace("+", "%2B"), ADMIN).body
        seen += [f["record_id"] for f in page["forwards"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(r["id"] for r in records) and len(seen) == 5
    assert call(server.url, "GET", "/api/v1/forwards?cursor=junk", ADMIN).status == 400


def test_a_database_of_the_unversioned_schema_is_migrated_and_keeps_its_records(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    record = make_record("unit-1", appeal=make_appeal(forward_to=COURT), operator=7)
    with sqlite3.connect(db) as conn:
        for statement in MIGRATIONS[0].sqlite:
            conn.execute(statement)
        conn.execute("INSERT INTO units (id, token_hash) VALUES ('unit-1', 'x')")
        import json

        conn.execute(
            "INSERT INTO records (id, unit, received_at, body) VALUES (?, 'unit-1', '2025-03-05T10:00:00+00:00', ?)",
            (record["id"], json.dumps(record)),
        )
        conn.execute(
            "INSERT INTO notifications (record_id, unit, created_at, payload) VALUES (?, 'unit-1', 'x', ?)",
            (record["id"], json.dumps({"operator": 7, "ended_at": record["ended_at"], "appeal": record["appeal"]})),
        )
    with CentralServer(db, admin_token=ADMIN) as srv:
        assert srv.store.schema_version() == LATEST
        assert call(srv.url, "GET", "/api/v1/records", ADMIN).body["records"][0]["body"] == record
        browser = Browser(srv)
        browser.login()
        _, _, html = browser.request("GET", "/?operator=7")
        assert record["id"] in html
    with CentralServer(db, admin_token=ADMIN) as srv:  # a second start applies nothing twice
        assert srv.store.schema_version() == LATEST
