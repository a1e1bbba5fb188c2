"""The journal: every call record, committed to SQLite before the operator is told it is saved.

WAL with ``synchronous=FULL``: once :meth:`Journal.save` returns True, the record survives a power
cut. The same database holds the drafts (the call in progress, the open appeal form) that let the unit
come back after a crash where the operator was, and the outbox state the sync uses.

The journal never raises into the event loop. At start it checks the file (``PRAGMA quick_check``)
and proves it can write it; a damaged or unusable file is moved aside for the technician and a fresh
one started. A write that fails while running (disk full, a read-only file, damage) leaves the record
or draft in memory, where reads still see it; every later write, and :meth:`Journal.retry`, tries to
commit what is held. :attr:`Journal.fault` says what is wrong, for the LCD, the LEDs and the console.

Threads: the journal is the one store shared between threads (principle 1's one exception, see
``docs/architecture.md``): the event loop, the sync worker's thread and the journal's own upkeep
thread (:mod:`firmware.journal_upkeep`) use it, every method under the journal's own lock (the upkeep
thread also reads on a connection of its own). No other unit state is shared.

    >>> j = Journal(":memory:")
    >>> j.save({"id": "0b9f...", "outcome": "answered"})
    True
    >>> j.pending_count()
    1
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from firmware.journal_file import (
    CHECKPOINT_BYTES,
    DAMAGE_CODES,
    FULL,
    JournalFault,
    code_of,
    connect,
    describe,
    disk_full,
    fault_of,
    move_aside,
    probe,
    salvage,
)
from firmware.journal_schema import user_version
from firmware.journal_upkeep import Upkeep

log = logging.getLogger(__name__)

PERSONAL_FIELDS = ("full_name", "residence", "essence", "phone", "email")


class Journal:
    """Records and drafts in one SQLite file; safe to use from the loop, the sync and the upkeep threads.

    Larger than 25 methods on purpose: every method reads or writes through the one connection,
    the one lock and the one in-memory hold of records and drafts not yet durable (writes that
    failed are held and retried in order, drafts included, in the same transaction as the records),
    so records, drafts, retention and the defensive open share all of that state. What needs none of
    it (opening and checking the file, moving it aside, salvaging it, what an error means) is in
    :mod:`firmware.journal_file`.

    ``clock`` (optional) names the files moved aside; ``connection_class`` (a
    :class:`sqlite3.Connection` subclass) lets tests fail writes the way a full disk does.
    """

    def __init__(self, path: str | Path, *, clock: Any = None,
                 connection_class: type[sqlite3.Connection] = sqlite3.Connection) -> None:
        self.path = str(path)
        self.clock = clock
        self.connection_class = connection_class
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._pending = 0  # committed records not yet confirmed by the server
        self._unsaved: dict[str, tuple[str, str]] = {}  # id -> (body, saved_at): not yet committed
        self._unsaved_drafts: dict[str, str | None] = {}  # name -> body (None: to be deleted)
        self._error = JournalFault.NONE  # the last write's trouble, until a write succeeds
        self.detail = ""  # the error behind the fault, as SQLite or the OS put it (never personal data)
        self.moved_aside: list[str] = []
        self.upkeep = Upkeep(self)
        self._reopen_needed = False
        self._retrying = False
        self._side: sqlite3.Connection | None = None  # the upkeep thread's, see _side_db
        self._side_inode = 0
        db = self._open()
        if db is not None:
            self._use(db)

    # ---------------------------------------------------------------- health
    @property
    def fault(self) -> JournalFault:
        if self._error is not JournalFault.NONE:
            return self._error
        return JournalFault.REPLACED if self.moved_aside else JournalFault.NONE

    def status(self) -> str:
        """One line for the console: the fault, what caused it and what is held in memory."""
        fault = self.fault
        if fault is JournalFault.NONE:
            return "ok"
        parts = [fault.value]
        if self.detail:
            parts.append(f"({self.detail})")
        if self.moved_aside:
            parts.append(f"damaged file kept as {Path(self.moved_aside[0]).name}")
        if self._unsaved or self._unsaved_drafts:
            parts.append(f"{len(self._unsaved)} record(s) held in memory")
        return ", ".join(parts)

    def retry(self) -> bool:
        """Try again to commit what is held in memory (reopening the file if it was lost); True when
        nothing is held any more. Any thread; the upkeep thread does it on the unit's request."""
        if self._error is JournalFault.NONE:
            return True
        if self._db is None or self._reopen_needed:
            self._retrying = True  # the same trouble again is not logged again every few seconds
            try:
                db = self._open()  # outside the lock: the quick check reads the whole file
            finally:
                self._retrying = False
            if db is None:
                return False
            with self._lock:
                if self._db is not None and self._db is not db:
                    self._db.close()
                self._use(db)
        with self._lock:
            return self._flush()

    def close(self) -> None:
        self.upkeep.stop()
        self._drop_side()
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    # ---------------------------------------------------------------- records
    def save(self, record: dict[str, Any], saved_at: datetime | None = None) -> bool:
        """Commit ``record`` (idempotent by its id); True when it is durable on return."""
        return self.save_and_clear_draft(record, None, saved_at)

    def save_and_clear_draft(self, record: dict[str, Any], draft: str | None,
                             saved_at: datetime | None = None) -> bool:
        """Commit the record and drop its draft (if named) in one transaction: never both, never
        neither. Idempotent by the record's id; True when durable on return (else held in memory)."""
        body = json.dumps(record, ensure_ascii=False, sort_keys=True)
        when = (saved_at or datetime.now().astimezone()).isoformat()
        with self._lock:
            self._unsaved.setdefault(record["id"], (body, when))
            if draft is not None:
                self._unsaved_drafts[draft] = None
            return self._flush()

    def get(self, record_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._read_one("SELECT body FROM records WHERE id = ?", (record_id,))
            held = self._unsaved.get(record_id)
        body = row[0] if row else held[0] if held else None
        return json.loads(body) if body is not None else None

    def latest(self) -> dict[str, Any] | None:
        with self._lock:
            if self._unsaved:
                return json.loads(next(reversed(self._unsaved.values()))[0])
            row = self._read_one("SELECT body FROM records ORDER BY seq DESC LIMIT 1")
        return json.loads(row[0]) if row else None

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._read_all("SELECT id, body FROM records ORDER BY seq")
            held = [(rid, body) for rid, (body, _) in self._unsaved.items()]
        stored = {rid for rid, _ in rows}
        return [json.loads(body) for _, body in rows + [h for h in held if h[0] not in stored]]

    def recent(self, limit: int = 10) -> list[tuple[dict[str, Any], bool]]:
        """The newest records, newest first, each with whether the central server confirmed it (those
        held in memory first: they are the newest)."""
        with self._lock:
            rows = self._read_all("SELECT body, synced_at IS NOT NULL FROM records ORDER BY seq DESC LIMIT ?", (limit,))
            held = [body for body, _ in reversed(self._unsaved.values())]
        found = [(json.loads(b), False) for b in held] + [(json.loads(r[0]), bool(r[1])) for r in rows]
        return found[:limit]

    def count(self) -> int:
        with self._lock:
            row = self._read_one("SELECT count(*) FROM records")
            return (row[0] if row else 0) + len(self._unsaved)

    def pending_count(self) -> int:
        """Records the server has not confirmed, held in memory included. O(1): no lock, no query,
        so the idle screen and the console never wait on the disk."""
        return self._pending + len(self._unsaved)

    def pending(self, limit: int = 100) -> list[dict[str, Any]]:
        """The oldest committed records not yet confirmed by the central server."""
        with self._lock:
            rows = self._read_all(
                "SELECT body FROM records INDEXED BY records_pending WHERE synced_at IS NULL ORDER BY seq LIMIT ?",
                (limit,))
        return [json.loads(r[0]) for r in rows]

    def oldest_pending_saved_at(self) -> str | None:
        with self._lock:
            row = self._read_one(
                "SELECT min(saved_at) FROM records INDEXED BY records_pending WHERE synced_at IS NULL")
            held = min((when for _, when in self._unsaved.values()), default=None)
        found = [w for w in (row[0] if row else None, held) if w]
        return min(found) if found else None

    def pending_forwards(self) -> list[tuple[str, str | None, str | None]]:
        """(id, ended_at, appeal.forward_due) of unsynced records whose appeal goes to a court body (R11).

        Read in SQLite (json_extract) so the sync's deadline watch does not parse every body.
        """
        with self._lock:
            rows = self._read_all(
                "SELECT id, json_extract(body, '$.ended_at'), json_extract(body, '$.appeal.forward_due') "
                "FROM records INDEXED BY records_pending "
                "WHERE synced_at IS NULL AND json_extract(body, '$.appeal.forward_to') IS NOT NULL ORDER BY seq")
        return [(r[0], r[1], r[2]) for r in rows]

    def mark_synced(self, record_ids: list[str], when: datetime) -> bool:
        """The server confirmed these records (stored in UTC, so retention compares times, not text).
        One transaction for the batch. On failure the records stay pending and are sent again, which
        the server's idempotence by id turns into no duplicate."""
        stamp = when.astimezone(UTC).isoformat()

        def work(db: sqlite3.Connection) -> int:
            return sum(db.execute("UPDATE records SET synced_at = ? WHERE id = ? AND synced_at IS NULL",
                                  (stamp, rid)).rowcount for rid in record_ids)

        with self._lock:
            done = self._transaction(work)
            if done is None:
                return False
            self._pending -= done
            return True

    def note_attempt(self, record_ids: list[str]) -> bool:
        def work(db: sqlite3.Connection) -> None:
            db.executemany("UPDATE records SET attempts = attempts + 1 WHERE id = ?", [(r,) for r in record_ids])

        with self._lock:
            return self._transaction(work, quiet=True) is not None

    def iter_ids(self) -> Iterator[str]:
        with self._lock:
            rows = self._read_all("SELECT id FROM records ORDER BY seq")
        yield from (r[0] for r in rows)

    # ---------------------------------------------------------------- retention
    def purge_personal_batch(self, cutoff: str, limit: int) -> int:
        """Blank personal fields of up to ``limit`` appeals the server confirmed before ``cutoff`` (UTC
        ISO text), in one transaction; never one it has not confirmed. Returns how many records were
        looked at (0: nothing left, or the write failed). The upkeep thread calls it batch by batch:
        it reads and rewrites the bodies on its own connection, so the journal's lock is held only for
        the updates (the records are not changed meanwhile: only retention touches confirmed ones)."""
        rows = self._side_read(
            "SELECT seq, body FROM records INDEXED BY records_unpurged "
            "WHERE purged = 0 AND synced_at IS NOT NULL AND synced_at < ? LIMIT ?", (cutoff, limit))
        updates = []
        for seq, body in rows:
            rec = json.loads(body)
            appeal = rec.get("appeal")
            if appeal and any(appeal.get(k) is not None for k in PERSONAL_FIELDS):
                for key in PERSONAL_FIELDS:
                    if appeal.get(key) is not None:
                        appeal[key] = None
                body = json.dumps(rec, ensure_ascii=False, sort_keys=True)
            updates.append((body, seq))

        def work(db: sqlite3.Connection) -> int:
            db.executemany("UPDATE records SET body = ?, purged = 1 WHERE seq = ? AND purged = 0", updates)
            return len(updates)

        if not updates:
            return 0
        with self._lock:
            return self._transaction(work, sync=False) or 0

    def delete_synced_batch(self, cutoff: str, limit: int) -> int:
        """Delete up to ``limit`` records the server confirmed before ``cutoff`` (UTC ISO text), personal
        data already blanked; never an unconfirmed one. Returns how many."""
        seqs = [r[0] for r in self._side_read(
            "SELECT seq FROM records INDEXED BY records_synced "
            "WHERE synced_at IS NOT NULL AND synced_at < ? AND purged = 1 LIMIT ?", (cutoff, limit))]

        def work(db: sqlite3.Connection) -> int:
            return db.execute(
                f"DELETE FROM records WHERE seq IN ({','.join('?' * len(seqs))}) "
                "AND synced_at IS NOT NULL AND purged = 1", seqs).rowcount

        if not seqs:
            return 0
        with self._lock:
            return self._transaction(work, sync=False) or 0

    def checkpoint(self) -> None:
        """Copy the WAL into the file (a passive checkpoint, on the upkeep thread's own connection:
        the loop's writes go on meanwhile)."""
        side = self._side_db()
        if side is None:
            return
        try:
            side.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as e:
            log.info("journal checkpoint deferred: %s", e)
            self._drop_side()

    def vacuum_step(self, pages: int) -> int:
        """Give up to ``pages`` free pages back to the file system (``PRAGMA incremental_vacuum``);
        returns how many free pages are left."""
        def work(db: sqlite3.Connection) -> int:
            for _ in range(pages):  # Python's sqlite3 steps a pragma once: incremental_vacuum(N) frees 1 page
                db.execute("PRAGMA incremental_vacuum(1)")
            return db.execute("PRAGMA freelist_count").fetchone()[0]

        with self._lock:
            if self._error is not JournalFault.NONE:
                return 0
            return self._transaction(work, quiet=True, sync=False) or 0

    # ---------------------------------------------------------------- drafts
    def put_draft(self, name: str, body: dict[str, Any] | None) -> bool:
        """Keep (or with None, drop) a crash-safe draft such as the call in progress; True when
        durable on return (else held in memory and retried)."""
        with self._lock:
            self._unsaved_drafts[name] = None if body is None else json.dumps(body, ensure_ascii=False)
            return self._flush()

    def get_draft(self, name: str) -> dict[str, Any] | None:
        with self._lock:
            if name in self._unsaved_drafts:
                body = self._unsaved_drafts[name]
            else:
                row = self._read_one("SELECT body FROM drafts WHERE name = ?", (name,))
                body = row[0] if row else None
        return json.loads(body) if body is not None else None

    # ---------------------------------------------------------------- internals (lock held)
    def _flush(self) -> bool:
        """Commit everything held in memory in one transaction; True when nothing is held any more."""
        if not self._unsaved and not self._unsaved_drafts and self._error is JournalFault.NONE:
            return True
        if self._reopen_needed:  # the file is being replaced: a write now could land in the old one
            return False
        records, drafts = list(self._unsaved.items()), list(self._unsaved_drafts.items())

        def work(db: sqlite3.Connection) -> int:
            new = 0
            for rid, (body, when) in records:
                new += db.execute("INSERT OR IGNORE INTO records (id, body, saved_at) VALUES (?, ?, ?)",
                                  (rid, body, when)).rowcount
            for name, body in drafts:
                if body is None:
                    db.execute("DELETE FROM drafts WHERE name = ?", (name,))
                else:
                    db.execute("INSERT INTO drafts (name, body) VALUES (?, ?) "
                               "ON CONFLICT(name) DO UPDATE SET body = excluded.body", (name, body))
            if not records and not drafts:  # only proving the file takes writes again
                db.execute(f"PRAGMA user_version = {user_version(db)}")
            return new

        new = self._transaction(work)
        if new is None:
            return False
        self._pending += new
        self._unsaved.clear()
        self._unsaved_drafts.clear()
        if self._error is not JournalFault.NONE:
            log.warning("journal writable again: %d record(s) held in memory committed", len(records))
            self._error, self.detail = JournalFault.NONE, ""
        return True

    def _transaction(self, work: Callable[[sqlite3.Connection], Any], quiet: bool = False,
                     sync: bool = True) -> Any:
        """Run ``work`` in one write transaction; its result, or None when the write failed (the fault
        is noted; the real error is logged, never hidden behind a failed rollback). ``sync=False``
        commits without waiting for the disk (retention: redone after a power cut, and the next
        durable commit carries it), so the loop's own fsyncs do not queue behind it."""
        db = self._db
        if db is None:
            return None
        if not sync:
            db.execute("PRAGMA synchronous=NORMAL")
        try:
            db.execute("BEGIN IMMEDIATE")
            result = work(db)
            db.execute("COMMIT")
            self._after_commit(db)
            return 0 if result is None else result
        except sqlite3.Error as e:
            if db.in_transaction:  # SQLite has already rolled back after some errors (SQLITE_FULL)
                try:
                    db.execute("ROLLBACK")
                except sqlite3.Error as rollback_error:
                    log.error("journal rollback failed: %s", rollback_error)
            self._note_error(e, quiet)
            return None
        finally:
            if not sync:
                db.execute("PRAGMA synchronous=FULL")

    def _after_commit(self, db: sqlite3.Connection) -> None:
        """Checkpoints are the upkeep thread's, on its own connection, so a commit never stops to copy
        the WAL into the file while the loop waits; only if that thread falls far behind does a commit
        do it here."""
        try:
            wal = os.stat(self.path + "-wal").st_size
        except OSError:
            return
        if wal > CHECKPOINT_BYTES:
            self.upkeep.request_checkpoint()
        if wal > 16 * CHECKPOINT_BYTES:
            db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def _note_error(self, e: BaseException, quiet: bool = False) -> None:
        fault = fault_of(e)
        if fault is JournalFault.UNWRITABLE and disk_full(self.path):  # SQLite says "I/O error" for some
            fault = JournalFault.DISK_FULL
        if fault is not self._error or not (quiet or self._retrying):
            log.error("journal write failed (%s): %s; held in memory and retried", fault.value, describe(e))
        self._error, self.detail = fault, describe(e)
        if fault is not JournalFault.DISK_FULL and code_of(e) in DAMAGE_CODES | {sqlite3.SQLITE_IOERR}:
            self._reopen_needed = True  # the file may be damaged: checked again, replaced if it is

    def _side_db(self) -> sqlite3.Connection | None:
        """The upkeep thread's own connection to the same file (None for ``:memory:``), opened again
        when the file was replaced. Reads on it need no lock: WAL readers never wait for the writer."""
        if self.path == ":memory:" or self._db is None:
            return None
        try:
            inode = os.stat(self.path).st_ino
            if self._side is not None and inode != self._side_inode:
                self._drop_side()
            if self._side is None:
                self._side = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=0.1)
                self._side.execute("PRAGMA wal_autocheckpoint=0")
                self._side_inode = inode
        except (sqlite3.Error, OSError) as e:
            log.info("journal side connection unavailable: %s", e)
            self._drop_side()
        return self._side

    def _drop_side(self) -> None:
        if self._side is not None:
            with contextlib.suppress(sqlite3.Error):
                self._side.close()
            self._side = None

    def _side_read(self, sql: str, args: tuple) -> list[tuple]:
        """A retention read on the side connection, or under the lock when there is none."""
        side = self._side_db()
        if side is not None:
            try:
                return side.execute(sql, args).fetchall()
            except sqlite3.Error as e:
                log.info("journal retention read deferred: %s", e)
                self._drop_side()
                return []
        with self._lock:
            return self._read_all(sql, args)

    def _say(self, message: str, *args: Any) -> None:
        log.log(logging.DEBUG if self._retrying else logging.ERROR, message, *args)

    def _read_one(self, sql: str, args: tuple = ()) -> tuple | None:
        rows = self._read_all(sql, args)
        return rows[0] if rows else None

    def _read_all(self, sql: str, args: tuple = ()) -> list[tuple]:
        """A read; when the file fails under it, the answer is what is held in memory (nothing here)."""
        if self._db is None:
            return []
        try:
            return self._db.execute(sql, args).fetchall()
        except sqlite3.Error as e:
            if self._error is JournalFault.NONE:
                self._note_error(e)
            return []

    # ---------------------------------------------------------------- opening
    def _use(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._reopen_needed = False
        self._pending = db.execute(
            "SELECT count(*) FROM records INDEXED BY records_pending WHERE synced_at IS NULL").fetchone()[0]

    def _open(self) -> sqlite3.Connection | None:
        """The checked, migrated database. A damaged or unusable file is moved aside and a fresh one
        started; a sound file that cannot be written now (a full disk, a read-only directory) is kept
        and read, with writes held in memory. None when nothing can be opened at all."""
        try:
            db = connect(self.path, self.connection_class)
        except (sqlite3.Error, OSError) as e:
            if fault_of(e) is JournalFault.DISK_FULL or disk_full(self.path):  # a sound file on a full disk
                return self._cannot_write(None, FULL if fault_of(e) is not JournalFault.DISK_FULL else e)
            self._say("journal file unusable (%s): moving it aside for the technician", describe(e))
            return self._fresh(e, None)
        refused = probe(db)
        if refused is None:
            return db
        if fault_of(refused) is JournalFault.DISK_FULL or disk_full(self.path):
            return self._cannot_write(db, refused if fault_of(refused) is JournalFault.DISK_FULL else FULL)
        self._say("journal file cannot be written (%s): moving it aside for the technician", describe(refused))
        return self._fresh(refused, db)

    def _fresh(self, error: BaseException, old: sqlite3.Connection | None) -> sqlite3.Connection | None:
        """Move the file aside and start a fresh one (holding its records when ``old`` could read them)."""
        moved = self._move_aside()
        if moved is None:
            return self._cannot_write(old, error)
        if old is not None:
            old.close()
        try:
            db = connect(self.path, self.connection_class)
            refused = probe(db)
        except (sqlite3.Error, OSError) as e:
            return self._cannot_write(None, e)
        if refused is not None:
            return self._cannot_write(db, refused)
        salvage(db, moved)
        return db

    def _cannot_write(self, db: sqlite3.Connection | None, error: BaseException) -> sqlite3.Connection | None:
        """Keep reading ``db`` (if any); writes are held in memory until a retry succeeds."""
        self._note_error(error)
        self._reopen_needed = db is None
        return db

    def _move_aside(self) -> str | None:
        """Move the file aside for the technician (see :func:`move_aside`); the new name, or None."""
        if self.path == ":memory:":
            return None
        now = self.clock.now() if self.clock is not None else datetime.now(UTC)
        try:
            target = move_aside(self.path, now)
        except OSError as e:
            self._say("journal file could not be moved aside: %s", describe(e))
            return None
        log.error("journal file kept for the technician as %s; a fresh journal started", Path(target).name)
        self.moved_aside.append(target)
        return target
