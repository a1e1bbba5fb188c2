"""The journal's SQLite file: opening it checked and migrated, proving it takes writes, moving a bad one
aside for the technician and salvaging what it still holds, and what an error from SQLite or the OS
means for the operator (:class:`JournalFault`). No state: :class:`firmware.journal.Journal` decides
when each step runs, under its lock."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path

from firmware.journal_schema import VERSION, migrate, user_version

log = logging.getLogger("firmware.journal")

#: sqlite3 primary result codes that mean the file itself cannot be trusted or opened.
DAMAGE_CODES = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CANTOPEN}
#: A WAL longer than this is checkpointed into the file by the upkeep thread.
CHECKPOINT_BYTES = 4 * 1024 * 1024
#: Below this much free space the state directory's file system counts as full.
LOW_SPACE_BYTES = 256 * 1024
#: A full disk found by looking at the file system rather than reported by SQLite.
FULL = OSError(28, "No space left on device")


class JournalFault(Enum):
    """What is wrong with the journal, as the LCD, the LEDs and the console report it."""

    NONE = "ok"
    #: the file was damaged or unusable: kept aside for the technician, a fresh one is in use
    REPLACED = "replaced"
    #: no room for the next write: records held in memory and retried
    DISK_FULL = "disk full"
    #: the file cannot be written (read-only, permissions, damage while running): held in memory
    UNWRITABLE = "unwritable"

    @property
    def durable(self) -> bool:
        """True when what the unit saves now reaches the disk."""
        return self in (JournalFault.NONE, JournalFault.REPLACED)


def connect(path: str, factory: type[sqlite3.Connection]) -> sqlite3.Connection:
    """The file at ``path`` opened in WAL with full sync, checked (``quick_check``) and migrated;
    raises what SQLite or the OS raised (the connection closed)."""
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10.0, factory=factory)
    try:
        db.execute("PRAGMA auto_vacuum=INCREMENTAL")  # takes effect only on a new file: before its first page
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA wal_autocheckpoint=0")  # see Journal._after_commit
        # a WAL emptied by a checkpoint is cut back to this, so its size says how much it holds
        db.execute(f"PRAGMA journal_size_limit={CHECKPOINT_BYTES // 2}")
        db.execute("PRAGMA cache_size=-16384")  # 16 MB: retention's index pages stay in memory
        problems = [r[0] for r in db.execute("PRAGMA quick_check").fetchall()]
        if problems != ["ok"]:
            raise sqlite3.DatabaseError(f"quick_check found {len(problems)} problem(s)")
        if user_version(db) < VERSION or db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0:
            migrate(db, path)
    except BaseException:
        db.close()
        raise
    return db


def probe(db: sqlite3.Connection) -> sqlite3.Error | None:
    """Prove the file takes writes, so a read-only one shows now and not mid-call; the refusal."""
    try:
        db.execute("BEGIN IMMEDIATE")
        db.execute(f"PRAGMA user_version = {user_version(db)}")
        db.execute("COMMIT")
        return None
    except sqlite3.Error as e:
        if db.in_transaction:
            db.execute("ROLLBACK")
        return e


def disk_full(path: str) -> bool:
    """No room left where the journal lives: whatever SQLite said (it reports a -shm it cannot
    grow as an I/O error), the file is not to blame and must not be moved aside."""
    try:
        st = os.statvfs(Path(path).parent)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < LOW_SPACE_BYTES


def move_aside(path: str, now: datetime) -> str:
    """Rename the file (and its -wal/-shm) to ``<name>.damaged-<UTC time>``; the new name. Raises
    OSError when it cannot."""
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = f"{path}.damaged-{stamp}"
    n = 1
    while os.path.lexists(target):
        n += 1
        target = f"{path}.damaged-{stamp}-{n}"
    if os.path.lexists(path):
        os.replace(path, target)
    for suffix in ("-wal", "-shm"):
        if os.path.lexists(path + suffix):
            os.replace(path + suffix, target + suffix)
    return target


def salvage(db: sqlite3.Connection, moved: str) -> None:
    """Copy what the moved file still holds (a sound file that could not be written, e.g. the wrong
    owner) into the fresh one, so its unsynced records still reach the server. A damaged file is
    left to the technician."""
    if not os.path.isfile(moved):
        return
    try:
        db.execute("ATTACH DATABASE ? AS old", (f"file:{moved}?mode=ro",))
    except sqlite3.Error:
        return
    try:
        if [r[0] for r in db.execute("PRAGMA old.quick_check").fetchall()] != ["ok"]:
            return
        db.execute("BEGIN IMMEDIATE")
        n = db.execute("INSERT OR IGNORE INTO records (id, body, saved_at, synced_at, attempts, purged) "
                       "SELECT id, body, saved_at, synced_at, attempts, purged FROM old.records "
                       "ORDER BY seq").rowcount
        db.execute("INSERT OR IGNORE INTO drafts (name, body) SELECT name, body FROM old.drafts")
        db.execute("COMMIT")
        log.warning("journal: %d record(s) copied from the file kept aside", n)
    except sqlite3.Error as e:
        if db.in_transaction:
            db.execute("ROLLBACK")
        log.info("journal: nothing copied from the file kept aside (%s)", describe(e))
    finally:
        with contextlib.suppress(sqlite3.Error):
            db.execute("DETACH DATABASE old")


def code_of(e: BaseException) -> int | None:
    """SQLite's primary result code behind ``e`` (None for an error that is not SQLite's)."""
    code = getattr(e, "sqlite_errorcode", None)
    return None if code is None else code & 0xFF


def fault_of(e: BaseException) -> JournalFault:
    """The fault an error from SQLite or the OS means for the operator."""
    if code_of(e) == sqlite3.SQLITE_FULL or getattr(e, "errno", None) == 28:  # ENOSPC
        return JournalFault.DISK_FULL
    return JournalFault.UNWRITABLE


def describe(e: BaseException) -> str:
    """The error for a log line: SQLite's or the OS's own words, never a record's content."""
    if isinstance(e, OSError):
        return f"{type(e).__name__}: {e.strerror or e.errno}"
    name = getattr(e, "sqlite_errorname", None) or type(e).__name__
    return f"{name}: {e}"
