"""Restart after a crash: the call draft comes back as the same call (off-hook) or is saved as ended (on-hook).

In-process, on the virtual clock: one simulated unit dies mid-call (never closed, as after kill -9),
a second one starts on the same state directory. The real-process version is in
tests/test_systemd_restart.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from firmware.call.recovery import call_age, recover, restore_call
from firmware.clock import VirtualClock
from firmware.config import load_config
from hwsim.unit import SimUnit

START = datetime.fromisoformat("2026-11-23T09:15:00+02:00")


@pytest.fixture
def units(tmp_path):
    made: list[SimUnit] = []

    def build(wall: datetime = START, operator: bool = True, **overrides) -> SimUnit:
        cfg = load_config(overrides=overrides, simulator=True)
        sim = SimUnit.create(cfg, VirtualClock(wall), state_dir=tmp_path / "state")
        if operator:
            sim.unit.sign_in(7, "Олена Петренко")
        made.append(sim)
        return sim

    yield build
    for sim in made:
        sim.close()


def press(sim: SimUnit, key: str) -> None:
    sim.press(key)
    sim.advance(0.05)
    sim.release(key)
    sim.advance(0.05)


def crash_mid_hold(build) -> dict:
    """A call with the opening script at step 2 and the caller on hold, then the unit dies."""
    first = build()
    first.hook(off=True)
    first.advance(2)
    press(first, "OK")  # address
    press(first, "OK")  # help
    first.advance(5)
    press(first, "HOLD")
    press(first, "OK")  # consent: the hold starts
    first.advance(20)
    draft = first.journal.get_draft("call")
    assert draft is not None and draft["ended_at"] is None
    assert [e["type"] for e in draft["events"]][-1] == "hold_start"
    return draft


def test_off_hook_restart_comes_back_into_the_same_call_with_the_hold_running(units):
    draft = crash_mid_hold(units)
    second = units(wall=START + timedelta(seconds=40), operator=False)
    assert recover(second.unit, off_hook=True) == "resumed"
    second.hook(off=True)  # the handset was off-hook all along: no new call
    second.advance(1)
    call = second.unit.call
    assert call is not None and call.id == draft["id"]
    types = [e["type"] for e in call.events]
    assert types[: len(draft["events"])] == [e["type"] for e in draft["events"]]
    assert types[-1] == "unit_restarted"
    assert second.unit.operator is not None and second.unit.operator.number == 7
    assert call.hold_started is not None
    assert second.unit.hold_elapsed() == pytest.approx(40 - (draft["events"][-1]["t"]), abs=1.5)
    assert second.led("hold") == "green" and second.led("line") == "green"
    assert second.journal.count() == 0
    # the hold stages carry on from the original start: amber at 2:30 of hold
    second.advance(150 - second.unit.hold_elapsed() + 0.5)
    assert second.led("hold") == "amber"
    press(second, "HOLD")  # ends the hold
    second.hook(off=False)
    second.advance(1)
    record = second.journal.get(draft["id"])
    assert record is not None and second.journal.count() == 1
    assert record["hold_total_s"] >= 150 and [e["type"] for e in record["events"]][-1] == "call_end"
    assert second.journal.get_draft("call") is None


def test_resumed_call_shows_the_script_step_the_operator_had_reached(units):
    crash_mid_hold(units)
    second = units(wall=START + timedelta(seconds=40))
    recover(second.unit, off_hook=True)
    second.advance(0.5)
    press(second, "HOLD")  # end the hold: the script screen shows again
    assert second.shows(second.unit.desk.bank.text("script.help")[:15])


def test_on_hook_restart_saves_the_call_as_ended_at_the_restart_time(units):
    draft = crash_mid_hold(units)
    restart = START + timedelta(seconds=300)
    second = units(wall=restart, operator=False)
    assert recover(second.unit, off_hook=False) == "ended"
    assert second.unit.call is None and second.journal.get_draft("call") is None
    record = second.journal.get(draft["id"])
    assert record is not None
    assert datetime.fromisoformat(record["ended_at"]) == restart
    types = [e["type"] for e in record["events"]]
    assert types[-3:] == ["unit_restarted", "hold_end", "call_end"]
    assert record["operator"] == 7
    assert record["hold_total_s"] == pytest.approx(300 - draft["events"][-1]["t"], abs=1)
    second.advance(1)
    assert second.led("line") == "off" and second.led("hold") == "off"


def test_on_hook_record_keeps_the_crash_time_operator(units):
    crash_mid_hold(units)
    second = units(wall=START + timedelta(seconds=60), operator=False,
                   operators=[{"number": 7, "name": "Олена Петренко"}, {"number": 8, "name": "Іван Коваль"}])
    second.unit.sign_in(8, "Іван Коваль")
    recover(second.unit, off_hook=False)
    assert second.journal.latest()["operator"] == 7
    assert second.unit.operator.number == 8


def test_no_draft_means_nothing_to_do(units):
    sim = units()
    assert recover(sim.unit, off_hook=True) == "none"
    assert sim.unit.call is None


def test_an_unreadable_draft_is_left_for_a_technician(units):
    sim = units()
    sim.journal.put_draft("call", {"events": "garbage"})
    assert restore_call(sim.unit, sim.journal.get_draft("call"), off_hook=True) == "invalid"
    assert sim.journal.get_draft("call") == {"events": "garbage"}
    assert sim.unit.call is None


def test_call_age_distrusts_a_jumped_wall_clock():
    clock = VirtualClock(START + timedelta(days=3))
    assert call_age(START.isoformat(), clock, 42.0) == 42.0  # too old to believe
    clock = VirtualClock(START - timedelta(hours=1))
    assert call_age(START.isoformat(), clock, 42.0) == 42.0  # before the call began
    clock = VirtualClock(START + timedelta(seconds=90))
    assert call_age(START.isoformat(), clock, 42.0) == 90.0
    assert call_age(START.isoformat(), VirtualClock(), 42.0) == 42.0  # untrusted clock


def test_virtual_wall_time_follows_the_autumn_dst_change():
    """A 2-hour call from 02:30 summer time on 25 Oct 2026 in Kyiv ends at 03:30 winter time."""
    clock = VirtualClock(wall_start=datetime.fromisoformat("2026-10-25T02:30:00+03:00"))
    clock.advance(2 * 3600)
    assert clock.now().isoformat() == "2026-10-25T03:30:00+02:00"
    assert clock.now() - datetime.fromisoformat("2026-10-25T02:30:00+03:00") == timedelta(hours=2)
