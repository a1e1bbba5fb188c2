"""The HD44780 + PCF8574 emulator, driven nibble by nibble over the fake bus as a driver would."""

from __future__ import annotations

import errno

import pytest

from firmware.lcd.glyphs import GLYPHS
from hwsim.hd44780 import BL, EN, HD44780, FakeSMBus, send

ADDR = 0x27


def ready(cols: int = 20, rows: int = 4, rom: str = "A02") -> tuple[HD44780, FakeSMBus]:
    """An emulator initialised by instruction into 4-bit, 2-line, display on, increment."""
    bus = FakeSMBus()
    lcd = bus.attach(ADDR, HD44780(cols=cols, rows=rows, rom=rom))
    send(bus, ADDR, [0x3, 0x3, 0x3, 0x2], nibbles=True)
    send(bus, ADDR, [0x28, 0x0C, 0x01, 0x06])
    return lcd, bus


def write(bus: FakeSMBus, text: str) -> None:
    send(bus, ADDR, text.encode("ascii"), data=True)


def test_power_on_state_is_8bit_one_line_display_off() -> None:
    lcd = HD44780()
    assert (lcd.eight_bit, lcd.two_line, lcd.display_on) == (True, False, False)
    assert lcd.rows() == [" " * 20] * 4


def test_init_sequence_switches_to_4bit_and_text_lands_in_row_order() -> None:
    lcd, bus = ready()
    assert not lcd.eight_bit and lcd.two_line and lcd.display_on
    write(bus, "Hello")
    send(bus, ADDR, [0x80 | 0x40])
    write(bus, "row2")
    send(bus, ADDR, [0x80 | 0x14])
    write(bus, "row3")
    send(bus, ADDR, [0x80 | 0x54])
    write(bus, "row4")
    assert [r.rstrip() for r in lcd.rows()] == ["Hello", "row2", "row3", "row4"]


def test_row1_overflows_into_row3_on_a_20x4() -> None:
    lcd, bus = ready()
    write(bus, "A" * 20 + "B")
    assert lcd.rows()[0] == "A" * 20
    assert lcd.rows()[2].rstrip() == "B"
    assert lcd.rows()[1].strip() == ""


def test_reinit_while_already_in_4bit_mode_with_a_half_sent_byte_resyncs() -> None:
    # The Pi restarted mid-transfer: the controller is in 4-bit mode holding one nibble.
    lcd, bus = ready()
    send(bus, ADDR, [0x4], nibbles=True)
    assert lcd._pending_nibble == 0x4
    # RPLCD-style init: command(0x03) sends the nibbles 0x0 then 0x3, three times, then 0x0 0x2.
    send(bus, ADDR, [0x03, 0x03, 0x03, 0x02])
    send(bus, ADDR, [0x28, 0x0C, 0x01, 0x06])
    write(bus, "ok")
    assert not lcd.eight_bit and lcd.rows()[0].rstrip() == "ok"


def test_entry_mode_decrement_writes_right_to_left() -> None:
    lcd, bus = ready(16, 2)
    send(bus, ADDR, [0x04, 0x80 | 5])  # decrement, no shift; start at column 5
    write(bus, "abc")
    assert lcd.rows()[0] == "   cba          "
    assert lcd.address == 2


def test_decrement_from_line2_start_wraps_to_end_of_line1() -> None:
    lcd, bus = ready(16, 2)
    send(bus, ADDR, [0x04, 0x80 | 0x40])
    write(bus, "xy")
    assert lcd.ddram[40] == ord("x") and lcd.ddram[39] == ord("y")
    assert lcd.address == 0x26


def test_display_shift_on_write_moves_the_text_not_the_cursor() -> None:
    lcd, bus = ready(16, 2)
    send(bus, ADDR, [0x07, 0x80 | 16])  # increment with display shift, write just off-screen
    write(bus, "AB")
    assert lcd.rows()[0] == " " * 14 + "AB"
    send(bus, ADDR, [0x1C])  # shift the display right by one
    assert lcd.rows()[0] == " " * 15 + "A"


