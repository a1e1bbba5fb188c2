"""The call layer's typed settings: a change applied at run time (console `set`, a config push) is what
the next call, hold and greeting follow."""

from __future__ import annotations

from firmware.events import Callback


def tap(sim, key):
    sim.press(key)
    sim.advance(0.05)
    sim.release(key)
    sim.advance(0.05)


def test_a_hold_limit_changed_at_run_time_moves_the_red_stage(make_sim):
    sim = make_sim()
    sim.loop.post(Callback(sim.unit.apply_config, ({"hold": {"warn_s": 200, "limit_s": 240}},)))
    sim.hook(off=True)
    sim.advance(1)
    tap(sim, "HOLD")
    tap(sim, "OK")
    sim.advance(185)  # past the shipped 3:00 limit: still green under the new 3:20 / 4:00
    assert sim.led("hold") == "green"
    sim.advance(30)
    assert sim.led("hold") == "amber"
    assert not sim.shows("Понад 3 хв")
    sim.advance(30)  # 4:00 passed: red, blinking, and the reminder to call back or transfer
    assert sim.led("hold") == "red-blink" and sim.shows("Понад 3 хв")


def test_greeting_boundaries_changed_at_run_time_apply_to_the_next_call(make_sim):
    sim = make_sim(clock="2026-11-23T11:30:00+02:00")
    sim.hook(off=True)
    sim.advance(1)
    assert sim.shows("Доброго ранку") and not sim.shows("Доброго дня")
    sim.hook(off=False)
    sim.advance(1)
    sim.loop.post(Callback(sim.unit.apply_config, ({"greeting": {"day": "11:00"}},)))
    sim.hook(off=True)
    sim.advance(1)
    assert sim.shows("Доброго дня")
