"""LCD recovery: a bus error at every write index of a full-screen redraw, and supply dips at random
moments; prints how many times the screen was whole again within 2 s, and the time it took (unit
time, stepped in 10 ms), p50 / max.

    python3 tests/bench/bench_lcd_recovery.py [--dips 500] [--seed 1]
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from test_lcd_faults import SCREEN_A, SCREEN_B, frame, glass_is, rig  # noqa: E402

STEP_S = 0.01
LIMIT_S = 2.0


def time_to_whole(clock, loop, lcd, rows) -> float | None:
    t0 = clock.monotonic()
    while clock.monotonic() - t0 <= LIMIT_S + 1e-9:
        if glass_is(lcd, rows):
            return clock.monotonic() - t0
        loop.run_until(clock.monotonic() + STEP_S)
    return None


def report(name: str, times: list[float | None]) -> None:
    ok = [t for t in times if t is not None]
    print(f"{name}: whole within {LIMIT_S:g} s in {len(ok)}/{len(times)}; "
          f"time to whole p50 {statistics.median(ok) * 1000:.0f} ms, max {max(ok) * 1000:.0f} ms")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dips", type=int, default=500)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    logging.disable(logging.WARNING)

    clock, loop, keeper, lcd, bus = rig()
    start = bus.writes
    keeper.show(frame(SCREEN_B))
    redraw = bus.writes - start
    times: list[float | None] = []
    for i in range(redraw):
        keeper.show(frame(SCREEN_A))
        loop.run_until(clock.monotonic() + LIMIT_S)
        bus.fail_at([bus.writes + i])
        keeper.show(frame(SCREEN_B))
        times.append(time_to_whole(clock, loop, lcd, SCREEN_B))
    report(f"bus error at each of the {redraw} writes of a full 20x4 redraw", times)

    rnd = random.Random(args.seed)
    times = []
    for n in range(args.dips):
        shown = (SCREEN_A, SCREEN_B)[n % 2]
        if rnd.random() < 0.5:
            bus.at_write(bus.writes + rnd.randrange(redraw), lcd.power_cycle)
            keeper.show(frame(shown))
        else:
            keeper.show(frame(shown))
            loop.run_until(clock.monotonic() + rnd.uniform(0, 1.0))
            lcd.power_cycle()
        times.append(time_to_whole(clock, loop, lcd, shown))
    report(f"supply dip at {args.dips} random moments (half mid-redraw)", times)


if __name__ == "__main__":
    main()
