"""Storage of the central server: one interface, a SQLite backend and a PostgreSQL backend.

Both backends share the SQL; a small dialect object holds what differs. Every write runs in one
transaction, so a record, its management notification (R10) and its forward entry (R11) are stored
together or not at all, and a batch of records is one transaction.
"""

from __future__ import annotations

import hashlib
import json
import queue
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from central.records import canonical_json, local_due

FLEET_SCOPE = "*"


def token_hash(token: str) -> str:
    """Tokens are long random strings, so one round of SHA-256 is enough and nothing is kept in clear."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def etag_for(doc: Any) -> str:
    """A strong ETag: the digest of the document's canonical JSON."""
    return '"' + hashlib.sha256(canonical_json(doc).encode("utf-8")).hexdigest()[:32] + '"'


@dataclass(frozen=True)
class SaveResult:
    """What happened to one posted record: ``created``, ``duplicate`` (same body) or ``conflict``."""

    id: str
    status: str

    @property
    def http_status(self) -> int:
        return {"created": 201, "duplicate": 200, "conflict": 409}[self.status]


class Store(ABC):
    """The storage interface the HTTP layer uses; all methods are safe to call from many threads."""

    kind: str

    @abstractmethod
    def add_unit(self, unit_id: str, token: str, name: str | None = None) -> None:
        """Register a unit, or give an existing one a new token."""

    @abstractmethod
    def unit_for_token(self, token: str) -> str | None:
        """The unit a bearer token belongs to, or None."""

    @abstractmethod
    def save_records(self, records: Sequence[dict[str, Any]], received_at: datetime) -> list[SaveResult]:
        """Store validated records in one transaction, idempotently by id."""

    @abstractmethod
    def list_records(self, unit: str | None, after: int, limit: int) -> list[dict[str, Any]]:
        """Stored records in arrival order, each with ``seq``, ``unit``, ``received_at`` and ``body``."""

    @abstractmethod
    def count_records(self, unit: str | None = None) -> int:
        """How many records are stored (for one unit, or all)."""

    @abstractmethod
    def notifications(self, after: int, limit: int) -> list[dict[str, Any]]:
        """The management feed (R10) after sequence number ``after``."""

    @abstractmethod
    def forwards(self, status: str | None, body: str | None) -> list[dict[str, Any]]:
        """Forward entries (R11), oldest deadline first; ``due_at`` is an aware datetime."""

    @abstractmethod
    def mark_forward_sent(self, record_id: str, sent_at: datetime) -> dict[str, Any] | None:
        """Mark a forward sent (keeping the first sent_at if it already was); None if there is none."""

    @abstractmethod
    def get_config(self, unit: str) -> tuple[Any, str] | None:
        """The unit's own config document if it has one, else the fleet's; with its ETag."""

    @abstractmethod
    def put_config(self, doc: Any, unit: str | None = None) -> str:
        """Replace the fleet document (or one unit's); returns the new ETag."""

    @abstractmethod
    def ping(self) -> None:
        """Raise if the database cannot be reached."""

    @abstractmethod
    def close(self) -> None:
        """Release all connections."""


def open_store(url: str | Path) -> Store:
    """A store for ``postgresql://...``, ``sqlite:///path`` or a plain file path."""
    text = str(url)
    if text.startswith(("postgresql://", "postgres://")):
        return PostgresStore(text)
    if text.startswith("sqlite:///"):
        text = text[len("sqlite:///") :]
    elif text.startswith("sqlite://"):
        raise ValueError("sqlite URLs take a path: sqlite:///relative.db or sqlite:////abs/path.db")
    return SQLiteStore(text)


