"""Storage of the central server: one interface, a SQLite backend and a PostgreSQL backend.

Both backends share the SQL; a dialect subclass holds what differs. The schema is versioned (see
`central.migrations`). Every write runs in one transaction, so a record, its management notification
(R10) and its forward entry (R11) are stored together or not at all, and a batch is one transaction.

Writers are serialised (SQLite's write lock, PostgreSQL's transaction-level advisory lock taken by
every write of records) so sequence numbers are handed out in commit order: a reader paging with
``after=<last seq>`` can never pass a record that commits later with a smaller number.
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

from central.migrations import migrate
from central.records import canonical_json, local_due
from firmware.exc import DeskunitError
from firmware.vocabulary import Verdict

FLEET_SCOPE = "*"
# A call counts as a bad line when its worst verdict was degraded or worse (a silent caller on a
# working line is not a bad line: `Verdict.severity`).
BAD_LINE = tuple(str(v) for v in Verdict if v.severity >= Verdict.DEGRADED.severity)


def token_hash(token: str) -> str:
    """Tokens are long random strings, so one round of SHA-256 is enough and nothing is kept in clear."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def etag_for(doc: Any) -> str:
    """A strong ETag: the digest of the document's canonical JSON."""
    return '"' + hashlib.sha256(canonical_json(doc).encode("utf-8")).hexdigest()[:32] + '"'


class UnitExists(DeskunitError, ValueError):
    """`add_unit` without ``replace`` for an id that is already registered."""


@dataclass(frozen=True)
class SaveResult:
    """What happened to one posted record: ``created``, ``duplicate`` (same body) or ``conflict``."""

    id: str
    status: str

    @property
    def http_status(self) -> int:
        return {"created": 201, "duplicate": 200, "conflict": 409}[self.status]


@dataclass(frozen=True)
class AppealFilter:
    """What the management page narrows the appeals to (None: no restriction)."""

    unit: str | None = None
    operator: str | None = None
    date_from: str | None = None  # the call's local date, YYYY-MM-DD, inclusive
    date_to: str | None = None
    status: str | None = None  # queued | sent | none (not forwarded)


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


def _operator_text(value: Any) -> str | None:
    return None if value is None else str(value)


_FORWARD_COLUMNS = "record_id, unit, forward_to, due_date, due_at, status, sent_at, created_at"


