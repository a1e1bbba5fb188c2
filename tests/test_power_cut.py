"""Issue 13, points 2 and 3: a power cut in the middle of an appeal or a hold, on the real drivers.

The unit dies (closed without ending the call, as after kill -9 or a power cut), time goes on while it
is off, and a new unit starts on the same state directory with the handset up or down, as the desk
was left. The typed appeal comes back on screen whatever the hook; the call and the hold go on from
their real start, so R18's 3-minute alarm is not late by the outage.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from power_desk import PowerDesk

from firmware.config import load_config

START = datetime.fromisoformat("2026-11-23T10:00:00+02:00")


@pytest.fixture(params=["20x4", "16x2"])
def desk(request, tmp_path):
    d = PowerDesk(tmp_path / "state", load_config(overrides={"lcd": {"size": request.param}}), START)
    d.sim.unit.sign_in(7, "Олена Петренко")
    yield d
    d.sim.close()


def type_appeal(desk: PowerDesk) -> None:
    desk.sim.hook(off=True)
    desk.sim.advance(1.0)
    desk.tap("APPEAL", "OK", "2", "2")
    desk.sim.advance(1.2)
    desk.tap("3", "3")
    desk.sim.advance(1.2)
    desk.tap("OK", "DOWN", "OK", "4", "4")
    desk.sim.advance(1.2)
    desk.tap("5", "5")
    desk.sim.advance(1.2)
    desk.tap("OK", "DOWN", "OK", "5")  # the essence being typed when the power goes
    desk.sim.advance(30.0)


def test_typed_appeal_comes_back_with_the_handset_put_down_while_off(desk):
    type_appeal(desk)
    call_id = desk.sim.unit.call.id
    before = desk.sim.unit.call_time()
    sim = desk.cut_and_restore(off_s=120.0, off_hook=False)
    assert sim.unit.call is not None and sim.unit.call.id == call_id
    assert sim.shows("Суть питання") and sim.shows("М")  # the form, as at the last key
    assert sim.unit.call_time() == pytest.approx(before + 120.0 + 0.5, abs=0.6)  # from the real start
    assert sim.journal.latest() is None  # no record yet: it is written when the form is saved
    desk.tap("OK", "UP")
    assert sim.shows("Місце проживання") and sim.shows("Ін")
    desk.tap("UP")
    assert sim.shows("Бе")
    desk.tap("DOWN", "DOWN", "DOWN", "OK", "OK", "DOWN", "OK", *"0671234567", "OK", "APPEAL")
    assert sim.shows("Збережено")
    record = sim.journal.latest()
    assert record["id"] == call_id and record["appeal"]["full_name"] == "Бе"
    assert record["appeal"]["essence"] == "М"
    assert record["started_at"] == "2026-11-23T10:00:00+02:00"
    assert any(e["type"] == "unit_restarted" for e in record["events"])


def test_typed_appeal_and_call_time_carry_on_with_the_handset_still_up(desk):
    type_appeal(desk)
    before = desk.sim.unit.call_time()
    sim = desk.cut_and_restore(off_s=60.0, off_hook=True)
    assert sim.shows("Суть питання") and sim.shows("М")
    assert sim.unit.call_time() == pytest.approx(before + 60.5, abs=0.6)  # not 00:01
    minutes, seconds = divmod(int(sim.unit.call_time()), 60)
    desk.tap("OK", "BACK")  # the form closed: the call's status row shows the call time
    assert sim.shows(f"{minutes:02d}:") or sim.shows("Лінія")


def test_a_hold_goes_on_from_its_real_start_and_alarms_on_time(desk):
    desk.sim.hook(off=True)
    desk.sim.advance(2.0)
    desk.tap("HOLD", "OK")  # consent: the hold starts at about 2.4 s into the call
    desk.sim.advance(100.0)
    assert desk.sim.led("hold") == "green"
    sim = desk.cut_and_restore(off_s=40.0, off_hook=True)
    assert sim.unit.hold_elapsed() == pytest.approx(140.5, abs=1.0)  # not 00:00
    assert sim.led("hold") == "green"
    sim.advance(15.0)  # past 2:30
    assert sim.led("hold") == "amber"
    sim.advance(30.0)  # past 3:00 by the real start, not 3 minutes after the restart
    assert sim.led("hold") == "red-blink"
    desk.tap("HOLD")
    sim.hook(off=False)
    sim.advance(1.0)
    record = sim.journal.latest()
    assert record["hold_max_s"] == pytest.approx(186.0, abs=2.0)
