"""The journal's background work, on its own thread so the event loop never waits for it.

Retention (personal data blanked, then whole confirmed records deleted, then the freed pages given
back with ``PRAGMA incremental_vacuum``) runs in small transactions, each holding the journal only
for a few milliseconds (what to change is read on this thread's own connection, outside the lock),
without waiting for the disk, with a pause between them so the loop's saves and reads get their turn.
Checkpoints (the WAL copied into the file) run here too, so no commit on the loop stops for one.
Retrying writes that failed (disk full, an unwritable file) happens here too: reopening a lost file
runs a ``quick_check`` over all of it.

The unit asks for work from the loop's thread; the work carries the time it was asked at, so under
a virtual clock the result does not depend on when the thread gets to it:

    >>> journal.upkeep.request_retention(clock.now(), personal_days=30, record_days=365)
    >>> journal.upkeep.settle()      # tests and the simulator: wait until it is done
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

log = logging.getLogger(__name__)

#: Records per retention transaction: a few milliseconds of the journal's lock on a Pi's SD card.
BATCH = 100
#: Free pages given back per vacuum step.
VACUUM_PAGES = 32
#: Between transactions the thread lets go, so a save waiting on the loop goes next.
PAUSE_S = 0.01


@dataclass(frozen=True)
class Retention:
    """One retention pass: cut-offs computed from the time it was asked for."""

    now: datetime
    personal_days: float
    record_days: float

    def cutoff(self, days: float) -> str:
        return (self.now - timedelta(days=days)).astimezone(UTC).isoformat()


class Upkeep:
    """One daemon thread, started on the first request, doing the journal's retention and retries."""

    def __init__(self, journal: Any, batch: int = BATCH) -> None:
        self.journal = journal
        self.batch = batch
        self._cond = threading.Condition()
        self._retention: Retention | None = None
        self._retry = False
        self._checkpoint = False
        self._busy = False
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.last: dict[str, int] = {}  # the last retention pass: purged, deleted, free pages left

    def request_retention(self, now: datetime, personal_days: float, record_days: float) -> None:
        """Ask for a retention pass as of ``now`` (a newer request replaces one not yet started)."""
        with self._cond:
            self._retention = Retention(now, personal_days, record_days)
            self._wake()

    def request_retry(self) -> None:
        """Ask for the writes held in memory to be tried again."""
        with self._cond:
            self._retry = True
            self._wake()

    def request_checkpoint(self) -> None:
        """Ask for the WAL to be copied into the file (a passive checkpoint: writers go on meanwhile)."""
        with self._cond:
            if not self._checkpoint:
                self._checkpoint = True
                self._wake()

    def settle(self, timeout: float = 60.0) -> bool:
        """Wait until nothing is asked for or running; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not (self._busy or self._retry or self._retention or self._checkpoint),
                                       timeout)

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    # ---------------------------------------------------------------- the thread
    def _wake(self) -> None:  # lock held
        if self._thread is None and not self._stopping.is_set():
            self._thread = threading.Thread(target=self._run, name="journal-upkeep", daemon=True)
            self._thread.start()
        self._cond.notify_all()

    def _run(self) -> None:
        while not self._stopping.is_set():
            with self._cond:
                self._cond.wait_for(lambda: self._retention or self._retry or self._checkpoint
                                    or self._stopping.is_set())
                if self._stopping.is_set():
                    break
                retention, self._retention = self._retention, None
                retry, self._retry = self._retry, False
                checkpoint, self._checkpoint = self._checkpoint, False
                self._busy = True
            try:
                if retry:
                    self.journal.retry()
                if retention is not None:
                    self._retain(retention)
                if checkpoint or retention is not None:
                    self.journal.checkpoint()
            except Exception:  # the thread must outlive a bug: the next request tries again
                log.exception("journal upkeep failed")
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _checkpoint_if_asked(self) -> None:
        with self._cond:
            asked, self._checkpoint = self._checkpoint, False
        if asked:
            self.journal.checkpoint()

    def _retain(self, r: Retention) -> None:
        journal = self.journal
        purged = self._batches(journal.purge_personal_batch, r.cutoff(r.personal_days))
        deleted = self._batches(journal.delete_synced_batch, r.cutoff(r.record_days))
        free = 0
        if deleted:
            before = None
            while not self._stopping.is_set():
                free = journal.vacuum_step(VACUUM_PAGES)
                if free <= 0 or free == before:  # a migrated file without auto_vacuum frees none
                    break
                before = free
                self._stopping.wait(PAUSE_S)
        self.last = {"purged": purged, "deleted": deleted, "free_pages": free}
        if purged or deleted:
            log.info("retention: personal data blanked in %d record(s), %d old record(s) deleted", purged, deleted)

    def _batches(self, step: Any, cutoff: str) -> int:
        total = 0
        while not self._stopping.is_set():
            n = step(cutoff, self.batch)
            total += n
            if n < self.batch:
                break
            self._checkpoint_if_asked()
            self._stopping.wait(PAUSE_S)
        return total
