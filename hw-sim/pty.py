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

The cable runs at a baud rate (``NullModemCable(baudrate=115200)``, 8N1: ten bits a byte), in both
directions: bytes cross at ``baudrate / 10`` per second, so a writer that sends faster than that fills
its end's buffer and then blocks in ``write`` (pyserial's ``write_timeout`` fires), as it would on
a UART whose transmit buffer is full. The kernel's pty buffer (tens of kB) stands in for the UART
driver's transmit buffer. ``baudrate=None`` moves bytes as fast as the CPU allows.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import termios
import threading
import time
import tty

CHUNK = 4096
#: The most a line moves in one go, in seconds of its rate (a UART's FIFO burst, and the relay's tick).
BURST_S = 0.01


class LinePace:
    """A token bucket at ``bytes_per_s``: how many bytes may cross now, and how long until one may."""

    def __init__(self, bytes_per_s: float, clock=time.monotonic) -> None:
        self.rate = bytes_per_s
        self.burst = max(1.0, bytes_per_s * BURST_S)
        self._clock = clock
        self._tokens = self.burst
        self._t = clock()

    def allowed(self) -> int:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._t) * self.rate)
        self._t = now
        return int(self._tokens)

    def spend(self, n: int) -> None:
        self._tokens -= n

    def wait_s(self) -> float:
        return max(0.0, (1.0 - self._tokens) / self.rate)


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

    def __init__(self, baudrate: int | None = 115200) -> None:
        self.baudrate = baudrate
        self.lost = 0  # bytes dropped because nobody read the far end
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
        paces = {fd: LinePace(self.baudrate / 10) for fd in ends} if self.baudrate else {}
        while not self._stop.is_set():
            # a direction whose line is busy is not read: its bytes wait (and its writer blocks)
            readable = [fd for fd in ends if not paces or paces[fd].allowed() > 0]
            timeout = 0.5 if len(readable) == len(ends) else min(paces[fd].wait_s() for fd in ends
                                                                 if fd not in readable)
            try:
                ready, _, _ = select.select([*readable, self._wake_r], [], [], timeout)
            except (OSError, ValueError):
                return
            for fd in ready:
                if fd == self._wake_r:
                    return
                try:
                    data = os.read(fd, min(CHUNK, paces[fd].allowed()) if paces else CHUNK)
                    if paces:
                        paces[fd].spend(len(data))
                except BlockingIOError:
                    continue
                except OSError as e:
                    if e.errno == errno.EIO:
                        continue
                    return
                if data:
                    self._forward(ends[fd], data)

    def _forward(self, to: PtyPair, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(to.master_fd, view):]
            except BlockingIOError:
                # Nobody reads that end: like a UART with no one listening, the bytes are lost.
                to.discard_unread()
                self.lost += len(view)
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
