"""Serial lines for the simulator: pseudo-terminals anyone can attach to like a real serial port.

:class:`PtyPair` is one raw pty: its ``slave_path`` (e.g. ``/dev/pts/5``) opens with pyserial,
picocom or screen; the master file descriptor is the far end of the wire.

:class:`NullModemCable` joins two pty pairs the way a null-modem cable joins two UARTs: bytes the
unit writes on its end come out at the technician's end and back. Both ends are ordinary tty
devices, so the unit runs the *same* pyserial code as on a Pi's ``/dev/serial0`` while a technician
(or a test) attaches to the other end::

    >>> cable = NullModemCable()
    >>> unit_port = serial.Serial(cable.unit_path)          # what hal.serialport opens
    >>> tech = serial.Serial(cable.technician_path)         # picocom /dev/pts/N works too
    >>> tech.write(b"help\\r"); unit_port.read(5)
    b'help\\r'
    >>> cable.close()

Output sent while nobody is attached is dropped, as on a real line with no one listening.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import termios
import threading
import tty

CHUNK = 4096


class PtyPair:
    """One pseudo-terminal in raw mode (no echo, no line editing, no CR/LF translation).

    The slave side is also kept open here: while no one else has it open, the master would read
    EIO (a "hung-up" line); holding it keeps the line up between technicians' sessions.
    """

    def __init__(self) -> None:
        self.master_fd, self._slave_fd = os.openpty()
        tty.setraw(self._slave_fd, termios.TCSANOW)
        tty.setraw(self.master_fd, termios.TCSANOW)
        self.slave_path = os.ttyname(self._slave_fd)
        os.set_blocking(self.master_fd, False)

    def discard_unread(self) -> None:
        """Drop bytes waiting for a reader on the slave side (nobody attached read them)."""
        with contextlib.suppress(termios.error, OSError):
            termios.tcflush(self._slave_fd, termios.TCIFLUSH)

    def close(self) -> None:
        for fd in (self.master_fd, self._slave_fd):
            with contextlib.suppress(OSError):
                os.close(fd)


class NullModemCable:
    """Two pty pairs with a relay thread between their masters; see the module docstring."""

    def __init__(self) -> None:
        self._unit = PtyPair()
        self._tech = PtyPair()
        self.unit_path = self._unit.slave_path
        self.technician_path = self._tech.slave_path
        self._wake_r, self._wake_w = os.pipe()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._relay, name="sim-serial-cable", daemon=True)
        self._thread.start()

    def _relay(self) -> None:
        ends = {self._unit.master_fd: self._tech, self._tech.master_fd: self._unit}
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([*ends, self._wake_r], [], [], 0.5)
            except (OSError, ValueError):
                return
            for fd in ready:
                if fd == self._wake_r:
                    return
                try:
                    data = os.read(fd, CHUNK)
                except BlockingIOError:
                    continue
                except OSError as e:
                    if e.errno == errno.EIO:
                        continue
                    return
                if data:
                    self._forward(ends[fd], data)

    @staticmethod
    def _forward(to: PtyPair, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(to.master_fd, view):]
            except BlockingIOError:
                # Nobody reads that end: like a UART with no one listening, the bytes are lost.
                to.discard_unread()
                return
            except OSError:
                return

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")
        self._thread.join(2.0)
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._unit.close()
        self._tech.close()

    def __enter__(self) -> NullModemCable:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
