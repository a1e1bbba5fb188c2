"""Sync: the journal's outbox drained to the central server, config and time pulled from it.

Nothing the operator was told is saved may be lost, and nothing may arrive twice. The journal is the
outbox: a record is marked synced only after the server confirmed it (``created`` or ``duplicate``),
so a crash between the server storing and the unit marking just means one re-send that the server
answers ``duplicate`` (records are idempotent by id).

Two parts:

- :class:`SyncClient` speaks the central server's API (``central/openapi.yaml``) over HTTPS with
  certificate verification, and turns every way a request can go wrong into a :class:`SyncError`
  whose ``kind`` says what to do about it.
- :class:`SyncWorker` runs the client on ONE background thread (HTTP never blocks the event loop),
  while all of its scheduling (retries with capped exponential backoff and jitter, the periodic pull
  of config and time) lives on the unit's clock through the loop, so the simulator's virtual clock
  drives it. Results come back to the loop as :class:`firmware.events.Call` events; the loop owns the
  SYNC LED state (green all synced, amber pending, red failing or a same-day deadline at risk, R11).

    >>> client = SyncClient("https://central.example.org/api/v1", token="...", ca_file="/etc/ca.pem")
    >>> worker = SyncWorker(journal, client, loop, clock, on_led=lambda c: leds.set("sync", c))
    >>> worker.start()
    >>> unit.on_record = lambda record: worker.kick()    # push at once after each saved record
    >>> worker.state()["led"]
    'green'

Personal data (an appeal's name, residence, phone, e-mail, essence) never reaches the log: only
record ids, statuses and field names do.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import logging
import random
import re
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from firmware.clock import Clock
from firmware.config import ConfigError, validate_operators
from firmware.deadline import forward_deadline
from firmware.events import Call
from firmware.journal import Journal
from firmware.phrases import LANGUAGES, phrase_behaviour_problems
from firmware.version import user_agent

log = logging.getLogger(__name__)

DEFAULT_API_PATH = "/api/v1"
PUSHED_CONFIG_DRAFT = "pushed_config"
PARKED_DRAFT = "sync_parked"
MAX_BATCH = 1000  # the server's limit per /records/batch
_RECORD_INDEX = re.compile(r"records\[(\d+)\]\.?(.*)")


# ---------------------------------------------------------------- errors


class SyncError(Exception):
    """A request that did not succeed; ``kind`` decides what the worker does.

    - ``retry``: network down, timeout, 5xx, malformed or truncated answer: try again later.
    - ``auth``: 401/403 (or a certificate the unit cannot verify): failing, retry slowly.
    - ``invalid``: the server refused a record (400; ``index`` names it in the batch): park it.
    - ``client``: another 4xx, a bug or a misconfigured URL: failing, normal backoff.
    """

    def __init__(self, kind: str, message: str, status: int | None = None, *,
                 index: int | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.kind, self.status, self.index, self.field = kind, status, index, field


class InsecureURL(ValueError):
    """A plain ``http://`` server URL for a host that is not loopback."""


# ---------------------------------------------------------------- the client


@dataclass(frozen=True)
class BatchOutcome:
    """What the server said about one batch: ids it now holds, and ids it holds differently (409)."""

    delivered: list[str]
    conflicts: list[str]


