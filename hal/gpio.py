"""The panel's GPIO through gpiozero: keys, the hook line, a 4x3 matrix keypad and RGB LEDs.

gpiozero is imported when a device is built, never at module import, so the rest of the unit runs
on machines without GPIO. Pass ``pin_factory`` to run on gpiozero's MockFactory (the simulator):

    >>> from gpiozero.pins.mock import MockFactory
    >>> panel = PanelInputs(cfg["pins"], post=print, clock=clock, pin_factory=MockFactory())
    >>> panel.key_pins["OK"].drive_low()     # a press: prints KeyDown(key='OK')
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from firmware.clock import Clock
from firmware.events import Event, HookChanged, KeyDown, KeyUp
from firmware.vocabulary import KEYPAD_KEYS, PANEL_KEYS

#: Keypad legend, row by row, as printed on a 4x3 telephone keypad.
KEYPAD_LAYOUT = tuple(KEYPAD_KEYS[i:i + 3] for i in range(0, len(KEYPAD_KEYS), 3))
#: Each panel key's pin in the config's ``pins`` table (``key_hold`` ...).
PANEL_KEY_PINS = {key: f"key_{key.lower()}" for key in PANEL_KEYS}


class PanelInputs:
    """Buttons, hook and keypad; every change becomes an event posted to the loop."""

    def __init__(self, pins: Mapping[str, Any], post: Callable[[Event], None], clock: Clock,
                 pin_factory: Any = None) -> None:
        from gpiozero import DigitalInputDevice

        self._post = post
        self._clock = clock
        self._down_at: dict[str, float] = {}
        bounce = pins.get("bounce_s") or None
        self.buttons: dict[str, Any] = {}
        # DigitalInputDevice, not Button: holds are timed on the unit's clock, and each Button would
        # start a polling hold thread of its own
        for key, cfg_key in PANEL_KEY_PINS.items():
            button = DigitalInputDevice(pins[cfg_key], pull_up=True, bounce_time=bounce, pin_factory=pin_factory)
            button.when_activated = lambda _d, k=key: self._down(k)
            button.when_deactivated = lambda _d, k=key: self._up(k)
            self.buttons[key] = button
        self.hook = DigitalInputDevice(pins["hook"], pull_up=pins["hook_active_low"], bounce_time=bounce,
                                       pin_factory=pin_factory)
        self.hook.when_activated = lambda _d: post(HookChanged(off_hook=True))
        self.hook.when_deactivated = lambda _d: post(HookChanged(off_hook=False))
        self.keypad = MatrixKeypad(pins["keypad_rows"], pins["keypad_cols"], self._down, self._up,
                                   pin_factory=pin_factory)

    @property
    def key_pins(self) -> dict[str, Any]:
        return {k: b.pin for k, b in self.buttons.items()}

    def off_hook(self) -> bool:
        return bool(self.hook.is_active)

    def _down(self, key: str) -> None:
        self._down_at[key] = self._clock.monotonic()
        self._post(KeyDown(key))

    def _up(self, key: str) -> None:
        started = self._down_at.pop(key, None)
        held = 0.0 if started is None else self._clock.monotonic() - started
        self._post(KeyUp(key, held))

    def close(self) -> None:
        for b in self.buttons.values():
            b.close()
        self.hook.close()
        self.keypad.close()


class MatrixKeypad:
    """A 4x3 matrix keypad scanned on demand: rows driven low at rest, columns pulled up.

    A key press pulls its column low and wakes us (an edge, not polling); we then drive one row at
    a time to find the row, and put every row back low to wait for the release. No scan thread
    runs while nobody types.
    """

    def __init__(self, row_pins: Sequence[int], col_pins: Sequence[int], on_down: Callable[[str], None],
                 on_up: Callable[[str], None], pin_factory: Any = None,
                 layout: Sequence[Sequence[str]] = KEYPAD_LAYOUT) -> None:
        from gpiozero import DigitalInputDevice, DigitalOutputDevice

        self.layout = layout
        self._on_down, self._on_up = on_down, on_up
        self._lock = threading.RLock()
        self._scanning = False
        self._held: dict[int, str] = {}  # column -> key down on it
        self.rows = [DigitalOutputDevice(p, active_high=False, initial_value=True, pin_factory=pin_factory)
                     for p in row_pins]
        self.cols = [DigitalInputDevice(p, pull_up=True, pin_factory=pin_factory) for p in col_pins]
        for c, col in enumerate(self.cols):
            col.when_activated = lambda _d, c=c: self._col_fell(c)
            col.when_deactivated = lambda _d, c=c: self._col_rose(c)

    def _col_fell(self, c: int) -> None:
        with self._lock:
            if self._scanning or c in self._held:
                return
            key = self._scan(c)
            if key is not None:
                self._held[c] = key
        if key is not None:
            self._on_down(key)

    def _col_rose(self, c: int) -> None:
        with self._lock:
            if self._scanning:
                return
            key = self._held.pop(c, None)
        if key is not None:
            self._on_up(key)

    def _scan(self, c: int) -> str | None:
        self._scanning = True
        try:
            found = None
            for r in range(len(self.rows)):
                for i, row in enumerate(self.rows):
                    row.value = i == r
                if self.cols[c].is_active:
                    found = self.layout[r][c]
                    break
            return found
        finally:
            for row in self.rows:
                row.on()
            self._scanning = False

    def close(self) -> None:
        for d in self.rows + self.cols:
            d.close()


class RgbLed:
    """One RGB LED on three GPIO pins, switched fully on or off per die (colours by mixing)."""

    def __init__(self, pins: Sequence[int], active_high: bool = True, pin_factory: Any = None) -> None:
        from gpiozero import RGBLED

        self.device = RGBLED(*pins, active_high=active_high, pwm=False, pin_factory=pin_factory)

    def set_rgb(self, rgb: tuple[int, int, int]) -> None:
        self.device.value = tuple(float(x) for x in rgb)

    def close(self) -> None:
        self.device.close()


def panel_leds(pins: Mapping[str, Any], pin_factory: Any = None) -> dict[str, RgbLed]:
    return {name: RgbLed(pins[f"led_{name}"], pins["led_active_high"], pin_factory)
            for name in ("line", "hold", "sync")}
