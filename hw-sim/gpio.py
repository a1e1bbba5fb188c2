"""GPIO on gpiozero's own MockFactory, wired like the panel: keys to ground, a keypad matrix, LEDs.

A key press is what it is on the board: the key's pin driven low. The keypad is simulated
electrically: a column reads low only while a pressed key connects it to a row the scanner drives
low, so :class:`hal.gpio.MatrixKeypad`'s real scanning code finds the key. LED colours are read back
from the LED pins, with their changes stamped on the unit's (possibly virtual) clock.

    >>> factory = SimFactory(clock)
    >>> panel = PanelInputs(cfg["pins"], post, clock, pin_factory=factory)
    >>> board = SimBoard(factory, cfg["pins"], panel.keypad.layout)
    >>> board.press("OK"); board.release("OK")
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gpiozero.pins.mock import MockFactory, MockPin

from firmware.clock import Clock
from firmware.leds import COLOUR_OF, LED_NAMES
from hal.gpio import PANEL_KEY_PINS


class SimPin(MockPin):
    """A MockPin that tells the board whenever its level changes (outputs included)."""

    def _change_state(self, value: bool) -> bool:
        changed = super()._change_state(value)
        if changed:
            for listener in list(self.factory.listeners):
                listener(self, value)
        return changed


class SimFactory(MockFactory):
    """gpiozero's MockFactory with :class:`SimPin` pins and change listeners."""

    def __init__(self) -> None:
        super().__init__(pin_class=SimPin)
        self.listeners: list[Callable[[SimPin, bool], None]] = []


class SimBoard:
    """The simulated panel wiring: presses keys, scans nothing itself, and watches the LEDs."""

    def __init__(self, factory: SimFactory, pins: Mapping[str, Any], keypad_layout: Sequence[Sequence[str]],
                 clock: Clock) -> None:
        self.factory = factory
        self.clock = clock
        self.pins = pins
        self._pin = {f"GPIO{n}": n for n in range(28)}
        self.key_pin = {key: pins[cfg] for key, cfg in PANEL_KEY_PINS.items()}
        self.keypad_pos = {key: (r, c) for r, row in enumerate(keypad_layout) for c, key in enumerate(row)}
        self.row_pins = list(pins["keypad_rows"])
        self.col_pins = list(pins["keypad_cols"])
        self.pressed: set[tuple[int, int]] = set()
        self.led_pins = {name: list(pins[f"led_{name}"]) for name in LED_NAMES}
        self.active_high = pins["led_active_high"]
        self.led_log: list[tuple[float, str, str]] = []  # (t, led, colour) per change
        factory.listeners.append(self._pin_changed)
        for name in LED_NAMES:
            self.led_log.append((clock.monotonic(), name, self.led_colour(name)))

    def gpio(self, number: int) -> SimPin:
        return self.factory.pin(f"GPIO{number}")

    # ---------------------------------------------------------------- inputs
    def press(self, key: str) -> None:
        self._key(key, down=True)

    def release(self, key: str) -> None:
        self._key(key, down=False)

    def _key(self, key: str, down: bool) -> None:
        """A panel key shorts its pin to ground; a keypad key joins its row and column."""
        if key in self.key_pin:
            pin = self.gpio(self.key_pin[key])
            pin.drive_low() if down else pin.drive_high()
        elif key in self.keypad_pos:
            (self.pressed.add if down else self.pressed.discard)(self.keypad_pos[key])
            self._settle_columns()
        else:
            raise ValueError(f"no key {key!r} on the panel")

    def set_hook(self, off_hook: bool) -> None:
        pin = self.gpio(self.pins["hook"])
        active_low = self.pins["hook_active_low"]
        if off_hook == active_low:
            pin.drive_low()
        else:
            pin.drive_high()

    def _settle_columns(self) -> None:
        """Columns read low when a pressed key joins them to a row driven low."""
        for c, col_pin in enumerate(self.col_pins):
            low = any(
                (r, c) in self.pressed and not self.gpio(row_pin).state for r, row_pin in enumerate(self.row_pins)
            )
            pin = self.gpio(col_pin)
            if low and pin.state:
                pin.drive_low()
            elif not low and not pin.state:
                pin.drive_high()

    # ---------------------------------------------------------------- outputs
    def _pin_changed(self, pin: SimPin, value: bool) -> None:
        number = self._pin.get(pin.info.name)
        if number in self.row_pins and pin.function == "output":
            self._settle_columns()
            return
        for name, numbers in self.led_pins.items():
            if number in numbers:
                colour = self.led_colour(name)
                t = self.clock.monotonic()
                last = next((entry for entry in reversed(self.led_log) if entry[1] == name), None)
                if last is not None and last[2] == colour:
                    return
                if last is not None and last[0] == t:
                    self.led_log.remove(last)  # R, G, B switch one by one: keep the settled colour
                    prev = next((e for e in reversed(self.led_log) if e[1] == name), None)
                    if prev is not None and prev[2] == colour:
                        return
                self.led_log.append((t, name, colour))

    def led_colour(self, name: str) -> str:
        levels = tuple(int(self.gpio(n).state == self.active_high) for n in self.led_pins[name])
        return COLOUR_OF.get(levels, "mixed")

    def led_value(self, name: str, window_s: float = 1.2) -> str:
        """What a person sees: a colour, or ``colour-blink`` when it went on and off repeatedly just now.

        ``seen`` starts with the colour the LED had as the window opened (its first log entry is a
        reading, not a change), so an LED that was off and has just come on is one change: steady.
        """
        now = self.clock.monotonic()
        current = self.led_colour(name)
        recent = [c for t, n, c in self.led_log if n == name and t >= now - window_s]
        earlier = [c for t, n, c in self.led_log if n == name and t < now - window_s]
        seen = ([earlier[-1]] if earlier else []) + recent
        lit = {c for c in seen if c != "off"}
        if len(seen) >= 3 and "off" in seen and len(lit) == 1:  # at least two changes: on-off-on, off-on-off
            return f"{lit.pop()}-blink"
        return current
