"""The HTTP transport: `CentralServer`, a threading stdlib HTTP(S) server around `central.api.Api`.

Used in-process by tests and the simulator (``start()`` binds 127.0.0.1 on a free port and serves
from a background thread) and by ``python -m central serve``. Logs one line per request: method,
path (without the query), status, unit and milliseconds; never a body, which carries personal data.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import shutil
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from central.api import MAX_BODY_BYTES, Api, ApiError, Request, Response
from central.faults import FaultPlan, Faults
from central.store import Store, open_store

access_log = logging.getLogger("central.access")
log = logging.getLogger("central.server")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The default backlog of 5 makes a burst of clients wait for SYN retransmits (seconds).
    request_queue_size = 512

    def __init__(self, address: tuple[str, int], owner: CentralServer) -> None:
        self.owner = owner
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that vanish or fail the TLS handshake are routine; keep them out of stderr.
        log.debug("connection from %s ended with an error", client_address[0], exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "deskunit-central/1"
    # Idle keep-alive connections are closed after this, so their threads do not pile up.
    timeout = 60
    # Headers and body go out in two writes; with Nagle on, the body waits for the client's delayed
    # ACK (~40 ms on Linux) on every request.
    disable_nagle_algorithm = True
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()
        self.server.owner._track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.owner._track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s " + format, self.client_address[0], *args)

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            raise ApiError(411, "length_required", "send a Content-Length (chunked bodies are not accepted)")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise ApiError(400, "invalid", "bad Content-Length") from None
        if length > MAX_BODY_BYTES:
            raise ApiError(413, "too_large", f"body larger than {MAX_BODY_BYTES} bytes")
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self) -> None:
        started = time.perf_counter()
        owner = self.server.owner
        parts = urlsplit(self.path)
        path = parts.path
        plan = owner.faults.plan(path) if owner.faults is not None else FaultPlan()
        try:
            body = self._read_body()
        except ApiError as err:
            self.close_connection = True
            response = err.response()
        else:
            if plan.fail_status is not None:
                response = Response(
                    plan.fail_status,
                    {"error": "unavailable", "message": "injected failure"},
                    {"Retry-After": "1"},
                )
            else:
                request = Request(self.command, path, parse_qs(parts.query), dict(self.headers.items()), body)
                try:
                    response = owner.api.handle(request)
                except Exception:
                    # The traceback names no request data; bodies stay out of the log.
                    log.exception("internal error on %s %s", self.command, path)
                    response = Response(500, {"error": "internal", "message": "internal server error"})
        if plan.delay_s:
            owner._stopping.wait(plan.delay_s)
        if plan.drop:
            self._abort()
            self._log(path, "dropped", response.unit, started)
            return
        self._send(response, plan)
        self._log(path, str(response.status), response.unit, started)

    def _send(self, response: Response, plan: FaultPlan) -> None:
        data = b""
        if response.body is not None:
            data = json.dumps(response.body, ensure_ascii=False).encode("utf-8")
            if plan.malformed:
                data = data[: max(1, len(data) // 2)] + b"\x00<not json"
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.body is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if plan.truncate:
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self._abort()
            return
        self.wfile.write(data)

    def _abort(self) -> None:
        """Close the connection now, without (the rest of) a response."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _log(self, path: str, status: str, unit: str | None, started: float) -> None:
        ms = (time.perf_counter() - started) * 1000
        access_log.info("%s %s %s unit=%s %.1fms", self.command, path, status, unit or "-", ms)


