"""kill -9 during sync: a child process saves records and syncs them with the real SyncWorker; the
test kills it at random moments and restarts it. Afterwards: 0 records lost, 0 duplicates at the
server, and never a record marked synced that the server does not hold.

Run as a script, this file is that child:
``python tests/test_sync_kill.py child JOURNAL URL TOKEN UNIT [--drain]``.
(``tests/bench/bench_sync_kill.py`` does many more kills with the same child.)
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

CHILD = Path(__file__).resolve()
UNIT, TOKEN = "unit-kill", "token-kill"


def child(journal_path: str, url: str, token: str, unit: str, drain: bool) -> int:
    """Save a record every few ms (unless draining) while the worker syncs; exit when drained."""
    from central.testing import make_record
    from firmware.clock import RealClock
    from firmware.journal import Journal
    from firmware.loop import EventLoop
    from firmware.sync import SyncClient, SyncSettings, SyncWorker

    clock = RealClock()
    loop = EventLoop(clock, handler=lambda e: None)
    journal = Journal(journal_path)
    worker = SyncWorker(journal, SyncClient(url, token, timeout_s=5), loop, clock,
                        SyncSettings(batch_size=7, backoff_base_s=0.05, backoff_cap_s=0.2, set_time=False))
    loop.start()
    worker.start()
    print("ready", flush=True)
    if drain:
        deadline = time.monotonic() + 60
        while journal.pending_count() and time.monotonic() < deadline:
            worker.kick()
            time.sleep(0.05)
        worker.wait_idle(10)
        return 0 if journal.pending_count() == 0 else 1
    while True:
        journal.save(make_record(unit), clock.now())
        worker.kick()
        time.sleep(random.uniform(0.001, 0.01))


def synced_ids(journal_path: Path) -> set[str]:
    db = sqlite3.connect(journal_path)
    try:
        return {r[0] for r in db.execute("SELECT id FROM records WHERE synced_at IS NOT NULL")}
    finally:
        db.close()


def all_ids(journal_path: Path) -> list[str]:
    db = sqlite3.connect(journal_path)
    try:
        return [r[0] for r in db.execute("SELECT id FROM records")]
    finally:
        db.close()


def kill_cycles(journal_path: Path, server, kills: int, rng: random.Random, max_life_s: float = 0.6) -> None:
    """Start the child, kill -9 it after a random time, ``kills`` times; then let it drain."""
    from test_sync_worker import server_ids

    url = server.url + "/api/v1"
    args = [sys.executable, str(CHILD), "child", str(journal_path), url, TOKEN, UNIT]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(CHILD.parent), os.environ.get("PYTHONPATH", "")])}
    for _ in range(kills):
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, env=env)
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.01, max_life_s))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # the crash-safety invariant: synced in the journal implies held by the server
        missing = synced_ids(journal_path) - set(server_ids(server, UNIT))
        assert not missing, f"{len(missing)} records marked synced that the server does not hold"
    done = subprocess.run([*args, "--drain"], env=env, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()[-2000:]


def check_nothing_lost_nothing_twice(journal_path: Path, server) -> int:
    from test_sync_worker import server_ids

    at_server = server_ids(server, UNIT)
    journal = all_ids(journal_path)
    assert len(at_server) == len(set(at_server)), "duplicates at the server"
    assert set(at_server) == set(journal), "lost records"
    assert synced_ids(journal_path) == set(journal)
    return len(journal)


def test_kill_9_during_sync_loses_nothing_and_sends_nothing_twice(tmp_path):
    from central.server import CentralServer

    with CentralServer() as server:
        server.add_unit(UNIT, TOKEN)
        journal = tmp_path / "journal.sqlite3"
        kill_cycles(journal, server, kills=20, rng=random.Random(11))
        n = check_nothing_lost_nothing_twice(journal, server)
        assert n > 20


if __name__ == "__main__" and len(sys.argv) >= 6 and sys.argv[1] == "child":
    sys.exit(child(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], "--drain" in sys.argv))
