"""Benchmark of the central server alone: how fast it takes records over loopback.

1. Bulk flush: N records (default 10,000) posted in batches on one keep-alive connection -> records/s.
2. Fleet burst: T client threads (default 200) each posting records one by one -> p50/p99 latency.

    python tests/bench/bench_central_flush.py [--db postgresql://...] [--records 10000] [--batch 100]
        [--threads 200] [--per-thread 10]

The server runs in a process of its own (``python -m central serve``) so that the 200 client threads
do not compete with it for the GIL; ``--in-process`` runs it as the tests and the simulator do.
SQLite (the default, in a temporary directory) runs with synchronous=FULL, as in production.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import importlib.util
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

if importlib.util.find_spec("central") is None:  # until pyproject lists the `central` package
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from central_process import central_process  # noqa: E402

from central import CentralServer  # noqa: E402
from central.store import open_store  # noqa: E402
from central.testing import make_appeal, make_record  # noqa: E402


def _post(conn: http.client.HTTPConnection, path: str, token: str, body: object) -> int:
    conn.request("POST", path, json.dumps(body), {"Authorization": f"Bearer {token}"})
    resp = conn.getresponse()
    resp.read()
    return resp.status


def _record(unit: str, i: int) -> dict:
    # One call in five registers an appeal, so notifications are part of the load.
    return make_record(unit, appeal=make_appeal() if i % 5 == 0 else None)


def bulk_flush(port: int, total: int, batch: int) -> None:
    records = [_record("bulk", i) for i in range(total)]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    started = time.perf_counter()
    for i in range(0, total, batch):
        status = _post(conn, "/api/v1/records/batch", "bulk-token", {"records": records[i : i + batch]})
        assert status == 200, status
    elapsed = time.perf_counter() - started
    conn.close()
    print(f"bulk flush: {total} records in batches of {batch}: {elapsed:.2f} s, {total / elapsed:,.0f} records/s")


def fleet_burst(port: int, threads: int, per_thread: int) -> None:
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def client(n: int) -> None:
        unit, token = f"unit-{n}", f"token-{n}"
        records = [_record(unit, i) for i in range(per_thread)]
        mine = []
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            start.wait()
            for record in records:
                t0 = time.perf_counter()
                status = _post(conn, "/api/v1/records", token, record)
                mine.append(time.perf_counter() - t0)
                if status != 201:
                    failures.append(str(status))
            conn.close()
        except Exception as exc:  # noqa: BLE001 - counted and printed below
            failures.append(repr(exc))
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
    started = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - started
    q = statistics.quantiles(latencies, n=100)
    print(
        f"fleet burst: {threads} threads x {per_thread} records: {len(latencies)} posted in {elapsed:.2f} s "
        f"({len(latencies) / elapsed:,.0f} records/s); latency per record p50 {q[49] * 1000:.1f} ms, "
        f"p99 {q[98] * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms; failures: {len(failures)}"
    )
    if failures:
        print("  first failures:", failures[:5])


def _units(db: str, threads: int) -> None:
    store = open_store(db)
    store.add_unit("bulk", "bulk-token")
    for n in range(threads):
        store.add_unit(f"unit-{n}", f"token-{n}")
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", help="database URL (default: SQLite in a temporary directory)")
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--threads", type=int, default=200)
    parser.add_argument("--per-thread", type=int, default=10)
    parser.add_argument("--in-process", action="store_true", help="run the server in this process")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or str(Path(tmp) / "bench.db")
        _units(db, args.threads)
        if args.in_process:
            server = CentralServer(db).start()
            runner: contextlib.AbstractContextManager[tuple[int, object]] = contextlib.nullcontext((server.port, None))
        else:
            server = None
            runner = central_process(db)
        try:
            with runner as (port, _proc):
                where = "in this process" if server else "in its own process"
                print(f"central server on port {port} {where}, storage {db.split(':')[0] if args.db else 'sqlite'}")
                bulk_flush(port, args.records, args.batch)
                fleet_burst(port, args.threads, args.per_thread)
        finally:
            if server is not None:
                server.stop()


if __name__ == "__main__":
    main()
