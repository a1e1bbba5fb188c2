"""The technician's serial line through pyserial: 8N1 at the configured speed, a reader thread.

pyserial is imported when the port opens, never at module import. The same code opens the Pi's
UART (``/dev/serial0``), a USB gadget serial (``/dev/ttyGS0``) or, in the simulator, one end of a
pty cable (:mod:`hwsim.pty`):

    >>> port = SerialPort("/dev/serial0", 115200, on_bytes=lambda data: loop.call_soon(console.feed, data))
    >>> port.open()
    >>> port.write(b"deskunit> ")
    >>> port.close()

``on_bytes`` runs on the reader thread. A port that fails (a USB gadget unplugged) is reopened
every ``reopen_s``.

The port never stalls the unit: :meth:`SerialPort.write` only queues (a writer thread feeds the UART
at its own pace); once ``max_out`` bytes wait, the oldest are dropped and a marker says so, as output
the line cannot carry is worthless by the time it would arrive, and the newest (the answer to what
was just typed) is the one worth sending. :class:`Inbox` hands input to
the event loop the same way: at most one wake-up queued on the loop, at most ``limit`` bytes held (a
UART's receive overrun), taken in slices so a flood of input shares the loop with everything else.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

#: What replaces output the line could not carry (the reader knows some is missing, and where).
DROPPED_MARK = b"\r\n[... output dropped: the line is slower than the unit ...]\r\n"


class Inbox:
    """Bytes from a reader thread to the event loop, bounded: ``wake()`` (which posts to the loop) is
    called once per batch, not once per read; beyond ``limit`` waiting bytes, new input is dropped.

        >>> inbox = Inbox(wake=lambda: loop.call_soon(drain), limit=4096)
        >>> inbox.put(b"help\\r")            # reader thread
        >>> data, more = inbox.take(256)      # loop thread, in drain(); call_soon(drain) again if more
    """

    def __init__(self, wake: Callable[[], None], limit: int = 4096) -> None:
        self._wake = wake
        self.limit = limit
        self._buf = bytearray()
        self._lock = threading.Lock()
        self._posted = False
        self.dropped = 0

    def put(self, data: bytes) -> None:
        with self._lock:
            room = self.limit - len(self._buf)
            if len(data) > room:
                self.dropped += len(data) - max(room, 0)
                data = data[: max(room, 0)]
            self._buf += data
            wake = bool(self._buf) and not self._posted
            self._posted = self._posted or wake
        if wake:
            self._wake()

    def take(self, n: int) -> tuple[bytes, bool]:
        """Up to ``n`` bytes, and whether more wait (then the caller must take again later: no new
        wake-up comes for them)."""
        with self._lock:
            data = bytes(self._buf[:n])
            del self._buf[:n]
            more = bool(self._buf)
            self._posted = more
        return data, more


class SerialPort:
    """A serial port with a reader thread delivering bytes to ``on_bytes``."""

    def __init__(self, path: str, baudrate: int = 115200, *, on_bytes: Callable[[bytes], None],
                 write_timeout_s: float = 2.0, reopen_s: float = 2.0, max_out: int = 4096) -> None:
        self.path = path
        self.baudrate = baudrate
        self.on_bytes = on_bytes
        self.write_timeout_s = write_timeout_s
        self.reopen_s = reopen_s
        self.max_out = max_out
        self._serial: Any = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._writer: threading.Thread | None = None
        self._out: collections.deque[bytes] = collections.deque()
        self._out_len = 0
        self._out_cond = threading.Condition()
        self._gap = False  # output was dropped before what is queued: the writer marks it
        self.dropped = 0  # bytes of output dropped since the port opened
        self.write_failures = 0  # writes the line did not take in time (their rest is lost)

    def _open_serial(self) -> Any:
        import serial

        return serial.Serial(self.path, self.baudrate, bytesize=serial.EIGHTBITS, parity=serial.PARITY_NONE,
                             stopbits=serial.STOPBITS_ONE, timeout=0.2, write_timeout=self.write_timeout_s,
                             xonxoff=False, rtscts=False, dsrdtr=False)

    def open(self) -> None:
        """Open the port (raises if it cannot) and start the reader thread."""
        with self._lock:
            self._serial = self._open_serial()
        self._thread = threading.Thread(target=self._read_loop, name="deskunit-serial", daemon=True)
        self._thread.start()
        self._writer = threading.Thread(target=self._write_loop, name="deskunit-serial-tx", daemon=True)
        self._writer.start()

    @property
    def is_open(self) -> bool:
        return self._serial is not None

    def _read_loop(self) -> None:
        failures = 0
        while not self._stop.is_set():
            ser = self._serial
            if ser is None:
                try:
                    with self._lock:
                        self._serial = ser = self._open_serial()
                    failures = 0
                    log.info("serial console %s reopened", self.path)
                except Exception as e:
                    failures += 1
                    if failures == 1:
                        log.warning("serial console %s cannot open: %s", self.path, e)
                    self._stop.wait(self.reopen_s)
                    continue
            try:
                data = ser.read(max(1, ser.in_waiting))
            except Exception as e:  # pyserial raises SerialException, OSError, TypeError on a lost device
                if self._stop.is_set():
                    return
                log.warning("serial console %s failed: %s", self.path, e)
                self._drop(ser)
                self._stop.wait(self.reopen_s)
                continue
            if data:
                try:
                    self.on_bytes(data)
                except Exception:
                    log.exception("serial console input handler failed")

    def _drop(self, ser: Any) -> None:
        with self._lock:
            if self._serial is ser:
                self._serial = None
        with contextlib.suppress(Exception):
            ser.close()

    def write(self, data: bytes) -> None:
        """Queue ``data`` for the line and return at once (any thread). When more than ``max_out``
        bytes would wait, the oldest go (the newest output, e.g. the answer to what was just typed,
        is the one worth sending) and :data:`DROPPED_MARK` takes their place."""
        if not data or self._serial is None:
            return
        with self._out_cond:
            limit = self.max_out - len(DROPPED_MARK)
            if len(data) > limit:
                self.dropped += len(data) - limit
                data, self._gap = data[-limit:], True
            while self._out and self._out_len + len(data) > limit:
                old = self._out.popleft()
                self._out_len -= len(old)
                self.dropped += len(old)
                self._gap = True
            self._out.append(data)
            self._out_len += len(data)
            self._out_cond.notify()

    @property
    def queued(self) -> int:
        """Bytes waiting for the line."""
        with self._out_cond:
            return self._out_len

    def _write_loop(self) -> None:
        while True:
            with self._out_cond:
                while not self._out and not self._stop.is_set():
                    self._out_cond.wait(0.5)
                if self._stop.is_set():
                    return
                chunk = (DROPPED_MARK if self._gap else b"") + b"".join(self._out)
                self._out.clear()
                self._out_len = 0
                self._gap = False
            ser = self._serial
            if ser is None:
                continue
            try:
                ser.write(chunk)  # blocks at the line's pace, up to write_timeout_s
            except Exception as e:  # SerialTimeoutException (nobody drains the line), SerialException
                self.write_failures += 1
                log.debug("serial console write dropped: %s", e)

    def close(self) -> None:
        self._stop.set()
        with self._out_cond:
            self._out_cond.notify_all()
        ser = self._serial
        for thread in (self._thread, self._writer):
            if thread is not None:
                thread.join(1.0)
        if ser is not None:
            self._drop(ser)
