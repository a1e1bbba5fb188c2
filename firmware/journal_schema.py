"""The journal's SQLite schema, its version (``PRAGMA user_version``) and the migrations between versions.

Version 0 is the journal the first firmware wrote: the ``records`` and ``drafts`` tables, no indexes
beyond the keys, ``auto_vacuum`` off. Each migration runs in one transaction, so a power cut leaves the
file at the old version or the new one, never between. A fresh file goes through the same steps.

    >>> db = sqlite3.connect(":memory:", isolation_level=None)
    >>> migrate(db)
    (0, 1)
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

log = logging.getLogger(__name__)

VERSION = 1

#: Version 0, exactly as the first firmware created it (kept so a fresh file starts where old ones did).
TABLES_V0 = (
    """CREATE TABLE IF NOT EXISTS records (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    body       TEXT NOT NULL,
    saved_at   TEXT NOT NULL,
    synced_at  TEXT,
    attempts   INTEGER NOT NULL DEFAULT 0,
    purged     INTEGER NOT NULL DEFAULT 0
)""",
    """CREATE TABLE IF NOT EXISTS drafts (
    name TEXT PRIMARY KEY,
    body TEXT NOT NULL
)""",
)

#: Version 1: partial indexes, so what the loop and the sync ask (what is pending, how many, what is due
#: for retention) costs in proportion to the answer, not to the years of records behind it.
INDEXES_V1 = (
    # the outbox: unsynced records in save order
    "CREATE INDEX IF NOT EXISTS records_pending ON records(seq) WHERE synced_at IS NULL",
    # retention, personal data: confirmed records whose appeal fields are not yet blanked
    "CREATE INDEX IF NOT EXISTS records_unpurged ON records(synced_at) WHERE purged = 0 AND synced_at IS NOT NULL",
    # retention, whole records: confirmed records by age
    "CREATE INDEX IF NOT EXISTS records_synced ON records(synced_at) WHERE synced_at IS NOT NULL",
)

MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: TABLES_V0 + INDEXES_V1,
}

#: Rewriting a migrated file to turn on incremental vacuum is done at start only below this size (the
#: loop is not running yet, but a start that takes minutes on an SD card would trip systemd's timeout).
VACUUM_AT_MIGRATION_MAX_BYTES = 32 * 1024 * 1024


def user_version(db: sqlite3.Connection) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def migrate(db: sqlite3.Connection, path: str | Path = ":memory:") -> tuple[int, int]:
    """Bring ``db`` (autocommit mode) to :data:`VERSION`; returns (version found, version now).

    A file from newer firmware (after a downgrade) is left as it is: its records stay readable,
    and nothing here may drop what it added.
    """
    found = user_version(db)
    if found > VERSION:
        log.warning("journal schema v%d is newer than this firmware's v%d: used as it is", found, VERSION)
        return found, found
    fresh = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
    if fresh:  # must precede the first table; an existing file needs a VACUUM to change it
        db.execute("PRAGMA auto_vacuum=INCREMENTAL")
    for version in range(found + 1, VERSION + 1):
        db.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[version]:
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {version}")
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        if not fresh:
            log.info("journal schema migrated to v%d", version)
    if not fresh and found < 1:
        _enable_incremental_vacuum(db, path)
    return found, VERSION


def _enable_incremental_vacuum(db: sqlite3.Connection, path: str | Path) -> None:
    """A v0 file has ``auto_vacuum`` off; switching needs a full rewrite, done only for a small file.
    A large one keeps it off: the pages retention frees are reused by new records instead."""
    if db.execute("PRAGMA auto_vacuum").fetchone()[0] == 2:
        return
    size = Path(path).stat().st_size if str(path) != ":memory:" and Path(path).exists() else 0
    if size > VACUUM_AT_MIGRATION_MAX_BYTES:
        log.info("journal of %d MB keeps auto_vacuum off (freed pages are reused)", size // 2**20)
        return
    db.execute("PRAGMA auto_vacuum=INCREMENTAL")
    db.execute("VACUUM")
