"""GPIO on gpiozero's own MockFactory, wired like the panel: keys to ground, a keypad matrix, LEDs.

A key press is what it is on the board: the key's pin driven low. The keypad is simulated
electrically: a column reads low only while a pressed key connects it to a row driven low as an
output, so :class:`hal.gpio.MatrixKeypad`'s real scanning code finds the key; a column joining a row
driven high to one driven low is counted in ``SimBoard.shorts``. LED colours are read back from the
LED pins, with their changes stamped on the unit's (possibly virtual) clock.

Edges reach gpiozero as the chosen pin factory delivers them (``delivery``): ``"mock"`` as
MockFactory does (at once, on the thread that changed the pin, re-entrantly), or ``"lgpio"`` as
gpiozero's lgpio factory does on a Pi (each edge queued with its level and handed over, one at a time,
by one callback thread, after the previous callback returned). ``bounce_s`` makes every key press and
release chatter that long before the contact settles.

    >>> factory = SimFactory(delivery="lgpio")
    >>> panel = PanelInputs(cfg["pins"], post, clock, pin_factory=factory)
    >>> board = SimBoard(factory, cfg["pins"], panel.keypad.layout, clock)
    >>> board.press("OK"); board.release("OK")
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gpiozero.pins.mock import MockFactory, MockPin
from gpiozero.pins.pi import PiPin

from firmware.clock import Clock
from firmware.leds import COLOUR_OF, LED_NAMES
from hal.gpio import PANEL_KEY_PINS

DELIVERIES = ("mock", "lgpio")
#: A bouncing contact changes level at these fractions of the bounce time before it settles.
CHATTER = (0.25, 0.5, 0.75, 1.0)
#: How long a quick tap holds a key, and leaves its input open before the next tap of it: just over
#: the unit's default debounce time (config pins.bounce_s = 0.02), so each change is seen.
MIN_CONTACT_S = 0.022


class SimPin(MockPin):
    """A MockPin that tells the board whenever its level changes (outputs included) and hands its edges
    over as its factory's ``delivery`` says."""

    def _change_state(self, value: bool) -> bool:
        changed = super()._change_state(value)
        if changed:
            for listener in list(self.factory.listeners):
                listener(self, value)
        return changed

    def _call_when_changed(self) -> None:
        if self.factory.delivery == "lgpio":
            self.factory.deliver_later(self, self._last_change, self._state)
        else:
            super()._call_when_changed()


class SimFactory(MockFactory):
    """gpiozero's MockFactory with :class:`SimPin` pins, change listeners and a choice of edge delivery."""

    def __init__(self, delivery: str = "mock") -> None:
        if delivery not in DELIVERIES:
            raise ValueError(f"gpio delivery must be one of {', '.join(DELIVERIES)} (got {delivery!r})")
        super().__init__(pin_class=SimPin)
        self.listeners: list[Callable[[SimPin, bool], None]] = []
        self.delivery = delivery
        self.delivered = 0
        self._edges: queue.Queue[tuple[SimPin, float, bool] | None] = queue.Queue()
        self._busy = 0
        self._idle = threading.Condition()
        self._thread: threading.Thread | None = None

    def deliver_later(self, pin: SimPin, ticks: float, state: bool) -> None:
        """Queue an edge with its level for the callback thread (lgpio's way)."""
        with self._idle:
            self._busy += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._deliver, name="sim-lgpio-callbacks", daemon=True)
                self._thread.start()
        self._edges.put((pin, ticks, state))

    def _deliver(self) -> None:
        while (item := self._edges.get()) is not None:
            pin, ticks, state = item
            try:
                if pin._when_changed is not None:
                    PiPin._call_when_changed(pin, ticks, state)
            except Exception:  # as in lgpio, a failing callback does not stop the thread
                import logging

                logging.getLogger(__name__).exception("gpio callback failed")
            finally:
                with self._idle:
                    self.delivered += 1
                    self._busy -= 1
                    self._idle.notify_all()

    def drain(self, timeout: float = 5.0) -> None:
        """Wait until every queued edge has been handed over and its callback returned."""
        with self._idle:
            self._idle.wait_for(lambda: self._busy == 0, timeout)

    def close(self) -> None:
        if self._thread is not None:
            self._edges.put(None)
            self._thread = None
        super().close()


