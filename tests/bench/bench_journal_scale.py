"""The journal at 10k / 100k / 1M records: what the loop waits for, before (the v0 journal) and after.

Prints, per size and journal:
- open: start-up (quick_check, migration) before the loop runs;
- idle refresh: the idle screen's journal work on the loop (after: the real ``Unit.refresh`` of the
  idle screen; before: its ``pending_count()`` query, which was all of it);
- pending count: ``pending_count()``; next batch: the sync's ``pending(100)``;
- flush: records/s draining a 5,000-record backlog the way the sync does (read 100, note the
  attempt, mark them synced);
- purge: the retention pass with the records due at that size. Before, it ran on the loop, so the
  loop was blocked for all of it. After, it runs on the upkeep thread while this thread does the
  loop's journal work (count, draft, save every 5 ms): "longest loop block" is the longest the loop
  waited for the journal because of the purge; the longest loop operation is also printed, next to
  the same work for as long without a purge (a durable save is an fsync: on a shared disk that alone
  varies by tens of milliseconds).

    python3 tests/bench/bench_journal_scale.py                 # 10k, 100k, 1M
    python3 tests/bench/bench_journal_scale.py --sizes 10000 --no-before
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "hw-sim")]

from firmware.call.unit import Unit  # noqa: E402
from firmware.clock import VirtualClock  # noqa: E402
from firmware.config import load_config  # noqa: E402
from firmware.journal import Journal  # noqa: E402
from firmware.leds import Leds  # noqa: E402
from firmware.loop import EventLoop  # noqa: E402

#: The commit the v0 journal is taken from (main before #16).
BEFORE_COMMIT = "f8e6aea"
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
SPAN_DAYS = 400  # records spread over this many days of sync history
PENDING = 100
BACKLOG = 5000


def old_journal_class() -> Any | None:
    try:
        src = subprocess.run(["git", "-C", str(ROOT), "show", f"{BEFORE_COMMIT}:firmware/journal.py"],
                             capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    path = Path(tempfile.mkdtemp()) / "journal_v0.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("journal_v0", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Journal


def body(i: int) -> str:
    appeal = {"full_name": "Ім'я Прізвище", "residence": "Рівне", "essence": "Суть звернення", "kind": "request",
              "phone": "0671234567", "email": None} if i % 10 == 0 else None
    return json.dumps({"id": f"rec-{i:08d}", "unit": "unit-0001", "operator": 7, "outcome": "answered",
                       "started_at": "2026-01-01T09:00:00+02:00", "line_worst": "good", "events": [],
                       "appeal": appeal}, ensure_ascii=False, sort_keys=True)


def fill(path: Path, n: int) -> None:
    """``n`` records as years of use leave them: all but the newest PENDING confirmed, spread over
    SPAN_DAYS; those confirmed over 40 days ago already purged, the last 10 days' worth due."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous=OFF")
    db.execute("BEGIN")
    step = SPAN_DAYS * 86400 / n
    rows = []
    for i in range(n):
        synced = NOW - timedelta(seconds=(n - i) * step)
        pending = i >= n - PENDING
        rows.append((f"rec-{i:08d}", body(i), synced.isoformat(), None if pending else synced.isoformat(),
                     1 if synced < NOW - timedelta(days=40) else 0))
        if len(rows) == 50_000:
            db.executemany("INSERT INTO records (id, body, saved_at, synced_at, purged) VALUES (?, ?, ?, ?, ?)", rows)
            rows.clear()
    db.executemany("INSERT INTO records (id, body, saved_at, synced_at, purged) VALUES (?, ?, ?, ?, ?)", rows)
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def timed(fn: Any, repeat: int) -> tuple[float, float]:
    """(median, max) milliseconds of ``fn()``."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), max(times)


def flush_rate(journal: Any) -> float:
    for i in range(BACKLOG):
        journal.save({"id": f"backlog-{i}", "outcome": "answered"}, NOW)
    t0 = time.perf_counter()
    sent = 0
    while rows := journal.pending(100):
        ids = [r["id"] for r in rows]
        journal.note_attempt(ids)
        journal.mark_synced(ids, NOW)
        sent += len(ids)
    return sent / (time.perf_counter() - t0)


def idle_unit(journal: Journal) -> Unit:
    class Screen:
        cols, rows = 20, 4

        def show(self, rows: list[str]) -> None:
            pass

    clock = VirtualClock(NOW)
    loop = EventLoop(clock, handler=lambda e: None)
    leds = Leds({name: (lambda rgb: None) for name in ("line", "hold", "sync")}, loop.call_later)
    unit = Unit(load_config(), clock, loop, display=Screen(), leds=leds, journal=journal)
    unit.sign_in(7, "Олена Петренко")
    return unit


class WaitTimer:
    """Wraps the journal's lock: how long the loop's thread waited to get it (instrumentation only)."""

    def __init__(self, lock: Any, thread: threading.Thread) -> None:
        self.lock, self.thread, self.waits = lock, thread, [0.0]

    def __enter__(self) -> None:
        s = time.perf_counter()
        self.lock.acquire()
        if threading.current_thread() is self.thread:
            self.waits.append((time.perf_counter() - s) * 1000)

    def __exit__(self, *exc: Any) -> None:
        self.lock.release()


def loop_blocks_during(run_purge: Any, journal: Any, seconds: float = 1.0) -> tuple[float, list[float], float, int]:
    """Start the purge (None: just wait ``seconds``), and meanwhile do the loop's journal work on this
    thread (count, draft, save, every 5 ms): (longest op ms, the waits for the journal's lock in ms,
    seconds, loop operations done). The op includes the loop's own fsync; the wait is what the purge
    cost it."""
    done = threading.Event()
    waits = WaitTimer(journal._lock, threading.current_thread())
    journal._lock = waits
    t0 = time.perf_counter()
    worker = threading.Thread(target=lambda: (run_purge() if run_purge else done.wait(seconds), done.set()))
    worker.start()
    worst, ops, i = 0.0, 0, 0
    while not done.is_set():
        for op in (lambda: journal.pending_count(),
                   lambda i=i: journal.put_draft("call", {"t": i}),
                   lambda i=i: journal.save({"id": f"during-{i}", "outcome": "answered"}, NOW)):
            s = time.perf_counter()
            op()
            worst = max(worst, (time.perf_counter() - s) * 1000)
            ops += 1
        i += 1
        done.wait(0.005)
    worker.join()
    journal._lock = waits.lock
    return worst, sorted(waits.waits), time.perf_counter() - t0, ops


def measure(kind: str, cls: Any, n: int, tmp: Path) -> dict[str, str]:
    path = tmp / f"{kind}-{n}.sqlite3"
    cls(path).close()
    fill(path, n)
    t0 = time.perf_counter()
    journal = cls(path)
    out = {"open": f"{(time.perf_counter() - t0) * 1000:.0f} ms"}
    if kind == "after":
        unit = idle_unit(journal)
        med, worst = timed(unit.refresh, 50)
    else:
        med, worst = timed(journal.pending_count, 20)
    out["idle refresh"] = f"{med:.2f} ms (max {worst:.2f})"
    med, worst = timed(journal.pending_count, 50 if kind == "after" else 20)
    out["pending count"] = f"{med:.3f} ms (max {worst:.3f})"
    med, worst = timed(lambda: journal.pending(100), 20)
    out["next batch"] = f"{med:.2f} ms (max {worst:.2f})"
    out["flush"] = f"{flush_rate(journal):.0f} records/s"
    if kind == "after":
        def purge() -> None:
            journal.upkeep.request_retention(NOW, personal_days=30, record_days=365)
            journal.upkeep.settle(3600)
    else:
        def purge() -> None:
            journal.purge_personal(NOW, 30)
    if kind == "before":  # on the loop's own thread: the loop was blocked for all of it
        t0 = time.perf_counter()
        purge()
        secs = time.perf_counter() - t0
        out["purge"] = f"longest loop block {secs * 1000:.1f} ms (the whole pass, on the loop)"
    else:
        worst, waits, secs, ops = loop_blocks_during(purge, journal)
        alone, _, _, _ = loop_blocks_during(None, journal, secs)  # as long again, no purge: the disk alone
        last = journal.upkeep.last
        p99 = waits[int(len(waits) * 0.99)]
        out["purge"] = (f"longest loop block {waits[-1]:.1f} ms waiting for it (p99 {p99:.1f}); pass {secs:.1f} s, "
                        f"{last['purged']} purged, {last['deleted']} deleted, {ops} loop ops meanwhile, the longest "
                        f"{worst:.1f} ms "
                        f"(its own fsync; {alone:.1f} ms without a purge)")
    journal.close()
    for p in tmp.glob(f"{kind}-{n}.sqlite3*"):
        p.unlink()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--no-before", action="store_true", help="skip the v0 journal")
    ap.add_argument("--dir", help="where the journals are made (default: a temporary directory)")
    args = ap.parse_args()
    before = None if args.no_before else old_journal_class()
    tmp = Path(args.dir or tempfile.mkdtemp(prefix="bench-journal-"))
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        for n in args.sizes:
            for kind, cls in (("before", before), ("after", Journal)):
                if cls is None:
                    continue
                figures = measure(kind, cls, n, tmp)
                print(f"{n:>9,} records {kind:>6}: " + "; ".join(f"{k} {v}" for k, v in figures.items()), flush=True)
    finally:
        if not args.dir:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
