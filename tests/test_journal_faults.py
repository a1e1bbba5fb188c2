"""A damaged, unreadable or full journal never stops the unit (#18, points 2 and 6).

The unit runs on the simulator with its journal file damaged in each way a careless technician or a
dying SD card leaves it, in a read-only state directory, and on a disk that fills up: it starts,
says what is wrong on the LCD, the SYNC LED and the console, and the operator's calls go on.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import select
import shutil
import signal
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from test_appeal_retention import appeal_keys, tap

from deskunit.console_backend import ConsoleBackend
from firmware.clock import VirtualClock
from firmware.config import load_config
from firmware.journal import Journal, JournalFault
from hwsim.probe import SimProbe
from hwsim.unit import SimUnit

START = "2026-11-23T09:15:00+02:00"


def build(state_dir: Path, journal_class: type[sqlite3.Connection] | None = None) -> SimUnit:
    clock = VirtualClock(datetime.fromisoformat(START))
    journal = None
    if journal_class is not None:
        journal = Journal(state_dir / "journal.sqlite3", clock=clock, connection_class=journal_class)
    sim = SimUnit.create(load_config(), clock, state_dir=state_dir, journal=journal)
    sim.unit.sign_in(7, "Олена Петренко")
    sim.advance(1)
    return sim


def make_journal(path: Path, records: int = 40, synced: int = 0) -> None:
    """A journal as the unit leaves it: records with appeals, some confirmed by the server."""
    journal = Journal(path)
    for i in range(records):
        journal.save({"id": f"old-{i}", "outcome": "answered", "note": "x" * 900,
                      "appeal": {"full_name": "Ігор Лях", "phone": "0671234567"}})
    journal.mark_synced([f"old-{i}" for i in range(synced)], datetime.fromisoformat(START))
    journal.close()


def console_status(sim: SimUnit) -> dict[str, str]:
    return ConsoleBackend(sim.app, probe=SimProbe(sim), restart=lambda: None).status()


def one_call(sim: SimUnit) -> None:
    sim.hook(off=True)
    sim.advance(3)
    assert sim.shows("Доброго")  # greeted: the call is on
    sim.hook(off=False)
    sim.advance(1)


# ---------------------------------------------------------------- damaged files (point 2)
def truncated(path: Path) -> None:
    with open(path, "r+b") as fh:
        fh.truncate(path.stat().st_size // 2)


def garbage_header(path: Path) -> None:
    with open(path, "r+b") as fh:
        fh.write(random.Random(1).randbytes(100))


def garbage_pages(path: Path) -> None:
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        fh.seek(2 * 4096)
        fh.write(random.Random(2).randbytes(size - 3 * 4096))


def directory_in_its_place(path: Path) -> None:
    path.unlink()
    (path / "lost+found").mkdir(parents=True)


DAMAGE = {"truncated": truncated, "garbage_header": garbage_header, "garbage_pages": garbage_pages,
          "directory": directory_in_its_place}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_journal_is_kept_aside_and_a_fresh_one_takes_the_calls(tmp_path, caplog, damage):
    state = tmp_path / "state"
    make_journal(state / "journal.sqlite3")
    DAMAGE[damage](state / "journal.sqlite3")
    sim = build(state)  # before: `database disk image is malformed` out of the idle screen, exit 1
    try:
        assert sim.shows("Журнал пошкоджено")
        sim.advance(2)
        assert sim.led("sync") == "amber-blink"
        kept = sorted(p.name for p in state.iterdir() if ".damaged-" in p.name)
        assert kept and kept[0].startswith("journal.sqlite3.damaged-20261123T071500Z")  # for the technician
        status = console_status(sim)["journal"]  # what the technician's `status` shows
        assert "replaced" in status and "damaged-20261123T071500Z" in status
        one_call(sim)
        assert sim.journal.count() == 1 and sim.journal.fault.durable  # the fresh journal saves calls
        assert not sim.shows("Помилка запису")
    finally:
        sim.close()
    assert Journal(state / "journal.sqlite3").count() == 1  # durable: a restart finds the call
    assert not [r for r in caplog.records if r.exc_info]  # handled, not a traceback
    assert "Ігор" not in caplog.text and "0671234567" not in caplog.text


def test_a_zeroed_wal_loses_only_what_it_held_and_the_unit_goes_on(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    live = tmp_path / "live.sqlite3"
    make_journal(live, records=2)
    db = sqlite3.connect(live, isolation_level=None)
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute("INSERT INTO records (id, body, saved_at) VALUES ('in-wal', '{}', '2026-11-23')")
    for suffix in ("", "-wal"):  # the card as a power cut leaves it: the WAL not yet checkpointed
        shutil.copy(f"{live}{suffix}", state / f"journal.sqlite3{suffix}")
    db.close()
    wal = state / "journal.sqlite3-wal"
    wal.write_bytes(bytes(wal.stat().st_size))
    sim = build(state)
    try:
        assert sim.journal.count() == 2  # what the main file held is still there
        one_call(sim)
        assert sim.journal.count() == 3 and sim.journal.fault.durable
    finally:
        sim.close()


@contextlib.contextmanager
def read_only_dir(path: Path) -> Iterator[Path]:
    """``path`` made read-only for this process: a read-only tmpfs for root (who ignores modes)."""
    path.mkdir(parents=True)
    if os.geteuid() != 0:
        make_journal(path / "journal.sqlite3", records=2)
        path.chmod(0o555)
        try:
            yield path
        finally:
            path.chmod(0o755)
        return
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(path)], capture_output=True).returncode:
        pytest.skip("running as root without permission to mount a read-only file system")
    try:
        make_journal(path / "journal.sqlite3", records=2)
        subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True)
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def make_writable(path: Path) -> None:
    if os.geteuid() != 0:
        path.chmod(0o755)
    else:
        subprocess.run(["mount", "-o", "remount,rw", str(path)], check=True)


def test_a_read_only_state_directory_keeps_calls_in_memory_until_it_can_write(tmp_path, caplog):
    with read_only_dir(tmp_path / "state") as state:
        sim = build(state)
        try:
            assert sim.shows("Журнал недоступний")
            sim.advance(2)
            assert sim.led("sync") == "red-blink"
            waiting = sim.journal.pending_count()
            one_call(sim)  # the operator works on; the record is held in memory
            assert sim.journal.pending_count() == waiting + 1
            assert "1 record(s) held in memory" in sim.journal.status()
            make_writable(state)
            sim.advance(11)  # the next retry commits it; the check after shows it
            assert sim.journal.fault.durable and not sim.shows("Журнал недоступний")
            assert sim.led("sync") != "red-blink"
        finally:
            sim.close()
        assert Journal(state / "journal.sqlite3").count() == 3  # the two it had and the call
    assert not [r for r in caplog.records if r.exc_info]


def open_as_service_user(path: Path) -> dict:
    """Open the journal and save a record as another user would (root ignores file modes): in a
    forked child that drops to ``nobody`` when run as root. What it saw, as a dict."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report and leave, whatever happens
        try:
            logging.disable(logging.CRITICAL)
            if os.geteuid() == 0:
                os.setgid(65534)
                os.setuid(65534)
            j = Journal(path)
            ok = j.save({"id": "new", "outcome": "answered"})
            seen = {"fault": j.fault.value, "waiting": j.pending_count(), "saved": ok, "kept": len(j.moved_aside)}
            os.write(write, json.dumps(seen).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as fh:
        ready, _, _ = select.select([fh], [], [], 60.0)
        if not ready:  # a child stuck on a lock some other thread held at fork: fail, do not hang
            os.kill(pid, signal.SIGKILL)
        out = fh.read() if ready else ""
    os.waitpid(pid, 0)
    assert out, "the child opening the journal as another user did not answer"
    return json.loads(out)


@pytest.mark.parametrize("mode", [0o444, 0o000])
def test_a_journal_with_the_wrong_permissions_is_replaced_keeping_what_it_can_read(mode):
    """As the service user would meet a file left by root: read-only (its records are copied into the
    fresh journal, so they still sync) or unreadable (kept aside for the technician)."""
    work = Path(tempfile.mkdtemp(prefix="deskunit-perm-"))
    try:
        work.chmod(0o777)
        path = work / "journal.sqlite3"
        make_journal(path, records=3, synced=1)
        path.chmod(mode)
        seen = open_as_service_user(path)
        assert seen["fault"] == JournalFault.REPLACED.value and seen["kept"] == 1 and seen["saved"] is True
        assert seen["waiting"] == (2 if mode == 0o444 else 0) + 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ---------------------------------------------------------------- a full disk (point 6)
class Disk:
    """Where the state directory lives, and a way to fill it up and free it again."""

    def __init__(self, state: Path) -> None:
        self.state = state
        self.connection_class: type[sqlite3.Connection] | None = None

    def fill(self) -> None: ...

    def free(self) -> None: ...


class InjectedDisk(Disk):
    """SQLite fails every write as it does on a full disk: SQLITE_FULL, the transaction rolled back."""

    def __init__(self, state: Path) -> None:
        super().__init__(state)
        self.full = False
        disk = self

        class FullDiskConnection(sqlite3.Connection):
            def execute(self, sql, *args):  # noqa: ANN001
                disk.check(self, sql)
                return super().execute(sql, *args)

            def executemany(self, sql, *args):  # noqa: ANN001
                disk.check(self, sql)
                return super().executemany(sql, *args)

        self.connection_class = FullDiskConnection

    def check(self, db: sqlite3.Connection, sql: str) -> None:
        words = sql.lstrip().upper()
        if self.full and words.startswith(("INSERT", "UPDATE", "DELETE", "PRAGMA USER_VERSION =")):
            if db.in_transaction:
                sqlite3.Connection.execute(db, "ROLLBACK")
            error = sqlite3.OperationalError("database or disk is full")
            error.sqlite_errorcode, error.sqlite_errorname = sqlite3.SQLITE_FULL, "SQLITE_FULL"
            raise error

    def fill(self) -> None:
        self.full = True

    def free(self) -> None:
        self.full = False


class TmpfsDisk(Disk):
    """A real 2 MB tmpfs, filled to the last byte by a file beside the journal."""

    def fill(self) -> None:
        with open(self.state / "filler", "wb", buffering=0) as fh, contextlib.suppress(OSError):
            while True:
                fh.write(b"\0" * 4096)

    def free(self) -> None:
        (self.state / "filler").unlink()


@pytest.fixture(params=["injected", "tmpfs"])
def disk(request, tmp_path) -> Iterator[Disk]:
    state = tmp_path / "state"
    state.mkdir()
    if request.param == "injected":
        yield InjectedDisk(state)
        return
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(state)],
                                           capture_output=True).returncode:
        pytest.skip("a real full disk needs root and permission to mount a tmpfs")
    try:
        yield TmpfsDisk(state)
    finally:
        subprocess.run(["umount", "-l", str(state)], check=False)


