"""Fleet benchmark of the central server (issue 16): a whole fleet flushing its backlog at once.

    python tests/bench/bench_central_fleet.py [--db sqlite|postgresql://...|both] [--units 200]
        [--backlog 1000] [--batch 200] [--single 10] [--clients 4]

For each store (SQLite in a temporary directory, synchronous=FULL as in production; PostgreSQL from
``--db`` or ``DESKUNIT_TEST_PG_URL``, in a schema of its own) a server runs as ``deskunit-central
serve`` in its own process, and ``--clients`` load processes play the units:

1. **Flush**: every unit posts its backlog of ``--backlog`` records in batches of ``--batch`` (the
   unit's sync default), all units starting together: records/s, batch latency p50/p99/max, errors.
2. **Replay**: every unit posts the same batches again, as after lost answers: records the server
   created a second time ("duplicates", must be 0), and the stored count against the records sent.
3. **Single POSTs**: every unit posts ``--single`` records one at a time: latency p50/p99/max.

Prints the figures; asserts nothing (the tests do that).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path

from central_process import central_process

from central.store import open_store
from central.testing import make_appeal, make_record, temporary_schema


def _token(n: int) -> str:
    return f"bench-token-{n:04d}-{'x' * 24}"


def _records(unit: str, count: int) -> list[dict]:
    # One call in five registers an appeal, one in ten of those is forwarded (R10, R11 in the load).
    out = []
    for i in range(count):
        appeal = None
        if i % 5 == 0:
            appeal = make_appeal(forward_to="Київський апеляційний суд" if i % 50 == 0 else None)
        out.append(make_record(unit, appeal=appeal, line_worst="degraded" if i % 7 == 0 else "good"))
    return out


class _Conn:
    """A keep-alive HTTP/1.1 connection with as little client work as possible: the load processes
    share the CPUs with the server, and http.client's header parsing would measure the client."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock: socket.socket | None = None
        self.buf = b""

    def post(self, path: str, token: str, data: bytes) -> tuple[int, bytes]:
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=300)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.buf = b""
        head = (f"POST {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n").encode()
        self.sock.sendall(head + data)
        while b"\r\n\r\n" not in self.buf:
            self._more()
        header, _, self.buf = self.buf.partition(b"\r\n\r\n")
        status = int(header[9:12])
        length = 0
        for line in header.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(self.buf) < length:
            self._more()
        body, self.buf = self.buf[:length], self.buf[length:]
        return status, body

    def _more(self) -> None:
        assert self.sock is not None
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.buf += chunk

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def _client(port: int, units: list[int], args: argparse.Namespace, barrier, results) -> None:  # noqa: ANN001
    """One load process: a thread per unit; each phase starts for all processes at the same instant."""
    backlogs = {n: _records(f"unit-{n:04d}", args.backlog) for n in units}
    batches = {
        n: [json.dumps({"records": recs[i : i + args.batch]}).encode() for i in range(0, len(recs), args.batch)]
        for n, recs in backlogs.items()
    }
    singles = {n: [json.dumps(r).encode() for r in _records(f"unit-{n:04d}", args.single)] for n in units}

    def run_phase(work) -> tuple[list[float], int, list[str], float, float]:  # noqa: ANN001
        latencies: list[float] = []
        created = 0
        errors: list[str] = []
        lock = threading.Lock()

        def unit_thread(n: int) -> None:
            nonlocal created
            conn = _Conn(port)
            for path, data, expect in work(n):
                t0 = time.perf_counter()
                try:
                    status, body = conn.post(path, _token(n), data)
                except (OSError, ValueError) as exc:
                    with lock:
                        errors.append(repr(exc))
                    conn.close()
                    continue
                took = time.perf_counter() - t0
                doc = json.loads(body) if body else {}
                with lock:
                    latencies.append(took)
                    if status not in expect:
                        errors.append(f"{status} {doc.get('message', '')}"[:120])
                    created += doc.get("created", 1 if status == 201 else 0)
            conn.close()

        threads = [threading.Thread(target=unit_thread, args=(n,)) for n in units]
        barrier.wait()
        began = time.time()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return latencies, created, errors, began, time.time()

    batch_path = "/api/v1/records/batch"
    results.put(("flush", *run_phase(lambda n: [(batch_path, d, (200,)) for d in batches[n]])))
    results.put(("replay", *run_phase(lambda n: [(batch_path, d, (200,)) for d in batches[n]])))
    results.put(("single", *run_phase(lambda n: [("/api/v1/records", d, (201,)) for d in singles[n]])))


