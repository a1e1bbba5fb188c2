"""Retention and privacy of appeals: purged only after the server confirmed them, never in a log."""

from __future__ import annotations

import logging

from conftest import OUR_SCENARIOS

from hwsim.scenario import run_scenario
from hwsim.sync_sim import attach_sync

DAY = 86400.0


def tap(sim, key: str) -> None:
    sim.press(key)
    sim.advance(0.05)
    sim.release(key)
    sim.advance(0.1)


def appeal_keys(name_digits: str) -> list[str]:
    """The keys of an appeal typed on the panel: a letter (a name needs one), then digits mode keeps it
    quick (no multi-tap waits): full name «А<digits>», residence «И7»; the last key, APPEAL, saves it."""
    return ["APPEAL", "OK", "2", "#", *name_digits, "OK", "DOWN", "OK", "4", "#", "7", "OK", "DOWN",
            "OK", "#", "5", "OK", "DOWN", "OK", "DOWN", "OK", "DOWN", "OK", *"0671234567", "OK", "APPEAL"]


def register_appeal(sim, name_digits: str) -> None:
    sim.hook(off=True)
    sim.advance(1)
    for key in appeal_keys(name_digits):
        tap(sim, key)
    assert sim.shows("Збережено")
    sim.hook(off=False)
    sim.advance(1)


def test_personal_data_is_purged_30_days_after_the_server_confirmed_it_and_never_before(make_sim):
    sim = make_sim()
    attach_sync(sim)
    register_appeal(sim, "111")
    sim.advance(5)
    assert sim.synced_count() == 1
    sim.set_server(False)
    register_appeal(sim, "222")  # never reaches the server
    sim.sync.stop()  # a month of retries would only slow the test down
    sim.advance(29 * DAY)
    names = {r["appeal"]["full_name"] for r in sim.journal.all()}
    assert names == {"А111", "А222"}  # 29 days: nothing purged yet
    sim.advance(2 * DAY)
    records = sim.journal.all()
    appeals = [r["appeal"] for r in records]
    assert {a["full_name"] for a in appeals} == {None, "А222"}  # the confirmed one is purged
    purged = next(a for a in appeals if a["full_name"] is None)
    assert purged["phone"] is None and purged["residence"] is None and purged["kind"] == "proposal"
    assert len(records) == 2 and all(r["outcome"] == "answered" for r in records)  # the records stay


def test_nothing_personal_of_an_appeal_reaches_any_log(caplog):
    caplog.set_level(logging.DEBUG)
    result = run_scenario(OUR_SCENARIOS / "appeal_full.toml")
    assert result.passed
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert text  # the unit did log (calls, sync), so the check below means something
    for personal in ("Ігор", "Лях", "Рівне", "0671234567", "+380671234567", "ok@ua.net", "Дата"):
        assert personal not in text
