"""The event loop: one thread owns the unit's state; everything else posts to it.

Timers live on the injected clock, so the same loop runs on the real clock in the daemon and on
a virtual clock in the simulator, where a three-minute hold takes milliseconds:

    >>> clock = VirtualClock()
    >>> loop = EventLoop(clock, handler=print)
    >>> loop.call_later(180.0, lambda: print("hold limit"))
    >>> loop.run_until(181.0)
    hold limit
"""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from firmware.clock import Clock, VirtualClock
from firmware.events import Callback, Event

log = logging.getLogger(__name__)


@dataclass(order=True)
class Timer:
    """A scheduled callback; cancel() makes it a no-op."""

    due: float
    seq: int
    fn: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


class EventLoop:
    """Events from any thread in, handled in order on the loop's thread; timers on the clock."""

    def __init__(self, clock: Clock, handler: Callable[[Event], None]) -> None:
        self.clock = clock
        self._handler = handler
        self._filters: list[Callable[[Event], bool]] = []
        self._queue: queue.Queue[Event | None] = queue.Queue()
        self._timers: list[Timer] = []
        self._seq = itertools.count()
        self._stopping = False  # a plain flag: setting it takes no lock (see request_stop)
        self.thread: threading.Thread | None = None
        self.last_turn = clock.monotonic()  # the watchdog's proof of life
        self.handled = 0

    # -- from any thread
    def post(self, event: Event) -> None:
        self._queue.put(event)

    def call_soon(self, fn: Callable, *args) -> None:
        self.post(Callback(fn, args))

    # -- from the loop's thread
    def add_filter(self, fn: Callable[[Event], bool]) -> Callable[[], None]:
        """Show each event to ``fn`` before the handler; when ``fn`` returns True the handler does not
        get it (the console's key test keeps keys from the unit). Returns the function removing it."""
        self._filters.append(fn)

        def remove() -> None:
            if fn in self._filters:
                self._filters.remove(fn)

        return remove

    @property
    def filter_count(self) -> int:
        return len(self._filters)

    def call_later(self, delay: float, fn: Callable[[], None]) -> Timer:
        timer = Timer(self.clock.monotonic() + max(0.0, delay), next(self._seq), fn)
        heapq.heappush(self._timers, timer)
        return timer

    def call_every(self, period: float, fn: Callable[[], None]) -> Timer:
        """Repeat ``fn`` every ``period`` seconds; cancelling the returned handle stops it."""
        handle = Timer(0.0, -1, fn)

        def tick() -> None:
            if handle.cancelled:
                return
            fn()
            self.call_later(period, tick)

        self.call_later(period, tick)
        return handle

    def next_due(self) -> float | None:
        while self._timers and self._timers[0].cancelled:
            heapq.heappop(self._timers)
        return self._timers[0].due if self._timers else None

    def _dispatch(self, event: Event) -> None:
        try:
            if isinstance(event, Callback):
                event.fn(*event.args)
            elif not any(f(event) for f in tuple(self._filters)):
                self._handler(event)
        except Exception:  # one bad event must not stop the unit
            log.exception("event %s failed", type(event).__name__)
        self.handled += 1

    def run_pending(self) -> int:
        """Handle every queued event and every due timer; returns how many were handled."""
        n = 0
        while True:
            try:
                event = self._queue.get_nowait()
            except queue.Empty:
                event = None
            if event is not None:
                self._dispatch(event)
                n += 1
                continue
            due = self.next_due()
            if due is None or due > self.clock.monotonic():
                break
            timer = heapq.heappop(self._timers)
            try:
                timer.fn()
            except Exception:
                log.exception("timer failed")
            n += 1
        self.last_turn = self.clock.monotonic()
        return n

    # -- virtual time
    def run_until(self, t: float) -> None:
        """Advance a virtual clock to ``t``, firing each timer at its own due time."""
        clock = self.clock
        if not isinstance(clock, VirtualClock):
            raise TypeError("run_until needs a VirtualClock")
        self.run_pending()
        while True:
            due = self.next_due()
            if due is None or due > t:
                break
            clock.advance_to(due)
            self.run_pending()
        clock.advance_to(t)
        self.run_pending()

    # -- real time
    def run_forever(self) -> None:
        """Block on the queue until the next timer is due; returns after stop() or request_stop()."""
        self.thread = threading.current_thread()
        while not self._stopping:
            self.run_pending()
            due = self.next_due()
            timeout = 0.5 if due is None else min(0.5, max(0.0, self.clock.real_seconds(due - self.clock.monotonic())))
            try:
                event = self._queue.get(timeout=timeout)
            except queue.Empty:
                continue
            if event is not None:
                self._dispatch(event)

    def request_stop(self) -> None:
        """Stop the loop from a signal handler on the loop's own thread: `run_forever` returns within
        its longest wait (0.5 s).  Nothing is queued, because the handler runs between two steps of
        the thread it interrupted, which may hold the queue's lock right then (`stop` would wait for
        it forever)."""
        self._stopping = True

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run_forever, name="deskunit-loop", daemon=True)
        thread.start()
        return thread

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the loop; from another thread, wait for it to finish what it is doing (so the
        devices it drives can be closed after this returns)."""
        self._stopping = True
        self._queue.put(None)
        thread = self.thread
        if thread is not None and thread.is_alive() and thread is not threading.current_thread():
            thread.join(timeout)
