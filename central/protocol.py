"""uvicorn's HTTP protocol with the limits a server facing the internet needs (issue 18).

The parser is httptools' (C) when installed, as uvicorn prefers, else h11's; the same limits apply.

- **A request deadline**: a request's headers and body must arrive within ``request_timeout_s`` of
  its first byte (or of the connection opening). A client sending one byte every 20 s no longer
  holds a connection for ever. uvicorn's own ``timeout_keep_alive`` covers idle keep-alive time.
- **A cap on a request head** of 16 KiB while it has not ended (h11 has its own; counted here for
  httptools).
- **A connection cap that sheds idle connections**: when a new connection would exceed
  ``max_connections``, the oldest connection that has no request in progress is closed. With
  systemd's default 1024 descriptors, 1,100 sockets held open by clients that send nothing no longer
  starve legitimate requests: they are let go in turn, oldest first, and the descriptors never run out.

uvicorn's ``limit_concurrency`` (503 when too many requests are in flight) still applies on top.

It also gathers what one turn of the event loop writes to a connection into one ``send``: uvicorn
writes a response's head and body separately, two system calls per request where one will do.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("central.server")
# h11 enforces its own cap (uvicorn's h11_max_incomplete_event_size): nothing to count here.
H11_HEAD_CAP = 0


@dataclass
class ConnectionLimits:
    """Shared by every connection of one server: the limits and the open connections, oldest first."""

    max_connections: int = 900
    request_timeout_s: float = 30.0
    max_head_bytes: int = 16 * 1024
    open: OrderedDict[Any, None] = field(default_factory=OrderedDict)
    shed: int = 0
    timed_out: int = 0


class _CoalescingTransport:
    """Buffers writes and hands them to the real transport once, at the end of the loop's turn."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not data:
            return
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(data)

    def flush(self) -> None:
        if self._pending:
            data, self._pending = b"".join(self._pending), []
            self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def _base_protocol() -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol (a C parser) when httptools is installed, else its h11 one."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:
        return H11Protocol
    return HttpToolsProtocol


def limited_protocol(limits: ConnectionLimits, base: type[asyncio.Protocol] | None = None) -> type[asyncio.Protocol]:
    """A subclass of uvicorn's protocol bound to ``limits`` (uvicorn takes the class as ``http``)."""
    parent: Any = base or _base_protocol()
    head_cap = H11_HEAD_CAP if parent is H11Protocol else limits.max_head_bytes

    class LimitedProtocol(parent):
        _deadline: asyncio.TimerHandle | None = None
        _head_bytes = 0
        _reading_head = True

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(_CoalescingTransport(transport, self.loop))
            limits.open[self] = None
            self._arm()
            while len(limits.open) > limits.max_connections:
                victim = next((c for c in limits.open if c is not self and c._idle()), None)
                if victim is None:
                    break
                limits.open.pop(victim, None)
                # uvicorn counts it for limit_concurrency until its close completes: not any more.
                self.connections.discard(victim)
                limits.shed += 1
                victim.transport.close()

        def connection_lost(self, exc: Exception | None) -> None:
            limits.open.pop(self, None)
            self._disarm()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._deadline is None and self._idle():
                self._arm()
            if head_cap and self._reading_head:
                self._head_bytes += len(data)
            super().data_received(data)
            # httptools has no cap of its own on a request head that never ends (h11 has); a head
            # that ended in this data reset the count (on_headers_complete).
            if head_cap and self._reading_head and self._head_bytes > head_cap and not self.transport.is_closing():
                self.send_400_response("Request head too large.")

        def on_headers_complete(self) -> None:
            self._reading_head, self._head_bytes = False, 0
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            self._reading_head, self._head_bytes = True, 0
            super().on_message_complete()

        def on_response_complete(self) -> None:
            self._disarm()
            super().on_response_complete()

        def _idle(self) -> bool:
            """No request in progress: none started yet, or the last one answered."""
            return self.cycle is None or self.cycle.response_complete

        def _arm(self) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(limits.request_timeout_s, self._expired)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expired(self) -> None:
            self._deadline = None
            reading = self._idle() or (self.cycle.more_body and not self.cycle.response_started)
            if reading and not self.transport.is_closing():
                # The request is still arriving (a handler at work is not limited: long polls wait).
                limits.timed_out += 1
                self.transport.close()

    return LimitedProtocol
