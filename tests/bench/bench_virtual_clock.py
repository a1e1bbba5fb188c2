#!/usr/bin/env python3
"""How fast the simulator runs unit time: idle, and in a call with the line analyzer working.

    python3 tests/bench/bench_virtual_clock.py
"""

from __future__ import annotations

import time
from datetime import datetime

from firmware.clock import VirtualClock
from firmware.config import load_config
from hwsim.unit import SimUnit


def timed(minutes: float, call: bool) -> float:
    clock = VirtualClock(datetime.fromisoformat("2026-11-23T09:15:00+02:00"))
    sim = SimUnit.create(load_config(), clock)
    sim.unit.sign_in(7, "Олена Петренко")
    if call:
        sim.hook(off=True)
    t0 = time.perf_counter()
    sim.advance(minutes * 60)
    wall = time.perf_counter() - t0
    sim.close()
    return wall


def main() -> None:
    idle = timed(10, call=False)
    busy = timed(10, call=True)
    print(f"10 min of unit time, idle:            {idle * 1000:7.1f} ms wall ({600 / idle:,.0f}x real time)")
    print(f"10 min of unit time, in a call+audio: {busy * 1000:7.1f} ms wall ({600 / busy:,.0f}x real time)")


if __name__ == "__main__":
    main()
