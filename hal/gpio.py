"""The panel's GPIO through gpiozero: keys, the hook line, a 4x3 matrix keypad and RGB LEDs.

gpiozero is imported when a device is built, never at module import, so the rest of the unit runs
on machines without GPIO. Pass ``pin_factory`` to run on gpiozero's MockFactory (the simulator):

    >>> from gpiozero.pins.mock import MockFactory
    >>> panel = PanelInputs(cfg["pins"], post=print, clock=clock, pin_factory=MockFactory())
    >>> panel.key_pins["OK"].drive_low()     # a press: prints KeyDown(key='OK')
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from firmware.clock import Clock
from firmware.events import Callback, Event, HookChanged, KeyDown, KeyUp
from firmware.vocabulary import KEYPAD_KEYS, PANEL_KEYS

#: Keypad legend, row by row, as printed on a 4x3 telephone keypad.
KEYPAD_LAYOUT = tuple(KEYPAD_KEYS[i:i + 3] for i in range(0, len(KEYPAD_KEYS), 3))
#: Each panel key's pin in the config's ``pins`` table (``key_hold`` ...).
PANEL_KEY_PINS = {key: f"key_{key.lower()}" for key in PANEL_KEYS}
HOOK, KEYPAD = "hook", "keypad"  # inputs besides the panel keys, each debounced on its own


class PanelInputs:
    """Buttons, hook and keypad; every accepted change becomes an event posted to the loop.

    Pin edges only say "look now": whichever thread and order the pin factory delivers them in
    (gpiozero's MockFactory at once on the changing thread; lgpio queued, one callback thread, each
    after the previous returned), the callback merely posts a request to the loop. On the loop's
    thread each input (a key, the hook, the keypad) is read as it is *now* and compared with what was
    last accepted (leading edge: a change is reported at once); for ``bounce_s`` after it changed,
    that input's edges are ignored and it is read once more at the end, so contact bounce shorter
    than ``bounce_s`` is never seen and a state that changed meanwhile is still caught. A key pressed
    and released before the loop looked still counts (its callback latched it).
    """

    def __init__(self, pins: Mapping[str, Any], post: Callable[[Event], None], clock: Clock,
                 pin_factory: Any = None, call_later: Callable[[float, Callable[[], None]], Any] | None = None
                 ) -> None:
        from gpiozero import DigitalInputDevice

        self._post = post
        self._clock = clock
        self._call_later = call_later
        self.bounce_s = float(pins.get("bounce_s") or 0.0)
        self._down_at: dict[str, float] = {}
        self._settle: dict[str, Any] = {}  # input -> the timer ending its bounce window
        self._taps: set[str] = set()
        self._changed_at: dict[str, float] = {}  # input -> when its last change was accepted
        self.buttons: dict[str, Any] = {}
        # DigitalInputDevice, not Button: holds are timed on the unit's clock, and each Button would
        # start a polling hold thread of its own. No gpiozero bounce_time: ours runs on the unit's clock.
        for key, cfg_key in PANEL_KEY_PINS.items():
            button = DigitalInputDevice(pins[cfg_key], pull_up=True, pin_factory=pin_factory)
            button.when_activated = lambda _d, k=key: self._edge(k, True)
            button.when_deactivated = lambda _d, k=key: self._edge(k)
            self.buttons[key] = button
        self.hook = DigitalInputDevice(pins["hook"], pull_up=pins["hook_active_low"], pin_factory=pin_factory)
        self.hook.when_activated = self.hook.when_deactivated = lambda _d: self._edge(HOOK)
        self.keypad = MatrixKeypad(pins["keypad_rows"], pins["keypad_cols"], self._down, self._up,
                                   pin_factory=pin_factory, on_edge=lambda *_: self._edge(KEYPAD))
        self._pressed = {key: False for key in self.buttons}  # as last accepted (a key held at boot waits)
        self._off_hook = bool(self.hook.is_active)

    @property
    def key_pins(self) -> dict[str, Any]:
        return {k: b.pin for k, b in self.buttons.items()}

    def off_hook(self) -> bool:
        return bool(self.hook.is_active)

    def is_down(self, key: str) -> bool:
        """Whether ``key`` is down as last accepted (reported to the loop)."""
        return key in self.keypad.held or self._pressed.get(key, False)

    # ---------------------------------------------------------------- any thread
    def _edge(self, name: str, activated: bool = False) -> None:
        """Input ``name`` changed (any thread): have the loop look at it, in the order edges came."""
        if activated:  # a key went down: remembered, in case it is up again before the loop looks
            self._taps.add(name)
        self._post(Callback(self._look, (name,)))

    # ---------------------------------------------------------------- the loop's thread
    def _look(self, name: str) -> None:
        if name in self._settle:  # inside its bounce window: the read at the window's end decides
            return
        tapped = name in self._taps
        self._taps.discard(name)
        self._check(name, tapped)

    def _settled(self, name: str) -> None:
        del self._settle[name]
        self._taps.discard(name)  # a tap latched inside the window was the contact's chatter
        self._check(name, False)

    def _check(self, name: str, tapped: bool) -> None:
        """Compare input ``name`` as it is now with what was last accepted; report and hold off
        ``bounce_s`` when it changed."""
        if name == KEYPAD:
            changed = self.keypad.sample()
        elif name == HOOK:
            off_hook = bool(self.hook.is_active)
            changed = off_hook != self._off_hook
            if changed:
                self._off_hook = off_hook
                self._post(HookChanged(off_hook=off_hook))
        else:
            down = bool(self.buttons[name].is_active)
            changed = down != self._pressed[name]
            if changed:
                self._pressed[name] = down
                (self._down if down else self._up)(name)
            elif tapped and not down and self._since_change(name) >= 2 * self.bounce_s:
                # pressed and let go before the loop looked (and not the late echo of a bounce)
                self._down(name)
                self._up(name)
                changed = True
        if changed:
            self._changed_at[name] = self._clock.monotonic()
            if self._call_later is not None:
                self._settle[name] = self._call_later(self.bounce_s, lambda: self._settled(name))

    def _since_change(self, name: str) -> float:
        return self._clock.monotonic() - self._changed_at.get(name, float("-inf"))

    def _down(self, key: str) -> None:
        self._down_at[key] = self._clock.monotonic()
        self._post(KeyDown(key))

    def _up(self, key: str) -> None:
        started = self._down_at.pop(key, None)
        held = 0.0 if started is None else self._clock.monotonic() - started
        self._post(KeyUp(key, held))

    def close(self) -> None:
        for timer in self._settle.values():
            timer.cancel()
        for b in self.buttons.values():
            b.close()
        self.hook.close()
        self.keypad.close()


class MatrixKeypad:
    """A 4x3 matrix keypad: at rest every row is driven low and the columns are pulled up, so a key
    pulls its column low and its edge wakes us (no scanning while nobody types).

    :meth:`sample` (the loop's thread) reads the columns; when the set of low columns changed it scans:
    every row is released to an input (pulled up), then one row at a time is driven low and the
    columns read. A row is only ever driven low or left floating as an input, so two keys held in one
    column never join a high output to a low one. The scan's own column edges come back as more
    "look now" requests, which find the columns as before and scan nothing.
    """

    def __init__(self, row_pins: Sequence[int], col_pins: Sequence[int], on_down: Callable[[str], None],
                 on_up: Callable[[str], None], pin_factory: Any = None,
                 layout: Sequence[Sequence[str]] = KEYPAD_LAYOUT, on_edge: Callable[..., None] | None = None) -> None:
        from gpiozero import DigitalInputDevice, InputDevice

        self.layout = layout
        self._on_down, self._on_up = on_down, on_up
        self.held: set[str] = set()
        self._low_cols: frozenset[int] = frozenset()
        # rows are claimed as inputs and switched to driven-low outputs through their pins
        self.rows = [InputDevice(p, pull_up=True, pin_factory=pin_factory) for p in row_pins]
        for row in self.rows:
            row.pin.output_with_state(False)
        self.cols = [DigitalInputDevice(p, pull_up=True, pin_factory=pin_factory) for p in col_pins]
        for col in self.cols:
            if on_edge is not None:
                col.when_activated = col.when_deactivated = on_edge

    def sample(self) -> bool:
        """Read the keypad as it is now; report keys that went down or up. Returns whether any did."""
        low = frozenset(c for c, col in enumerate(self.cols) if col.is_active)
        if low == self._low_cols:
            return False
        self._low_cols = low
        pressed = self._scan() if low else set()
        released, new = sorted(self.held - pressed), sorted(pressed - self.held)
        self.held = pressed
        for key in released:
            self._on_up(key)
        for key in new:
            self._on_down(key)
        return bool(released or new)

    def _scan(self) -> set[str]:
        found: set[str] = set()
        for row in self.rows:
            row.pin.function = "input"  # released: pulled up, drives nothing
        try:
            for r, row in enumerate(self.rows):
                row.pin.output_with_state(False)
                found |= {self.layout[r][c] for c, col in enumerate(self.cols) if col.is_active}
                row.pin.function = "input"
        finally:
            for row in self.rows:
                row.pin.output_with_state(False)  # at rest: all rows low, waiting for a key
        return found

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