def test_shift_left_then_home_restores_the_window() -> None:
    lcd, bus = ready(16, 2)
    write(bus, "0123456789")
    send(bus, ADDR, [0x18, 0x18])  # display shift left twice
    assert lcd.rows()[0].startswith("23456789")
    send(bus, ADDR, [0x02])
    assert lcd.rows()[0].startswith("0123") and lcd.address == 0


def test_clear_blanks_ddram_resets_address_and_entry_direction() -> None:
    lcd, bus = ready()
    send(bus, ADDR, [0x04])  # decrement
    write(bus, "zz")
    send(bus, ADDR, [0x01])
    assert lcd.rows() == [" " * 20] * 4
    assert lcd.address == 0 and lcd.increment and lcd.shift == 0


def test_display_off_hides_text_but_keeps_ddram() -> None:
    lcd, bus = ready(16, 2)
    write(bus, "kept")
    send(bus, ADDR, [0x08])
    assert not lcd.display_on and lcd.rows() == [" " * 16] * 2
    assert lcd.screen_codes()[0][:4] == tuple(b"kept")
    send(bus, ADDR, [0x0F])
    assert lcd.display_on and lcd.cursor_on and lcd.blink_on
    assert lcd.rows()[0].startswith("kept")


def test_cgram_addressing_and_codes_0_to_15_show_the_slot() -> None:
    lcd, bus = ready(16, 2, rom="cyrillic")
    send(bus, ADDR, [0x40 | (3 << 3)])  # CGRAM slot 3
    send(bus, ADDR, GLYPHS["Ґ"], data=True)
    assert lcd.in_cgram and lcd.address == 4 * 8
    assert lcd.cgram_glyph(3) == GLYPHS["Ґ"]
    send(bus, ADDR, [0x80])  # back to DDRAM
    send(bus, ADDR, [3, 11, 2], data=True)  # 11 mirrors slot 3; slot 2 is empty
    assert lcd.rows()[0][:3] == "ҐҐ "


def test_cgram_glyph_nobody_knows_decodes_to_a_visible_marker() -> None:
    lcd, bus = ready(16, 2, rom="cyrillic")
    send(bus, ADDR, [0x40])
    send(bus, ADDR, [0b10101] * 8, data=True)
    send(bus, ADDR, [0x80])
    send(bus, ADDR, [0], data=True)
    assert lcd.rows()[0][0] == "\ufffd"


def test_backlight_follows_the_bl_bit() -> None:
    lcd, bus = ready(16, 2)
    bus.write_byte(ADDR, 0x00)
    assert not lcd.backlight
    bus.write_byte(ADDR, BL)
    assert lcd.backlight


def test_enable_rising_edge_alone_does_nothing() -> None:
    lcd, bus = ready(16, 2)
    before = lcd.instructions
    bus.write_byte(ADDR, 0x10 | EN | BL)
    assert lcd.instructions == before


def test_absent_address_raises_remote_io_error() -> None:
    bus = FakeSMBus()
    bus.attach(ADDR, HD44780())
    with pytest.raises(OSError) as err:
        bus.write_byte(0x3F, 0x00)
    assert err.value.errno == errno.EREMOTEIO
    bus.detach(ADDR)
    with pytest.raises(OSError):
        bus.write_byte_data(ADDR, 0, 0)


def test_bus_counts_writes_and_refuses_after_close() -> None:
    bus = FakeSMBus()
    bus.attach(ADDR, HD44780())
    send(bus, ADDR, [0x01])
    assert bus.writes == 4  # two nibbles, EN high then low each
    bus.writes = 0
    with bus:
        bus.write_byte(ADDR, 0)
    assert bus.writes == 1 and bus.closed
    with pytest.raises(OSError):
        bus.write_byte(ADDR, 0)
