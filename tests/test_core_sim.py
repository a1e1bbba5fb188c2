"""The foundation end to end: real gpiozero, RPLCD and SQLite against the simulator, on a virtual clock."""

from __future__ import annotations

from firmware.clock import VirtualClock
from firmware.events import KeyDown
from firmware.loop import EventLoop


def test_off_hook_greets_and_introduces_the_operator(make_sim):
    sim = make_sim(clock="2026-11-23T09:15:00+02:00")
    assert not sim.shows("Доброго")
    sim.hook(off=True)
    sim.advance(0.5)
    assert sim.shows("Доброго ранку")
    assert sim.shows("Оператор № 7") and sim.shows("Петренко")
    assert sim.led("line") == "green" and sim.led("hold") == "off"


def test_on_hook_returns_to_idle_and_turns_leds_off(make_sim):
    sim = make_sim()
    sim.hook(off=True)
    sim.advance(3)
    sim.hook(off=False)
    sim.advance(1)
    assert sim.shows("Черга")  # the idle screen
    assert [sim.led(n) for n in ("line", "hold", "sync")] == ["off", "off", "off"]
    record = sim.journal.latest()
    assert record["operator"] == 7 and record["greeting"] == "morning" and record["outcome"] == "answered"


def test_a_key_pressed_on_a_gpio_pin_changes_the_screen(make_sim):
    sim = make_sim()
    sim.hook(off=True)
    sim.advance(1)
    before = sim.lcd_rows()
    pin = sim.panel.key_pins["HOLD"]  # gpiozero's MockPin for the HOLD key
    pin.drive_low()
    sim.advance(0.1)
    pin.drive_high()
    sim.advance(0.1)
    assert sim.lcd_rows() != before
    assert sim.shows("OK")  # the consent question, answered with OK


def test_keypad_matrix_is_scanned_through_real_gpiozero_devices(make_sim):
    sim = make_sim()
    seen: list[str] = []
    sim.loop.add_filter(lambda e: isinstance(e, KeyDown) and not seen.append(e.key))
    for key in "159*0#":
        sim.press(key)
        sim.advance(0.05)
        sim.release(key)
        sim.advance(0.05)
    assert seen == list("159*0#")
    rows = [sim.board.gpio(p).state for p in sim.cfg["pins"]["keypad_rows"]]
    assert rows == [False] * 4  # all rows back low, waiting for the next key


def test_idle_clock_follows_the_virtual_wall_clock(make_sim):
    sim = make_sim(clock="2026-11-23T09:15:00+02:00")
    sim.advance(10 * 60 + 1)
    assert sim.shows("09:25")


def test_untrusted_clock_says_so_and_greets_neutrally(make_sim):
    sim = make_sim(clock=None)
    assert sim.shows("Час не перевірено")
    sim.hook(off=True)
    sim.advance(0.5)
    assert sim.shows("Вітаю")
    assert not sim.shows("Доброго")


def test_timers_fire_at_their_virtual_time():
    clock = VirtualClock()
    fired: list[float] = []
    loop = EventLoop(clock, handler=lambda e: None)
    loop.call_later(180.0, lambda: fired.append(clock.monotonic()))
    loop.call_later(3600.0 * 8, lambda: fired.append(clock.monotonic()))
    ticks: list[float] = []
    handle = loop.call_every(1.0, lambda: ticks.append(clock.monotonic()))
    loop.run_until(3600.0 * 8 + 1)
    handle.cancel()
    assert fired == [180.0, 28800.0]
    assert len(ticks) == 28801 and ticks[-1] == 28801.0  # every second of eight hours, none lost


def test_a_failing_handler_does_not_stop_the_loop():
    clock = VirtualClock()
    handled: list[str] = []

    def handler(event):
        if event.key == "BAD":
            raise RuntimeError("boom")
        handled.append(event.key)

    loop = EventLoop(clock, handler)
    for key in ("OK", "BAD", "UP"):
        loop.post(KeyDown(key))
    loop.run_pending()
    assert handled == ["OK", "UP"]