class Store(ABC):
    """The storage the HTTP layer uses; every method is safe to call from many threads at once.

    Larger than 25 methods on purpose: one method per query the API makes, all written once over
    the few per-dialect hooks (``_write`` and kin) that the SQLite and PostgreSQL subclasses fill in;
    split apart, each part would need the same hooks.

    The SQL is shared by both backends and written with ``?`` placeholders.
    """

    kind: str
    record_seq = "rowid"

    # --- per dialect ------------------------------------------------------------------------------
    @abstractmethod
    @contextmanager
    def _write(self) -> Iterator[_Cursor]:
        """A cursor in a write transaction, committed when the block ends without an error."""

    @abstractmethod
    @contextmanager
    def _read(self) -> Iterator[_Cursor]:
        """A cursor for reading."""

    @abstractmethod
    def _lock_records(self, cur: _Cursor) -> None:
        """Serialise writers of records until the transaction ends."""

    def _json_param(self, value: Any) -> Any:
        return canonical_json(value)

    def _ts_param(self, value: datetime) -> Any:
        return value.astimezone(UTC).isoformat()

    @abstractmethod
    def close(self) -> None:
        """Release all connections."""

    # --- units -----------------------------------------------------------------------------------
    def add_unit(self, unit_id: str, token: str, name: str | None = None, *, replace: bool = True) -> None:
        """Register a unit with its bearer token (stored hashed). An existing id gets the new token
        when ``replace`` is true, else `UnitExists` is raised and nothing changes."""
        with self._write() as cur:
            found = cur.execute("SELECT 1 FROM units WHERE id = ?", (unit_id,)).fetchone()
            if found and not replace:
                raise UnitExists(unit_id)
            cur.execute(
                "INSERT INTO units (id, token_hash, name) VALUES (?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET token_hash = excluded.token_hash, "
                "name = COALESCE(excluded.name, units.name)",
                (unit_id, token_hash(token), name),
            )

    def unit_for_token(self, token: str) -> str | None:
        """The unit a bearer token belongs to, or None."""
        with self._read() as cur:
            row = cur.execute("SELECT id FROM units WHERE token_hash = ?", (token_hash(token),)).fetchone()
        return row[0] if row else None

    def units(self) -> list[dict[str, Any]]:
        """Every registered unit with when it last stored records (None: never)."""
        with self._read() as cur:
            rows = cur.execute("SELECT id, name, last_seen_at FROM units ORDER BY id").fetchall()
        return [{"id": r[0], "name": r[1], "last_seen_at": _aware(r[2]) if r[2] else None} for r in rows]

    # --- records ---------------------------------------------------------------------------------
    def save_records(self, records: Sequence[dict[str, Any]], received_at: datetime) -> list[SaveResult]:
        """Store validated records of one unit in one transaction, idempotently by id."""
        return self.save_groups([(records, received_at)])[0]

    def save_groups(
        self, groups: Sequence[tuple[Sequence[dict[str, Any]], datetime]]
    ) -> list[list[SaveResult]]:
        """Several requests' records (each of one unit) in one transaction: a group commit.

        One query looks up every id, one statement per table inserts what is new: a few round
        trips per group, whatever its size."""
        ids = list({r["id"] for records, _at in groups for r in records})
        if not ids:
            return [[] for _ in groups]
        with self._write() as cur:
            self._lock_records(cur)
            stored: dict[str, str] = {}
            for i in range(0, len(ids), 900):  # SQLite's limit of parameters per statement
                chunk = ids[i : i + 900]
                marks = ", ".join("?" * len(chunk))
                for row in cur.execute(f"SELECT id, body FROM records WHERE id IN ({marks})", chunk).fetchall():
                    stored[str(row[0])] = canonical_json(_json(row[1]))
            all_results, fresh, seen = [], [], {}
            created: dict[str, dict[str, Any]] = {}  # in this transaction: compared only if sent again
            for records, received_at in groups:
                results = []
                for record in records:
                    rid = record["id"]
                    if rid in stored or rid in created:
                        earlier = stored[rid] if rid in stored else canonical_json(created[rid])
                        same = earlier == canonical_json(record)
                        results.append(SaveResult(rid, "duplicate" if same else "conflict"))
                        continue
                    created[rid] = record
                    fresh.append((record, received_at))
                    results.append(SaveResult(rid, "created"))
                    seen[record["unit"]] = received_at
                all_results.append(results)
            self._insert(cur, fresh)
            cur.executemany(
                "UPDATE units SET last_seen_at = ? WHERE id = ?", [(self._ts_param(at), u) for u, at in seen.items()]
            )
        return all_results

    def _insert(self, cur: _Cursor, rows: list[tuple[dict[str, Any], datetime]]) -> None:
        cur.executemany(
            "INSERT INTO records (id, unit, received_at, body, operator, ended_at, line_worst) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (r["id"], r["unit"], self._ts_param(at), self._json_param(r), _operator_text(r.get("operator")),
                 r["ended_at"], r.get("line_worst"))
                for r, at in rows
            ],
        )  # fmt: skip
        appeals = [(r, at) for r, at in rows if r.get("appeal")]
        cur.executemany(
            "INSERT INTO notifications (record_id, unit, created_at, payload, operator, ended_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                (r["id"], r["unit"], self._ts_param(at), self._json_param(self._payload(r)),
                 _operator_text(r.get("operator")), r["ended_at"])
                for r, at in appeals
            ],
        )  # fmt: skip
        forwards = []
        for r, at in appeals:
            if r["appeal"].get("forward_to"):
                due, due_at = local_due(r)
                forwards.append(
                    (r["id"], r["unit"], r["appeal"]["forward_to"], due.isoformat(), self._ts_param(due_at),
                     self._ts_param(at))
                )  # fmt: skip
        cur.executemany(
            f"INSERT INTO forwards ({_FORWARD_COLUMNS}) VALUES (?, ?, ?, ?, ?, 'queued', NULL, ?)", forwards
        )

    @staticmethod
    def _payload(record: dict[str, Any]) -> dict[str, Any]:
        return {
            "operator": record.get("operator"),
            "outcome": record.get("outcome"),
            "ended_at": record.get("ended_at"),
            "appeal": record["appeal"],
        }

    def list_records(self, unit: str | None, after: int, limit: int) -> list[dict[str, Any]]:
        """Stored records in arrival order, each with ``seq``, ``unit``, ``received_at`` and ``body``."""
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
        """How many records are stored (for one unit, or all)."""
        with self._read() as cur:
            if unit is None:
                return cur.execute("SELECT count(*) FROM records").fetchone()[0]
            return cur.execute("SELECT count(*) FROM records WHERE unit = ?", (unit,)).fetchone()[0]

    # --- R10 notifications -----------------------------------------------------------------------
    def notifications(self, after: int, limit: int) -> list[dict[str, Any]]:
        """The management feed (R10) after sequence number ``after``."""
        with self._read() as cur:
            rows = cur.execute(
                "SELECT seq, record_id, unit, created_at, payload FROM notifications "
                "WHERE seq > ? ORDER BY seq LIMIT ?",
                (after, limit),
            ).fetchall()
        return [
            {"seq": r[0], "record_id": str(r[1]), "unit": r[2], "created_at": _iso(r[3]), **_json(r[4])} for r in rows
        ]

    # --- R11 forwards ----------------------------------------------------------------------------
    def forwards(
        self, status: str | None, body: str | None, limit: int = 1000, cursor: tuple[str, str] | None = None
    ) -> list[dict[str, Any]]:
        """Forward entries (R11), earliest deadline first, ``limit`` of them after the keyset ``cursor``
        (the ``due_at`` text and record id of the last one seen); ``due_at`` is an aware datetime."""
        sql = f"SELECT {_FORWARD_COLUMNS} FROM forwards WHERE 1 = 1"
        params: list[Any] = []
        if status is not None:
            sql += " AND status = ?"
            params.append(status)
        if body is not None:
            sql += " AND forward_to = ?"
            params.append(body)
        if cursor is not None:
            sql += " AND (due_at > ? OR (due_at = ? AND record_id > ?))"
            due_at = self._ts_param(datetime.fromisoformat(cursor[0]))
            params += [due_at, due_at, cursor[1]]
        sql += " ORDER BY due_at, record_id LIMIT ?"
        params.append(limit)
        with self._read() as cur:
            rows = cur.execute(sql, params).fetchall()
        return [self._forward_row(r) for r in rows]

    def forward_counts(self, now: datetime) -> dict[str, int]:
        """Queued forwards still due and already overdue (for /metrics)."""
        with self._read() as cur:
            row = cur.execute(
                "SELECT sum(CASE WHEN due_at > ? THEN 1 ELSE 0 END), sum(CASE WHEN due_at <= ? THEN 1 ELSE 0 END) "
                "FROM forwards WHERE status = 'queued'",
                (self._ts_param(now), self._ts_param(now)),
            ).fetchone()
        return {"due": int(row[0] or 0), "overdue": int(row[1] or 0)}

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
        """Mark a forward sent (keeping the first sent_at if it already was); None if there is none."""
        with self._write() as cur:
            cur.execute(
                "UPDATE forwards SET status = 'sent', sent_at = ? WHERE record_id = ? AND status = 'queued'",
                (self._ts_param(sent_at), record_id),
            )
            row = cur.execute(f"SELECT {_FORWARD_COLUMNS} FROM forwards WHERE record_id = ?", (record_id,)).fetchone()
        return self._forward_row(row) if row else None

    # --- the management page ---------------------------------------------------------------------
    def appeals(
        self, where: AppealFilter, limit: int, offset: int = 0, before: int | None = None
    ) -> list[dict[str, Any]]:
        """Appeals (newest first) with their forward's due time and status, filtered; ``before``: only
        those older than that notification ``seq`` (pages that stay put while appeals arrive)."""
        sql = (
            "SELECT n.seq, n.record_id, n.unit, n.operator, n.ended_at, n.payload, f.forward_to, f.due_at, "
            "f.status, f.sent_at FROM notifications n LEFT JOIN forwards f ON f.record_id = n.record_id WHERE 1 = 1"
        )
        params: list[Any] = []
        if where.unit:
            sql += " AND n.unit = ?"
            params.append(where.unit)
        if where.operator:
            sql += " AND n.operator = ?"
            params.append(where.operator)
        if where.date_from:
            sql += " AND n.ended_at >= ?"
            params.append(where.date_from)
        if where.date_to:
            sql += " AND n.ended_at < ?"
            params.append(where.date_to + "~")  # '~' sorts after any time text of that date
        if before is not None:
            sql += " AND n.seq < ?"
            params.append(before)
        if where.status == "none":
            sql += " AND f.record_id IS NULL"
        elif where.status:
            sql += " AND f.status = ?"
            params.append(where.status)
        sql += " ORDER BY n.seq DESC LIMIT ? OFFSET ?"
        params += [limit, offset]
        with self._read() as cur:
            rows = cur.execute(sql, params).fetchall()
        return [
            {
                "seq": r[0],
                "record_id": str(r[1]),
                "unit": r[2],
                "operator": r[3],
                "ended_at": r[4],
                "appeal": _json(r[5])["appeal"],
                "forward_to": r[6],
                "due_at": _aware(r[7]) if r[7] else None,
                "status": r[8] or "none",
                "sent_at": _iso(r[9]),
            }
            for r in rows
        ]

    def line_quality(self, date_from: str | None = None, date_to: str | None = None) -> dict[str, Any]:
        """Calls and bad-line calls (worst verdict degraded or worse) per unit and per local hour."""
        marks = ", ".join("?" * len(BAD_LINE))
        cond, params = "1 = 1", []
        if date_from:
            cond += " AND ended_at >= ?"
            params.append(date_from)
        if date_to:
            cond += " AND ended_at < ?"
            params.append(date_to + "~")
        bad = f"sum(CASE WHEN line_worst IN ({marks}) THEN 1 ELSE 0 END)"
        with self._read() as cur:
            per_unit = cur.execute(
                f"SELECT unit, count(*), {bad} FROM records WHERE {cond} GROUP BY unit ORDER BY unit",
                [*BAD_LINE, *params],
            ).fetchall()
            per_hour = cur.execute(
                f"SELECT substr(ended_at, 12, 2), count(*), {bad} FROM records WHERE {cond} "
                "GROUP BY substr(ended_at, 12, 2) ORDER BY 1",
                [*BAD_LINE, *params],
            ).fetchall()
        return {
            "units": [{"unit": r[0], "calls": int(r[1]), "bad": int(r[2] or 0)} for r in per_unit],
            "hours": [{"hour": int(r[0]), "calls": int(r[1]), "bad": int(r[2] or 0)} for r in per_hour if r[0]],
        }

    # --- config ----------------------------------------------------------------------------------
    def get_config(self, unit: str) -> tuple[Any, str] | None:
        """The unit's own config document if it has one, else the fleet's; with its ETag."""
        with self._read() as cur:
            rows = cur.execute(
                "SELECT scope, body, etag FROM configs WHERE scope IN (?, ?)", (unit, FLEET_SCOPE)
            ).fetchall()
        by_scope = {r[0]: (_json(r[1]), r[2]) for r in rows}
        return by_scope.get(unit) or by_scope.get(FLEET_SCOPE)

    def put_config(self, doc: Any, unit: str | None = None) -> str:
        """Replace the fleet document (or one unit's); returns the new ETag."""
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
        """Raise if the database cannot be reached."""
        with self._read() as cur:
            cur.execute("SELECT 1").fetchone()

    def schema_version(self) -> int:
        with self._read() as cur:
            row = cur.execute("SELECT max(version) FROM schema_version").fetchone()
        return int(row[0] or 0)


