"""The journal: every call record, committed to SQLite before the operator is told it is saved.

WAL with ``synchronous=FULL``: once :meth:`Journal.save` returns, the record survives a power cut.
The same database holds the drafts (the call in progress, the open appeal form) that let the unit
come back after a crash where the operator was, and the outbox state the sync uses.

    >>> j = Journal(":memory:")
    >>> j.save({"id": "0b9f...", "outcome": "answered"})
    >>> j.pending_count()
    1
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    body       TEXT NOT NULL,
    saved_at   TEXT NOT NULL,
    synced_at  TEXT,
    attempts   INTEGER NOT NULL DEFAULT 0,
    purged     INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS drafts (
    name TEXT PRIMARY KEY,
    body TEXT NOT NULL
);
"""

PERSONAL_FIELDS = ("full_name", "residence", "essence", "phone", "email")


class Journal:
    """Records and drafts in one SQLite file; safe to use from the loop and the sync worker."""

    def __init__(self, path: str | Path) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = str(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ---------------------------------------------------------------- records
    def save(self, record: dict[str, Any], saved_at: datetime | None = None) -> bool:
        """Commit ``record`` (idempotent by its id); True when it was new. Durable on return."""
        return self.save_and_clear_draft(record, None, saved_at)

    def get(self, record_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT body FROM records WHERE id = ?", (record_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def latest(self) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT body FROM records ORDER BY seq DESC LIMIT 1").fetchone()
        return json.loads(row[0]) if row else None

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT body FROM records ORDER BY seq").fetchall()
        return [json.loads(r[0]) for r in rows]

    def recent(self, limit: int = 10) -> list[tuple[dict[str, Any], bool]]:
        """The newest records, newest first, each with whether the central server confirmed it."""
        with self._lock:
            rows = self._db.execute(
                "SELECT body, synced_at IS NOT NULL FROM records ORDER BY seq DESC LIMIT ?", (limit,)
            ).fetchall()
        return [(json.loads(r[0]), bool(r[1])) for r in rows]

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM records").fetchone()[0]

    def pending_count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM records WHERE synced_at IS NULL").fetchone()[0]

    def pending(self, limit: int = 100) -> list[dict[str, Any]]:
        """The oldest records not yet confirmed by the central server."""
        with self._lock:
            rows = self._db.execute(
                "SELECT body FROM records WHERE synced_at IS NULL ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def oldest_pending_saved_at(self) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT min(saved_at) FROM records WHERE synced_at IS NULL").fetchone()
        return row[0]

    def pending_forwards(self) -> list[tuple[str, str | None, str | None]]:
        """(id, ended_at, appeal.forward_due) of unsynced records whose appeal goes to a court body (R11).

        Read in SQLite (json_extract) so the sync's deadline watch does not parse every body.
        """
        with self._lock:
            rows = self._db.execute(
                "SELECT id, json_extract(body, '$.ended_at'), json_extract(body, '$.appeal.forward_due') "
                "FROM records WHERE synced_at IS NULL AND json_extract(body, '$.appeal.forward_to') IS NOT NULL "
                "ORDER BY seq"
            ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    def mark_synced(self, record_ids: list[str], when: datetime) -> None:
        """The server confirmed these records (stored in UTC, so retention compares times, not text)."""
        stamp = when.astimezone(UTC).isoformat()
        with self._lock:
            self._db.executemany(
                "UPDATE records SET synced_at = ? WHERE id = ? AND synced_at IS NULL",
                [(stamp, rid) for rid in record_ids],
            )

    def note_attempt(self, record_ids: list[str]) -> None:
        with self._lock:
            self._db.executemany("UPDATE records SET attempts = attempts + 1 WHERE id = ?", [(r,) for r in record_ids])

    def purge_personal(self, now: datetime, keep_days: float) -> int:
        """Blank personal fields of appeals the server confirmed more than ``keep_days`` ago; never
        one it has not confirmed. Returns how many records were purged."""
        cutoff = (now - timedelta(days=keep_days)).astimezone(UTC).isoformat()
        purged = 0
        with self._lock:
            rows = self._db.execute(
                "SELECT id, body FROM records WHERE purged = 0 AND synced_at IS NOT NULL AND synced_at < ?",
                (cutoff,),
            ).fetchall()
            for rid, body in rows:
                rec = json.loads(body)
                if rec.get("appeal"):
                    for key in PERSONAL_FIELDS:
                        if rec["appeal"].get(key) is not None:
                            rec["appeal"][key] = None
                self._db.execute(
                    "UPDATE records SET body = ?, purged = 1 WHERE id = ?", (json.dumps(rec, ensure_ascii=False), rid)
                )
                purged += 1
        return purged

    # ---------------------------------------------------------------- drafts
    def put_draft(self, name: str, body: dict[str, Any] | None) -> None:
        """Keep (or with None, drop) a crash-safe draft such as the call in progress."""
        with self._lock:
            if body is None:
                self._db.execute("DELETE FROM drafts WHERE name = ?", (name,))
            else:
                self._db.execute(
                    "INSERT INTO drafts (name, body) VALUES (?, ?) "
                    "ON CONFLICT(name) DO UPDATE SET body = excluded.body",
                    (name, json.dumps(body, ensure_ascii=False)),
                )

    def get_draft(self, name: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT body FROM drafts WHERE name = ?", (name,)).fetchone()
        return json.loads(row[0]) if row else None

    def save_and_clear_draft(self, record: dict[str, Any], draft: str | None,
                             saved_at: datetime | None = None) -> bool:
        """Commit the record and drop its draft (if named) in one transaction: never both, never
        neither. Idempotent by the record's id; True when it was new. Durable on return."""
        body = json.dumps(record, ensure_ascii=False, sort_keys=True)
        when = (saved_at or datetime.now().astimezone()).isoformat()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                cur = self._db.execute(
                    "INSERT OR IGNORE INTO records (id, body, saved_at) VALUES (?, ?, ?)", (record["id"], body, when)
                )
                if draft is not None:
                    self._db.execute("DELETE FROM drafts WHERE name = ?", (draft,))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return cur.rowcount == 1

    def iter_ids(self) -> Iterator[str]:
        with self._lock:
            rows = self._db.execute("SELECT id FROM records ORDER BY seq").fetchall()
        yield from (r[0] for r in rows)
