"""Keys, keypad and hook through gpiozero whatever way the pin factory delivers edges, through bounce.

``gpio="lgpio"`` queues every edge with its level and hands it over from one callback thread after the
previous callback returned, as gpiozero's lgpio factory does on a Pi 5; ``"mock"`` calls back at once.
"""

from __future__ import annotations

import pytest

from firmware.events import HookChanged, KeyDown, KeyUp

MODES = [("mock", 0.0), ("lgpio", 0.0), ("mock", 0.008), ("lgpio", 0.008)]


def record_events(sim):
    seen: list = []

    def spy(event) -> bool:
        if isinstance(event, KeyDown | KeyUp | HookChanged):
            seen.append(event)
        return False  # only watching: the unit still handles it

    sim.loop.add_filter(spy)
    return seen


@pytest.mark.parametrize("gpio, bounce_s", MODES)
def test_a_keypad_key_held_gives_one_down_and_one_up(make_sim, gpio, bounce_s):
    sim = make_sim(gpio=gpio, bounce_s=bounce_s)
    seen = record_events(sim)
    sim.press("5")
    sim.advance(0.3)
    sim.release("5")
    sim.advance(0.3)
    assert [(type(e).__name__, e.key) for e in seen] == [("KeyDown", "5"), ("KeyUp", "5")]
    assert seen[1].held_s == pytest.approx(0.3, abs=0.05)


@pytest.mark.parametrize("gpio, bounce_s", MODES)
def test_typing_fast_on_every_key_gives_each_key_once(make_sim, gpio, bounce_s):
    sim = make_sim(gpio=gpio, bounce_s=bounce_s)
    seen = record_events(sim)
    keys = "123456789*0#"
    for key in keys + "OK" * 0:
        sim.press(key)
        sim.advance(0.06)
        sim.release(key)
        sim.advance(0.06)
    for key in ("OK", "UP", "APPEAL"):
        sim.press(key)
        sim.advance(0.06)
        sim.release(key)
        sim.advance(0.06)
    downs = [e.key for e in seen if isinstance(e, KeyDown)]
    ups = [e.key for e in seen if isinstance(e, KeyUp)]
    assert downs == ups == list(keys) + ["OK", "UP", "APPEAL"]


@pytest.mark.parametrize("gpio", ["mock", "lgpio"])
def test_two_keys_held_in_one_column_are_both_seen_and_never_short_two_outputs(make_sim, gpio):
    sim = make_sim(gpio=gpio)
    seen = record_events(sim)
    sim.press("2")
    sim.advance(0.1)
    sim.press("5")  # same column as 2; its column is already low
    sim.press("9")  # another column: scanned again with 2 and 5 held
    sim.advance(0.1)
    sim.release("2")
    sim.release("5")
    sim.release("9")
    sim.advance(0.1)
    downs = sorted(e.key for e in seen if isinstance(e, KeyDown))
    assert downs == ["2", "5", "9"]
    assert sorted(e.key for e in seen if isinstance(e, KeyUp)) == ["2", "5", "9"]
    assert sim.board.shorts == 0
    rows = [(sim.board.gpio(p).function, sim.board.gpio(p).state) for p in sim.cfg["pins"]["keypad_rows"]]
    assert rows == [("output", False)] * 4  # at rest: every row driven low, waiting for a key


@pytest.mark.parametrize("gpio", ["mock", "lgpio"])
def test_a_bouncing_hook_starts_one_call(make_sim, gpio):
    sim = make_sim(gpio=gpio)
    seen = record_events(sim)
    sim.board.bounce_s = 0.008
    pin = sim.board.gpio(sim.cfg["pins"]["hook"])
    for level in (0, 1, 0, 1, 0):  # the hook switch chatters, then stays off-hook
        pin.drive_low() if level == 0 else pin.drive_high()
        sim.advance(0.002)
    sim.advance(1.0)
    assert [e.off_hook for e in seen] == [True]
    assert sim.unit.call is not None


@pytest.mark.parametrize("gpio", ["mock", "lgpio"])
def test_keys_tapped_in_a_burst_come_out_in_order(make_sim, gpio):
    sim = make_sim(gpio=gpio, bounce_s=0.008)
    seen = record_events(sim)
    for key in "2106655#":  # as `run --sim` taps a typed line: all at once, spread out by the finger
        sim.tap(key)
    sim.advance(1.0)
    assert [e.key for e in seen if isinstance(e, KeyDown)] == list("2106655#")
