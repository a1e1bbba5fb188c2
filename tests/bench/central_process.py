"""The central server in its own process for the benchmarks: started on a free loopback port,
waited for until it answers its health check, stopped at the end."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from central.testing import call

REPO = Path(__file__).resolve().parents[2]
ADMIN = "bench-admin"


@contextlib.contextmanager
def central_process(db: str, timeout: float = 30) -> Iterator[tuple[int, subprocess.Popen]]:
    """Serve ``db`` from ``python -m central serve``; yields its port and process."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "DESKUNIT_CENTRAL_ADMIN_TOKEN": ADMIN, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "central", "serve", "--db", db, "--port", str(port), "--log-level", "WARNING"]
    proc = subprocess.Popen(cmd, env=env)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                call(f"http://127.0.0.1:{port}", "GET", "/api/v1/health")
                break
            except ConnectionRefusedError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the server process did not come up") from None
                time.sleep(0.1)
        yield port, proc
    finally:
        proc.terminate()
        proc.wait(timeout=timeout)
