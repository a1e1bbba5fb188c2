"""Can clients without a token exhaust the central server? (issue 18, point 3)

    python tests/bench/bench_central_exhaustion.py [--bodies 30] [--idle 1100] [--nofile 1024]

The server runs as ``deskunit-central serve`` in its own process with ``--nofile`` descriptors (the
systemd default is 1024), with its default limits.

1. **Big bodies**: ``--bodies`` anonymous clients each announce a 16 MB body and keep sending it as
   fast as the server takes it. Prints the server's RSS before, at its peak and after (it should
   stay flat: the token is checked before any byte of a body is read).
2. **Idle connections**: ``--idle`` connections opened and left silent; then again, re-opened as
   soon as the server lets one go (an attacker who keeps trying). Meanwhile a client asks
   ``/api/v1/health`` on a fresh connection 20 times: prints latency p50/max (the issue asks
   <= 2 s) and failures.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from central.testing import call

REPO = Path(__file__).resolve().parents[2]


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _start(db: str, nofile: int) -> tuple[subprocess.Popen, int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "DESKUNIT_CENTRAL_ADMIN_TOKEN": "exhaustion-admin", "PYTHONPATH": str(REPO)}

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    proc = subprocess.Popen(
        [sys.executable, "-m", "central", "serve", "--db", db, "--port", str(port), "--log-level", "ERROR"],
        env=env,
        preexec_fn=limit,  # noqa: PLW1509 - only sets the descriptor limit of the child
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            call(f"http://127.0.0.1:{port}", "GET", "/api/v1/health")
            return proc, port
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def big_bodies(pid: int, port: int, clients: int) -> None:
    before = _rss_mb(pid)
    peak = before
    answers: list[bytes] = []
    sent_total = [0]
    lock = threading.Lock()
    stop = threading.Event()

    def client() -> None:
        sock = socket.create_connection(("127.0.0.1", port))
        sock.settimeout(10)
        head = (
            b"POST /api/v1/records/batch HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            b"Content-Length: 16000000\r\n\r\n"
        )
        chunk = b"[" * 65536
        sent = 0
        try:
            sock.sendall(head)
            while sent < 16_000_000 and not stop.is_set():
                sock.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass
        try:
            answer = sock.recv(64)
        except OSError:
            answer = b""
        with lock:
            answers.append(answer.split(b"\r\n", 1)[0])
            sent_total[0] += sent
        sock.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        peak = max(peak, _rss_mb(pid))
        time.sleep(0.02)
    after = _rss_mb(pid)
    statuses = sorted(set(a.decode(errors="replace") for a in answers))
    print(
        f"{clients} anonymous clients x 16 MB bodies: server RSS before {before:.0f} MB, peak {peak:.0f} MB, "
        f"after {after:.0f} MB; the clients got {sent_total[0] / 2**20:.1f} MB out before the server closed; "
        f"answers: {statuses}"
    )


def idle_connections(port: int, idle: int, seconds: float, reopen: bool) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, idle + 512)), hard))
    sel = selectors.DefaultSelector()
    stop = threading.Event()
    opened = [0]

    def open_one() -> None:
        sock = socket.socket()
        sock.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            sock.connect(("127.0.0.1", port))
        sel.register(sock, selectors.EVENT_READ)
        opened[0] += 1

    def attacker() -> None:
        for _ in range(idle):
            open_one()
        while not stop.is_set():
            for key, _mask in sel.select(timeout=0.1):
                sock = key.fileobj
                try:
                    data = sock.recv(4096)  # type: ignore[union-attr]
                except OSError:
                    data = b""
                if not data:
                    sel.unregister(sock)
                    sock.close()  # type: ignore[union-attr]
                    if reopen:
                        open_one()  # and straight back in

    thread = threading.Thread(target=attacker, daemon=True)
    thread.start()
    time.sleep(3)  # let all of them connect
    latencies, failures = [], []
    url = f"http://127.0.0.1:{port}"
    end = time.monotonic() + seconds
    while time.monotonic() < end or len(latencies) + len(failures) < 20:
        t0 = time.perf_counter()
        try:
            status = call(url, "GET", "/api/v1/health", timeout=10).status
            if status == 200:
                latencies.append(time.perf_counter() - t0)
            else:
                failures.append(str(status))
        except OSError as exc:
            failures.append(type(exc).__name__)
        time.sleep(max(0.0, seconds / 20 - (time.perf_counter() - t0)))
        if len(latencies) + len(failures) >= 20:
            break
    stop.set()
    thread.join()
    for key in list(sel.get_map().values()):
        key.fileobj.close()  # type: ignore[union-attr]
    if latencies:
        how = f"re-opened {opened[0] - idle} times after the server shed them" if reopen else "opened once"
        print(
            f"{idle} idle connections ({how}): "
            f"/health on a fresh connection p50 {statistics.median(latencies) * 1000:.0f} ms, "
            f"max {max(latencies) * 1000:.0f} ms over {len(latencies)} requests; "
            f"failures {len(failures)} {failures[:3]}"
        )
    else:
        print(f"{idle} idle connections: every /health failed: {failures[:5]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bodies", type=int, default=30)
    parser.add_argument("--idle", type=int, default=1100)
    parser.add_argument("--nofile", type=int, default=1024)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = _start(str(Path(tmp) / "c.db"), args.nofile)
        try:
            print(f"server pid {proc.pid}, descriptor limit {args.nofile}")
            big_bodies(proc.pid, port, args.bodies)
            idle_connections(port, args.idle, args.seconds, reopen=False)
            idle_connections(port, args.idle, args.seconds, reopen=True)
            print(f"server RSS at the end {_rss_mb(proc.pid):.0f} MB; still serving: "
                  f"{call(f'http://127.0.0.1:{port}', 'GET', '/api/v1/health').status == 200}")
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
