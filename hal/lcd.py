"""The character LCD adapter: ``firmware.lcd.Frame`` -> RPLCD -> PCF8574 -> HD44780.

RPLCD is imported when a display is constructed, so importing this module needs no I2C library.

RPLCD waits for the controller with real sleeps (``RPLCD.common.usleep``/``msleep``: ~0.1 ms per
nibble, 2 ms per clear). An :class:`LcdTiming` passed to the display replaces those waits for that
display only (the simulator's emulator needs none); without one, RPLCD's own sleeps run.

>>> from hal.lcd import RplcdDisplay                          # doctest: +SKIP
>>> from firmware.lcd import encode_screen                    # doctest: +SKIP
>>> lcd = RplcdDisplay(cols=20, rows=4, address=0x27, port=1) # doctest: +SKIP
>>> lcd.show(encode_screen(["Доброго ранку"], "cyrillic", cols=20, height=4))  # doctest: +SKIP
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from firmware.lcd.codec import CGRAM_SLOTS, Frame
from firmware.lcd.glyphs import Bitmap

BusFactory = Callable[[int], Any]
"""Makes an ``smbus2.SMBus``-like object for an I2C port number."""

_FORGOTTEN = -1  # a cell value no display holds: forces a rewrite after an I/O error
# HD44780 instructions and PCF8574 port bits for re-initialising and probing (RPLCD keeps its own private)
_FUNCTION_SET_4BIT = 0x20
_TWO_LINES = 0x08
_DISPLAY_ON = 0x0C  # display on, cursor and blink off
_ENTRY_LEFT = 0x06  # increment, no display shift
_RW, _EN, _BL = 0x02, 0x04, 0x08


def i2c_bus_factory() -> BusFactory | None:
    """The bus to drive the LCD through: ``smbus2.SMBus(port)`` (``None``), unless
    ``$DESKUNIT_I2C_BUS`` names another factory as ``module:callable`` (a bench I2C adapter, or the
    HD44780 emulator in the end-to-end test of ``deskunit run``). Named, never imported by default."""
    import os

    spec = os.environ.get("DESKUNIT_I2C_BUS", "")
    if not spec:
        return None
    import importlib

    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def _no_wait(_: float) -> None:
    return None


@dataclass(frozen=True)
class LcdTiming:
    """The waits RPLCD makes for the controller: ``usleep(microseconds)``, ``msleep(milliseconds)``."""

    usleep: Callable[[float], None]
    msleep: Callable[[float], None]

    @classmethod
    def none(cls) -> LcdTiming:
        """No waits at all: for an emulated controller, which is ready at once."""
        return _NO_WAITS


_NO_WAITS = LcdTiming(_no_wait, _no_wait)


@functools.cache
def _retimed_charlcd(timing: LcdTiming) -> type:
    """RPLCD's ``BaseCharLCD`` and I2C ``CharLCD`` as new classes whose code (RPLCD's own, unchanged)
    sees ``timing``'s waits where it calls ``common.usleep``/``msleep``.

    RPLCD reaches its delays through the module name ``c`` (``from . import common as c``), so the
    classes are rebuilt with that one name bound to a copy of ``common`` holding the injected waits.
    RPLCD's modules and every other display keep the real sleeps.
    """
    from RPLCD import common, i2c, lcd

    waits = types.SimpleNamespace(**vars(common))
    waits.usleep, waits.msleep = timing.usleep, timing.msleep
    lcd_names = {**vars(lcd), "c": waits}
    base = _rebuild(lcd.BaseCharLCD, lcd_names, lcd.BaseCharLCD.__bases__)
    lcd_names["BaseCharLCD"] = base
    i2c_names = {**vars(i2c), "c": waits, "BaseCharLCD": base}
    charlcd = _rebuild(i2c.CharLCD, i2c_names, (base,))
    i2c_names["CharLCD"] = charlcd  # for its super(CharLCD, self)
    return charlcd


def _rebuild(cls: type, names: dict[str, Any], bases: tuple[type, ...]) -> type:
    body = {k: _rebind(v, names) for k, v in vars(cls).items() if k not in ("__dict__", "__weakref__")}
    return type(cls.__name__, bases, body)


def _rebind(value: Any, names: dict[str, Any]) -> Any:
    if isinstance(value, types.FunctionType):
        fn = types.FunctionType(value.__code__, names, value.__name__, value.__defaults__, value.__closure__)
        fn.__kwdefaults__, fn.__qualname__, fn.__doc__ = value.__kwdefaults__, value.__qualname__, value.__doc__
        return fn
    if isinstance(value, property):
        return property(*(None if f is None else _rebind(f, names) for f in (value.fget, value.fset, value.fdel)),
                        doc=value.__doc__)
    if isinstance(value, staticmethod | classmethod):
        return type(value)(_rebind(value.__func__, names))
    return value


def _charlcd_class(timing: LcdTiming | None = None) -> type:
    """RPLCD's I2C ``CharLCD`` with the bus taken from a factory when one is given, waiting as
    ``timing`` says (RPLCD's own sleeps when None)."""
    from RPLCD import common
    from RPLCD.i2c import CharLCD

    base = CharLCD if timing is None else _retimed_charlcd(timing)
    settle = common.msleep if timing is None else timing.msleep

    class FactoryBusCharLCD(base):  # type: ignore[misc, valid-type]
        """``CharLCD`` whose SMBus comes from ``bus_factory`` and is closed on ``close()``."""

        def __init__(self, *args: Any, bus_factory: BusFactory | None = None, **kwargs: Any) -> None:
            self._bus_factory = bus_factory  # needed by _init_connection, which __init__ calls
            super().__init__(*args, **kwargs)

        def _init_connection(self) -> None:
            if self._bus_factory is None:
                super()._init_connection()
                return
            # What CharLCD does for a PCF8574, with our bus instead of SMBus(port).
            self.bus = self._bus_factory(self._port)
            settle(50)

        def _close_connection(self) -> None:
            close = getattr(self.bus, "close", None)
            if close is not None:
                close()

    return FactoryBusCharLCD


class RplcdDisplay:
    """A 20x4 or 16x2 HD44780 on a PCF8574 backpack, driven by RPLCD, showing ``Frame`` objects.

    ``show`` sends only what changed since the last frame: each run of changed cells in a row costs
    one set-DDRAM-address and one data byte per cell (8 bus writes per byte on a PCF8574), so a
    countdown tick that changes two digits is 24 bus writes.  CGRAM slots are uploaded only when
    their bitmap changes; cells already showing that slot need no rewrite, since the controller
    draws them from CGRAM continuously.

    On an I2C error the adapter forgets what the glass shows, so the next ``show`` redraws it all.

    ``bus_factory`` replaces ``smbus2.SMBus(port)`` (the simulator passes a fake bus) and ``timing``
    RPLCD's waits (the simulator passes :meth:`LcdTiming.none`); everything else is RPLCD's own code.

    >>> display = RplcdDisplay(cols=16, rows=2, bus_factory=my_bus_factory)  # doctest: +SKIP
    >>> display.show(frame)                                                 # doctest: +SKIP
    """

    def __init__(
        self,
        cols: int = 20,
        rows: int = 4,
        address: int = 0x27,
        port: int = 1,
        *,
        backlight: bool = True,
        bus_factory: BusFactory | None = None,
        timing: LcdTiming | None = None,
    ) -> None:
        self.cols = cols
        self.rows = rows
        self.timing = timing  # the waits this display's RPLCD makes (None: RPLCD's own sleeps)
        # auto_linebreaks=False: with it, RPLCD re-addresses the next row after the last column.
        # charmap is irrelevant: frames are already codes and RPLCD's text codec is never used.
        self._lcd = _charlcd_class(timing)(
            i2c_expander="PCF8574",
            address=address,
            port=port,
            cols=cols,
            rows=rows,
            charmap="A02",
            auto_linebreaks=False,
            backlight_enabled=backlight,
            bus_factory=bus_factory,
        )
        self._shown: list[list[int]] = [[0x20] * cols for _ in range(rows)]
        self._cgram: list[Bitmap | None] = [None] * CGRAM_SLOTS

    @property
    def backlight(self) -> bool:
        return bool(self._lcd.backlight_enabled)

    @backlight.setter
    def backlight(self, on: bool) -> None:
        self._lcd.backlight_enabled = on

    def show(self, frame: Frame) -> None:
        """Make the glass show ``frame`` (rows beyond the frame's are blanked)."""
        if frame.rows > self.rows or (frame.rows and frame.cols != self.cols):
            raise ValueError(f"a {frame.cols}x{frame.rows} frame does not fit a {self.cols}x{self.rows} display")
        blank = (0x20,) * self.cols
        target = [frame.codes[r] if r < frame.rows else blank for r in range(self.rows)]
        try:
            for slot, bitmap in enumerate(frame.cgram):
                if bitmap is not None and bitmap != self._cgram[slot]:
                    self._lcd.create_char(slot, bitmap)
                    self._cgram[slot] = bitmap
            for row, codes in enumerate(target):
                self._write_row(row, codes)
        except OSError:
            self._forget()
            raise

    def reinit(self) -> None:
        """Run the HD44780's "initialising by instruction" sequence again (RPLCD's own, through its
        ``command``) and blank the glass: after a bus error the controller may be half a byte out of
        step, and after a supply dip it is in 8-bit mode, display off, until it gets this sequence.
        Everything is redrawn by the next ``show``."""
        from RPLCD import common

        lcd = self._lcd
        for command, wait_ms in ((0x03, 4.5), (0x03, 4.5), (0x03, 0.1), (0x02, 0.1)):
            lcd.command(command)
            common.msleep(wait_ms)
        lcd.command(_FUNCTION_SET_4BIT | (_TWO_LINES if self.rows > 1 else 0))
        lcd.command(_DISPLAY_ON)
        lcd.clear()  # also puts RPLCD's cursor and content cache back to a blank screen
        lcd.command(_ENTRY_LEFT)
        self._forget()

    def responds(self) -> bool:
        """Whether the controller still answers as initialised: the cursor is put on row 0, column 1
        and the address counter read back. A controller that was reset by a supply dip ignores the
        command (or is in 8-bit mode) and answers otherwise. Raises OSError on a bus error."""
        lcd = self._lcd
        lcd.cursor_pos = (0, 1)
        return self._read_address() == 0x01

    def _read_address(self) -> int:
        """Busy flag and address counter through the PCF8574 (RW high, D7-D4 released high)."""
        bus, address = self._lcd.bus, self._lcd._address
        port = 0xF0 | _RW | (_BL if self.backlight else 0)
        value = 0
        for _ in range(2):
            bus.write_byte(address, port | _EN)
            value = (value << 4) | (bus.read_byte(address) >> 4)
            bus.write_byte(address, port)
        bus.write_byte(address, port & ~_RW & 0x0F | (_BL if self.backlight else 0))
        return value & 0x7F

    def _write_row(self, row: int, codes: tuple[int, ...]) -> None:
        shown = self._shown[row]
        col = 0
        while col < self.cols:
            if shown[col] == codes[col]:
                col += 1
                continue
            self._lcd.cursor_pos = (row, col)
            while col < self.cols and shown[col] != codes[col]:
                # RPLCD's write() sends the byte only when its own cache differs, so keep both equal.
                self._lcd.write(codes[col])
                shown[col] = codes[col]
                col += 1

    def _forget(self) -> None:
        self._shown = [[_FORGOTTEN] * self.cols for _ in range(self.rows)]
        self._lcd._content = [[_FORGOTTEN] * self.cols for _ in range(self.rows)]
        self._cgram = [None] * CGRAM_SLOTS

    def clear(self) -> None:
        """Blank the glass (CGRAM keeps its glyphs)."""
        try:
            self._lcd.clear()
        except OSError:
            self._forget()
            raise
        self._shown = [[0x20] * self.cols for _ in range(self.rows)]

    def close(self, clear: bool = False) -> None:
        """Release the I2C bus, optionally blanking the glass first."""
        self._lcd.close(clear=clear)

    def __enter__(self) -> RplcdDisplay:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
