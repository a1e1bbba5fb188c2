"""Every fault mode of `central.faults.Faults`, as a client on loopback sees it."""

from __future__ import annotations

import http.client
import importlib.util
import json
import socket
import sqlite3
import sys
import time
from pathlib import Path

import pytest

if importlib.util.find_spec("central") is None:  # until pyproject lists the `central` package
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from central import CentralServer, Faults  # noqa: E402
from central.testing import call, make_record  # noqa: E402

ADMIN = "admin-secret-token"


@pytest.fixture
def faults() -> Faults:
    return Faults()


@pytest.fixture
def server(tmp_path: Path, faults: Faults):
    with CentralServer(tmp_path / "central.db", admin_token=ADMIN, faults=faults) as srv:
        srv.add_unit("unit-1", "tok-1")
        yield srv


def post(srv: CentralServer, record: dict, timeout: float = 10.0):
    return call(srv.url, "POST", "/api/v1/records", "tok-1", record, timeout=timeout)


def stored(srv: CentralServer) -> int:
    with sqlite3.connect(srv.store.path) as conn:  # type: ignore[attr-defined]
        return conn.execute("SELECT count(*) FROM records").fetchone()[0]


def test_no_faults_armed_means_normal_service(server: CentralServer) -> None:
    assert post(server, make_record("unit-1")).status == 201


def test_fail_next_n_answers_5xx_and_stores_nothing(server: CentralServer, faults: Faults) -> None:
    faults.fail_next(2, status=503)
    record = make_record("unit-1")
    first, second = post(server, record), post(server, record)
    assert (first.status, second.status) == (503, 503)
    assert first.headers["retry-after"] == "1"
    assert stored(server) == 0
    assert post(server, record).status == 201
    assert faults.counts.failed == 2


def test_fail_with_another_status_and_a_path_filter(server: CentralServer, faults: Faults) -> None:
    faults.fail_next(1, status=502, only="/api/v1/records")
    assert call(server.url, "GET", "/api/v1/time").status == 200  # does not use the fault up
    assert post(server, make_record("unit-1")).status == 502
    with pytest.raises(ValueError):
        faults.fail_next(1, status=404)


def test_delay_makes_a_client_time_out_after_the_record_was_stored(server: CentralServer, faults: Faults) -> None:
    faults.delay(1.0, n=1)
    record = make_record("unit-1")
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        post(server, record, timeout=0.3)
    assert time.monotonic() - started < 0.9
    assert stored(server) == 1  # handled before the held response
    time.sleep(0.8)
    assert post(server, record).body["status"] == "duplicate"


def test_delay_until_cleared(server: CentralServer, faults: Faults) -> None:
    faults.delay(1.0)
    for _ in range(2):
        started = time.monotonic()
        assert call(server.url, "GET", "/api/v1/time").status == 200
        assert time.monotonic() - started >= 1.0
    faults.clear()
    started = time.monotonic()
    call(server.url, "GET", "/api/v1/time")
    assert time.monotonic() - started < 0.9  # no longer held a whole second (generous: CI may be busy)


def test_malformed_json_body(server: CentralServer, faults: Faults) -> None:
    faults.malformed_next(1)
    with pytest.raises(json.JSONDecodeError):
        post(server, make_record("unit-1"))
    assert stored(server) == 1
    assert faults.counts.malformed == 1


def test_truncated_body_then_close(server: CentralServer, faults: Faults) -> None:
    faults.truncate_next(1)
    record = make_record("unit-1")
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request("POST", "/api/v1/records", json.dumps(record), {"Authorization": "Bearer tok-1"})
    resp = conn.getresponse()
    assert resp.status == 201
    announced = int(resp.getheader("Content-Length"))
    with pytest.raises(http.client.IncompleteRead) as caught:
        resp.read()
    assert 0 < len(caught.value.partial) < announced
    conn.close()
    assert stored(server) == 1


def test_response_lost_after_the_record_was_stored(server: CentralServer, faults: Faults) -> None:
    faults.drop_after_store_next(1)
    call(server.url, "GET", "/api/v1/time")  # other paths do not use up a drop meant for records
    record = make_record("unit-1")
    with pytest.raises(http.client.RemoteDisconnected):
        post(server, record)
    assert stored(server) == 1
    retry = post(server, record)
    assert (retry.status, retry.body["status"]) == (200, "duplicate")
    assert faults.counts.dropped == 1


def test_batch_response_lost_after_store(server: CentralServer, faults: Faults) -> None:
    faults.drop_after_store_next(1)
    records = [make_record("unit-1") for _ in range(3)]
    with pytest.raises(http.client.RemoteDisconnected):
        call(server.url, "POST", "/api/v1/records/batch", "tok-1", {"records": records})
    retry = call(server.url, "POST", "/api/v1/records/batch", "tok-1", {"records": records})
    assert retry.body["duplicate"] == 3


def test_down_refuses_connections_and_up_comes_back_on_the_same_port(server: CentralServer, faults: Faults) -> None:
    port = server.port
    keep_alive = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    keep_alive.request("GET", "/api/v1/health")
    assert keep_alive.getresponse().read()
    faults.down()
    assert faults.is_down
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2)
    with pytest.raises(ConnectionRefusedError):
        post(server, make_record("unit-1"))
    # A connection that was open when the server went down is closed, not left hanging.
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError, http.client.BadStatusLine)):
        keep_alive.request("GET", "/api/v1/health")
        keep_alive.getresponse()
    keep_alive.close()
    faults.up()
    assert server.port == port
    assert post(server, make_record("unit-1")).status == 201
    assert faults.counts.refused_periods == 1


def test_server_started_down_listens_once_up(tmp_path: Path) -> None:
    faults = Faults()
    faults.down()
    with CentralServer(tmp_path / "c.db", faults=faults, port=_free_port()) as srv:
        with pytest.raises(ConnectionRefusedError):
            call(srv.url, "GET", "/api/v1/health")
        faults.up()
        assert call(srv.url, "GET", "/api/v1/health").status == 200


def test_faults_are_used_up_in_order(faults: Faults) -> None:
    faults.fail_next(1)
    faults.drop_after_store_next(2)
    plans = [faults.plan("/api/v1/records") for _ in range(4)]
    assert [p.fail_status for p in plans] == [503, None, None, None]
    assert [p.drop for p in plans] == [False, True, True, False]
    assert plans[3].clean
    with pytest.raises(ValueError):
        faults.truncate_next(0)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
