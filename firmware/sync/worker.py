"""The sync worker: one background thread for HTTP, all scheduling on the unit's clock via the loop.

:class:`JobThread` is the thread and its mailbox (which jobs are queued, whether one runs, whether
it is stopping), all under one condition. :class:`SyncWorker` is the loop's side: it queues jobs,
receives their results as loop callbacks, keeps the retry timers and publishes the SYNC LED and
a :class:`~firmware.sync.policy.SyncState` snapshot.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from firmware.clock import Clock
from firmware.exc import SyncError, SyncErrorKind
from firmware.journal import Journal
from firmware.sync.client import SyncClient
from firmware.sync.jobs import ConfigPull, Outbox, PullResult, PushResult
from firmware.sync.policy import Backoff, SyncState, sync_led
from firmware.sync.pushed_config import PUSHED_CONFIG_DRAFT
from firmware.sync.settings import SyncSettings
from firmware.vocabulary import ClockSource, Colour

log = logging.getLogger("firmware.sync")


class Job(StrEnum):
    PUSH = "push"
    PULL = "pull"


class JobThread:
    """One thread running queued jobs, the push first; each kind is queued at most once.

    ``run(kind, queued_at)`` does the work and hands its result on; it runs on this thread only.
    Every field below is read and written under ``_cond`` only.
    """

    def __init__(self, run: Callable[[Job, float], None], name: str = "deskunit-sync") -> None:
        self._run_job = run
        self._name = name
        self._cond = threading.Condition()
        self._jobs: dict[Job, float] = {}  # job -> unit monotonic time it was queued
        self._busy = False
        self._stopping = False
        self._unpark = False
        self._thread: threading.Thread | None = None

    @property
    def started(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._main, name=self._name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def stopping(self) -> bool:
        with self._cond:
            return self._stopping

    def enqueue(self, job: Job, now: float, *, unpark: bool = False) -> bool:
        """Queue ``job`` (stamped ``now``) unless it is already queued; False once stopping."""
        with self._cond:
            if self._stopping:
                return False
            self._unpark = self._unpark or unpark
            self._jobs.setdefault(job, now)
            self._cond.notify_all()
        return True

    def take_unpark(self) -> bool:
        with self._cond:
            unpark, self._unpark = self._unpark, False
        return unpark

    def wait_idle(self, timeout: float) -> bool:
        """Block until no job runs or is queued; False on timeout or when stopping."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._jobs or self._busy:
                left = deadline - time.monotonic()
                if left <= 0 or self._stopping:
                    return False
                self._cond.wait(left)
        return True

    def _main(self) -> None:
        while True:
            with self._cond:
                while not self._jobs and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    self._jobs.clear()
                    self._cond.notify_all()
                    return
                job = Job.PUSH if Job.PUSH in self._jobs else next(iter(self._jobs))
                queued_at = self._jobs.pop(job)
                self._busy = True
            try:
                self._run_job(job, queued_at)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()


