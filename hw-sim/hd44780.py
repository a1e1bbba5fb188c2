"""An HD44780 character LCD behind a PCF8574 I2C backpack, and a fake SMBus to reach it.

The emulator sees only what a real module sees: bytes latched on the PCF8574's port
(D7 D6 D5 D4 BL EN RW RS, bit 7 to bit 0).  The controller acts on the falling edge of EN, in 8-bit
interface mode after power-on (the backpack wires only D7-D4, so D3-D0 read as 0) and in 4-bit mode
(high nibble, then low nibble) after a function set with DL=0, exactly as the datasheet's
"initialising by instruction" sequence expects.  So RPLCD's real driver, or any other, runs
unmodified against it.

Modelled: DDRAM (80 bytes; 1-line addressing 0x00-0x4F, 2-line 0x00-0x27 / 0x40-0x67, rows 3/4 of a
20x4 continuing rows 1/2 at +20), CGRAM (64 bytes, codes 0-7 and 8-15), the address counter in DDRAM
or CGRAM mode, entry mode (increment/decrement, display shift on write), clear, return home, display
on/off, cursor and blink flags, cursor/display shift, function set, the backlight bit, and reading
the busy flag and address counter (RW high; the busy flag always reads 0).  Not modelled: reading
RAM back, instruction timing, the 5x10 font.

Failing like the hardware: :meth:`FakeSMBus.fail_next` makes the next N writes fail with a Remote
I/O error (the byte never reaches the backpack, as with a loose wire), and :meth:`HD44780.power_cycle`
is a supply dip: the backpack's port goes high, DDRAM holds garbage, and the controller, in 8-bit mode
with the display off, ignores everything but the datasheet's "initialising by instruction" sequence
(three function sets with DL=1) until it arrives; only then does it take instructions and show text.

>>> bus = FakeSMBus()
>>> lcd = bus.attach(0x27, HD44780(cols=16, rows=2))
>>> send(bus, 0x27, [0x03, 0x03, 0x03, 0x02], nibbles=True)   # datasheet init, then 4-bit
>>> send(bus, 0x27, [0x28, 0x0C, 0x01, 0x06])                  # 2 lines, display on, clear, entry
>>> send(bus, 0x27, b"Hi", data=True)
>>> lcd.text("A02").splitlines()[0]
'Hi              '
>>> bus.write_byte(0x3F, 0)
Traceback (most recent call last):
OSError: [Errno 121] Remote I/O error
"""

from __future__ import annotations

import errno
import os
import random
from collections.abc import Iterable, Mapping
from typing import Protocol

from firmware.lcd.glyphs import letter_for
from firmware.lcd.rom import rom_table

# PCF8574 port bits as wired on the common backpack
RS = 0x01
RW = 0x02
EN = 0x04
BL = 0x08

UNKNOWN_GLYPH = "\ufffd"


class I2CDevice(Protocol):
    """What ``FakeSMBus`` needs from a device on the bus."""

    def i2c_write(self, data: bytes) -> None: ...

    def i2c_read(self) -> int: ...


