"""The three RGB LEDs as the operator reads them: a colour, steady or blinking.

Blinking runs on the unit's clock (not a driver thread) so the simulator's virtual time shows the
same blink a real panel would. Colours are mixed from the LED's red, green and blue dies:

    >>> COLOURS["amber"]
    (1, 1, 0)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from firmware.vocabulary import Colour, Led

#: Die states per colour. Amber is red and green together on a common RGB LED.
COLOURS: dict[Colour, tuple[int, int, int]] = {
    Colour.OFF: (0, 0, 0),
    Colour.GREEN: (0, 1, 0),
    Colour.AMBER: (1, 1, 0),
    Colour.RED: (1, 0, 0),
    Colour.BLUE: (0, 0, 1),
}
COLOUR_OF = {rgb: name for name, rgb in COLOURS.items()}
LED_NAMES: tuple[Led, ...] = tuple(Led)
BLINK_HALF_PERIOD_S = 0.5


@dataclass(frozen=True)
class LedState:
    """What one LED shows: a colour from :data:`COLOURS`, steady or blinking."""

    colour: Colour = Colour.OFF
    blink: bool = False

    def __str__(self) -> str:
        return f"{self.colour}-blink" if self.blink else self.colour


class Leds:
    """Logical LED states, pushed to hardware outputs (``set_rgb``) with blinking on the loop's clock.

    ``outputs`` maps an LED name to a callable taking an ``(r, g, b)`` tuple of 0/1.
    """

    def __init__(self, outputs: Mapping[str, Callable[[tuple[int, int, int]], None]], call_later) -> None:
        self._outputs = outputs
        self._call_later = call_later
        self.states: dict[Led, LedState] = {name: LedState() for name in LED_NAMES}
        self._held: dict[Led, LedState] = {}  # shown instead of ``states`` while a fault lasts
        self._phase_on = True
        self._blink_timer = None
        for name in LED_NAMES:
            self._push(name)

    def set(self, name: Led | str, colour: Colour | str, blink: bool = False) -> None:
        if colour not in COLOURS:
            raise ValueError(f"unknown colour {colour!r}")
        colour = Colour(colour)
        state = LedState(colour, blink and colour != Colour.OFF)
        if self.states[name] == state:
            return
        self.states[name] = state
        if name in self._held:
            return
        self._push(name)
        self._schedule_blink()

    def hold(self, name: Led | str, colour: Colour | str | None, blink: bool = False) -> None:
        """Show ``colour`` on ``name`` whatever :meth:`set` asks, until held with None (a fault the
        operator must see, such as a journal that cannot save, over the sync's own colours)."""
        if colour is not None and colour not in COLOURS:
            raise ValueError(f"unknown colour {colour!r}")
        name = Led(name)
        state = None if colour is None else LedState(Colour(colour), blink and colour != Colour.OFF)
        if self._held.get(name) == state:
            return
        if state is None:
            del self._held[name]
        else:
            self._held[name] = state
        self._push(name)
        self._schedule_blink()

    def shown(self, name: Led | str) -> LedState:
        """What ``name`` shows now: its held fault colour, else what was last set."""
        return self._held.get(name) or self.states[name]

    def _push(self, name: str) -> None:
        state = self.shown(name)
        lit = not state.blink or self._phase_on
        self._outputs[name](COLOURS[state.colour] if lit else COLOURS[Colour.OFF])

    def _schedule_blink(self) -> None:
        if self._blink_timer is None and any(self.shown(n).blink for n in LED_NAMES):
            self._blink_timer = self._call_later(BLINK_HALF_PERIOD_S, self._toggle)

    def _toggle(self) -> None:
        self._blink_timer = None
        self._phase_on = not self._phase_on
        for name in LED_NAMES:
            if self.shown(name).blink:
                self._push(name)
        if not any(self.shown(n).blink for n in LED_NAMES):
            self._phase_on = True
        self._schedule_blink()
