"""Talking to systemd: readiness, status, the watchdog and stopping (the sd_notify protocol, by hand).

systemd passes ``$NOTIFY_SOCKET`` (a filesystem path, or ``@name`` for the abstract namespace) to a
``Type=notify`` service; each datagram sent there holds ``KEY=VALUE`` lines. Without the variable
every call here does nothing, so the same code runs in a terminal, in tests and under systemd.

    >>> notifier = Notifier.from_env()
    >>> watchdog = supervise(app.loop, app.unit, notifier)   # pings from the loop's own thread
    >>> notifier.ready("operator 7 signed in; idle; 0 records waiting")
    >>> ...
    >>> notifier.stopping()

The watchdog is pinged by a timer on the event loop (:meth:`EventLoop.call_every`), never by a
thread of its own: if the loop stalls (a handler blocks, a deadlock), the pings stop and systemd
restarts the unit after ``WatchdogSec``.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from typing import Any

from firmware.timefmt import mmss

log = logging.getLogger(__name__)

#: How often STATUS is refreshed when systemd wants no watchdog pings.
STATUS_PERIOD_S = 5.0


class Notifier:
    """Datagrams to systemd's notification socket; a no-op when there is none.

    Sends never block: a full socket buffer drops the message (systemd reads its socket promptly,
    and a blocked send would stall the event loop, which is exactly what the watchdog watches).

        >>> Notifier("@deskunit-test").notify(READY=1, STATUS="starting")
    """

    def __init__(self, address: str | None) -> None:
        self.address: str | bytes | None = None
        self._sock: socket.socket | None = None
        if not address or len(address) < 2 or address[0] not in "@/":
            return
        # Linux abstract namespace: a leading NUL instead of '@', length given by the name itself
        self.address = b"\0" + address[1:].encode() if address[0] == "@" else address
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Notifier:
        env = os.environ if environ is None else environ
        return cls(env.get("NOTIFY_SOCKET"))

    @property
    def enabled(self) -> bool:
        return self._sock is not None

    def notify(self, **fields: Any) -> bool:
        """Send ``KEY=value`` lines in one datagram; True when systemd (or a test) got it."""
        if self._sock is None or not fields:
            return False
        text = "\n".join(f"{k}={_one_line(v)}" for k, v in fields.items())
        try:
            self._sock.sendto(text.encode("utf-8"), socket.MSG_DONTWAIT, self.address)
        except OSError as e:  # no listener, buffer full: systemd will notice the silence itself
            log.debug("sd_notify failed: %s", e)
            return False
        return True

    def ready(self, status: str | None = None) -> bool:
        return self.notify(READY=1, **({"STATUS": status} if status else {}))

    def status(self, text: str) -> bool:
        return self.notify(STATUS=text)

    def watchdog(self) -> bool:
        return self.notify(WATCHDOG=1)

    def stopping(self, status: str | None = None) -> bool:
        return self.notify(STOPPING=1, **({"STATUS": status} if status else {}))

    def reloading(self) -> bool:
        """``Type=notify-reload`` wants the monotonic time with RELOADING=1; send READY=1 after."""
        return self.notify(RELOADING=1, MONOTONIC_USEC=time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _one_line(value: Any) -> str:
    return str(value).replace("\n", " ")


def watchdog_interval(environ: dict[str, str] | None = None) -> float | None:
    """Seconds between pings: half of ``$WATCHDOG_USEC`` (as sd_watchdog_enabled advises), or None.

    ``$WATCHDOG_PID``, when set, must be this process: a child that inherited the variables must
    not ping on its parent's behalf.
    """
    env = os.environ if environ is None else environ
    try:
        usec = int(env.get("WATCHDOG_USEC", "0"))
        pid = int(env.get("WATCHDOG_PID") or os.getpid())
    except ValueError:
        return None
    if usec <= 0 or pid != os.getpid():
        return None
    return usec / 2e6


def unit_status(unit: Any) -> str:
    """One STATUS line for ``systemctl status``: who is signed in, the call, the sync queue.

    Only the operator's number and counts: never a name, a phone number or an appeal's contents.
    """
    op = unit.operator
    parts = [f"operator {op.number} signed in" if op else "no operator signed in"]
    call = unit.call
    if call is None:
        parts.append("idle")
    else:
        state = f"call {mmss(unit.call_time())}"
        if call.hold_started is not None:
            state += f", on hold {mmss(unit.hold_elapsed())}"
        state += f", line {call.line}"
        parts.append(state)
    try:
        waiting = unit.journal.pending_count()
    except Exception:  # a closed journal during shutdown
        waiting = None
    if waiting is not None:
        parts.append(f"{waiting} record{'' if waiting == 1 else 's'} waiting")
    return "; ".join(parts)


class Supervision:
    """The loop-side half: a timer on the event loop that pings the watchdog and refreshes STATUS.

    Create it with :func:`supervise`; :meth:`cancel` stops the timer.
    """

    def __init__(self, loop: Any, notifier: Notifier, status: Callable[[], str], interval: float | None) -> None:
        self.loop = loop
        self.notifier = notifier
        self.status = status
        self.interval = interval
        self.last_status: str | None = None
        self.pings = 0
        self.timer = None
        if notifier.enabled:
            self.timer = loop.call_every(interval or STATUS_PERIOD_S, self.tick)

    def tick(self) -> None:
        """Runs on the loop's thread, so a ping proves the loop is turning."""
        fields: dict[str, Any] = {}
        if self.interval is not None:
            fields["WATCHDOG"] = 1
            self.pings += 1
        text = self.current_status()
        if text is not None and text != self.last_status:
            fields["STATUS"] = text
            self.last_status = text
        if fields:
            self.notifier.notify(**fields)

    def current_status(self) -> str | None:
        try:
            return self.status()
        except Exception:
            log.exception("status line")
            return None

    def ready(self) -> None:
        """READY=1 with the first STATUS line; call it once the hardware is up."""
        text = self.current_status()
        self.last_status = text
        self.notifier.ready(text)

    def stopping(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.notifier.stopping("stopping")

    def cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()


def supervise(loop: Any, unit: Any, notifier: Notifier | None = None,
              environ: dict[str, str] | None = None) -> Supervision:
    """Start the watchdog/status timer on ``loop`` (call from the loop's thread or before it runs).

    The timer's first run is one interval away; call :meth:`Supervision.ready` when the hardware
    is up.
    """
    notifier = notifier or Notifier.from_env(environ)
    interval = watchdog_interval(environ)
    if interval is not None and notifier.enabled:
        log.info("systemd watchdog: ping every %.2f s", interval)
    return Supervision(loop, notifier, lambda: unit_status(unit), interval)
