#!/usr/bin/env python3
"""Key press to DDRAM on the real clock (bus writes per screen: tests/bench/bench_lcd_bus.py).

The unit runs as in `deskunit run --sim`: the event loop on its own thread, the real clock, RPLCD's
real delays on, gpiozero on MockFactory pins. A key press is a pin driven low; we time until the
HD44780 emulator receives the first data byte of the new screen. Prints p50/p99 (aim p99 <= 20 ms).

    python3 tests/bench/bench_keypress_latency.py [--presses 200]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

from firmware.clock import RealClock
from firmware.config import load_config
from hwsim.unit import SimUnit


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--presses", type=int, default=200)
    a = ap.parse_args()
    sim = SimUnit.create(load_config(), RealClock(), real_lcd_delays=True)
    sim.unit.sign_in(7, "Олена Петренко")
    wrote = threading.Event()
    original = sim.lcd._write_data

    def stamped(value: int) -> None:
        wrote.set()
        original(value)

    sim.lcd._write_data = stamped
    sim.start_realtime()
    sim.hook(off=True)
    time.sleep(1.0)

    latencies: list[float] = []
    for i in range(a.presses):
        key = "HOLD" if i % 2 == 0 else "BACK"  # open and close the hold question: a new screen each time
        time.sleep(0.05)
        wrote.clear()
        t0 = time.perf_counter()
        sim.press(key)
        if not wrote.wait(1.0):
            raise SystemExit(f"press {i} ({key}) never reached the LCD")
        latencies.append((time.perf_counter() - t0) * 1000)
        sim.release(key)

    sim.close()

    q = statistics.quantiles(latencies, n=100)
    print(f"key press -> DDRAM ({len(latencies)} presses, real clock, RPLCD delays on):")
    print(f"  p50 {statistics.median(latencies):.2f} ms   p99 {q[98]:.2f} ms   max {max(latencies):.2f} ms")


if __name__ == "__main__":
    main()
