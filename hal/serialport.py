"""The technician's serial line through pyserial: 8N1 at the configured speed, a reader thread.

pyserial is imported when the port opens, never at module import. The same code opens the Pi's
UART (``/dev/serial0``), a USB gadget serial (``/dev/ttyGS0``) or, in the simulator, one end of a
pty cable (:mod:`hwsim.pty`):

    >>> port = SerialPort("/dev/serial0", 115200, on_bytes=lambda data: loop.call_soon(console.feed, data))
    >>> port.open()
    >>> port.write(b"deskunit> ")
    >>> port.close()

``on_bytes`` runs on the reader thread. A port that fails (a USB gadget unplugged) is reopened
every ``reopen_s``; writes never block for longer than ``write_timeout_s`` and are dropped when the
line cannot take them, so a console never stalls the unit.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class SerialPort:
    """A serial port with a reader thread delivering bytes to ``on_bytes``."""

    def __init__(self, path: str, baudrate: int = 115200, *, on_bytes: Callable[[bytes], None],
                 write_timeout_s: float = 0.5, reopen_s: float = 2.0) -> None:
        self.path = path
        self.baudrate = baudrate
        self.on_bytes = on_bytes
        self.write_timeout_s = write_timeout_s
        self.reopen_s = reopen_s
        self._serial: Any = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

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
        """Send ``data``; when the line is down or will not take it in time, it is dropped."""
        ser = self._serial
        if ser is None or not data:
            return
        try:
            ser.write(data)
        except Exception as e:  # SerialTimeoutException (nobody drains the line), SerialException
            log.debug("serial console write dropped: %s", e)

    def close(self) -> None:
        self._stop.set()
        ser = self._serial
        if self._thread is not None:
            self._thread.join(1.0)
        if ser is not None:
            self._drop(ser)
