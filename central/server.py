"""The transport: `CentralServer` runs the ASGI application (`central.app`) under uvicorn.

Used in-process by tests and the simulator (``start()`` binds 127.0.0.1 on a free port and serves
from a background thread with its own event loop) and by ``deskunit-central serve``. TLS is native
(uvicorn's SSL transport, TLS 1.2 or newer) or left to a reverse proxy (docs/central.md).

Limits against clients that hold connections (issue 18): uvicorn's keep-alive timeout and
``limit_concurrency``, h11's cap on header size, and `central.protocol`'s request deadline and
connection cap that sheds idle connections before descriptors run out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import secrets
import shutil
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn

from central.api import Api
from central.app import build_app
from central.commit import GroupCommitter
from central.faults import Faults
from central.manage import ManagementPage
from central.metrics import Metrics
from central.protocol import ConnectionLimits, limited_protocol
from central.store import Store, open_store

log = logging.getLogger("central.server")

# asyncio accepts up to this many connections per turn of its loop (its "backlog"), before the
# protocol sees any of them and can shed idle ones; the kernel's queue is made longer separately.
ACCEPT_BURST = 64
LISTEN_BACKLOG = 2048
# Descriptors kept free: the bursts between accept() and the protocol seeing them (a few turns of
# the loop), the shed connections not yet released, and the database and log files.
RESERVED_FDS = 4 * ACCEPT_BURST + 100
MAX_HEADER_BYTES = 16 * 1024


async def _close_now(server: uvicorn.Server) -> None:
    """Refuse new connections and close the open ones (what uvicorn's shutdown begins with)."""
    for listener in server.servers:
        listener.close()
    for connection in list(server.server_state.connections):
        connection.shutdown()


def _parser_protocol(name: str | None) -> Any:
    """uvicorn's protocol class for ``h11`` or ``httptools``; None: httptools when installed."""
    if name is None:
        return None
    if name == "h11":
        from uvicorn.protocols.http.h11_impl import H11Protocol

        return H11Protocol
    if name == "httptools":
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        return HttpToolsProtocol
    raise ValueError(f"unknown HTTP parser {name!r} (h11 or httptools)")


def default_max_connections() -> int:
    """Open connections allowed: the descriptor limit (systemd's default is 1024) minus a reserve."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        soft = 65536
    return max(16, soft - RESERVED_FDS)


class CentralServer:
    """The reference central server, in-process: ``with CentralServer() as srv: ... srv.url ...``.

    ``db`` is a SQLite path, ``sqlite:///path`` or ``postgresql://...``; None keeps a SQLite file in a
    temporary directory removed by ``stop()``. ``admin_token`` is the management token (generated if
    not given; see ``.admin_token``). ``clock`` returns epoch seconds and drives received_at, the time
    endpoint and the overdue flags. ``faults`` arms fault injection (tests only). ``check_responses``
    validates every answer against the spec (on in-process, where tests run; off for ``serve``).
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
        check_responses: bool = True,
        max_connections: int | None = None,
        request_timeout_s: float = 30.0,
        keep_alive_s: int = 5,
        limit_concurrency: int | None = None,
        secure_cookies: bool | None = None,
        http_parser: str | None = None,
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
        self._check_responses = check_responses
        self.limits = ConnectionLimits(
            max_connections=max_connections or default_max_connections(),
            request_timeout_s=request_timeout_s,
            max_head_bytes=MAX_HEADER_BYTES,
        )
        self._keep_alive_s = keep_alive_s
        self._limit_concurrency = limit_concurrency or self.limits.max_connections + 1
        self._secure_cookies = self._tls is not None if secure_cookies is None else secure_cookies
        self._http_base = _parser_protocol(http_parser)
        self._tmpdir: str | None = None
        self._uvicorn: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping_threads: list[threading.Thread] = []
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._metrics: Metrics | None = None
        self._committer: GroupCommitter | None = None
        self._manage: ManagementPage | None = None
        self.api: Api | None = None

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
        self._metrics = Metrics(self.store, self._clock)
        self._committer = GroupCommitter(self.store)
        self._manage = ManagementPage(self.store, self.admin_token, self._clock, self._tz, self._secure_cookies)
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
        if self._committer is not None:
            self._committer.close()
            self._committer = None
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

    def _socket(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        return sock

    def _listen(self) -> None:
        with self._lock:
            if self._uvicorn is not None:
                return
            assert self._metrics is not None and self._manage is not None
            self.api = Api(
                self.store,
                self.admin_token,
                self._clock,
                self._tz,
                faults=self.faults,
                metrics=self._metrics,
                check_responses=self._check_responses,
                committer=self._committer,
            )
            config = uvicorn.Config(
                build_app(self.api, self._manage),
                http=limited_protocol(self.limits, self._http_base),
                ws="none",
                lifespan="off",
                log_config=None,
                access_log=False,
                server_header=False,
                timeout_keep_alive=self._keep_alive_s,
                limit_concurrency=self._limit_concurrency,
                h11_max_incomplete_event_size=MAX_HEADER_BYTES,
                timeout_graceful_shutdown=3,
                backlog=ACCEPT_BURST,
            )
            config.load()
            config.ssl = self._tls
            server = uvicorn.Server(config)
            sock = self._socket()
            failed: list[BaseException] = []

            loops: list[asyncio.AbstractEventLoop] = []

            def run() -> None:
                try:
                    with asyncio.Runner() as runner:
                        loops.append(runner.get_loop())
                        runner.run(server.serve(sockets=[sock]))
                except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
                    failed.append(exc)
                finally:
                    sock.close()

            thread = threading.Thread(target=run, name="central-http", daemon=True)
            thread.start()
            while not server.started and thread.is_alive():
                time.sleep(0.01)
            if not server.started:
                thread.join()
                raise RuntimeError(f"the central server did not start: {failed[0] if failed else 'unknown'}")
            sock.listen(LISTEN_BACKLOG)  # a burst of clients waits in the kernel, not for SYN retries
            self._uvicorn, self._thread, self._loop = server, thread, loops[0]
            log.info("listening on %s (storage: %s)", self.url, self.store.kind)

    def _unlisten(self, wait: bool = True) -> None:
        """Stop listening and close every connection before returning; the rest of uvicorn's
        shutdown (requests in flight, up to 3 s) finishes in its thread, waited for when ``wait``."""
        with self._lock:
            server, self._uvicorn = self._uvicorn, None
            thread, self._thread = self._thread, None
            loop, self._loop = self._loop, None
        if server is not None and loop is not None and thread is not None and thread.is_alive():
            # uvicorn notices should_exit only on its next tick (0.1 s): a simulated unit that takes
            # the server down from its event loop must not wait for that.
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(_close_now(server), loop).result(timeout=5)
        if server is not None:
            server.should_exit = True
        if thread is not None:
            if wait:
                thread.join(timeout=10)
            else:
                self._stopping_threads.append(thread)
        if wait:
            for old in self._stopping_threads:
                old.join(timeout=10)
            self._stopping_threads.clear()

    def set_down(self, down: bool) -> None:
        """Take the server off the network (connections refused) or bring it back on the same port;
        through its Faults when it has them, so their state stays the truth."""
        if self.faults is not None:
            self.faults.down() if down else self.faults.up()
        else:
            self._on_down(down)

    def _on_down(self, down: bool) -> None:
        if down:
            self._unlisten(wait=False)
        elif not self._stopping.is_set():
            self._listen()

    # --- administration --------------------------------------------------------------------------
    def add_unit(self, unit_id: str, token: str, name: str | None = None) -> None:
        """Register a unit and its bearer token (stored hashed), or give it a new token."""
        self.store.add_unit(unit_id, token, name)
        if self.api is not None:
            self.api.forget_tokens()

    def count_records(self, unit: str | None = None) -> int:
        """How many records the server holds (for one unit, or all): what the simulator checks."""
        return self.store.count_records(unit)

    def set_config(self, doc: dict[str, Any], unit: str | None = None) -> str:
        """Replace the fleet config document (or one unit's); returns its ETag."""
        return self.store.put_config(doc, unit)
