"""A console flood on the simulated UART, for the test and the benchmark: a unit on the real clock
with its console on a 115200-baud null-modem cable, a technician's end that floods it (unknown
commands, then cancelled logins) while a terminal reads, the hook toggled meanwhile, and systemd's
watchdog socket listening. Measures how fast the LCD follows the hook, the gaps between watchdog
pings, the loop's queue, and what the line carried and dropped.
"""

from __future__ import annotations

import socket
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import serial

from deskunit.console_backend import attach_console
from deskunit.systemd import Notifier, supervise
from firmware.clock import RealClock
from firmware.config import load_config
from firmware.pin_hash import hash_pin
from hwsim.probe import SimProbe
from hwsim.pty import NullModemCable
from hwsim.unit import SimUnit

BAUD = 115200
WATCHDOG_USEC = 2_000_000  # pings every 1 s
JUNK = b"x\r"
CANCELLED_LOGIN = b"login\r0000\r\x03"


@dataclass
class FloodReport:
    """What one flood measured (seconds are wall seconds on the real clock)."""

    hook_latencies: list[float] = field(default_factory=list)  # hook moved -> LCD showed it
    hook_misses: int = 0  # the LCD had not followed after the wait
    missed_screens: list[str] = field(default_factory=list)
    watchdog_gaps: list[float] = field(default_factory=list)
    max_loop_queue: int = 0
    sent: int = 0  # bytes the technician's end wrote
    received: int = 0  # bytes it read back
    output_dropped: int = 0  # by the unit's serial writer
    input_dropped: int = 0  # by the unit's inbox
    pin_checks: int = 0
    security_log: str = ""
    answered_after: bool = False  # the console answered `status` after the flood
    tail: str = ""  # the last the technician's terminal showed
    reader_errors: int = 0  # the terminal's reads that failed (and were retried)
    answer_s: float = 0.0  # `status` typed after the flood -> its answer on the terminal
    cpu_s: float = 0.0
    seconds: float = 0.0

    def summary(self) -> dict[str, float]:
        lat = sorted(self.hook_latencies) or [float("nan")]
        return {"hook->LCD p50 s": statistics.median(lat), "hook->LCD max s": lat[-1],
                "hook misses": self.hook_misses,
                "watchdog max gap s": max(self.watchdog_gaps, default=float("nan")),
                "loop queue max": self.max_loop_queue, "sent B": self.sent, "received B": self.received,
                "output dropped B": self.output_dropped, "input dropped B": self.input_dropped,
                "PIN checks": self.pin_checks, "CPU s": self.cpu_s, "wall s": self.seconds,
                "status answer s": self.answer_s}


class _Listener:
    """systemd's notification socket: the times of WATCHDOG=1 datagrams."""

    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.05)
        self.address = str(path)
        self.pings: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            if b"WATCHDOG=1" in data:
                self.pings.append(time.monotonic())

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


def _flood_writer(port: serial.Serial, phases: list[tuple[bytes, float]], stop: threading.Event,
                  report: FloodReport) -> None:
    for pattern, seconds in phases:
        chunk = pattern * max(1, 256 // len(pattern))
        end = time.monotonic() + seconds
        while time.monotonic() < end and not stop.is_set():
            try:
                report.sent += port.write(chunk) or 0  # blocks at the line's pace
            except serial.SerialTimeoutException:
                continue


def _reader(port: serial.Serial, stop: threading.Event, report: FloodReport, seen: bytearray) -> None:
    while not stop.is_set():
        try:
            data = port.read(4096)
        except serial.SerialException:  # "readiness to read but returned no data": a pty hiccup
            report.reader_errors += 1
            time.sleep(0.01)
            continue
        report.received += len(data)
        seen += data
        del seen[:-8192]


def run_flood(state_dir: Path, junk_s: float = 3.0, logins_s: float = 3.0, hook_period_s: float = 0.5,
              iterations: int = 120_000) -> FloodReport:
    """Flood the console with unknown commands for ``junk_s``, then cancelled logins for ``logins_s``,
    moving the hook every ``hook_period_s``; return what was measured."""
    report = FloodReport()
    cfg = load_config(overrides={"console": {"pin_hash": hash_pin("730519", iterations=iterations),
                                             "baudrate": BAUD}})
    sim = SimUnit.create(cfg, RealClock(), state_dir=state_dir)
    sim.unit.sign_in(7, "Олена Петренко")
    cable = NullModemCable(baudrate=BAUD)
    service = attach_console(sim.app, cable.unit_path, probe=SimProbe(sim))
    verify = service.backend.verify_pin

    def counted(pin: str) -> bool:
        report.pin_checks += 1
        return verify(pin)

    service.backend.verify_pin = counted  # type: ignore[method-assign]
    listener = _Listener(state_dir / "notify.sock")
    notifier = Notifier(listener.address)
    supervise(sim.loop, sim.unit, notifier, environ={"WATCHDOG_USEC": str(WATCHDOG_USEC)})
    sim.start_realtime()
    tech = serial.Serial(cable.technician_path, BAUD, timeout=0.05, write_timeout=0.5)
    stop = threading.Event()
    seen = bytearray()
    threads = [threading.Thread(target=_reader, args=(tech, stop, report, seen), daemon=True),
               threading.Thread(target=_flood_writer, daemon=True,
                                args=(tech, [(JUNK, junk_s), (CANCELLED_LOGIN, logins_s)], stop, report))]
    cpu0, t0 = time.process_time(), time.monotonic()
    try:
        for t in threads:
            t.start()
        off = False
        end = t0 + junk_s + logins_s
        while time.monotonic() < end:
            off = not off
            moved = time.monotonic()
            sim.hook(off=off)
            want = "Оператор № 7" if off else "Черга"
            while not sim.shows(want):
                report.max_loop_queue = max(report.max_loop_queue, sim.loop._queue.qsize())
                if time.monotonic() - moved > hook_period_s * 4:
                    report.hook_misses += 1
                    report.missed_screens.append(" | ".join(sim.lcd_rows()))
                    break
                time.sleep(0.002)
            else:
                report.hook_latencies.append(time.monotonic() - moved)
            while time.monotonic() - moved < hook_period_s:
                report.max_loop_queue = max(report.max_loop_queue, sim.loop._queue.qsize())
                time.sleep(0.01)
        flood_end = time.monotonic()
        threads[1].join(5)
        report.cpu_s = time.process_time() - cpu0
        report.seconds = flood_end - t0
        pings = [p for p in listener.pings if t0 <= p <= flood_end]
        edges = [t0, *pings, flood_end]
        report.watchdog_gaps = [b - a for a, b in zip(edges, edges[1:], strict=False)]
        # afterwards the console answers again at once
        time.sleep(1.0)
        tech.write(b"\x03\r")
        time.sleep(0.5)
        seen.clear()
        asked = time.monotonic()
        tech.write(b"status\r")
        while time.monotonic() < asked + 10 and b"records waiting" not in seen:
            time.sleep(0.02)
        report.answered_after = b"records waiting" in seen
        report.answer_s = time.monotonic() - asked
        report.tail = bytes(seen[-400:]).decode("utf-8", "replace")
    finally:
        stop.set()
        for t in threads:
            t.join(2)
        report.output_dropped = service.port.dropped
        report.input_dropped = service.inbox.dropped
        security = state_dir / "console-security.log"
        report.security_log = security.read_text(encoding="utf-8") if security.exists() else ""
        tech.close()
        sim.close()
        cable.close()
        listener.close()
        notifier.close()
    return report
