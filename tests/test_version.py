"""The unit's version, from the package metadata (setuptools-scm, git tags): the command line shows
it, and every request the unit sends to the central server carries it as its User-Agent."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from importlib.metadata import version

from firmware.sync import SyncClient, SyncError


def test_deskunit_version_prints_the_installed_version():
    p = subprocess.run([sys.executable, "-m", "deskunit.cli", "--version"], capture_output=True, text=True)
    assert p.returncode == 0
    assert p.stdout.strip() == f"deskunit {version('deskunit')}"
    assert version("deskunit")[0].isdigit()


def test_sync_requests_say_which_firmware_sends_them():
    seen: list[str | None] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            seen.append(self.headers.get("User-Agent"))
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = SyncClient(f"http://127.0.0.1:{server.server_address[1]}/api/v1", "token", timeout_s=5)
        with contextlib.suppress(SyncError):
            client.get_time()
        client.close()
    finally:
        server.shutdown()
        server.server_close()
    assert seen == [f"deskunit/{version('deskunit')}"]