class FakeSMBus:
    """The subset of ``smbus2.SMBus`` that LCD drivers use, routed to emulated devices by address.

    A write to an address with no device raises ``OSError(121, "Remote I/O error")`` as the Linux
    I2C driver does when nobody acknowledges.  ``writes`` counts bus write transactions; set it to 0
    to measure a stretch of traffic.

    >>> bus = FakeSMBus()
    >>> lcd = bus.attach(0x27, HD44780())
    >>> bus.write_byte(0x27, 0x08); bus.writes
    1
    >>> lcd.backlight
    True
    """

    def __init__(self, bus: int | None = 1, devices: Mapping[int, I2CDevice] | None = None) -> None:
        self.port = bus
        self.devices: dict[int, I2CDevice] = dict(devices or {})
        self.writes = 0
        self.failed_writes = 0
        self.closed = False
        self._on_close: list = []
        self._fail_next = 0
        self._at: dict[int, list] = {}

    def fail_next(self, n: int = 1) -> None:
        """The next ``n`` writes fail with a Remote I/O error and reach no device (a loose wire)."""
        self._fail_next += n

    def at_write(self, index: int, action) -> None:
        """Call ``action()`` just before the write that makes ``writes`` reach ``index + 1`` (a fault
        at a chosen moment of the traffic); an ``OSError`` it raises fails that write."""
        self._at.setdefault(index, []).append(action)

    def fail_at(self, indexes) -> None:
        """Writes with these ``writes`` indexes fail as with :meth:`fail_next`."""
        for index in indexes:
            self.at_write(index, self.fail_next)

    def _before_write(self) -> None:
        for action in self._at.pop(self.writes, ()):
            action()
        if self._fail_next > 0:
            self._fail_next -= 1
            self.writes += 1
            self.failed_writes += 1
            raise OSError(errno.EREMOTEIO, os.strerror(errno.EREMOTEIO))

    def attach(self, address: int, device: I2CDevice) -> I2CDevice:
        """Put ``device`` on the bus at ``address`` (7-bit); returns the device."""
        if not 0x03 <= address <= 0x77:
            raise ValueError(f"0x{address:02x} is not a usable 7-bit I2C address")
        self.devices[address] = device
        return device

    def detach(self, address: int) -> None:
        """Unplug the device at ``address`` (later writes get a Remote I/O error)."""
        self.devices.pop(address, None)

    def on_close(self, callback) -> None:
        """Call ``callback()`` once when the bus is closed (used to undo simulator set-up)."""
        self._on_close.append(callback)

    def _device(self, address: int) -> I2CDevice:
        if self.closed:
            raise OSError(errno.EBADF, os.strerror(errno.EBADF))
        try:
            return self.devices[address]
        except KeyError:
            raise OSError(errno.EREMOTEIO, os.strerror(errno.EREMOTEIO)) from None

    def write_byte(self, i2c_addr: int, value: int, force: bool | None = None) -> None:
        device = self._device(i2c_addr)
        self._before_write()
        self.writes += 1
        device.i2c_write(bytes([value & 0xFF]))

    def write_byte_data(self, i2c_addr: int, register: int, value: int, force: bool | None = None) -> None:
        # A PCF8574 has no registers: both bytes of the message are latched on the port in turn.
        device = self._device(i2c_addr)
        self._before_write()
        self.writes += 1
        device.i2c_write(bytes([register & 0xFF, value & 0xFF]))

    def read_byte(self, i2c_addr: int, force: bool | None = None) -> int:
        return self._device(i2c_addr).i2c_read()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        callbacks, self._on_close = self._on_close, []
        for callback in callbacks:
            callback()

    def __enter__(self) -> FakeSMBus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class HD44780:
    """An HD44780-compatible controller on a PCF8574 backpack (the device for ``FakeSMBus``).

    ``cols`` x ``rows`` is the glass (20x4, 16x2, ...) and ``rom`` its character ROM.  Read the glass
    with ``screen_codes()`` (codes per visible cell, honouring display shift) and ``rows(rom)`` /
    ``text(rom)`` (decoded through a ROM table; CGRAM cells decode to the letter their glyph draws,
    ``\\ufffd`` for a glyph nobody knows).  ``rows``/``text`` show blanks while the display is off.

    >>> lcd = HD44780(cols=20, rows=4)
    >>> lcd.display_on, lcd.backlight, lcd.two_line   # PCF8574 pins are high after power-on
    (False, True, False)
    """

    def __init__(self, cols: int = 20, rows: int = 4, rom: str = "cyrillic") -> None:
        rom_table(rom)
        if rows not in (1, 2, 4) or not 1 <= cols <= 40 or cols * rows > 80:
            raise ValueError(f"no HD44780 glass is {cols}x{rows}")
        self.cols = cols
        self.n_rows = rows
        self.rom = rom  # the glass's character ROM, used by rows()/text() unless told otherwise
        self.port = 0xFF  # PCF8574 outputs are high after power-on
        self.ddram = bytearray(b" " * 80)
        self.cgram = bytearray(64)
        self.power_cycles = 0
        self.power_on_reset()

    def power_cycle(self, seed: int | None = None) -> None:
        """The module's supply dips and comes back: the PCF8574's port is high again, DDRAM and CGRAM
        hold garbage, and the controller waits for the init sequence (see the module docstring)."""
        rng = random.Random(seed if seed is not None else self.power_cycles)
        self.power_cycles += 1
        self.port = 0xFF
        self.power_on_reset()
        self.ddram[:] = bytes(rng.randrange(0x20, 0x100) for _ in range(80))
        self.cgram[:] = bytes(rng.randrange(0, 0x20) for _ in range(64))

    def power_on_reset(self) -> None:
        """The internal reset: clear, 8-bit, 1 line, display off, increment without shift; the
        controller takes no instruction but function set until it has been initialised by instruction."""
        self.ddram[:] = b" " * 80
        self.initialised = False
        self._init_sets = 0  # function sets with DL=1 in a row since the reset
        self._read_phase = 0  # 4-bit reads come as two nibbles, high first
        self.eight_bit = True
        self.two_line = False
        self.font_5x10 = False
        self.display_on = False
        self.cursor_on = False
        self.blink_on = False
        self.increment = True
        self.shift_on_write = False
        self.address = 0
        self.in_cgram = False
        self.shift = 0
        self._pending_nibble: int | None = None
        self.instructions = 0
        self.data_writes = 0

    # -- the PCF8574 side ---------------------------------------------------------------------------

    def i2c_write(self, data: bytes) -> None:
        for value in data:
            previous, self.port = self.port, value
            if previous & EN and not value & EN:
                # Data and RS are sampled with EN high; the byte that drops EN may already differ.
                if previous & RW:
                    self._read_done()
                else:
                    self._strobe(previous)

    def i2c_read(self) -> int:
        """The port's pins: with RW and EN high and RS low, the controller drives D7-D4 with the busy
        flag (always 0 here) and address counter, high nibble first in 4-bit mode."""
        port = self.port
        if port & RW and port & EN and not port & RS:
            value = self.address & 0x7F
            nibble = value >> 4 if self.eight_bit or self._read_phase == 0 else value & 0x0F
            return (port & 0x0F) | (nibble << 4)
        return port

    def _read_done(self) -> None:
        if not self.eight_bit:
            self._read_phase ^= 1

    @property
    def backlight(self) -> bool:
        return bool(self.port & BL)

    # -- the controller -----------------------------------------------------------------------------

    def _strobe(self, port: int) -> None:
        if port & RW:
            return  # a read cycle: nothing in RAM changes
        nibble = port >> 4
        if self.eight_bit:
            self._execute(bool(port & RS), nibble << 4)
        elif self._pending_nibble is None:
            self._pending_nibble = nibble
        else:
            value = (self._pending_nibble << 4) | nibble
            self._pending_nibble = None
            self._execute(bool(port & RS), value)

    def _execute(self, rs: bool, value: int) -> None:
        if not self.initialised:
            # Until initialised by instruction, only the three function sets with DL=1 count;
            # an all-zero byte (the high half of RPLCD's 0x03 commands in 8-bit mode) does nothing.
            if rs or value & 0xF0 not in (0x30, 0x00):
                self._init_sets = 0
                return
            if value & 0xF0 == 0x30:
                self._init_sets += 1
                self.initialised = self._init_sets >= 3
            return
        if rs:
            self._write_data(value)
            return
        self.instructions += 1
        if value & 0x80:
            self.address = value & 0x7F
            self.in_cgram = False
        elif value & 0x40:
            self.address = value & 0x3F
            self.in_cgram = True
        elif value & 0x20:
            self.eight_bit = bool(value & 0x10)
            self.two_line = bool(value & 0x08)
            self.font_5x10 = bool(value & 0x04)
            self._pending_nibble = None
            self._read_phase = 0
        elif value & 0x10:
            right = bool(value & 0x04)
            if value & 0x08:
                self.shift += -1 if right else 1
            else:
                self.address = self._step(self.address, right)
        elif value & 0x08:
            self.display_on = bool(value & 0x04)
            self.cursor_on = bool(value & 0x02)
            self.blink_on = bool(value & 0x01)
        elif value & 0x04:
            self.increment = bool(value & 0x02)
            self.shift_on_write = bool(value & 0x01)
        elif value & 0x02:
            self.address, self.in_cgram, self.shift = 0, False, 0
        elif value & 0x01:
            self.ddram[:] = b" " * 80
            self.address, self.in_cgram, self.shift = 0, False, 0
            self.increment = True

    def _write_data(self, value: int) -> None:
        self.data_writes += 1
        if self.in_cgram:
            self.cgram[self.address & 0x3F] = value
            self.address = (self.address + (1 if self.increment else -1)) & 0x3F
            return
        index = self._ddram_index(self.address)
        if index is not None:
            self.ddram[index] = value
        self.address = self._step(self.address, self.increment)
        if self.shift_on_write:
            self.shift += 1 if self.increment else -1

    def _step(self, address: int, forward: bool) -> int:
        """The DDRAM address after one increment or decrement, wrapping as the chip does."""
        if not self.two_line:
            return (address + (1 if forward else -1)) % 80
        if forward:
            return {0x27: 0x40, 0x67: 0x00}.get(address, (address + 1) & 0x7F)
        return {0x40: 0x27, 0x00: 0x67}.get(address, (address - 1) & 0x7F)

    def _ddram_index(self, address: int) -> int | None:
        if not self.two_line:
            return address if address < 80 else None
        if address <= 0x27:
            return address
        if 0x40 <= address <= 0x67:
            return 40 + address - 0x40
        return None  # no RAM behind this address in 2-line mode

    # -- reading the glass --------------------------------------------------------------------------

    def screen_codes(self) -> list[tuple[int, ...]]:
        """Character codes of the visible cells, row by row, as the display window (shift) shows."""
        out = []
        for row in range(self.n_rows):
            offset = (row // 2) * self.cols
            if not self.two_line:
                # 1-line setting: one 80-cell line, the common lines of rows 2 and 4 are not driven
                codes = [self.ddram[(offset + col + self.shift) % 80] for col in range(self.cols)]
                if row % 2:
                    codes = [0x20] * self.cols
            else:
                base = 40 * (row % 2)
                codes = [self.ddram[base + (offset + col + self.shift) % 40] for col in range(self.cols)]
            out.append(tuple(codes))
        return out

    def cgram_glyph(self, slot: int) -> tuple[int, ...]:
        """The 8 rows of CGRAM character ``slot`` (0-7), low 5 bits as drawn."""
        if not 0 <= slot <= 7:
            raise ValueError(f"CGRAM slot must be 0..7, got {slot}")
        return tuple(row & 0x1F for row in self.cgram[slot * 8 : slot * 8 + 8])

    def decode(self, code: int, rom: str | None = None) -> str:
        """What the glass shows for one character code."""
        if code < 16:
            return letter_for(self.cgram_glyph(code & 7)) or UNKNOWN_GLYPH
        return rom_table(rom or self.rom).get(code, UNKNOWN_GLYPH)

    def rows(self, rom: str | None = None) -> list[str]:
        """The visible rows decoded through ``rom`` (default: the glass's own); blank while off."""
        if not self.display_on:
            return [" " * self.cols for _ in range(self.n_rows)]
        return ["".join(self.decode(code, rom) for code in row) for row in self.screen_codes()]

    def text(self, rom: str | None = None) -> str:
        """``rows(rom)`` joined with newlines."""
        return "\n".join(self.rows(rom))


def send(
    bus: FakeSMBus,
    address: int,
    values: Iterable[int],
    *,
    data: bool = False,
    nibbles: bool = False,
    backlight: bool = True,
) -> None:
    """Drive the backpack by hand (for tests): each value as an instruction, or as data.

    With ``nibbles=True`` each value is one 4-bit transfer (the init sequence's 0x3 0x3 0x3 0x2).
    """
    bl = BL if backlight else 0
    rs = RS if data else 0
    for value in values:
        parts = [value & 0x0F] if nibbles else [(value >> 4) & 0x0F, value & 0x0F]
        for nibble in parts:
            port = (nibble << 4) | bl | rs
            bus.write_byte(address, port | EN)
            bus.write_byte(address, port)
