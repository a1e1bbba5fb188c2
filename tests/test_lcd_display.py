"""RPLCD's real driver, through hal.lcd.RplcdDisplay, writing to the HD44780 emulator."""

from __future__ import annotations

import time

import pytest

from firmware.lcd import encode_screen, layout
from firmware.lcd.glyphs import GLYPHS
from firmware.lcd.rom import fold_lookalikes
from hwsim.lcd import simulated_display

BYTE = 8  # bus writes per byte via RPLCD on a PCF8574: 2 nibbles x (data, EN low, EN high, EN low)


@pytest.fixture
def sim20x4():
    display, lcd, bus = simulated_display(20, 4, "cyrillic")
    yield display, lcd, bus
    display.close()


def seen(lcd, rom: str | None = None) -> str:
    return fold_lookalikes(" ".join(" ".join(lcd.rows(rom)).split()))


def meant(text: str) -> str:
    return fold_lookalikes(" ".join(text.split()))


def test_greeting_and_introduction_reach_the_glass_in_cyrillic(sim20x4) -> None:
    display, lcd, _ = sim20x4
    display.show(encode_screen(["Доброго ранку!", "Оператор № 7", "Олена Петренко"], "cyrillic", 20))
    assert lcd.display_on and lcd.backlight
    assert seen(lcd) == meant("Доброго ранку! Оператор № 7 Олена Петренко")
    assert lcd.rows()[1] == "Oпepaтop № 7".ljust(20)  # look-alikes are the Latin cells


def test_russian_greeting(sim20x4) -> None:
    display, lcd, _ = sim20x4
    display.show(encode_screen(["Здравствуйте!", "Чем могу помочь?"], "cyrillic", 20))
    assert seen(lcd) == meant("Здравствуйте! Чем могу помочь?")


def test_ukrainian_letters_drawn_from_cgram(sim20x4) -> None:
    display, lcd, _ = sim20x4
    text = ["Їжак їсть ґудзик", "Євген з Ґалаґана"]
    display.show(encode_screen(text, "cyrillic", 20))
    assert seen(lcd) == meant(" ".join(text))
    assert lcd.cgram_glyph(0) == GLYPHS["Ї"]


def test_same_letters_on_a00_are_transliterated() -> None:
    display, lcd, _ = simulated_display(20, 4, "A00")
    try:
        display.show(encode_screen(["Їжак їсть ґудзик", "Євген з Ґалаґана"], "A00", 20))
        assert lcd.rows()[:2] == ["Yizhak yist gudzyk".ljust(20), "Yevhen z Galagana".ljust(20)]
    finally:
        display.close()


def test_new_glyph_in_a_used_slot_updates_cells_without_rewriting_them(sim20x4) -> None:
    display, lcd, bus = sim20x4
    display.show(encode_screen(["Єва"], "cyrillic", 20, height=4))
    bus.writes = 0
    display.show(encode_screen(["Їва"], "cyrillic", 20, height=4))
    assert lcd.rows()[0].startswith("Ївa")
    # one create_char: set CGRAM address + 8 rows + restore DDRAM address; no cell rewritten
    assert bus.writes == 10 * BYTE


def test_countdown_tick_changing_two_digits_costs_three_bytes(sim20x4) -> None:
    display, lcd, bus = sim20x4
    screen = ["Встановлюю зв'язок", "{}", "", "BACK - завершити"]
    display.show(encode_screen([r.format("0:10") for r in screen], "cyrillic", 20))
    bus.writes = 0
    display.show(encode_screen([r.format("0:09") for r in screen], "cyrillic", 20))
    assert lcd.rows()[1].startswith("0:09")
    assert bus.writes <= 24
    bus.writes = 0
    display.show(encode_screen([r.format("0:08") for r in screen], "cyrillic", 20))
    assert bus.writes == 2 * BYTE


def test_unchanged_frame_costs_nothing(sim20x4) -> None:
    display, _, bus = sim20x4
    frame = encode_screen(["Ї" * 20] * 4, "cyrillic", 20)
    display.show(frame)
    bus.writes = 0
    display.show(frame)
    assert bus.writes == 0


def test_full_redraw_cost_is_one_address_per_row_and_a_byte_per_cell(sim20x4) -> None:
    display, lcd, bus = sim20x4
    display.show(encode_screen(["a" * 20] * 4, "cyrillic", 20))
    bus.writes = 0
    display.show(encode_screen(["b" * 20] * 4, "cyrillic", 20))
    assert bus.writes == (4 + 80) * BYTE
    assert lcd.rows() == ["b" * 20] * 4


@pytest.mark.parametrize(("cols", "rows"), [(16, 2), (20, 4)])
def test_long_apology_pages_through_the_glass(cols: int, rows: int) -> None:
    text = (
        "Просимо вибачення за неякісне обслуговування, надалі ці недоліки ми обов’язково "
        "врахуємо в роботі та терміново їх усунемо"
    )
    display, lcd, _ = simulated_display(cols, rows, "cyrillic")
    try:
        pages_seen = []
        for page in layout(text, cols, rows, "cyrillic"):
            frame = encode_screen(page, "cyrillic", cols)
            assert frame.unmapped == 0
            display.show(frame)
            assert all(len(r) == cols for r in lcd.rows())
            pages_seen.append(seen(lcd))
        assert " ".join(pages_seen) == meant(text.replace("’", "'"))
    finally:
        display.close()


