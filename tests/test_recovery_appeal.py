"""A crash in the middle of an appeal: the form comes back as it was at the last key, on screen."""

from __future__ import annotations

from datetime import datetime

import pytest

from firmware.call.recovery import recover
from firmware.clock import VirtualClock
from firmware.config import load_config
from hwsim.unit import SimUnit


def tap(sim, key):
    sim.press(key)
    sim.advance(0.05)
    sim.release(key)
    sim.advance(0.1)


def start(state_dir):
    sim = SimUnit.create(load_config(), VirtualClock(datetime.fromisoformat("2026-11-23T10:00:00+02:00")),
                         state_dir=state_dir)
    sim.unit.sign_in(7, "Олена Петренко")
    return sim


def test_the_open_appeal_form_survives_a_crash_with_the_handset_still_off_hook(tmp_path):
    before = start(tmp_path)
    before.hook(off=True)
    before.advance(1)
    for key in ["APPEAL", "OK", "2", "2", "3", "OK", "DOWN", "OK", "4", "4", "OK"]:  # name «Бд», residence «І»
        tap(before, key)
    call_id = before.unit.call.id
    tap(before, "DOWN")
    tap(before, "OK")
    tap(before, "#")
    tap(before, "5")  # essence being typed when the power goes
    before.close()  # no call end: as after kill -9

    after = start(tmp_path)
    after.loop.call_soon(recover, after.unit, True)  # at start-up, before any input, as run does
    after.hook(off=True)  # the handset is still off the hook
    after.advance(0.5)
    assert after.unit.call is not None and after.unit.call.id == call_id
    assert after.shows("Суть питання") and after.shows("5_")  # the form, as at the last key
    tap(after, "OK")
    tap(after, "UP")
    assert after.shows("Місце проживання") and after.shows("І")
    tap(after, "UP")
    assert after.shows("ПІБ") and after.shows("Бд")
    after.hook(off=False)
    after.advance(1)
    assert after.shows("ПІБ")  # the handset is down, but the typed appeal stays until saved or discarded
    tap(after, "BACK")
    assert after.shows("Видалити звернення?")
    tap(after, "OK")
    record = after.journal.latest()
    assert record["id"] == call_id
    assert any(e["type"] == "unit_restarted" for e in record["events"])
    after.close()


def test_an_appeal_saved_before_the_crash_is_in_the_record_after_it(tmp_path):
    before = start(tmp_path)
    before.hook(off=True)
    before.advance(1)
    keys = ["APPEAL", "OK", "2", "OK", "DOWN", "OK", "4", "OK", "DOWN", "OK", "#", "5", "OK", "DOWN",
            "OK", "DOWN", "OK", "DOWN", "OK", *"0671234567", "OK", "APPEAL"]
    for key in keys:
        tap(before, key)
    assert before.shows("Збережено")
    before.close()  # crash right after the LCD said «Збережено»

    after = start(tmp_path)  # restarted on-hook: the call is saved as ended
    after.loop.call_soon(recover, after.unit, False)
    after.advance(0.5)
    appeal = after.journal.latest()["appeal"]
    assert appeal["full_name"] == "А" and appeal["phone"] == "+380671234567"
    after.close()


@pytest.mark.parametrize("off_hook", [False, True])
def test_a_hung_up_call_whose_typing_was_cancelled_is_saved_at_restart(tmp_path, off_hook):
    # the caller hangs up while a name is being typed (the form stays, wrap-up), the operator
    # cancels the field with BACK, so nothing typed is left, and the power goes: at restart the
    # call is simply saved (it used to come back with no screen and stop the start-up)
    before = start(tmp_path)
    before.hook(off=True)
    before.advance(1)
    for key in ["APPEAL", "OK", "2", "2", "3"]:
        tap(before, key)
    call_id = before.unit.call.id
    before.hook(off=False)
    before.advance(1)
    tap(before, "BACK")
    assert before.unit.call is not None and not before.unit.call.appeal_form.has_typed()
    before.close()  # the power goes

    after = start(tmp_path)
    after.loop.call_soon(recover, after.unit, off_hook)
    if off_hook:
        after.hook(off=True)  # picked up again while the unit was down: a new call
    after.advance(0.5)
    record = after.journal.latest()
    assert record["id"] == call_id and record["appeal"] is None
    assert any(e["type"] == "unit_restarted" for e in record["events"])
    assert (after.unit.call is not None and after.unit.call.id != call_id) if off_hook else after.unit.call is None
    after.close()
