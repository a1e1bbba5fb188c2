"""The operator's shift outlives a power cut between calls, on the real drivers (firmware.call.shift).

The unit dies between calls (closed without signing anybody out, as after kill -9 or a power cut),
time goes on while it is off, and a new unit starts on the same state directory.  The operator who
was signed in is still signed in; one who ended the shift is not; a shift begun more than 12 hours
before, or an operator no longer on the roster, means signing in again.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from power_desk import PowerDesk

from firmware.call.shift import SHIFT_DRAFT
from firmware.config import load_config

START = datetime.fromisoformat("2026-11-23T08:00:00+02:00")
OLENA = {"number": 7, "name": "Олена Петренко", "pin_hash": ""}
IHOR = {"number": 12, "name": "Ігор Бондар", "pin_hash": ""}


class Desk(PowerDesk):
    """The power-cut desk with a roster of two and sign-in by keys."""

    def sign_in(self, number: str) -> None:
        self.tap(*number, "OK", "OK")  # number, OK, an empty PIN (this roster has none), OK

    def screen(self) -> str:
        return " ".join(self.sim.lcd_rows())


@pytest.fixture(params=["20x4", "16x2"])
def desk(request, tmp_path):
    cfg = load_config(overrides={"lcd": {"size": request.param}, "operators": [OLENA, IHOR]}, simulator=True)
    d = Desk(tmp_path / "state", cfg, START)
    yield d
    d.sim.close()


def asks_to_sign_in(desk: Desk) -> bool:
    return desk.sim.unit.operator is None and "№" in desk.screen() and "Пeтpeнкo" not in desk.screen()


def test_the_operator_signed_in_between_calls_is_still_signed_in_after_a_power_cut(desk):
    desk.sign_in("7")
    assert desk.sim.unit.operator.number == 7
    desk.sim.advance(600.0)
    desk.cut_and_restore(off_s=40.0)
    assert desk.sim.unit.operator is not None and desk.sim.unit.operator.number == 7
    assert not asks_to_sign_in(desk)
    # the next call gets the operator's introduction (R3) without asking for a number first
    desk.sim.hook(off=True)
    desk.sim.advance(1.0)
    assert desk.sim.unit.call.operator == 7


def test_a_second_cut_does_not_stretch_the_shift(desk):
    desk.sign_in("7")
    desk.sim.advance(3600.0)
    desk.cut_and_restore(off_s=60.0)
    assert desk.sim.unit.operator.number == 7
    desk.sim.advance(10 * 3600.0)
    desk.cut_and_restore(off_s=60.0)  # 11 h after signing in: the same shift
    assert desk.sim.unit.operator.number == 7
    desk.sim.advance(3600.0)
    desk.cut_and_restore(off_s=60.0)  # past 12 h from the sign-in, not from the restarts
    assert desk.sim.unit.operator is None


def test_an_operator_who_ended_the_shift_is_not_signed_in_again(desk):
    desk.sign_in("7")
    desk.tap("BACK", "OK")  # end of shift, confirmed
    assert desk.sim.unit.operator is None
    desk.cut_and_restore(off_s=5.0)
    assert asks_to_sign_in(desk)


def test_the_next_morning_is_another_shift(desk):
    desk.sign_in("7")
    desk.sim.advance(9 * 3600.0)
    desk.cut_and_restore(off_s=14 * 3600.0)  # switched off in the evening, on the next morning
    assert asks_to_sign_in(desk)
    assert desk.sim.unit.journal.get_draft(SHIFT_DRAFT) is None  # a later cut does not bring it back
    desk.sign_in("12")
    desk.cut_and_restore(off_s=5.0)
    assert desk.sim.unit.operator.number == 12


def test_an_operator_taken_off_the_roster_while_the_unit_was_off_signs_in_no_more(desk):
    desk.sign_in("12")
    desk.sim.cfg = {**desk.sim.cfg, "operators": [OLENA]}  # a roster pushed while the unit is off
    desk.cut_and_restore(off_s=30.0)
    assert asks_to_sign_in(desk)


@pytest.mark.parametrize("kept", [{"operator": "seven"}, {"since": "2026-11-23T08:00:00+02:00"},
                                  {"operator": 7, "since": "2026-11-23T08:00:00"}, "garbage"])
def test_an_unreadable_shift_means_signing_in_again_not_a_failed_start(desk, kept):
    desk.sign_in("7")
    desk.sim.unit.journal.put_draft(SHIFT_DRAFT, kept)
    desk.cut_and_restore(off_s=5.0)
    assert asks_to_sign_in(desk)
    desk.sign_in("7")  # and the unit works on
    assert desk.sim.unit.operator.number == 7