@dataclass(frozen=True)
class TimeReading:
    """The server's clock, estimated for the moment the answer arrived (half the round trip added)."""

    epoch: float
    rtt_s: float

    def as_datetime(self, tz: Any) -> datetime:
        return datetime.fromtimestamp(self.epoch, tz)


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class SyncClient:
    """The central server's API for one unit: records, config and time, over HTTPS.

    ``url`` is the API base (``https://host/api/v1``; a bare ``https://host`` gets ``/api/v1``).
    Plain ``http://`` is refused unless the host is loopback (the simulator, tests). Certificates
    are verified against ``ca_file`` when given, else the system's CAs. One persistent connection is
    kept and reopened after any error. Not thread-safe: one worker thread owns it.

        >>> client = SyncClient("https://central.example.org/api/v1", "token", timeout_s=10)
        >>> client.post_batch([record]).delivered
        ['0b9f...']
    """

    def __init__(self, url: str, token: str, *, ca_file: str | None = None, timeout_s: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"server.url: must be an http(s) URL (got {url!r})")
        if parts.scheme == "http" and not is_loopback(parts.hostname):
            raise InsecureURL(
                f"server.url: plain http:// is only allowed to a loopback host; use https:// for {parts.hostname}"
            )
        self.url = url
        self.host = parts.hostname
        self.port = parts.port
        self.https = parts.scheme == "https"
        self.base_path = parts.path.rstrip("/") or DEFAULT_API_PATH
        self.token = token
        self.timeout_s = float(timeout_s)
        self._context: ssl.SSLContext | None = None
        if self.https:
            self._context = ssl.create_default_context(cafile=ca_file or None)
            self._context.minimum_version = ssl.TLSVersion.TLSv1_2
        self._conn: http.client.HTTPConnection | None = None

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> SyncClient:
        """From the ``[server]`` table: url, token, ca_file, timeout_s."""
        server = cfg["server"]
        return cls(server["url"], server["token"], ca_file=server.get("ca_file") or None,
                   timeout_s=server.get("timeout_s", 10.0))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- transport
    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            if self.https:
                self._conn = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout_s,
                                                         context=self._context)
            else:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout_s)
        return self._conn

    def _request(self, method: str, path: str, body: Any = None,
                 headers: Mapping[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        """One request; retries once on a fresh connection when a kept-alive one turns out closed.

        Every request the worker makes is safe to repeat (reads, and idempotent record posts).
        """
        send = {"Authorization": f"Bearer {self.token}", "Accept": "application/json", "User-Agent": user_agent(),
                **(headers or {})}
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            send["Content-Type"] = "application/json"
        for attempt in (1, 2):
            reused = self._conn is not None
            conn = self._connection()
            try:
                conn.request(method, self.base_path + path, body=data, headers=send)
                resp = conn.getresponse()
                raw = resp.read()
                if resp.will_close:
                    self.close()
                return resp.status, {k.lower(): v for k, v in resp.getheaders()}, raw
            except ssl.SSLCertVerificationError as e:
                self.close()
                raise SyncError("auth", f"server certificate not trusted: {e.verify_message}") from None
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
                self.close()
                if reused and attempt == 1:
                    continue  # the server closed an idle keep-alive connection
                raise SyncError("retry", f"connection lost: {type(e).__name__}") from None
            except TimeoutError:
                self.close()
                raise SyncError("retry", f"timed out after {self.timeout_s:g} s") from None
            except http.client.IncompleteRead:
                self.close()
                raise SyncError("retry", "truncated response") from None
            except (OSError, http.client.HTTPException) as e:
                self.close()
                raise SyncError("retry", f"network: {type(e).__name__}: {e}") from None
        raise AssertionError("unreachable")

    @staticmethod
    def _json(raw: bytes) -> Any:
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise SyncError("retry", "malformed JSON in response") from None

    @staticmethod
    def _fail(status: int, raw: bytes) -> SyncError:
        """The error for a non-success status. The server's message may quote values: never logged."""
        field_name = None
        try:
            doc = json.loads(raw)
            if isinstance(doc, dict) and isinstance(doc.get("field"), str):
                field_name = doc["field"]
        except (ValueError, UnicodeDecodeError):
            pass
        if status >= 500 or status in (408, 425, 429):
            return SyncError("retry", f"server answered {status}", status)
        index = None
        if field_name:
            m = _RECORD_INDEX.match(field_name)
            if m:
                index, field_name = int(m.group(1)), m.group(2) or None
        if status == 400:
            return SyncError("invalid", f"server refused a record (400, field {field_name or '?'})", status,
                             index=index, field=field_name)
        if status == 403 and index is not None:
            # a record naming another unit: a problem of that record, not of our token
            return SyncError("invalid", f"server refused a record (403, field {field_name})", status,
                             index=index, field=field_name)
        if status in (401, 403):
            return SyncError("auth", f"server refused the unit's token ({status})", status)
        return SyncError("client", f"server answered {status}", status)

    # -- API
    def post_batch(self, records: list[dict[str, Any]]) -> BatchOutcome:
        """POST /records/batch. Created and duplicate both count as delivered; conflicts are listed."""
        if not 1 <= len(records) <= MAX_BATCH:
            raise ValueError(f"a batch holds 1 to {MAX_BATCH} records")
        status, _, raw = self._request("POST", "/records/batch", {"records": records})
        if status != 200:
            raise self._fail(status, raw)
        doc = self._json(raw)
        results = doc.get("results") if isinstance(doc, dict) else None
        sent = [r["id"] for r in records]
        if not isinstance(results, list) or len(results) != len(sent):
            raise SyncError("retry", "malformed batch result")
        delivered, conflicts = [], []
        for rid, item in zip(sent, results, strict=True):
            if not isinstance(item, dict) or str(item.get("id")) != rid:
                raise SyncError("retry", "malformed batch result (ids out of order)")
            if item.get("status") in ("created", "duplicate"):
                delivered.append(rid)
            elif item.get("status") == "conflict":
                conflicts.append(rid)
            else:
                raise SyncError("retry", "malformed batch result (unknown status)")
        return BatchOutcome(delivered, conflicts)

    def get_config(self, etag: str | None = None) -> tuple[dict[str, Any] | None, str | None]:
        """GET /config. ``(doc, etag)``; ``(None, etag)`` when unchanged (304) or none exists (404)."""
        headers = {"If-None-Match": etag} if etag else {}
        status, hdrs, raw = self._request("GET", "/config", headers=headers)
        if status == 304:
            return None, hdrs.get("etag", etag)
        if status == 404:
            return None, None
        if status != 200:
            raise self._fail(status, raw)
        doc = self._json(raw)
        if not isinstance(doc, dict):
            raise SyncError("retry", "malformed config document (not an object)")
        return doc, hdrs.get("etag")

    def get_time(self) -> TimeReading:
        """GET /time, with half the round trip added to the server's answer."""
        started = time.monotonic()
        status, _, raw = self._request("GET", "/time")
        rtt = time.monotonic() - started
        if status != 200:
            raise self._fail(status, raw)
        doc = self._json(raw)
        epoch = doc.get("epoch") if isinstance(doc, dict) else None
        if isinstance(epoch, bool) or not isinstance(epoch, int | float):
            raise SyncError("retry", "malformed time answer")
        return TimeReading(float(epoch) + rtt / 2, rtt)


# ---------------------------------------------------------------- pushed config


def validate_pushed_config(doc: Any) -> dict[str, Any]:
    """Check a config document the server pushed; raise :class:`ConfigError` naming the key.

    It may carry ``phrases`` (per language, overriding the shipped banks key by key), ``operators``
    (the roster, as in the config file) and ``directories`` (``court_bodies`` and ``offices``).

        >>> validate_pushed_config({"operators": [{"number": 7, "name": "Олена Петренко"}]})["operators"][0]["number"]
        7
        >>> validate_pushed_config({"operators": [{"number": 0, "name": "X"}]})
        Traceback (most recent call last):
        firmware.config.ConfigError: operators[0].number: must be a number 1-9999 (got 0)
    """
    if not isinstance(doc, Mapping):
        raise ConfigError("pushed config", "must be a JSON object")
    for key in doc:
        if key not in ("phrases", "operators", "directories"):
            raise ConfigError(str(key), "unknown key in pushed config")
    if "operators" in doc:
        validate_operators(doc["operators"])
    if "phrases" in doc:
        _validate_phrases(doc["phrases"])
    if "directories" in doc:
        validate_directories(doc["directories"])
    return dict(doc)


def _validate_phrases(phrases: Any) -> None:
    if not isinstance(phrases, Mapping):
        raise ConfigError("phrases", "must be a table of languages")
    for lang, bank in phrases.items():
        where = f"phrases.{lang}"
        if lang not in LANGUAGES:
            raise ConfigError(where, f"unknown language (one of {', '.join(LANGUAGES)})")
        if not isinstance(bank, Mapping):
            raise ConfigError(where, "must be a table")
        _check_phrase_table(bank, where)


def _check_phrase_table(table: Mapping[str, Any], where: str) -> None:
    for key, value in table.items():
        here = f"{where}.{key}"
        if key == "phrase":
            if not isinstance(value, list):
                raise ConfigError(here, "must be a list of [[phrase]] tables")
            for i, p in enumerate(value):
                if not isinstance(p, Mapping):
                    raise ConfigError(f"{here}[{i}]", "must be a table")
                for k in ("id", "title", "text"):
                    if not isinstance(p.get(k), str) or not p[k].strip():
                        raise ConfigError(f"{here}[{i}].{k}", "must be non-empty text")
                for k, problem in phrase_behaviour_problems(p).items():
                    raise ConfigError(f"{here}[{i}].{k}", problem)
        elif isinstance(value, Mapping):
            _check_phrase_table(value, here)
        elif not isinstance(value, str) or not value.strip():
            raise ConfigError(here, "must be non-empty text")
        elif len(value) > 1000:
            raise ConfigError(here, "longer than 1000 characters")


def validate_directories(dirs: Any) -> None:
    if not isinstance(dirs, Mapping):
        raise ConfigError("directories", "must be a table")
    for key, entries in dirs.items():
        where = f"directories.{key}"
        if key not in ("court_bodies", "offices"):
            raise ConfigError(where, "unknown directory (court_bodies, offices)")
        if not isinstance(entries, list):
            raise ConfigError(where, "must be a list of tables")
        seen: set[str] = set()
        for i, entry in enumerate(entries):
            here = f"{where}[{i}]"
            if not isinstance(entry, Mapping):
                raise ConfigError(here, "must be a table")
            if not isinstance(entry.get("name"), str) or not entry["name"].strip():
                raise ConfigError(f"{here}.name", "must be non-empty text")
            entry_id = entry.get("id", entry["name"])
            if not isinstance(entry_id, str) or not entry_id:
                raise ConfigError(f"{here}.id", "must be non-empty text")
            if entry_id in seen:
                raise ConfigError(f"{here}.id", f"{entry_id!r} is listed twice")
            seen.add(entry_id)
            if key == "offices":
                if not isinstance(entry.get("address", ""), str):
                    raise ConfigError(f"{here}.address", "must be text")
                for flag in ("ramp", "wide_door", "lift"):
                    if not isinstance(entry.get(flag, False), bool):
                        raise ConfigError(f"{here}.{flag}", "must be true or false")


# ---------------------------------------------------------------- backoff and deadlines


@dataclass
class Backoff:
    """Capped exponential backoff with jitter: the n-th retry waits a uniform draw from
    ``[base, min(cap, base * 2**(n-1))]``. The floor keeps a burst of failures from turning the LED
    red within a second; the spread keeps a fleet from retrying in step after an outage.

        >>> b = Backoff(base_s=2.0, cap_s=300.0, rng=random.Random(1))
        >>> [round(b.delay(n)) for n in (1, 2, 12)]
        [2, 4, 230]
    """

    base_s: float = 2.0
    cap_s: float = 300.0
    rng: random.Random = field(default_factory=random.Random)

    def ceiling(self, failures: int) -> float:
        return min(self.cap_s, self.base_s * 2 ** min(max(failures, 1) - 1, 32))

    def delay(self, failures: int) -> float:
        return self.rng.uniform(self.base_s, self.ceiling(failures))


# ---------------------------------------------------------------- the worker


@dataclass(frozen=True)
class PushResult:
    """A push job's outcome, handed to the loop: how far it got and, when it stopped, why."""

    started: float  # the unit's monotonic clock when the job was queued
    delivered: int
    error: SyncError | None
    contacted: bool  # the server answered at least once (a push with nothing to send does not count)
    forwards: tuple[tuple[str, datetime], ...]  # (record id, deadline) of pending forwarded appeals
    parked: int


@dataclass(frozen=True)
class PullResult:
    """A pull job's outcome: a new good config (or None), a time reading, and the first error."""

    started: float
    config: dict[str, Any] | None
    config_refused: str | None
    time: TimeReading | None
    received_mono: float  # the unit's monotonic clock when the time answer arrived
    error: SyncError | None


class SyncWorker:
    """The outbox, drained on one background thread, scheduled on the unit's clock via the loop.

    Thread model: :meth:`kick`, :meth:`state`, :meth:`wait_idle` and :meth:`stop` are safe from any
    thread; timers, the LED and ``on_config`` run on the loop's thread; HTTP and journal writes of
    the sync happen on the worker's thread.

        >>> worker = SyncWorker(journal, SyncClient.from_config(cfg), loop, clock,
        ...                     on_led=lambda colour: leds.set("sync", colour), on_config=apply_config)
        >>> worker.start()
        >>> worker.kick()                     # after each saved record
        >>> worker.wait_idle(5.0)             # the simulator, before it moves virtual time
        True

    LED: red when the token or certificate is refused, a record is parked (the server refuses it),
    a same-day forward (R11) is still unsent ``deadline_margin_s`` before its deadline, or pending
    records met ``red_after_failures`` consecutive failed pushes; amber while records are pending;
    green when all are synced.
    """

    def __init__(
        self,
        journal: Journal,
        client: SyncClient,
        loop: Any,
        clock: Clock,
        *,
        on_led: Callable[[str], None] | None = None,
        on_config: Callable[[dict[str, Any]], None] | None = None,
        backoff: Backoff | None = None,
        rng: random.Random | None = None,
        batch_size: int = 200,
        pull_period_s: float = 600.0,
        auth_retry_s: float = 300.0,
        deadline_margin_s: float = 1800.0,
        red_after_failures: int = 3,
        check_period_s: float = 30.0,
        set_time: bool = True,
        lockstep: bool = False,
        lockstep_timeout_s: float = 60.0,
    ) -> None:
        self.journal = journal
        self.client = client
        self.loop = loop
        self.clock = clock
        self.on_led = on_led
        self.on_config = on_config
        self.backoff = backoff or Backoff(rng=rng or random.Random())
        self.batch_size = max(1, min(batch_size, MAX_BATCH))
        self.pull_period_s = pull_period_s
        self.auth_retry_s = auth_retry_s
        self.deadline_margin_s = deadline_margin_s
        self.red_after_failures = red_after_failures
        self.check_period_s = check_period_s
        self.set_time = set_time
        # The simulator's mode: whoever queues a job waits for it, so virtual time never moves while
        # a request is in flight and every run of a scenario is the same. Never on a real unit.
        self.lockstep = lockstep
        self.lockstep_timeout_s = lockstep_timeout_s
        # shared between threads, under _cond
        self._cond = threading.Condition()
        self._jobs: dict[str, float] = {}  # job kind -> unit monotonic time it was queued
        self._busy = False
        self._stopping = False
        self._unpark = False
        self._thread: threading.Thread | None = None
        # the worker thread's own
        parked = journal.get_draft(PARKED_DRAFT) or {}
        self._parked: dict[str, str] = dict(parked.get("ids", {}))
        stored = journal.get_draft(PUSHED_CONFIG_DRAFT) or {}
        self._etag: str | None = stored.get("etag")
        # the loop thread's own
        self._push_failures = 0
        self._pull_failures = 0
        self._auth_error = False
        self._forwards: tuple[tuple[str, datetime], ...] = ()
        self._parked_count = len(self._parked)
        self._push_timer: Any = None
        self._pull_timer: Any = None
        self._check_timer: Any = None
        self._led: str | None = None
        self._last_ok: str | None = None
        self._last_error: str | None = None
        self._snapshot: dict[str, Any] = {"led": "green", "pending": 0, "last_ok": None, "last_error": None,
                                          "deadline_at_risk": False, "parked": self._parked_count}
        self._snap_lock = threading.Lock()

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any], journal: Journal, loop: Any, clock: Clock,
                    **kwargs: Any) -> SyncWorker:
        return cls(journal, SyncClient.from_config(cfg), loop, clock, **kwargs)

    # ------------------------------------------------------------ any thread
    def start(self) -> None:
        """Start the thread; the first push, pull and LED update are queued through the loop."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="deskunit-sync", daemon=True)
        self._thread.start()
        self.loop.post(Call(self._loop_start))

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for timer in (self._push_timer, self._pull_timer, self._check_timer):
            if timer is not None:
                timer.cancel()  # only sets a flag: safe from any thread
        if self._thread is not None:
            self._thread.join(timeout)
        self.client.close()

    def kick(self) -> None:
        """A record was saved: push now, unless a retry is already scheduled (the server is failing:
        the retry takes the new record along, and kicks do not speed up the backoff)."""
        self.loop.post(Call(self._kicked))

    def pull_now(self) -> None:
        """Fetch config and time now (a technician's console command, tests)."""
        self._enqueue("pull")

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until no request is in flight and no job is queued; False on timeout.

        A job's result is posted to the loop before the job counts as finished, so after this
        returns the loop's next turn sees it.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._jobs or self._busy:
                left = deadline - time.monotonic()
                if left <= 0 or self._stopping:
                    return False
                self._cond.wait(left)
        return True

    def state(self) -> dict[str, Any]:
        """``{"led", "pending", "last_ok", "last_error", "deadline_at_risk", "parked"}`` as of the
        loop's last update."""
        with self._snap_lock:
            return dict(self._snapshot)

    def _enqueue(self, kind: str) -> None:
        now = self.clock.monotonic()
        with self._cond:
            if self._stopping:
                return
            self._jobs.setdefault(kind, now)
            self._cond.notify_all()
        if self.lockstep:
            self.wait_idle(self.lockstep_timeout_s)

    # ------------------------------------------------------------ worker thread
    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._jobs and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    self._jobs.clear()
                    self._cond.notify_all()
                    return
                kind = "push" if "push" in self._jobs else next(iter(self._jobs))
                started = self._jobs.pop(kind)
                self._busy = True
            try:
                try:
                    result: Any = self._push(started) if kind == "push" else self._pull(started)
                except Exception as e:  # a bug must not kill the thread: report it as a failure
                    log.exception("sync %s job failed", kind)
                    err = SyncError("client", f"internal error: {type(e).__name__}")
                    result = (PushResult(started, 0, err, False, self._scan_forwards(), len(self._parked))
                              if kind == "push" else PullResult(started, None, None, None, started, err))
                handler = self._push_done if kind == "push" else self._pull_done
                self.loop.post(Call(handler, (result,)))
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _next_batch(self) -> list[dict[str, Any]]:
        rows = self.journal.pending(self.batch_size + len(self._parked))
        return [r for r in rows if r["id"] not in self._parked][: self.batch_size]

    def _park(self, record_id: str, reason: str) -> None:
        self._parked[record_id] = reason
        self.journal.put_draft(PARKED_DRAFT, {"ids": self._parked})
        log.error("record %s parked, not sent again until a technician looks: %s", record_id, reason)

    def unpark(self) -> int:
        """Give parked records another go (after the server side was fixed); returns how many."""
        n = self._parked_count
        with self._cond:
            self._unpark = True
        self._enqueue("push")
        return n

    def _push(self, started: float) -> PushResult:
        with self._cond:
            unpark, self._unpark = self._unpark, False
        if unpark and self._parked:
            log.info("unparking %d record(s)", len(self._parked))
            self._parked.clear()
            self.journal.put_draft(PARKED_DRAFT, None)
        delivered = 0
        contacted = False
        error: SyncError | None = None
        solo = False  # after a 400 that does not say which record, send one at a time
        while not self._stopping:
            batch = self._next_batch()
            if solo:
                batch = batch[:1]
            if not batch:
                break
            ids = [r["id"] for r in batch]
            self.journal.note_attempt(ids)
            try:
                outcome = self.client.post_batch(batch)
            except SyncError as e:
                contacted = contacted or e.kind == "invalid"
                if e.kind == "invalid" and e.index is not None and 0 <= e.index < len(batch):
                    self._park(ids[e.index], f"refused by the server ({e.status}, field {e.field or '?'})")
                    continue
                if e.kind == "invalid" and len(batch) == 1:
                    self._park(ids[0], f"refused by the server ({e.status}, field {e.field or '?'})")
                    continue
                if e.kind == "invalid" and not solo:
                    solo = True
                    continue
                error = e
                break
            contacted = True
            # only now, with the server's word, is a record synced
            self.journal.mark_synced(outcome.delivered, self.clock.now())
            delivered += len(outcome.delivered)
            for rid in outcome.conflicts:
                self._park(rid, "the server holds a different record under this id (409)")
        return PushResult(started, delivered, error, contacted, self._scan_forwards(), len(self._parked))

    def _scan_forwards(self) -> tuple[tuple[str, datetime], ...]:
        """Pending records whose appeal must be forwarded the same day, with their deadlines."""
        out = []
        for rid, ended_at, forward_due in self.journal.pending_forwards():
            deadline = forward_deadline(ended_at, forward_due)
            if deadline is not None:
                out.append((rid, deadline))
        return tuple(out)

    def _pull(self, started: float) -> PullResult:
        error: SyncError | None = None
        reading: TimeReading | None = None
        received = started
        if self.set_time:
            try:
                reading = self.client.get_time()
                received = self.clock.monotonic()
            except SyncError as e:
                error = e
        config, refused = None, None
        if error is None or error.kind != "auth":
            try:
                doc, etag = self.client.get_config(self._etag)
                if doc is not None:
                    try:
                        config = validate_pushed_config(doc)
                    except ConfigError as e:
                        refused = str(e)
                        log.error("pushed config refused, keeping the last good one: %s", e)
                    else:
                        self.journal.put_draft(PUSHED_CONFIG_DRAFT, {"etag": etag, "doc": config})
                        self._etag = etag
                        log.info("pushed config accepted (etag %s)", etag)
            except SyncError as e:
                error = error or e
        return PullResult(started, config, refused, reading, received, error)

    # ------------------------------------------------------------ loop thread
    def _loop_start(self) -> None:
        stored = self.journal.get_draft(PUSHED_CONFIG_DRAFT)
        if stored and self.on_config and isinstance(stored.get("doc"), dict):
            self.on_config(stored["doc"])
        self._check_timer = self.loop.call_every(self.check_period_s, self._refresh)
        self._enqueue("push")
        self._enqueue("pull")
        self._refresh()

    def _kicked(self) -> None:
        if self._push_timer is None and not self._auth_error:
            self._enqueue("push")
        self._refresh()

    def _retry_in(self, started: float, delay: float) -> float:
        """Seconds from now to ``started + delay``, on the monotonic clock only (wall jumps do not count)."""
        return max(0.0, started + delay - self.clock.monotonic())

    def _push_done(self, result: PushResult) -> None:
        self._forwards = result.forwards
        self._parked_count = result.parked
        if self._push_timer is not None:
            self._push_timer.cancel()
            self._push_timer = None
        err = result.error
        if err is None:
            self._push_failures = 0
            if result.contacted:
                self._auth_error = False
                self._last_ok = self.clock.now().isoformat(timespec="seconds")
        else:
            self._push_failures += 1
            self._last_error = str(err)
            if err.kind == "auth":
                self._auth_error = True
                delay = self.auth_retry_s
            else:
                delay = self.backoff.delay(self._push_failures)
            log.warning("sync push failed (%d in a row): %s; retry in %.1f s", self._push_failures, err, delay)
            self._push_timer = self.loop.call_later(self._retry_in(result.started, delay), self._retry_push)
        self._refresh()

    def _retry_push(self) -> None:
        self._push_timer = None
        self._enqueue("push")

    def _pull_done(self, result: PullResult) -> None:
        if self._pull_timer is not None:
            self._pull_timer.cancel()
        if result.time is not None:
            self._apply_time(result)
        if result.config is not None and self.on_config:
            self.on_config(result.config)
        if result.config_refused:
            self._last_error = f"pushed config refused: {result.config_refused}"
        err = result.error
        if err is None:
            self._pull_failures = 0
            was_refused, self._auth_error = self._auth_error, False
            self._last_ok = self.clock.now().isoformat(timespec="seconds")
            delay = self.pull_period_s
            if self._push_timer is not None or was_refused:
                # the server answers again: do not wait for the push backoff to run out
                if self._push_timer is not None:
                    self._push_timer.cancel()
                    self._push_timer = None
                self._enqueue("push")
        else:
            self._pull_failures += 1
            self._last_error = str(err)
            if err.kind == "auth":
                self._auth_error = True
                delay = self.auth_retry_s
            else:
                delay = min(self.pull_period_s, self.backoff.delay(self._pull_failures))
            log.warning("sync pull failed: %s; retry in %.1f s", err, delay)
        self._pull_timer = self.loop.call_later(self._retry_in(result.started, delay), self._retry_pull)
        self._refresh()

    def _retry_pull(self) -> None:
        self._pull_timer = None
        self._enqueue("pull")

    def _apply_time(self, result: PullResult) -> None:
        clock = self.clock
        if clock.trusted and clock.source != "server":
            return  # NTP, a technician or the scenario set it: keep theirs
        reading = result.time
        assert reading is not None
        # the answer waited in the loop's queue since it arrived: count that too
        waited = max(0.0, clock.monotonic() - result.received_mono)
        when = datetime.fromtimestamp(reading.epoch + waited, clock.tz)
        was_trusted = clock.trusted
        clock.set_wall(when, "server")
        if not was_trusted:
            log.info("clock set from the server (round trip %.0f ms)", reading.rtt_s * 1000)

    def deadline_at_risk(self) -> bool:
        if not self._forwards:
            return False
        margin = timedelta(seconds=self.deadline_margin_s)
        now = self.clock.now()
        return any(now >= deadline - margin for _, deadline in self._forwards)

    def _refresh(self) -> None:
        """Recompute the LED and the state snapshot (loop thread)."""
        pending = max(0, self.journal.pending_count() - self._parked_count)
        at_risk = self.deadline_at_risk()
        if (self._auth_error or self._parked_count or at_risk
                or (pending and self._push_failures >= self.red_after_failures)):
            led = "red"
        elif pending:
            led = "amber"
        else:
            led = "green"
        with self._snap_lock:
            self._snapshot = {"led": led, "pending": pending, "last_ok": self._last_ok,
                              "last_error": self._last_error, "deadline_at_risk": at_risk,
                              "parked": self._parked_count}
        if led != self._led:
            self._led = led
            if self.on_led:
                self.on_led(led)