class _Cursor:
    """A cursor that rewrites ``?`` placeholders for the backend and returns itself from execute."""

    def __init__(self, cur: Any, placeholder: str) -> None:
        self._cur = cur
        self._placeholder = placeholder

    def _sql(self, sql: str) -> str:
        return sql if self._placeholder == "?" else sql.replace("?", self._placeholder)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _Cursor:
        self._cur.execute(self._sql(sql), params)
        return self

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._cur.executemany(self._sql(sql), rows)

    def fetchone(self) -> Any:
        return self._cur.fetchone()

    def fetchall(self) -> list[Any]:
        return self._cur.fetchall()


class SQLiteStore(Store):
    """SQLite in WAL mode; writers take the write lock up front (BEGIN IMMEDIATE) and wait for it."""

    kind = "sqlite"

    def __init__(self, path: str | Path, max_connections: int = 16) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._pool: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(max_connections)
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        with self._conn() as conn:
            migrate(conn, "sqlite")

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: we issue BEGIN ourselves so that writers can ask for IMMEDIATE.
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        # A 201 tells the unit it may forget the record, so the commit must survive a power cut.
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    @contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        # The semaphore bounds connections; each connection is used by one thread at a time.
        with self._slots:
            try:
                conn = self._pool.get_nowait()
            except queue.Empty:
                conn = self._connect()
                with self._all_lock:
                    self._all.append(conn)
            try:
                yield conn
            finally:
                self._pool.put(conn)

    @contextmanager
    def _write(self) -> Iterator[_Cursor]:
        with self._conn() as conn:
            cur = conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield _Cursor(cur, "?")
            except BaseException:
                # The original error is the one to report, not a failed rollback after it.
                with suppress(Exception):
                    conn.rollback()
                raise
            conn.commit()

    @contextmanager
    def _read(self) -> Iterator[_Cursor]:
        with self._conn() as conn:
            yield _Cursor(conn.cursor(), "?")

    def _lock_records(self, cur: _Cursor) -> None:
        """BEGIN IMMEDIATE already holds the database's only write lock."""

    def close(self) -> None:
        with self._all_lock:
            conns, self._all = self._all, []
        for conn in conns:
            with suppress(Exception):
                conn.close()