class SyncWorker:
    """The outbox, drained on one background thread, scheduled on the unit's clock via the loop.

    Thread model (principle 1 as ``docs/architecture.md`` states it): :meth:`kick`, :meth:`state`,
    :meth:`wait_idle`, :meth:`pull_now`, :meth:`unpark` and :meth:`stop` are safe from any thread; the
    worker's thread talks HTTP and reads and writes the journal (the one store shared under a lock);
    its results come back as loop callbacks, and timers, the LED and ``on_config`` run on the loop's
    thread only.

        >>> worker = SyncWorker(journal, SyncClient.from_config(cfg), loop, clock, SyncSettings(),
        ...                     on_led=lambda colour: leds.set("sync", colour), on_config=apply_config)
        >>> worker.start()
        >>> worker.kick()                     # after each saved record
        >>> worker.wait_idle(5.0)             # the simulator, before it moves virtual time
        True
    """

    def __init__(self, journal: Journal, client: SyncClient, loop: Any, clock: Clock,
                 settings: SyncSettings | None = None, *, on_led: Callable[[Colour], None] | None = None,
                 on_change: Callable[[SyncState], None] | None = None,
                 on_config: Callable[[dict[str, Any]], None] | None = None, rng: random.Random | None = None,
                 backoff: Backoff | None = None) -> None:
        self.journal = journal
        self.client = client
        self.loop = loop
        self.clock = clock
        self.settings = settings = settings or SyncSettings()
        self.on_led = on_led
        self.on_change = on_change  # the LED, the pending count or the deadline risk changed
        self.on_config = on_config
        self.backoff = backoff or Backoff(settings.backoff_base_s, settings.backoff_cap_s, rng or random.Random())
        self._thread = JobThread(self._run_job)
        # the worker thread's own
        self._outbox = Outbox(journal, client, settings.batch_size, clock.now)
        self._puller = ConfigPull(journal, client, settings.set_time, clock.monotonic)
        # the loop thread's own
        self._status = _LoopStatus(parked=len(self._outbox.parked))
        self._timers = _Timers()
        # published by the loop, read by anyone: replaced whole, never changed in place
        self._state = SyncState(parked=self._status.parked)

    @classmethod
    def from_config(cls, cfg: dict[str, Any], journal: Journal, loop: Any, clock: Clock,
                    settings: SyncSettings | None = None, **wiring: Any) -> SyncWorker:
        return cls(journal, SyncClient.from_config(cfg), loop, clock, settings, **wiring)

    # ------------------------------------------------------------ any thread
    def start(self) -> None:
        """Start the thread; the first push, pull and LED update are queued through the loop."""
        if self._thread.started:
            return
        self._thread.start()
        self.loop.call_soon(self._loop_start)

    def stop(self, timeout: float = 5.0) -> None:
        self._timers.cancel_all()  # a timer's cancel only sets a flag: safe from any thread
        self._thread.stop(timeout)
        self.client.close()

    def kick(self) -> None:
        """A record was saved: push now, unless a retry is already scheduled (the server is failing:
        the retry takes the new record along, and kicks do not speed up the backoff)."""
        self.loop.call_soon(self._kicked)

    def pull_now(self) -> None:
        """Fetch config and time now (a technician's console command, tests)."""
        self._enqueue(Job.PULL)

    def unpark(self) -> int:
        """Give parked records another go (after the server side was fixed); returns how many."""
        n = self._state.parked
        self._enqueue(Job.PUSH, unpark=True)
        return n

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until no request is in flight and no job is queued; False on timeout.

        A job's result is posted to the loop before the job counts as finished, so after this
        returns the loop's next turn sees it.
        """
        return self._thread.wait_idle(timeout)

    def state(self) -> dict[str, Any]:
        """``{"led", "pending", "last_ok", "last_error", "deadline_at_risk", "parked"}`` as of the
        loop's last update."""
        return self._state.as_dict()

    def _enqueue(self, job: Job, *, unpark: bool = False) -> None:
        if self._thread.enqueue(job, self.clock.monotonic(), unpark=unpark) and self.settings.lockstep:
            self.wait_idle(self.settings.lockstep_timeout_s)

    # ------------------------------------------------------------ worker thread
    def _run_job(self, job: Job, started: float) -> None:
        result: PushResult | PullResult
        try:
            if job is Job.PUSH:
                result = self._outbox.push(started, self._thread.take_unpark(), self._thread.stopping)
            else:
                result = self._puller.pull(started)
        except Exception as e:  # a bug must not kill the thread: report it as a failure
            log.exception("sync %s job failed", job)
            err = SyncError(SyncErrorKind.CLIENT, f"internal error: {type(e).__name__}")
            result = (self._outbox.result(started, 0, err, False) if job is Job.PUSH
                      else ConfigPull.failed(started, err))
        self.loop.call_soon(self._push_done if job is Job.PUSH else self._pull_done, result)

    # ------------------------------------------------------------ loop thread
    def _loop_start(self) -> None:
        stored = self.journal.get_draft(PUSHED_CONFIG_DRAFT)
        if stored and self.on_config and isinstance(stored.get("doc"), dict):
            self.on_config(stored["doc"])
        self._timers.check = self.loop.call_every(self.settings.check_period_s, self._refresh)
        self._enqueue(Job.PUSH)
        self._enqueue(Job.PULL)
        self._refresh()

    def _kicked(self) -> None:
        if self._timers.push is None and not self._status.auth_error:
            self._enqueue(Job.PUSH)
        self._refresh()

    def _retry_in(self, started: float, delay: float) -> float:
        """Seconds from now to ``started + delay``, on the monotonic clock only (wall jumps do not count)."""
        return max(0.0, started + delay - self.clock.monotonic())

    def _push_done(self, result: PushResult) -> None:
        status = self._status
        status.forwards = result.forwards
        status.parked = result.parked
        self._timers.push = _cancel(self._timers.push)
        err = result.error
        if err is None:
            status.push_failures = 0
            if result.contacted:
                status.auth_error = False
                status.last_ok = self.clock.now().isoformat(timespec="seconds")
        else:
            status.push_failures += 1
            delay = self._failed(err, status.push_failures)
            log.warning("sync push failed (%d in a row): %s; retry in %.1f s", status.push_failures, err, delay)
            self._timers.push = self.loop.call_later(self._retry_in(result.started, delay), self._retry_push)
        self._refresh()

    def _failed(self, err: SyncError, failures: int, cap_s: float = float("inf")) -> float:
        """Remember a failed request's error; the seconds to wait before trying again (a refused
        token or certificate: ``auth_retry_s``; else the backoff, at most ``cap_s``)."""
        self._status.last_error = str(err)
        if err.kind is SyncErrorKind.AUTH:
            self._status.auth_error = True
            return self.settings.auth_retry_s
        return min(cap_s, self.backoff.delay(failures))

    def _retry_push(self) -> None:
        self._timers.push = None
        self._enqueue(Job.PUSH)

    def _pull_done(self, result: PullResult) -> None:
        status = self._status
        _cancel(self._timers.pull)
        if result.time is not None:
            self._apply_time(result)
        if result.config is not None and self.on_config:
            self.on_config(result.config)
        if result.config_refused:
            status.last_error = f"pushed config refused: {result.config_refused}"
        err = result.error
        if err is None:
            status.pull_failures = 0
            was_refused, status.auth_error = status.auth_error, False
            status.last_ok = self.clock.now().isoformat(timespec="seconds")
            delay = self.settings.pull_period_s
            if self._timers.push is not None or was_refused:
                # the server answers again: do not wait for the push backoff to run out
                self._timers.push = _cancel(self._timers.push)
                self._enqueue(Job.PUSH)
        else:
            status.pull_failures += 1
            delay = self._failed(err, status.pull_failures, cap_s=self.settings.pull_period_s)
            log.warning("sync pull failed: %s; retry in %.1f s", err, delay)
        self._timers.pull = self.loop.call_later(self._retry_in(result.started, delay), self._retry_pull)
        self._refresh()

    def _retry_pull(self) -> None:
        self._timers.pull = None
        self._enqueue(Job.PULL)

    def _apply_time(self, result: PullResult) -> None:
        clock = self.clock
        if clock.trusted and clock.source != ClockSource.SERVER:
            return  # NTP, a technician or the scenario set it: keep theirs
        reading = result.time
        assert reading is not None
        # the answer waited in the loop's queue since it arrived: count that too
        waited = max(0.0, clock.monotonic() - result.received_mono)
        when = datetime.fromtimestamp(reading.epoch + waited, clock.tz)
        was_trusted = clock.trusted
        clock.set_wall(when, ClockSource.SERVER)
        if not was_trusted:
            log.info("clock set from the server (round trip %.0f ms)", reading.rtt_s * 1000)

    def deadline_at_risk(self) -> bool:
        if not self._status.forwards:
            return False
        margin = timedelta(seconds=self.settings.deadline_margin_s)
        now = self.clock.now()
        return any(now >= deadline - margin for _, deadline in self._status.forwards)

    def _refresh(self) -> None:
        """Recompute the LED and publish the state snapshot (loop thread)."""
        status = self._status
        pending = max(0, self.journal.pending_count() - status.parked)
        at_risk = self.deadline_at_risk()
        led = sync_led(pending=pending, push_failures=status.push_failures,
                       red_after_failures=self.settings.red_after_failures, auth_error=status.auth_error,
                       parked=status.parked, deadline_at_risk=at_risk)
        previous = self._state
        self._state = state = SyncState(led, pending, status.last_ok, status.last_error, at_risk, status.parked)
        if led != status.led:
            status.led = led
            if self.on_led:
                self.on_led(led)
        shown = (state.led, state.pending, state.deadline_at_risk)
        if self.on_change and (shown != (previous.led, previous.pending, previous.deadline_at_risk)
                               or not status.shown_once):
            status.shown_once = True
            self.on_change(state)


class _LoopStatus:
    """What the loop's side of the worker knows (loop thread only)."""

    def __init__(self, parked: int) -> None:
        self.shown_once = False  # on_change has been told the state at least once
        self.push_failures = 0
        self.pull_failures = 0
        self.auth_error = False
        self.forwards: tuple[tuple[str, datetime], ...] = ()
        self.parked = parked
        self.led: Colour | None = None
        self.last_ok: str | None = None
        self.last_error: str | None = None


class _Timers:
    """The worker's timers on the loop: the push retry, the next pull, the periodic LED check."""

    def __init__(self) -> None:
        self.push: Any = None
        self.pull: Any = None
        self.check: Any = None

    def cancel_all(self) -> None:
        for timer in (self.push, self.pull, self.check):
            _cancel(timer)


def _cancel(timer: Any) -> None:
    if timer is not None:
        timer.cancel()
