"""Versioned schema migrations for both stores (a small runner: the schema is a few tables).

Each migration has a number and the statements of each dialect. ``schema_version`` records what was
applied; `migrate` applies the missing ones in order, each in its own transaction together with its
row in ``schema_version``, while holding a lock so that two servers starting at once do not both
migrate. Version 1 is the schema deployed before versioning existed, written with ``IF NOT EXISTS``
so a database of that time is adopted as it is. Never edit a released migration: add one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class Migration:
    """One schema step: its number, what it does, and its statements per dialect."""

    version: int
    name: str
    sqlite: tuple[str, ...]
    postgresql: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "baseline: units, records, notifications, forwards, configs",
        sqlite=(
            "CREATE TABLE IF NOT EXISTS units (id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, "
            "name TEXT, created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))",
            "CREATE TABLE IF NOT EXISTS records (id TEXT PRIMARY KEY, unit TEXT NOT NULL, "
            "received_at TEXT NOT NULL, body TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS records_unit ON records (unit)",
            "CREATE TABLE IF NOT EXISTS notifications (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
            "record_id TEXT NOT NULL UNIQUE REFERENCES records (id), unit TEXT NOT NULL, "
            "created_at TEXT NOT NULL, payload TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS forwards (record_id TEXT PRIMARY KEY REFERENCES records (id), "
            "unit TEXT NOT NULL, forward_to TEXT NOT NULL, due_date TEXT NOT NULL, due_at TEXT NOT NULL, "
            "status TEXT NOT NULL CHECK (status IN ('queued', 'sent')), sent_at TEXT, created_at TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS forwards_status ON forwards (status, forward_to)",
            "CREATE TABLE IF NOT EXISTS configs (scope TEXT PRIMARY KEY, body TEXT NOT NULL, "
            "etag TEXT NOT NULL, updated_at TEXT NOT NULL)",
        ),
        postgresql=(
            "CREATE TABLE IF NOT EXISTS units (id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, "
            "name TEXT, created_at TIMESTAMPTZ NOT NULL DEFAULT now())",
            "CREATE TABLE IF NOT EXISTS records (id UUID PRIMARY KEY, "
            "seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE, unit TEXT NOT NULL, "
            "received_at TIMESTAMPTZ NOT NULL, body JSONB NOT NULL)",
            "CREATE INDEX IF NOT EXISTS records_unit ON records (unit)",
            "CREATE TABLE IF NOT EXISTS notifications (seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
            "record_id UUID NOT NULL UNIQUE REFERENCES records (id), unit TEXT NOT NULL, "
            "created_at TIMESTAMPTZ NOT NULL, payload JSONB NOT NULL)",
            "CREATE TABLE IF NOT EXISTS forwards (record_id UUID PRIMARY KEY REFERENCES records (id), "
            "unit TEXT NOT NULL, forward_to TEXT NOT NULL, due_date DATE NOT NULL, due_at TIMESTAMPTZ NOT NULL, "
            "status TEXT NOT NULL CHECK (status IN ('queued', 'sent')), sent_at TIMESTAMPTZ, "
            "created_at TIMESTAMPTZ NOT NULL)",
            "CREATE INDEX IF NOT EXISTS forwards_status ON forwards (status, forward_to)",
            "CREATE TABLE IF NOT EXISTS configs (scope TEXT PRIMARY KEY, body JSONB NOT NULL, "
            "etag TEXT NOT NULL, updated_at TIMESTAMPTZ NOT NULL)",
        ),
    ),
    Migration(
        2,
        "fleet view: unit last seen; operator, local end time and line verdict as columns",
        # ended_at keeps the unit's own local ISO text: its date and hour are the unit's local ones,
        # which is what the management page filters and charts by.
        sqlite=(
            "ALTER TABLE units ADD COLUMN last_seen_at TEXT",
            "ALTER TABLE records ADD COLUMN operator TEXT",
            "ALTER TABLE records ADD COLUMN ended_at TEXT",
            "ALTER TABLE records ADD COLUMN line_worst TEXT",
            "UPDATE records SET operator = CAST(json_extract(body, '$.operator') AS TEXT), "
            "ended_at = json_extract(body, '$.ended_at'), line_worst = json_extract(body, '$.line_worst')",
            "CREATE INDEX records_ended ON records (ended_at)",
            "ALTER TABLE notifications ADD COLUMN operator TEXT",
            "ALTER TABLE notifications ADD COLUMN ended_at TEXT",
            "UPDATE notifications SET operator = CAST(json_extract(payload, '$.operator') AS TEXT), "
            "ended_at = json_extract(payload, '$.ended_at')",
            "CREATE INDEX notifications_ended ON notifications (ended_at)",
            "CREATE INDEX forwards_due ON forwards (due_at, record_id)",
        ),
        postgresql=(
            "ALTER TABLE units ADD COLUMN last_seen_at TIMESTAMPTZ",
            "ALTER TABLE records ADD COLUMN operator TEXT, ADD COLUMN ended_at TEXT, ADD COLUMN line_worst TEXT",
            "UPDATE records SET operator = body->>'operator', ended_at = body->>'ended_at', "
            "line_worst = body->>'line_worst'",
            "CREATE INDEX records_ended ON records (ended_at)",
            "ALTER TABLE notifications ADD COLUMN operator TEXT, ADD COLUMN ended_at TEXT",
            "UPDATE notifications SET operator = payload->>'operator', ended_at = payload->>'ended_at'",
            "CREATE INDEX notifications_ended ON notifications (ended_at)",
            "CREATE INDEX forwards_due ON forwards (due_at, record_id)",
        ),
    ),
)

LATEST = MIGRATIONS[-1].version

_VERSION_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
    "applied_at TEXT NOT NULL)"
)
# Any constant: the same for every server migrating the same database.
_PG_MIGRATION_LOCK = 0x64736D67


def applied_version(cur: Any) -> int:
    row = cur.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(conn: Any, dialect: str) -> list[int]:
    """Bring the database up to `LATEST`; returns the versions applied now (empty when current).

    ``conn`` is a DB-API connection not in autocommit mode for PostgreSQL, or an sqlite3 connection
    with ``isolation_level=None`` (we issue BEGIN IMMEDIATE, which takes SQLite's write lock).
    """
    placeholder = "%s" if dialect == "postgresql" else "?"
    done: list[int] = []
    for migration in MIGRATIONS:
        cur = conn.cursor()
        if dialect == "postgresql":
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_PG_MIGRATION_LOCK,))
        else:
            cur.execute("BEGIN IMMEDIATE")
        try:
            cur.execute(_VERSION_TABLE)
            if applied_version(cur) >= migration.version:
                conn.commit()
                continue
            for statement in getattr(migration, dialect):
                cur.execute(statement)
            cur.execute(
                f"INSERT INTO schema_version (version, name, applied_at) VALUES "
                f"({placeholder}, {placeholder}, {placeholder})",
                (migration.version, migration.name, datetime.now(UTC).isoformat()),
            )
            conn.commit()
            done.append(migration.version)
        except BaseException:
            conn.rollback()
            raise
    return done
