"""How the simulator reads an LED, as a person looking at the panel would: steady or blinking."""

from __future__ import annotations

RED, OFF = (1, 0, 0), (0, 0, 0)


def test_an_led_that_has_just_come_on_is_steady_not_blinking(make_sim):
    sim = make_sim()
    sim.line.set_mode("clean")
    sim.advance(0.2)
    sim.hook(off=True)  # LINE goes from off (read at start-up, inside the blink window) to green
    sim.advance(0.5)
    assert sim.led("line") == "green"


def test_an_led_going_on_and_off_repeatedly_is_blinking(make_sim):
    sim = make_sim()
    hold = sim.app.hw_leds["hold"]
    sim.advance(5.0)
    hold.set_rgb(RED)
    sim.advance(0.5)
    assert sim.led("hold") == "red"  # on once: steady
    hold.set_rgb(OFF)
    sim.advance(0.5)
    assert sim.led("hold") == "red-blink"  # on, then off again: blinking
    hold.set_rgb(RED)
    sim.advance(0.5)
    assert sim.led("hold") == "red-blink"
    sim.advance(2.0)
    assert sim.led("hold") == "red"  # no change for longer than a blink: steady again


def test_an_led_switched_off_once_is_off(make_sim):
    sim = make_sim()
    hold = sim.app.hw_leds["hold"]
    sim.advance(5.0)
    hold.set_rgb(RED)
    sim.advance(3.0)
    hold.set_rgb(OFF)
    sim.advance(0.2)
    assert sim.led("hold") == "off"
