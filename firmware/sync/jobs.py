"""The two jobs the sync worker's thread runs: push the outbox, pull config and time.

Each job talks HTTP through the :class:`~firmware.sync.client.SyncClient` and uses the
:class:`~firmware.journal.Journal`, the one store shared between threads (under its own lock;
see ``docs/architecture.md``). Everything else a job keeps (the parked ids, the config's ETag) is
its thread's own. A job returns a frozen result that the loop applies: timers, the LED and the
unit's config change on the loop's thread only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from firmware.deadline import forward_deadline
from firmware.exc import ConfigError, SyncError, SyncErrorKind
from firmware.journal import Journal
from firmware.sync.client import SyncClient, TimeReading
from firmware.sync.pushed_config import PUSHED_CONFIG_DRAFT, validate_pushed_config

log = logging.getLogger("firmware.sync")

#: The journal draft listing records the server refused (parked until a technician unparks them).
PARKED_DRAFT = "sync_parked"


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


class Outbox:
    """The push job: the journal's unsynced records, sent in batches until done or refused.

    A record is marked synced only after the server confirmed it (``created`` or ``duplicate``); one
    the server refuses is parked (kept, not re-sent) so it cannot block the ones behind it.
    """

    def __init__(self, journal: Journal, client: SyncClient, batch_size: int, now: Callable[[], datetime]) -> None:
        self.journal = journal
        self.client = client
        self.batch_size = batch_size
        self._now = now
        parked = journal.get_draft(PARKED_DRAFT) or {}
        self.parked: dict[str, str] = dict(parked.get("ids", {}))

    def push(self, started: float, unpark: bool, stopping: Callable[[], bool]) -> PushResult:
        if unpark and self.parked:
            log.info("unparking %d record(s)", len(self.parked))
            self.parked.clear()
            self.journal.put_draft(PARKED_DRAFT, None)
        delivered = 0
        contacted = False
        error: SyncError | None = None
        solo = False  # after a 400 that does not say which record, send one at a time
        while not stopping():
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
                invalid = e.kind is SyncErrorKind.INVALID
                contacted = contacted or invalid
                if invalid and e.index is not None and 0 <= e.index < len(batch):
                    self._park(ids[e.index], f"refused by the server ({e.status}, field {e.field or '?'})")
                    continue
                if invalid and len(batch) == 1:
                    self._park(ids[0], f"refused by the server ({e.status}, field {e.field or '?'})")
                    continue
                if invalid and not solo:
                    solo = True
                    continue
                error = e
                break
            contacted = True
            # only now, with the server's word, is a record synced
            self.journal.mark_synced(outcome.delivered, self._now())
            delivered += len(outcome.delivered)
            for rid in outcome.conflicts:
                self._park(rid, "the server holds a different record under this id (409)")
        return self.result(started, delivered, error, contacted)

    def result(self, started: float, delivered: int, error: SyncError | None, contacted: bool) -> PushResult:
        return PushResult(started, delivered, error, contacted, self._scan_forwards(), len(self.parked))

    def _next_batch(self) -> list[dict[str, Any]]:
        rows = self.journal.pending(self.batch_size + len(self.parked))
        return [r for r in rows if r["id"] not in self.parked][: self.batch_size]

    def _park(self, record_id: str, reason: str) -> None:
        self.parked[record_id] = reason
        self.journal.put_draft(PARKED_DRAFT, {"ids": self.parked})
        log.error("record %s parked, not sent again until a technician looks: %s", record_id, reason)

    def _scan_forwards(self) -> tuple[tuple[str, datetime], ...]:
        """Pending records whose appeal must be forwarded the same day, with their deadlines."""
        out = []
        for rid, ended_at, forward_due in self.journal.pending_forwards():
            deadline = forward_deadline(ended_at, forward_due)
            if deadline is not None:
                out.append((rid, deadline))
        return tuple(out)


class ConfigPull:
    """The pull job: the server's time (when asked to set the clock) and its pushed config.

    A new config that validates is kept in the journal (with its ETag) before the loop applies it,
    so a restart starts from the last good one; a bad one is refused and the last good one stays.
    """

    def __init__(self, journal: Journal, client: SyncClient, set_time: bool, monotonic: Callable[[], float]) -> None:
        self.journal = journal
        self.client = client
        self.set_time = set_time
        self._monotonic = monotonic
        stored = journal.get_draft(PUSHED_CONFIG_DRAFT) or {}
        self.etag: str | None = stored.get("etag")

    def pull(self, started: float) -> PullResult:
        error: SyncError | None = None
        reading: TimeReading | None = None
        received = started
        if self.set_time:
            try:
                reading = self.client.get_time()
                received = self._monotonic()
            except SyncError as e:
                error = e
        config, refused = None, None
        if error is None or error.kind is not SyncErrorKind.AUTH:
            try:
                doc, etag = self.client.get_config(self.etag)
                if doc is not None:
                    try:
                        config = validate_pushed_config(doc)
                    except ConfigError as e:
                        refused = str(e)
                        log.error("pushed config refused, keeping the last good one: %s", e)
                    else:
                        self.journal.put_draft(PUSHED_CONFIG_DRAFT, {"etag": etag, "doc": config})
                        self.etag = etag
                        log.info("pushed config accepted (etag %s)", etag)
            except SyncError as e:
                error = error or e
        return PullResult(started, config, refused, reading, received, error)

    @staticmethod
    def failed(started: float, error: SyncError) -> PullResult:
        return PullResult(started, None, None, None, started, error)
