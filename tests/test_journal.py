"""The journal over years of records: schema versions, one transaction per batch, retention by age."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from firmware.journal import Journal, JournalFault
from firmware.journal_schema import VERSION

FIXTURES = Path(__file__).resolve().parent / "fixtures"
T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def record(i: int, name: str | None = None) -> dict:
    appeal = {"full_name": name, "residence": "Рівне", "phone": "0671234567", "kind": "request"} if name else None
    return {"id": f"r{i}", "outcome": "answered", "appeal": appeal}


def test_a_journal_written_by_the_first_firmware_is_migrated_in_place_and_keeps_everything(tmp_path):
    """tests/fixtures/journal_v0.sqlite3 was written by the v0 journal (main before #16): two records
    waiting, three confirmed (one already purged), a call draft."""
    path = tmp_path / "journal.sqlite3"
    shutil.copy(FIXTURES / "journal_v0.sqlite3", path)
    journal = Journal(path)
    assert journal.fault is JournalFault.NONE and not journal.moved_aside  # migrated, not replaced
    assert [r["id"] for r in journal.all()] == ["v0-1", "v0-2", "v0-3", "v0-4", "v0-5"]
    assert [r["id"] for r in journal.pending()] == ["v0-4", "v0-5"] and journal.pending_count() == 2
    assert journal.get("v0-1")["appeal"]["full_name"] is None  # purged under v0 stays purged
    assert journal.get("v0-2")["appeal"]["full_name"] == "Синхр Недавно"
    assert journal.get_draft("call")["id"] == "draft-call"
    journal.mark_synced(["v0-4"], T0)
    journal.close()

    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == VERSION
    assert db.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # incremental, so retention gives space back
    db.close()
    again = Journal(path)  # a second start finds it current: same records, one still waiting
    assert again.pending_count() == 1 and again.count() == 5
    again.close()


def test_a_batch_the_server_confirmed_is_one_transaction_however_many_records(tmp_path):
    journal = Journal(tmp_path / "j.sqlite3")
    for i in range(200):
        journal.save(record(i), T0)
    commits: list[str] = []
    journal._db.set_trace_callback(lambda sql: commits.append(sql) if sql.startswith("COMMIT") else None)
    ids = [f"r{i}" for i in range(200)]
    journal.note_attempt(ids)
    journal.mark_synced(ids, T0)
    assert len(commits) == 2  # one fsync each instead of one per record
    assert journal.pending_count() == 0 and journal.pending() == []
    journal.close()


def test_the_waiting_count_follows_saves_confirmations_and_repeats(tmp_path):
    journal = Journal(tmp_path / "j.sqlite3")
    for i in range(5):
        journal.save(record(i), T0)
    journal.save(record(2), T0)  # the same record again (a retry after a crash): not counted twice
    journal.mark_synced(["r0", "r1", "unknown"], T0)
    journal.mark_synced(["r1"], T0)  # confirmed twice: counted once
    assert journal.pending_count() == 3
    journal.close()
    assert Journal(tmp_path / "j.sqlite3").pending_count() == 3  # the count a restart finds agrees


def test_retention_blanks_personal_data_then_deletes_confirmed_records_and_never_an_unconfirmed_one(tmp_path):
    journal = Journal(tmp_path / "j.sqlite3")
    journal.save(record(1, "Ігор Лях"), T0)
    journal.save(record(2), T0)
    journal.save(record(3, "Не Надіслано"), T0)  # the server never confirms this one
    journal.mark_synced(["r1", "r2"], T0)

    def retain(days: float) -> None:
        journal.upkeep.request_retention(T0 + timedelta(days=days), personal_days=30, record_days=365)
        assert journal.upkeep.settle()

    retain(29)
    assert journal.get("r1")["appeal"]["full_name"] == "Ігор Лях"
    retain(31)
    assert journal.get("r1")["appeal"] == {"full_name": None, "residence": None, "phone": None, "kind": "request"}
    assert journal.count() == 3
    retain(3000)
    assert [r["id"] for r in journal.all()] == ["r3"]  # eight years on, the unconfirmed record is still here
    assert journal.get("r3")["appeal"]["full_name"] == "Не Надіслано"
    assert journal.pending_count() == 1
    assert journal.upkeep.last["deleted"] == 2
    journal.close()


def test_retention_works_through_a_backlog_in_many_small_transactions(tmp_path):
    journal = Journal(tmp_path / "j.sqlite3")
    ids = [f"r{i}" for i in range(450)]
    for rid in ids:
        journal.save({"id": rid, "appeal": {"full_name": "Х", "phone": "1"}}, T0)
    journal.mark_synced(ids, T0)
    journal.upkeep.batch = 100
    commits: list[str] = []
    journal._db.set_trace_callback(lambda sql: commits.append(sql) if sql.startswith("COMMIT") else None)
    journal.upkeep.request_retention(T0 + timedelta(days=31), personal_days=30, record_days=365)
    assert journal.upkeep.settle()
    assert all(r["appeal"]["full_name"] is None for r in journal.all())
    assert len(commits) == 5  # 450 records in transactions of at most 100: the loop gets a turn between
    journal.close()


def test_the_wal_is_copied_into_the_file_off_the_loop_so_it_does_not_grow_without_bound(tmp_path):
    path = tmp_path / "j.sqlite3"
    journal = Journal(path)
    blob = "x" * 100_000
    for i in range(200):  # 20 MB of records, saved one by one as calls end
        journal.save({"id": f"r{i}", "note": blob}, T0)
        journal.upkeep.settle()
    wal = (tmp_path / "j.sqlite3-wal").stat().st_size
    assert wal < 12 * 2**20, wal  # reused after each checkpoint, not 20 MB long
    assert journal.count() == 200
    journal.close()


def test_deleting_old_records_gives_the_space_back_to_the_card(tmp_path):
    path = tmp_path / "j.sqlite3"
    journal = Journal(path)
    ids = [f"r{i}" for i in range(1500)]
    for rid in ids:
        journal.save({"id": rid, "note": "x" * 2000}, T0)
    journal.mark_synced(ids, T0)
    journal.close()
    full = path.stat().st_size
    journal = Journal(path)
    journal.upkeep.request_retention(T0 + timedelta(days=400), personal_days=30, record_days=365)
    assert journal.upkeep.settle()
    assert journal.count() == 0
    journal.close()
    assert path.stat().st_size < full / 10, (full, path.stat().st_size)