def _iso(value: Any) -> str | None:
    """Timestamps come back as text from SQLite and as datetimes from PostgreSQL."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return str(value)


def _aware(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


class _SQLStore(Store):
    """The SQL both backends share, written with ``?`` placeholders."""

    record_seq = "rowid"
    schema: tuple[str, ...] = ()

    def __init__(self, max_connections: int) -> None:
        self._pool: queue.LifoQueue[Any] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(max_connections)
        self._all: list[Any] = []
        self._all_lock = threading.Lock()
        with self._write() as cur:
            for statement in self.schema:
                cur.execute(statement)

    # --- connection handling, per dialect -------------------------------------------------------
    @abstractmethod
    def _connect(self) -> Any: ...

    @abstractmethod
    def _begin(self, conn: Any, serialize: bool) -> Any: ...

    def _sql(self, text: str) -> str:
        return text

    def _json_param(self, value: Any) -> Any:
        return canonical_json(value)

    def _ts_param(self, value: datetime) -> Any:
        return value.astimezone(UTC).isoformat()

    @contextmanager
    def _conn(self) -> Iterator[Any]:
        # The semaphore bounds connections; each connection is used by one thread at a time.
        self._slots.acquire()
        try:
            try:
                conn = self._pool.get_nowait()
            except queue.Empty:
                conn = self._connect()
                with self._all_lock:
                    self._all.append(conn)
            try:
                yield conn
            except BaseException:
                self._discard_if_broken(conn)
                raise
            self._pool.put(conn)
        finally:
            self._slots.release()

    def _discard_if_broken(self, conn: Any) -> None:
        """A failed connection is still returned to the pool unless the backend says it is dead."""
        self._pool.put(conn)

    @contextmanager
    def _write(self, serialize: bool = False) -> Iterator[Any]:
        with self._conn() as conn:
            cur = self._begin(conn, serialize)
            try:
                yield _Cursor(cur, self._sql)
            except BaseException:
                # The original error is the one to report, not a failed rollback after it.
                with suppress(Exception):
                    conn.rollback()
                raise
            conn.commit()

    @contextmanager
    def _read(self) -> Iterator[Any]:
        with self._write() as cur:
            yield cur

    # --- the interface ---------------------------------------------------------------------------
    def add_unit(self, unit_id: str, token: str, name: str | None = None) -> None:
        with self._write() as cur:
            cur.execute(
                "INSERT INTO units (id, token_hash, name) VALUES (?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET token_hash = excluded.token_hash, "
                "name = COALESCE(excluded.name, units.name)",
                (unit_id, token_hash(token), name),
            )

    def unit_for_token(self, token: str) -> str | None:
        with self._read() as cur:
            row = cur.execute("SELECT id FROM units WHERE token_hash = ?", (token_hash(token),)).fetchone()
        return row[0] if row else None

    def save_records(self, records: Sequence[dict[str, Any]], received_at: datetime) -> list[SaveResult]:
        results = []
        with_appeal = any(r.get("appeal") for r in records)
        with self._write(serialize=with_appeal) as cur:
            for record in records:
                results.append(self._save_one(cur, record, received_at))
        return results

    def _save_one(self, cur: _Cursor, record: dict[str, Any], received_at: datetime) -> SaveResult:
        rid = record["id"]
        body = canonical_json(record)
        inserted = cur.execute(
            "INSERT INTO records (id, unit, received_at, body) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (id) DO NOTHING RETURNING id",
            (rid, record["unit"], self._ts_param(received_at), self._json_param(record)),
        ).fetchone()
        if inserted is None:
            row = cur.execute("SELECT body FROM records WHERE id = ?", (rid,)).fetchone()
            same = row is not None and canonical_json(_json(row[0])) == body
            return SaveResult(rid, "duplicate" if same else "conflict")
        appeal = record.get("appeal")
        if appeal:
            payload = {
                "operator": record.get("operator"),
                "outcome": record.get("outcome"),
                "ended_at": record.get("ended_at"),
                "appeal": appeal,
            }
            cur.execute(
                "INSERT INTO notifications (record_id, unit, created_at, payload) VALUES (?, ?, ?, ?)",
                (rid, record["unit"], self._ts_param(received_at), self._json_param(payload)),
            )
            if appeal.get("forward_to"):
                due, due_at = local_due(record)
                cur.execute(
                    "INSERT INTO forwards (record_id, unit, forward_to, due_date, due_at, status, "
                    "created_at) VALUES (?, ?, ?, ?, ?, 'queued', ?)",
                    (
                        rid,
                        record["unit"],
                        appeal["forward_to"],
                        due.isoformat(),
                        self._ts_param(due_at),
                        self._ts_param(received_at),
                    ),
                )
        return SaveResult(rid, "created")

    def list_records(self, unit: str | None, after: int, limit: int) -> list[dict[str, Any]]:
        sql = f"SELECT {self.record_seq}, id, unit, received_at, body FROM records WHERE {self.record_seq} > ?"
        params: list[Any] = [after]
        if unit is not None:
            sql += " AND unit = ?"
            params.append(unit)
        sql += f" ORDER BY {self.record_seq} LIMIT ?"
        params.append(limit)
        with self._read() as cur:
            rows = cur.execute(sql, params).fetchall()
        return [
            {"seq": r[0], "id": str(r[1]), "unit": r[2], "received_at": _iso(r[3]), "body": _json(r[4])} for r in rows
        ]

    def count_records(self, unit: str | None = None) -> int:
        with self._read() as cur:
            if unit is None:
                return cur.execute("SELECT count(*) FROM records").fetchone()[0]
            return cur.execute("SELECT count(*) FROM records WHERE unit = ?", (unit,)).fetchone()[0]

    def notifications(self, after: int, limit: int) -> list[dict[str, Any]]:
        with self._read() as cur:
            rows = cur.execute(
                "SELECT seq, record_id, unit, created_at, payload FROM notifications "
                "WHERE seq > ? ORDER BY seq LIMIT ?",
                (after, limit),
            ).fetchall()
        return [
            {"seq": r[0], "record_id": str(r[1]), "unit": r[2], "created_at": _iso(r[3]), **_json(r[4])} for r in rows
        ]

    def forwards(self, status: str | None, body: str | None) -> list[dict[str, Any]]:
        sql = (
            "SELECT record_id, unit, forward_to, due_date, due_at, status, sent_at, created_at "
            "FROM forwards WHERE 1 = 1"
        )
        params: list[Any] = []
        if status is not None:
            sql += " AND status = ?"
            params.append(status)
        if body is not None:
            sql += " AND forward_to = ?"
            params.append(body)
        sql += " ORDER BY due_at, created_at"
        with self._read() as cur:
            rows = cur.execute(sql, params).fetchall()
        return [self._forward_row(r) for r in rows]

    @staticmethod
    def _forward_row(r: Sequence[Any]) -> dict[str, Any]:
        due = r[3].isoformat() if isinstance(r[3], date) else str(r[3])
        return {
            "record_id": str(r[0]),
            "unit": r[1],
            "forward_to": r[2],
            "due": due,
            "due_at": _aware(r[4]),
            "status": r[5],
            "sent_at": _iso(r[6]),
            "created_at": _iso(r[7]),
        }

    def mark_forward_sent(self, record_id: str, sent_at: datetime) -> dict[str, Any] | None:
        select = (
            "SELECT record_id, unit, forward_to, due_date, due_at, status, sent_at, created_at "
            "FROM forwards WHERE record_id = ?"
        )
        with self._write() as cur:
            cur.execute(
                "UPDATE forwards SET status = 'sent', sent_at = ? WHERE record_id = ? AND status = 'queued'",
                (self._ts_param(sent_at), record_id),
            )
            row = cur.execute(select, (record_id,)).fetchone()
        return self._forward_row(row) if row else None

    def get_config(self, unit: str) -> tuple[Any, str] | None:
        with self._read() as cur:
            rows = cur.execute(
                "SELECT scope, body, etag FROM configs WHERE scope IN (?, ?)", (unit, FLEET_SCOPE)
            ).fetchall()
        by_scope = {r[0]: (_json(r[1]), r[2]) for r in rows}
        return by_scope.get(unit) or by_scope.get(FLEET_SCOPE)

    def put_config(self, doc: Any, unit: str | None = None) -> str:
        etag = etag_for(doc)
        with self._write() as cur:
            cur.execute(
                "INSERT INTO configs (scope, body, etag, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (scope) DO UPDATE SET body = excluded.body, etag = excluded.etag, "
                "updated_at = excluded.updated_at",
                (unit or FLEET_SCOPE, self._json_param(doc), etag, self._ts_param(datetime.now(UTC))),
            )
        return etag

    def ping(self) -> None:
        with self._read() as cur:
            cur.execute("SELECT 1").fetchone()

    def close(self) -> None:
        with self._all_lock:
            conns, self._all = self._all, []
        for conn in conns:
            with suppress(Exception):
                conn.close()


class _Cursor:
    """A cursor that rewrites ``?`` placeholders for the backend and returns itself from execute."""

    def __init__(self, cur: Any, rewrite: Any) -> None:
        self._cur = cur
        self._rewrite = rewrite

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _Cursor:
        self._cur.execute(self._rewrite(sql), params)
        return self

    def fetchone(self) -> Any:
        return self._cur.fetchone()

    def fetchall(self) -> list[Any]:
        return self._cur.fetchall()


class SQLiteStore(_SQLStore):
    """SQLite in WAL mode; writers take the write lock up front (BEGIN IMMEDIATE) and wait for it."""

    kind = "sqlite"
    schema = (
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
    )

    def __init__(self, path: str | Path, max_connections: int = 16) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        super().__init__(max_connections)

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: we issue BEGIN ourselves so that writers can ask for IMMEDIATE.
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        # A 201 tells the unit it may forget the record, so the commit must survive a power cut.
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    def _begin(self, conn: sqlite3.Connection, serialize: bool) -> sqlite3.Cursor:
        cur = conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        return cur

    @contextmanager
    def _read(self) -> Iterator[Any]:
        with self._conn() as conn:
            yield _Cursor(conn.cursor(), self._sql)


class PostgresStore(_SQLStore):
    """PostgreSQL through psycopg 3 (imported only when this backend is used)."""

    kind = "postgresql"
    record_seq = "seq"
    schema = (
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
    )
    # Any constant works; it only has to be the same for every writer of notifications.
    _NOTIFY_LOCK = 0x6465736B

    def __init__(self, url: str, max_connections: int = 16) -> None:
        try:
            import psycopg
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise RuntimeError("PostgreSQL needs psycopg: pip install 'psycopg[binary]'") from exc
        self._psycopg = psycopg
        self.url = url
        super().__init__(max_connections)

    def _connect(self) -> Any:
        return self._psycopg.connect(self.url, autocommit=False)

    def _sql(self, text: str) -> str:
        return text.replace("?", "%s")

    def _json_param(self, value: Any) -> Any:
        from psycopg.types.json import Jsonb

        return Jsonb(value)

    def _ts_param(self, value: datetime) -> Any:
        return value

    def _begin(self, conn: Any, serialize: bool) -> Any:
        cur = conn.cursor()
        if serialize:
            # Identity values are handed out before commit, so two transactions could commit seq 8
            # before seq 7 and a reader polling "after=7" would miss 7 for good. One writer of the
            # feed at a time makes commit order follow sequence order.
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (self._NOTIFY_LOCK,))
        return cur

    def _discard_if_broken(self, conn: Any) -> None:
        if conn.closed or conn.broken:
            with self._all_lock:
                if conn in self._all:
                    self._all.remove(conn)
            return
        self._pool.put(conn)
