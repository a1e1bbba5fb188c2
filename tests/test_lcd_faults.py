"""The LCD lives through a loose I2C wire and supply dips: the emulator fails like the module, the HAL heals.

The HD44780 emulator models a controller reset (8-bit mode, display off, garbage DDRAM, deaf until the
init sequence); RPLCD drives it through :class:`hal.lcd.RplcdDisplay` behind :class:`hal.lcd_keeper.LcdKeeper`,
whose timers run on a virtual clock.
"""

from __future__ import annotations

import random

import pytest

from firmware.clock import VirtualClock
from firmware.lcd import encode_screen
from firmware.loop import EventLoop
from hal.lcd_keeper import LcdKeeper, LcdState
from hwsim.hd44780 import HD44780, FakeSMBus, send
from hwsim.lcd import simulated_display

ADDR = 0x27
SCREEN_A = ["Доброго ранку", "Оператор № 7", "Як до Вас звертатися", "00:12 Лінія: добре"]
SCREEN_B = ["Чим можу Вам", "допомогти? Ґанок Їжа", "Зателефонуйте ще раз", "01:45 Лінія: погано"]


def rig(rows: list[str] = SCREEN_A):
    clock = VirtualClock()
    loop = EventLoop(clock, handler=lambda e: None)
    display, lcd, bus = simulated_display(20, 4, "cyrillic")
    keeper = LcdKeeper(lambda: display)
    keeper.start(loop.call_later)
    keeper.show(frame(rows))
    return clock, loop, keeper, lcd, bus


def frame(rows: list[str]):
    return encode_screen(rows, "cyrillic", cols=20, height=4)


def glass_is(lcd: HD44780, rows: list[str]) -> bool:
    want = frame(rows)
    return lcd.display_on and [tuple(r) for r in lcd.screen_codes()] == [tuple(r) for r in want.codes] and all(
        bitmap is None or lcd.cgram_glyph(slot) == tuple(bitmap) for slot, bitmap in enumerate(want.cgram))


def test_a_reset_controller_shows_nothing_until_initialised_by_instruction() -> None:
    bus = FakeSMBus()
    lcd = bus.attach(ADDR, HD44780(16, 2, rom="A02"))
    send(bus, ADDR, [0x3, 0x3, 0x3, 0x2], nibbles=True)
    send(bus, ADDR, [0x28, 0x0C, 0x01, 0x06])
    send(bus, ADDR, b"Hello", data=True)
    assert lcd.rows()[0].startswith("Hello")
    lcd.power_cycle()
    assert lcd.rows() == [" " * 16] * 2 and lcd.eight_bit
    send(bus, ADDR, [0x28, 0x0C, 0x01, 0x06])  # a driver that only redraws, without the init sequence
    send(bus, ADDR, b"Hello", data=True)
    assert not lcd.display_on and lcd.rows() == [" " * 16] * 2
    send(bus, ADDR, [0x3, 0x3, 0x3, 0x2], nibbles=True)
    send(bus, ADDR, [0x28, 0x0C, 0x01, 0x06])
    send(bus, ADDR, b"Hello", data=True)
    assert lcd.rows()[0].startswith("Hello")


def test_a_failed_write_reaches_no_device_and_the_next_one_does() -> None:
    bus = FakeSMBus()
    lcd = bus.attach(ADDR, HD44780())
    bus.fail_next(1)
    with pytest.raises(OSError):
        bus.write_byte(ADDR, 0x00)
    assert lcd.port == 0xFF
    bus.write_byte(ADDR, 0x08)
    assert lcd.port == 0x08 and bus.failed_writes == 1


def test_without_the_keeper_one_lost_write_can_leave_the_glass_wrong() -> None:
    # The plain adapter of before: forget and redraw, but no re-initialisation.
    display, lcd, bus = simulated_display(20, 4, "cyrillic")
    wrong = 0
    for i in range(0, 60):
        display.show(frame(SCREEN_A))
        bus.fail_at([bus.writes + i])
        try:
            display.show(frame(SCREEN_B))
        except OSError:
            display.show(frame(SCREEN_B))
        wrong += not glass_is(lcd, SCREEN_B)
    display.close()
    assert wrong > 0  # so the test below measures something


def test_a_bus_error_at_every_write_of_a_full_redraw_is_healed_within_2_s() -> None:
    clock, loop, keeper, lcd, bus = rig()
    start = bus.writes
    keeper.show(frame(SCREEN_B))
    redraw = bus.writes - start  # writes of one full-screen change, CGRAM included
    assert redraw > 500
    for i in range(redraw):
        keeper.show(frame(SCREEN_A))
        loop.run_until(clock.monotonic() + 2.0)
        assert glass_is(lcd, SCREEN_A)
        bus.fail_at([bus.writes + i])
        t0 = clock.monotonic()
        keeper.show(frame(SCREEN_B))
        loop.run_until(t0 + 2.0)
        assert glass_is(lcd, SCREEN_B), f"write {i}"
    assert keeper.recoveries == bus.failed_writes >= redraw - 1 and keeper.state is LcdState.OK


@pytest.mark.parametrize("seed", range(3))
def test_supply_dips_at_random_moments_are_healed_within_2_s(seed: int) -> None:
    rnd = random.Random(seed)
    clock, loop, keeper, lcd, bus = rig()
    screens = [SCREEN_A, SCREEN_B]
    for n in range(40):
        shown = screens[n % 2]
        if rnd.random() < 0.5:  # during a redraw...
            bus.at_write(bus.writes + rnd.randrange(600), lcd.power_cycle)
            keeper.show(frame(shown))
        else:  # ...or while the screen stands still
            keeper.show(frame(shown))
            loop.run_until(clock.monotonic() + rnd.uniform(0, 1.0))
            lcd.power_cycle()
        t0 = clock.monotonic()
        loop.run_until(t0 + 2.0)
        assert glass_is(lcd, shown), f"dip {n}"


def test_a_module_missing_at_start_is_drawn_once_it_answers() -> None:
    clock = VirtualClock()
    loop = EventLoop(clock, handler=lambda e: None)
    bus = FakeSMBus()
    lcd = HD44780(20, 4)
    from hal.lcd import RplcdDisplay

    keeper = LcdKeeper(lambda: RplcdDisplay(20, 4, bus_factory=lambda port: bus))
    keeper.start(loop.call_later)
    keeper.show(frame(SCREEN_A))
    loop.run_until(10.0)
    assert keeper.state is LcdState.MISSING
    bus.attach(ADDR, lcd)  # plugged in
    loop.run_until(16.0)
    assert keeper.state is LcdState.OK and glass_is(lcd, SCREEN_A)