class SimBoard:
    """The simulated panel wiring: presses keys, scans nothing itself, and watches the LEDs."""

    def __init__(self, factory: SimFactory, pins: Mapping[str, Any], keypad_layout: Sequence[Sequence[str]],
                 clock: Clock, bounce_s: float = 0.0) -> None:
        self.factory = factory
        self.clock = clock
        self.bounce_s = bounce_s
        #: runs ``fn`` after ``delay`` s of the unit's clock, from any thread (chatter needs it)
        self.schedule: Callable[[float, Callable[[], None]], None] | None = None
        self.shorts = 0  # a column that joined a row driven high to a row driven low
        self.hook_off: bool | None = None  # the handset, as last set
        self.closed_keys: set[str] = set()  # panel keys whose contact is closed now
        self._tap_queue: list[tuple[str, Callable[[str], bool]]] = []  # taps to do, in order
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

    def tap(self, key: str, seen: Callable[[str], bool] | None = None) -> None:
        """Press and release ``key`` as a quick finger does, for taps asked for in a burst (a typed line
        of ``run --sim``). Taps are done one after the other, in order: each key is held at least
        :data:`MIN_CONTACT_S` and until ``seen(key)`` says the unit has it down, then let go until
        ``seen`` says it is up again, so no tap is lost however busy the unit is."""
        self._tap_queue.append((key, seen or (lambda _k: True)))
        if len(self._tap_queue) == 1:
            self._tap_next()

    def _tap_next(self) -> None:
        if not self._tap_queue:
            return
        key, seen = self._tap_queue[0]
        if self.schedule is None:  # the unit is off: nobody to wait for
            self._tap_queue.pop(0)
            self.press(key)
            self.release(key)
            self._tap_next()
            return
        self.press(key)
        self._tap_wait(lambda: seen(key), MIN_CONTACT_S, lambda: self._tap_release(key, seen))

    def _tap_release(self, key: str, seen: Callable[[str], bool]) -> None:
        self.release(key)
        self._tap_wait(lambda: not seen(key), 0.0, self._tap_done)

    def _tap_done(self) -> None:
        self._tap_queue.pop(0)
        self._tap_next()

    def _tap_wait(self, ready: Callable[[], bool], at_least: float, then: Callable[[], None], tries: int = 200) -> None:
        """``then()`` once ``ready()`` holds, looking after ``at_least`` s and every 5 ms (2 s at most)."""
        def look(left: int) -> None:
            if ready() or left <= 0 or self.schedule is None:
                then()
            else:
                self.schedule(0.005, lambda: look(left - 1))

        if self.schedule is None:
            then()
        else:
            self.schedule(at_least, lambda: look(tries))

    def _key(self, key: str, down: bool) -> None:
        """A panel key shorts its pin to ground; a keypad key joins its row and column. With
        ``bounce_s`` the contact chatters that long (on the unit's clock) before it settles."""
        if key not in self.key_pin and key not in self.keypad_pos:
            raise ValueError(f"no key {key!r} on the panel")
        self._contact(key, down)
        if self.bounce_s > 0 and self.schedule is not None:
            for n, fraction in enumerate(CHATTER, 1):
                closed = down if n % 2 == 0 else not down
                self.schedule(self.bounce_s * fraction, lambda c=closed: self._contact(key, c))

    def reassert(self) -> None:
        """Drive every input as the switches hold it (after the unit re-claimed its pins and gpiozero
        set their pulls: a closed switch still wins over a pull-up)."""
        if self.hook_off is not None:
            self.set_hook(self.hook_off)
        for key in self.closed_keys:
            self.gpio(self.key_pin[key]).drive_low()
        self._settle_columns()

    def _contact(self, key: str, closed: bool) -> None:
        if key in self.key_pin:
            pin = self.gpio(self.key_pin[key])
            (self.closed_keys.add if closed else self.closed_keys.discard)(key)
            pin.drive_low() if closed else pin.drive_high()
        else:
            (self.pressed.add if closed else self.pressed.discard)(self.keypad_pos[key])
            self._settle_columns()

    def set_hook(self, off_hook: bool) -> None:
        self.hook_off = off_hook
        pin = self.gpio(self.pins["hook"])
        active_low = self.pins["hook_active_low"]
        if off_hook == active_low:
            pin.drive_low()
        else:
            pin.drive_high()

    def _settle_columns(self) -> None:
        """Columns read low when a pressed key joins them to a row driven low (an output)."""
        for c, col_pin in enumerate(self.col_pins):
            driven = {self.gpio(row_pin).state for r, row_pin in enumerate(self.row_pins)
                      if (r, c) in self.pressed and self.gpio(row_pin).function == "output"}
            if len(driven) > 1:
                self.shorts += 1
            low = False in driven
            pin = self.gpio(col_pin)
            if low and pin.state:
                pin.drive_low()
            elif not low and not pin.state:
                pin.drive_high()

    # ---------------------------------------------------------------- outputs
    def _pin_changed(self, pin: SimPin, value: bool) -> None:
        number = self._pin.get(pin.info.name)
        if number in self.row_pins:
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