def test_a_full_disk_is_shown_at_once_the_call_still_ends_and_the_record_is_saved_when_there_is_room(disk, caplog):
    sim = build(disk.state, disk.connection_class)
    try:
        sim.hook(off=True)
        sim.advance(1)
        keys = appeal_keys("111")
        for key in keys[:-1]:
            tap(sim, key)
        disk.fill()
        tap(sim, keys[-1])  # APPEAL: save
        assert sim.shows("Помилка запису") and sim.shows("Диск повний")
        assert not sim.shows("Збережено")  # never a false «saved»
        sim.hook(off=False)  # hang-up ends the call
        sim.advance(2)
        assert sim.unit.call is None and sim.led("line") == "off"
        assert sim.shows("Диск повний") and sim.led("sync") == "red-blink"
        assert sim.journal.pending_count() == 1  # held in memory, counted as waiting
        assert console_status(sim)["journal"].startswith("disk full")
        logged = caplog.text
        assert "disk is full" in logged and "cannot rollback" not in logged  # the real error, unmasked
        disk.free()
        sim.advance(11)  # the next retry commits it; the check after shows it
        assert not sim.shows("Диск повний") and sim.journal.fault is JournalFault.NONE
    finally:
        sim.close()
    [saved] = Journal(disk.state / "journal.sqlite3").all()
    assert saved["appeal"]["full_name"] == "А111" and saved["outcome"] == "answered"
    assert "А111" not in caplog.text.replace(saved["id"], "")  # no personal data in the log


def test_after_a_restart_on_a_full_disk_off_hook_still_starts_a_call_with_its_leds(disk):
    build(disk.state, disk.connection_class).close()
    disk.fill()
    sim = build(disk.state, disk.connection_class)  # the unit comes back on a full disk
    try:
        sim.hook(off=True)
        sim.advance(3)
        assert sim.shows("Доброго") and sim.led("line") == "green"
        assert sim.shows("Диск повний")
        assert sim.led("sync") == "red-blink"
        sim.hook(off=False)
        sim.advance(1)
        assert sim.unit.call is None and sim.led("line") == "off"
        disk.free()
        sim.advance(11)
        assert sim.journal.fault is JournalFault.NONE
    finally:
        sim.close()
    assert Journal(disk.state / "journal.sqlite3").count() == 1