def _q(values: list[float], pct: int) -> float:
    return statistics.quantiles(values, n=100)[pct - 1] * 1000 if len(values) > 1 else values[0] * 1000


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds the process has used."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def run(db: str, label: str, args: argparse.Namespace) -> None:
    store = open_store(db)
    for n in range(args.units):
        store.add_unit(f"unit-{n:04d}", _token(n))
    store.close()
    ctx = mp.get_context("fork")
    with central_process(db) as (port, proc):
        barrier = ctx.Barrier(args.clients)
        results = ctx.Queue()
        slices = [list(range(args.units))[i :: args.clients] for i in range(args.clients)]
        workers = [ctx.Process(target=_client, args=(port, s, args, barrier, results)) for s in slices]
        for w in workers:
            w.start()
        phases: dict[str, tuple[list[float], int, list[str], float]] = {}
        cpu: dict[str, float] = {}
        for phase in ("flush", "replay", "single"):
            cpu_before = _cpu_s(proc.pid)
            latencies: list[float] = []
            created, errors, began, ended = 0, [], [], []
            for _ in workers:
                _name, lat, made, errs, t0, t1 = results.get()
                latencies += lat
                created += made
                errors += errs
                began.append(t0)
                ended.append(t1)
            # From the release of all load processes to the end of the slowest one.
            phases[phase] = (latencies, created, errors, max(ended) - min(began))
            cpu[phase] = _cpu_s(proc.pid) - cpu_before
        for w in workers:
            w.join()
        stored = open_store(db)
        total = stored.count_records()
        stored.close()
        peak = _rss_mb(proc.pid)
    sent = args.units * args.backlog
    lat, created, errors, wall = phases["flush"]
    print(f"[{label}] flush: {args.units} units x {args.backlog} records in batches of {args.batch}: "
          f"{created} created in {wall:.1f} s = {created / wall:,.0f} records/s; batch latency "
          f"p50 {_q(lat, 50):.0f} ms, p99 {_q(lat, 99):.0f} ms, max {max(lat) * 1000:.0f} ms; errors {len(errors)}")
    lat, dup, rerrors, wall = phases["replay"]
    print(f"[{label}] replay of every batch: duplicates created {dup}, errors {len(rerrors)}, "
          f"batch p99 {_q(lat, 99):.0f} ms; stored {total - args.units * args.single} of {sent} sent")
    lat, made, serrors, wall = phases["single"]
    print(f"[{label}] single POSTs: {args.units} units x {args.single}: {made} created, "
          f"{len(lat) / wall:,.0f} requests/s; latency p50 {_q(lat, 50):.1f} ms, p99 {_q(lat, 99):.1f} ms, "
          f"max {max(lat) * 1000:.1f} ms; errors {len(serrors)}")
    print(f"[{label}] server CPU: flush {cpu['flush'] / sent * 1e6:.0f} us/record, single POST "
          f"{cpu['single'] / max(1, len(lat)) * 1000:.2f} ms/request; peak RSS {peak:.0f} MB; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for e in (errors + rerrors + serrors)[:5]:
        print(f"[{label}]   error: {e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="both", help="sqlite, postgresql://..., or both (default)")
    parser.add_argument("--units", type=int, default=200)
    parser.add_argument("--backlog", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--single", type=int, default=10)
    parser.add_argument("--clients", type=int, default=4, help="load processes")
    args = parser.parse_args()
    pg = args.db if args.db.startswith("postgres") else os.environ.get("DESKUNIT_TEST_PG_URL")
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            run(str(Path(tmp) / "fleet.db"), "sqlite", args)
    if args.db != "sqlite":
        if not pg:
            print("[postgresql] skipped: pass --db postgresql://... or set DESKUNIT_TEST_PG_URL")
            return
        with temporary_schema(pg, "deskunit_bench") as url:
            run(url, "postgresql", args)


if __name__ == "__main__":
    main()