def test_short_frame_blanks_the_rows_below(sim20x4) -> None:
    display, lcd, _ = sim20x4
    display.show(encode_screen(["1", "2", "3", "4"], "cyrillic", 20))
    display.show(encode_screen(["1"], "cyrillic", 20))
    assert [r.strip() for r in lcd.rows()] == ["1", "", "", ""]


def test_frame_of_the_wrong_width_is_refused(sim20x4) -> None:
    display, _, _ = sim20x4
    with pytest.raises(ValueError):
        display.show(encode_screen(["x"], "cyrillic", 16))


def test_clear_and_close(sim20x4) -> None:
    display, lcd, bus = sim20x4
    display.show(encode_screen(["x"], "cyrillic", 20))
    display.clear()
    assert lcd.rows() == [" " * 20] * 4
    display.show(encode_screen(["x"], "cyrillic", 20))  # the adapter knows the glass is blank
    assert lcd.rows()[0].startswith("x")
    display.close()
    assert bus.closed


def test_backlight_switch(sim20x4) -> None:
    display, lcd, _ = sim20x4
    display.backlight = False
    assert not lcd.backlight and not display.backlight
    display.backlight = True
    assert lcd.backlight


def test_i2c_error_mid_frame_then_redraw_everything(sim20x4) -> None:
    display, lcd, bus = sim20x4
    display.show(encode_screen(["aaaa"], "cyrillic", 20))
    device = bus.devices[0x27]
    bus.detach(0x27)  # the backpack's cable drops out
    with pytest.raises(OSError):
        display.show(encode_screen(["bbbb"], "cyrillic", 20))
    bus.attach(0x27, device)
    display.show(encode_screen(["bbbb"], "cyrillic", 20))
    assert lcd.rows()[0].startswith("bbbb")


def test_replugged_display_is_reinitialised_by_a_new_adapter() -> None:
    display, lcd, bus = simulated_display(16, 2, "cyrillic")
    display.show(encode_screen(["old"], "cyrillic", 16))
    from hal.lcd import RplcdDisplay

    again = RplcdDisplay(cols=16, rows=2, bus_factory=lambda port: bus)  # e.g. after a daemon restart
    again.show(encode_screen(["new"], "cyrillic", 16))
    assert lcd.rows()[0].startswith("new")
    again.close()


def test_fast_mode_skips_rplcd_sleeps_for_its_own_display_only(monkeypatch) -> None:
    """A fast simulated display never sleeps, while RPLCD itself (any other display) still does."""
    import time as time_module

    from RPLCD import common

    real = common.usleep
    slept: list[float] = []
    monkeypatch.setattr(time_module, "sleep", slept.append)
    display, lcd, _ = simulated_display(20, 4, "cyrillic", fast=True)
    display.show(encode_screen(["fast"] * 4, "cyrillic", 20))
    display.close()
    assert slept == [] and lcd.rows()[0].startswith("fast")
    assert common.usleep is real
    slow, _, _ = simulated_display(16, 2, "cyrillic", fast=False)
    slow.close()
    assert slept  # RPLCD's own waits, through time.sleep


def test_a_simulated_power_cycle_keeps_the_lcd_without_waits(monkeypatch, tmp_path) -> None:
    """After SimUnit's power cut and boot the LCD is driven as before it: a boot that gave RPLCD back its
    real sleeps made every virtual-time test after a cut run 50 times slower (10 idle hours: 200 s)."""
    import time as time_module
    from datetime import datetime

    from firmware.clock import VirtualClock
    from firmware.config import load_config
    from hwsim.unit import SimUnit

    clock = VirtualClock(datetime.fromisoformat("2026-11-23T08:00:00+02:00"))
    sim = SimUnit.create(load_config(overrides={"lcd": {"size": "16x2"}}, simulator=True), clock,
                         state_dir=tmp_path)
    sim.unit.sign_in(7, "Олена Петренко")
    sim.power_cut()
    sim.advance(10.0)
    slept: list[float] = []
    monkeypatch.setattr(time_module, "sleep", slept.append)
    sim.power_on()
    sim.advance(30.0)  # the boot's initialisation and ten idle pages
    rows = sim.lcd_rows()
    sim.close()
    assert slept == [] and any(row.strip() for row in rows)


@pytest.mark.slow
def test_real_rplcd_delays_are_kept_without_fast() -> None:
    display, lcd, _ = simulated_display(16, 2, "cyrillic", fast=False)
    try:
        start = time.perf_counter()
        display.show(encode_screen(["x" * 16] * 2, "cyrillic", 16))
        assert time.perf_counter() - start > 34 * 2 * 100e-6  # >= 0.1 ms per nibble
        assert lcd.rows()[0] == "x" * 16
    finally:
        display.close()
