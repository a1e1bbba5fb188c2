"""Limits that keep the server up against clients that hold connections or send huge bodies (issue 18).

Each limit is configured small so the tests run in about a second of real time: the request deadline,
the connection cap that sheds idle connections, uvicorn's keep-alive timeout and ``limit_concurrency``,
h11's header size cap, and the token checked before any byte of a body is read.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from central import CentralServer
from central.testing import call, make_record

ADMIN = "admin-secret-token"


@pytest.fixture(params=["httptools", "h11"])
def server(request, tmp_path: Path) -> Iterator[CentralServer]:
    """The same limits with either of uvicorn's HTTP parsers (httptools is used when installed)."""
    pytest.importorskip(request.param)
    with CentralServer(
        tmp_path / "c.db", admin_token=ADMIN, max_connections=8, request_timeout_s=0.6, keep_alive_s=1,
        http_parser=request.param,
    ) as srv:  # fmt: skip
        srv.add_unit("unit-1", "tok-1")
        yield srv


def connect(srv: CentralServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", srv.port), timeout=5)


def closed_by_server(sock: socket.socket, within: float) -> bool:
    """True when the server closes the connection (EOF or reset) within ``within`` seconds."""
    sock.settimeout(within)
    try:
        while sock.recv(65536):
            pass
        return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_an_anonymous_16_mb_body_is_refused_before_it_is_sent(server: CentralServer) -> None:
    sock = connect(server)
    sock.sendall(
        b"POST /api/v1/records/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 16000000\r\n\r\n{\"records\": ["
    )
    sock.settimeout(2)
    head = sock.recv(4096)
    assert head.startswith(b"HTTP/1.1 401 ")
    assert b"connection: close" in head.lower()
    assert closed_by_server(sock, 2)


def test_a_body_over_16_mib_is_refused_from_its_content_length(server: CentralServer) -> None:
    sock = connect(server)
    sock.sendall(
        b"POST /api/v1/records/batch HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok-1\r\n"
        b"Content-Length: 17000000\r\n\r\n"
    )
    sock.settimeout(2)
    assert sock.recv(4096).startswith(b"HTTP/1.1 413 ")


def test_a_request_trickling_in_is_cut_off_at_the_deadline(server: CentralServer) -> None:
    slow_head = connect(server)
    slow_head.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n")  # never finishes its headers
    record = make_record("unit-1")
    body = (b'{"id": "%s"' % record["id"].encode())
    slow_body = connect(server)
    slow_body.sendall(
        b"POST /api/v1/records HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok-1\r\nContent-Length: 500\r\n\r\n"
        + body
    )
    started = time.monotonic()
    assert closed_by_server(slow_head, 3) and closed_by_server(slow_body, 3)
    assert time.monotonic() - started < 2.5
    assert server.limits.timed_out == 2
    assert server.count_records() == 0


def test_a_long_poll_is_not_cut_off_by_the_request_deadline(server: CentralServer) -> None:
    started = time.monotonic()
    reply = call(server.url, "GET", "/api/v1/notifications?wait=1", ADMIN)
    assert reply.status == 200 and time.monotonic() - started >= 0.9


def test_idle_connections_are_shed_oldest_first_so_requests_still_get_in(server: CentralServer) -> None:
    idle = [connect(server) for _ in range(20)]
    time.sleep(0.2)
    started = time.monotonic()
    assert call(server.url, "GET", "/api/v1/health").status == 200
    assert time.monotonic() - started < 0.5
    assert server.limits.shed >= 12
    # The oldest were let go; the newest still stand (until their own deadline).
    assert closed_by_server(idle[0], 0.3)
    assert not closed_by_server(idle[-1], 0.1)


def test_keep_alive_connections_are_closed_when_idle(server: CentralServer) -> None:
    sock = connect(server)
    sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
    sock.settimeout(2)
    assert sock.recv(4096).startswith(b"HTTP/1.1 200 ")
    assert not closed_by_server(sock, 0.5)
    assert closed_by_server(sock, 1.5)


def test_headers_growing_past_16_kib_are_refused(server: CentralServer) -> None:
    """h11 holds at most 16 KiB of a request head that has not ended yet."""
    sock = connect(server)
    sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Junk: " + b"a" * 40_000)
    sock.settimeout(2)
    assert sock.recv(4096).startswith(b"HTTP/1.1 400 ")


def test_requests_beyond_the_concurrency_limit_get_503(tmp_path: Path) -> None:
    """uvicorn's limit_concurrency counts open connections (the asking one too) and requests in flight."""
    server = CentralServer(tmp_path / "c.db", admin_token=ADMIN, limit_concurrency=3).start()
    statuses: list[int] = []

    def poll() -> None:
        statuses.append(call(server.url, "GET", "/api/v1/notifications?wait=2", ADMIN).status)

    polls = [threading.Thread(target=poll) for _ in range(2)]
    for t in polls:
        t.start()
    time.sleep(0.3)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request("GET", "/api/v1/health")
    assert conn.getresponse().status == 503
    conn.close()
    for t in polls:
        t.join()
    assert statuses == [200, 200]
    assert call(server.url, "GET", "/api/v1/health").status == 200
    server.stop()


def test_a_big_body_arriving_with_its_head_is_not_taken_for_a_long_head(server: CentralServer) -> None:
    """The head cap counts the head only: a 200-record batch sent in one write is stored."""
    records = [make_record("unit-1") for _ in range(200)]
    body = json.dumps({"records": records}).encode()
    sock = connect(server)
    sock.sendall(
        b"POST /api/v1/records/batch HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok-1\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    )
    sock.settimeout(5)
    assert sock.recv(4096).startswith(b"HTTP/1.1 200 ")
    assert server.count_records() == 200