class PostgresStore(Store):
    """PostgreSQL through a psycopg_pool connection pool (imported only when this backend is used)."""

    kind = "postgresql"
    record_seq = "seq"
    # Any constant works; it only has to be the same for every writer of records.
    _RECORDS_LOCK = 0x6465736B

    def __init__(self, url: str, max_connections: int = 16) -> None:
        try:
            import psycopg
            from psycopg_pool import ConnectionPool
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise RuntimeError("PostgreSQL needs the central extra: pip install 'deskunit[central]'") from exc
        from psycopg.types.json import Jsonb

        self._jsonb = Jsonb
        self.url = url
        with psycopg.connect(url) as conn:
            migrate(conn, "postgresql")
        self._pool = ConnectionPool(
            url, min_size=1, max_size=max_connections, open=True, name="deskunit-central", timeout=30
        )

    def _json_param(self, value: Any) -> Any:
        return self._jsonb(value)

    def _ts_param(self, value: datetime) -> Any:
        return value

    @contextmanager
    def _write(self) -> Iterator[_Cursor]:
        # The pool's context commits when the block ends cleanly and rolls back on an error.
        with self._pool.connection() as conn, conn.cursor() as cur:
            yield _Cursor(cur, "%s")

    @contextmanager
    def _read(self) -> Iterator[_Cursor]:
        with self._write() as cur:
            yield cur

    def _lock_records(self, cur: _Cursor) -> None:
        # Identity values are handed out before commit, so without this two transactions could commit
        # seq 8 before seq 7 and a reader polling "after=7" would miss 7 for good. Every writer of
        # records takes it, with or without an appeal, until its transaction ends.
        cur.execute("SELECT pg_advisory_xact_lock(?)", (self._RECORDS_LOCK,))

    def close(self) -> None:
        self._pool.close()