class CentralServer:
    """The reference central server, in-process: ``with CentralServer() as srv: ... srv.url ...``.

    ``db`` is a SQLite path, ``sqlite:///path`` or ``postgresql://...``; None keeps a SQLite file in a
    temporary directory removed by ``stop()``. ``admin_token`` is the management token (generated if
    not given; see ``.admin_token``). ``clock`` returns epoch seconds and drives received_at, the time
    endpoint and the overdue flags. ``faults`` arms fault injection (tests only).
    """

    def __init__(
        self,
        db: str | Path | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        admin_token: str | None = None,
        faults: Faults | None = None,
        clock: Callable[[], float] = time.time,
        tz: str = "Europe/Kyiv",
        certfile: str | Path | None = None,
        keyfile: str | Path | None = None,
        store: Store | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.admin_token = admin_token or secrets.token_urlsafe(32)
        self.faults = faults
        self._db = db
        self._clock = clock
        self._tz = tz
        self._tls: ssl.SSLContext | None = None
        if certfile:
            self._tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._tls.minimum_version = ssl.TLSVersion.TLSv1_2
            self._tls.load_cert_chain(str(certfile), str(keyfile) if keyfile else None)
        self._store = store
        self._tmpdir: str | None = None
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.RLock()
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        self._stopping = threading.Event()
        self.api: Api

    # --- lifecycle -------------------------------------------------------------------------------
    @property
    def store(self) -> Store:
        if self._store is None:
            if self._db is None:
                self._tmpdir = tempfile.mkdtemp(prefix="deskunit-central-")
                self._db = Path(self._tmpdir) / "central.db"
            self._store = open_store(self._db)
        return self._store

    @property
    def url(self) -> str:
        scheme = "https" if self._tls else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    def start(self) -> CentralServer:
        self._stopping.clear()
        self.api = Api(self.store, self.admin_token, self._clock, self._tz)
        if self.faults is not None:
            self.faults.subscribe(self._on_down)
        if self.faults is None or not self.faults.is_down:
            self._listen()
        return self

    def serve_forever(self) -> None:
        """Start and block until interrupted (for the command line)."""
        self.start()
        try:
            while not self._stopping.wait(3600):
                pass
        finally:
            self.stop()

    def request_stop(self) -> None:
        """Make `serve_forever` return (safe from a signal handler)."""
        self._stopping.set()

    def stop(self) -> None:
        self._stopping.set()
        if self.faults is not None:
            self.faults.unsubscribe(self._on_down)
        self._unlisten()
        if self._store is not None:
            self._store.close()
            self._store = None
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None
            self._db = None

    def __enter__(self) -> CentralServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _listen(self) -> None:
        with self._lock:
            if self._httpd is not None:
                return
            httpd = _HTTPServer((self.host, self.port), self)
            if self._tls is not None:
                # The handshake runs in the connection's own thread (see _Handler.setup), not in accept().
                httpd.socket = self._tls.wrap_socket(httpd.socket, server_side=True, do_handshake_on_connect=False)
            self.port = httpd.server_address[1]
            self._httpd = httpd
            self._thread = threading.Thread(
                target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="central-http", daemon=True
            )
            self._thread.start()
            log.info("listening on %s (storage: %s)", self.url, self.store.kind)

    def _unlisten(self) -> None:
        with self._lock:
            httpd, self._httpd = self._httpd, None
            thread, self._thread = self._thread, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def set_down(self, down: bool) -> None:
        """Take the server off the network (connections refused) or bring it back on the same port;
        through its Faults when it has them, so their state stays the truth."""
        if self.faults is not None:
            self.faults.down() if down else self.faults.up()
        else:
            self._on_down(down)

    def _on_down(self, down: bool) -> None:
        if down:
            self._unlisten()
        elif not self._stopping.is_set():
            self._listen()

    def _track(self, conn: socket.socket, alive: bool) -> None:
        with self._conns_lock:
            if alive:
                self._conns.add(conn)
            else:
                self._conns.discard(conn)

    # --- administration --------------------------------------------------------------------------
    def add_unit(self, unit_id: str, token: str, name: str | None = None) -> None:
        """Register a unit and its bearer token (stored hashed)."""
        self.store.add_unit(unit_id, token, name)

    def count_records(self, unit: str | None = None) -> int:
        """How many records the server holds (for one unit, or all): what the simulator checks."""
        return self.store.count_records(unit)

    def set_config(self, doc: dict[str, Any], unit: str | None = None) -> str:
        """Replace the fleet config document (or one unit's); returns its ETag."""
        return self.store.put_config(doc, unit)
