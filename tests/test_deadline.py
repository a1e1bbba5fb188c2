"""R11's forwarding deadline, one rule for the unit and the server: the cut-off of the day an appeal
is registered, or of the next working day; never in the past."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from hypothesis import given
from hypothesis import strategies as st

from firmware.clock import KYIV
from firmware.deadline import ForwardRule, working_days

RULE = ForwardRule(time(17, 0))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(KYIV)


def test_before_the_cut_off_on_a_working_day_it_is_due_that_day():
    assert RULE.due(at("2026-11-23T09:30:00+02:00")).isoformat() == "2026-11-23T17:00:00+02:00"


def test_at_or_after_the_cut_off_it_is_due_the_next_working_day():
    assert RULE.due(at("2026-11-23T17:00:00+02:00")).isoformat() == "2026-11-24T17:00:00+02:00"
    assert RULE.due(at("2026-11-23T23:59:23+02:00")).isoformat() == "2026-11-24T17:00:00+02:00"


def test_friday_night_and_the_weekend_are_due_monday():
    for when in ("2026-11-27T23:59:23+02:00", "2026-11-28T10:00:00+02:00", "2026-11-29T16:00:00+02:00"):
        assert RULE.due(at(when)).isoformat() == "2026-11-30T17:00:00+02:00"


def test_working_days_and_cut_off_come_from_the_config():
    rule = ForwardRule.from_config({"forward_cutoff": "18:30", "working_days": ["mon", "tue", "wed", "thu", "fri",
                                                                               "sat"], "forward_warn_min": 45})
    assert rule.due(at("2026-11-28T10:00:00+02:00")).isoformat() == "2026-11-28T18:30:00+02:00"
    assert rule.warn_s == 45 * 60
    assert working_days(["Mon", "sunday"]) == frozenset({0, 6})


def test_the_due_time_is_local_across_a_dst_change():
    """Saturday 24 Oct 2026 (summer time) is due Monday 26 Oct 17:00 winter time."""
    assert RULE.due(at("2026-10-24T12:00:00+03:00")).isoformat() == "2026-10-26T17:00:00+02:00"


@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31)))
def test_never_due_in_the_past_and_always_on_a_working_day_at_the_cut_off(naive):
    registered = naive.replace(tzinfo=KYIV)
    due = RULE.due(registered)
    assert due > registered
    assert due.weekday() in RULE.working_days and due.time() == time(17, 0)
    assert due - registered <= timedelta(days=4)  # Friday after 17:00 to Monday 17:00 at most
    assert RULE.check(registered, due) is None


def test_the_server_refuses_a_due_time_in_the_past_or_too_late():
    registered = at("2026-11-23T10:00:00+02:00")
    assert "before" in RULE.check(registered, at("2026-11-23T09:00:00+02:00"))
    assert "later than the rule" in RULE.check(registered, at("2026-12-23T17:00:00+02:00"))
    assert "offset" in RULE.check(registered, datetime(2026, 11, 23, 17, 0))


def test_at_risk_within_the_warning_before_the_due_time():
    due = at("2026-11-23T17:00:00+02:00")
    assert not RULE.at_risk(at("2026-11-23T16:29:00+02:00"), due)
    assert RULE.at_risk(at("2026-11-23T16:31:00+02:00"), due)
