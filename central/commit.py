"""Group commit: records posted at the same moment by many units share one transaction.

With a whole fleet posting, a transaction per request means one disk flush (SQLite) or one turn of
the sequence lock (PostgreSQL) per request, and requests queue behind each other. One writer thread
takes every request waiting, stores them in one transaction and answers each with its own results.
If that transaction fails, each request is retried in a transaction of its own, so one bad request
fails alone and the others are stored as they would have been.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from central.store import SaveResult, Store

log = logging.getLogger("central.server")

# Enough to amortise the flush, small enough that no request waits long behind a group.
MAX_GROUP_RECORDS = 2000


@dataclass
class _Request:
    records: Sequence[dict[str, Any]]
    received_at: datetime
    future: Future[list[SaveResult]]


class GroupCommitter:
    """A writer thread in front of `Store.save_groups`; `submit` returns a future of the results."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._queue: queue.Queue[_Request | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="central-commit", daemon=True)
        self._thread.start()

    def submit(self, records: Sequence[dict[str, Any]], received_at: datetime) -> Future[list[SaveResult]]:
        future: Future[list[SaveResult]] = Future()
        self._queue.put(_Request(records, received_at, future))
        return future

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            group, size, stop = [first], len(first.records), False
            while size < MAX_GROUP_RECORDS:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                group.append(item)
                size += len(item.records)
            self._commit(group)
            if stop:
                return

    def _commit(self, group: list[_Request]) -> None:
        try:
            results = self.store.save_groups([(r.records, r.received_at) for r in group])
        except Exception as exc:  # noqa: BLE001 - handed to the waiting request(s)
            if len(group) == 1:
                group[0].future.set_exception(exc)
                return
            for request in group:
                self._commit([request])
            return
        for request, result in zip(group, results, strict=True):
            request.future.set_result(result)
