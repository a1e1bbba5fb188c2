"""Bus traffic and wall time of the LCD path: RPLCD -> PCF8574 -> HD44780 emulator.

Run: ``python tests/bench/bench_lcd_bus.py``.  Prints bus writes (I2C write transactions: address
plus one data byte on the wire, ~0.2 ms each at 100 kHz) for a countdown tick, a full 20x4 phrase
screen and a full 16x2 screen, and the wall time of a full screen with RPLCD's real delays (the
emulator adds no wire time, so real hardware is slower by roughly writes x 0.2 ms).
"""

from __future__ import annotations

import time

from firmware.lcd import encode_screen, layout
from hwsim.lcd import simulated_display

APOLOGY = (
    "Просимо вибачення за неякісне обслуговування, надалі ці недоліки ми обов’язково "
    "врахуємо в роботі та терміново їх усунемо"
)
COUNTDOWN = ["Вас не чути", "Зв'язок: {}", "", "OK - ще раз"]


def countdown_tick(before: str, after: str) -> int:
    display, _, bus = simulated_display(20, 4, "cyrillic")
    with display:
        display.show(encode_screen([r.format(before) for r in COUNTDOWN], "cyrillic", 20))
        bus.writes = 0
        display.show(encode_screen([r.format(after) for r in COUNTDOWN], "cyrillic", 20))
        return bus.writes


def full_screens(cols: int, rows: int, fast: bool = True) -> tuple[list[int], list[float]]:
    """Bus writes and seconds per page when paging the apology (every page differs entirely)."""
    display, lcd, bus = simulated_display(cols, rows, "cyrillic", fast=fast)
    writes, seconds = [], []
    with display:
        for page in layout(APOLOGY, cols, rows, "cyrillic"):
            frame = encode_screen(page, "cyrillic", cols)
            # a screen of other text first, so the page is a full redraw rather than a first draw
            display.show(encode_screen(["#" * cols] * rows, "cyrillic", cols))
            bus.writes = 0
            start = time.perf_counter()
            display.show(frame)
            seconds.append(time.perf_counter() - start)
            writes.append(bus.writes)
    return writes, seconds


def main() -> None:
    print("LCD bus writes (RPLCD 1.x via hal.lcd.RplcdDisplay, PCF8574 backpack, HD44780 emulator)")
    print(f"  countdown tick 0:09 -> 0:08 (1 digit)   : {countdown_tick('0:09', '0:08'):5d} writes")
    print(f"  countdown tick 0:10 -> 0:09 (2 digits)  : {countdown_tick('0:10', '0:09'):5d} writes")
    print(f"  countdown tick 1:00 -> 0:59 (3 digits)  : {countdown_tick('1:00', '0:59'):5d} writes")
    for cols, rows in ((20, 4), (16, 2)):
        writes, _ = full_screens(cols, rows)
        print(
            f"  full {cols}x{rows} phrase page (apology) : {max(writes):5d} writes max, "
            f"{sum(writes) / len(writes):.0f} mean over {len(writes)} pages (incl. CGRAM uploads)"
        )
        print(f"  full {cols}x{rows} redraw, every cell    : {(rows + cols * rows) * 8:5d} writes (computed)")
    for cols, rows in ((20, 4), (16, 2)):
        writes, seconds = full_screens(cols, rows, fast=False)
        print(
            f"  wall time per full {cols}x{rows} page, real RPLCD delays: "
            f"{1000 * max(seconds):.1f} ms max, {1000 * sum(seconds) / len(seconds):.1f} ms mean"
        )


if __name__ == "__main__":
    main()
