"""Benchmark: the real SyncWorker flushing to the reference central server on loopback.

1. 10,000 records queued in one journal, flushed by one worker: records/s (aim >= 500).
2. 200 simulated units (own journal, loop and worker thread each) saving records at random moments
   and syncing to one server at once: latency per record from save to confirmed (p50, p99).

    python tests/bench/bench_sync_flush.py [--records 10000] [--units 200] [--per-unit 10]
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path

from central.server import CentralServer
from central.testing import make_record
from firmware.clock import RealClock
from firmware.journal import Journal
from firmware.loop import EventLoop
from firmware.sync import SyncClient, SyncSettings, SyncWorker


class TimedJournal(Journal):
    """A journal that notes when each record was confirmed (perf_counter)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.confirmed: dict[str, float] = {}

    def mark_synced(self, record_ids, when) -> None:
        super().mark_synced(record_ids, when)
        now = time.perf_counter()
        for rid in record_ids:
            self.confirmed.setdefault(rid, now)


def worker_for(server: CentralServer, unit: str, journal: Journal, **kw) -> tuple[SyncWorker, EventLoop]:
    token = f"token-{unit}"
    server.add_unit(unit, token)
    clock = RealClock()
    loop = EventLoop(clock, handler=lambda e: None)
    worker = SyncWorker(journal, SyncClient(server.url + "/api/v1", token, timeout_s=30), loop, clock,
                        SyncSettings(set_time=False, **kw))
    loop.start()
    return worker, loop


def bench_flush(tmp: Path, n: int, batch: int) -> None:
    with CentralServer(db=tmp / "central-flush.db") as server:
        journal = Journal(tmp / "flush.sqlite3")
        unit = "unit-flush"
        for _ in range(n):
            journal.save(make_record(unit))
        worker, loop = worker_for(server, unit, journal, batch_size=batch)
        t0 = time.perf_counter()
        worker.start()
        while journal.pending_count():
            time.sleep(0.01)
        dt = time.perf_counter() - t0
        worker.wait_idle(30)
        held = server.count_records(unit)
        worker.stop()
        loop.stop()
        journal.close()
    print(f"flush: {n} records in {dt:.2f} s = {n / dt:,.0f} records/s (batch {batch}); server holds {held}")


def bench_units(tmp: Path, units: int, per_unit: int, spread_s: float) -> None:
    rng = random.Random(1)
    with CentralServer(db=tmp / "central-units.db") as server:
        rigs = []
        for i in range(units):
            unit = f"unit-{i:04d}"
            journal = TimedJournal(tmp / f"u{i}.sqlite3")
            worker, loop = worker_for(server, unit, journal)
            worker.start()
            rigs.append((unit, journal, worker, loop))
        saved: dict[str, float] = {}
        lock = threading.Lock()

        def operate(unit: str, journal: TimedJournal, worker: SyncWorker, times: list[float]) -> None:
            start = time.perf_counter()
            for t in times:
                time.sleep(max(0.0, start + t - time.perf_counter()))
                rec = make_record(unit)
                journal.save(rec)
                with lock:
                    saved[rec["id"]] = time.perf_counter()
                worker.kick()

        threads = [threading.Thread(target=operate, args=(u, j, w, sorted(rng.uniform(0, spread_s)
                                                                          for _ in range(per_unit))))
                   for u, j, w, _ in rigs]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        deadline = time.perf_counter() + 120
        while any(j.pending_count() for _, j, _, _ in rigs) and time.perf_counter() < deadline:
            time.sleep(0.05)
        wall = time.perf_counter() - t0
        lat = sorted(j.confirmed[rid] - saved[rid] for _, j, _, _ in rigs for rid in j.confirmed if rid in saved)
        held = server.count_records()
        for _, j, w, loop in rigs:
            w.stop()
            loop.stop()
            j.close()
    q = statistics.quantiles(lat, n=100)
    print(f"units: {units} units x {per_unit} records over {spread_s:g} s ({wall:.1f} s wall); "
          f"confirmed {len(lat)}/{units * per_unit}, server holds {held}")
    print(f"  latency save->confirmed: p50 {q[49] * 1000:.1f} ms, p99 {q[98] * 1000:.1f} ms, "
          f"max {lat[-1] * 1000:.1f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=10_000)
    ap.add_argument("--batch", type=int, default=200)
    ap.add_argument("--units", type=int, default=200)
    ap.add_argument("--per-unit", type=int, default=10)
    ap.add_argument("--spread", type=float, default=5.0, help="seconds over which each unit saves its records")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as d:
        bench_flush(Path(d), args.records, args.batch)
        bench_units(Path(d), args.units, args.per_unit, args.spread)


if __name__ == "__main__":
    main()
