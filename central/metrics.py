"""Prometheus metrics of one central server (``GET /metrics``, management token).

Counted as requests pass: records by outcome, batches, request latency per operation. Read from
the database at scrape time: records stored, units registered and seen, each unit's last-seen age,
and forwards (R11) still due and overdue. Unit ids are labels; no personal data is.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from central.store import SaveResult, Store

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class _StoreCollector(Collector):
    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock

    def collect(self) -> Iterable[Metric]:
        now = datetime.fromtimestamp(self._clock(), UTC)
        stored = GaugeMetricFamily("deskunit_central_records_stored", "Call records held by the server")
        stored.add_metric([], self._store.count_records())
        yield stored
        units = self._store.units()
        registered = GaugeMetricFamily("deskunit_central_units_registered", "Units enrolled with add-unit")
        registered.add_metric([], len(units))
        yield registered
        seen = GaugeMetricFamily("deskunit_central_units_seen", "Units that have stored at least one record")
        seen.add_metric([], sum(1 for u in units if u["last_seen_at"] is not None))
        yield seen
        age = GaugeMetricFamily(
            "deskunit_central_unit_last_seen_age_seconds", "Seconds since the unit last stored records", labels=["unit"]
        )
        for unit in units:
            if unit["last_seen_at"] is not None:
                age.add_metric([unit["id"]], max(0.0, (now - unit["last_seen_at"]).total_seconds()))
        yield age
        counts = self._store.forward_counts(now)
        due = GaugeMetricFamily("deskunit_central_forwards_due", "Queued forwards (R11) not yet past their deadline")
        due.add_metric([], counts["due"])
        yield due
        overdue = GaugeMetricFamily("deskunit_central_forwards_overdue", "Queued forwards (R11) past their deadline")
        overdue.add_metric([], counts["overdue"])
        yield overdue


class Metrics:
    """The registry of one server (tests run many servers in one process, so not the global one)."""

    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self.registry = CollectorRegistry()
        self._records = Counter(
            "deskunit_central_records", "Records posted, by outcome", ["status"], registry=self.registry
        )
        self._batches = Counter("deskunit_central_batches", "Batches posted", registry=self.registry)
        self._latency = Histogram(
            "deskunit_central_request_seconds",
            "Time to answer an API request",
            ["operation"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_StoreCollector(store, clock))

    def saved(self, results: Sequence[SaveResult]) -> None:
        for status in ("created", "duplicate", "conflict"):
            n = sum(1 for r in results if r.status == status)
            if n:
                self._records.labels(status).inc(n)

    def batch(self) -> None:
        self._batches.inc()

    def request(self, operation: str, seconds: float) -> None:
        self._latency.labels(operation).observe(seconds)

    def render(self) -> bytes:
        """The text exposition format (queries the database: call it off the event loop)."""
        return generate_latest(self.registry)
