"""A console flood on the simulated 115200-baud UART (issue 18, point 1): unknown commands, then
cancelled logins, at line rate. The LCD follows the hook within a second all along, the watchdog
is fed, PBKDF2 runs a handful of times rather than once per attempt, the loop's queue stays short,
and the console answers at once afterwards. Wall figures: tests/bench/bench_console_flood.py."""

from __future__ import annotations

import threading
import time

from console_flood import WATCHDOG_USEC, run_flood

from firmware.console.settings import FAIL_DELAY_S
from hwsim.pty import NullModemCable


def test_flood_on_the_uart_leaves_the_unit_responsive(tmp_path):
    r = run_flood(tmp_path, junk_s=3.0, logins_s=3.0, iterations=20_000)
    assert r.hook_misses == 0 and len(r.hook_latencies) >= 10
    assert max(r.hook_latencies) < 1.0, r.summary()  # the LCD followed the hook within a second
    assert max(r.watchdog_gaps) < WATCHDOG_USEC / 1e6, r.summary()  # systemd would not have killed it
    assert r.max_loop_queue < 100, r.summary()  # input reaches the loop in slices, not one event per read
    assert r.sent > 2 * 11520  # the flood really ran at line rate for seconds
    # one PIN check at a time and a wait after each wrong one (not a PBKDF2 thread per attempt)
    assert 1 <= r.pin_checks <= 1 + 3.0 / FAIL_DELAY_S, r.summary()
    assert r.security_log.count("login failed") == r.pin_checks  # each one counted and logged
    assert r.answered_after


def test_the_cable_carries_bytes_at_the_baud_rate():
    """115200 baud, 8N1: 11520 bytes a second, whatever the CPU could do."""
    import serial

    with NullModemCable(baudrate=115200) as cable:
        unit = serial.Serial(cable.unit_path, 115200, timeout=0.05, write_timeout=5)
        tech = serial.Serial(cable.technician_path, 115200, timeout=0.05)
        try:
            t0 = time.monotonic()
            writer = threading.Thread(target=unit.write, args=(bytes(23040),), daemon=True)
            writer.start()  # blocks while the line is busy, as on a UART
            got = 0
            while got < 23040 and time.monotonic() - t0 < 10:
                got += len(tech.read(4096))
            took = time.monotonic() - t0
            writer.join(5)
        finally:
            unit.close()
            tech.close()
    assert got == 23040
    assert took >= 0.9 * 23040 / 11520  # two seconds of line, never faster
