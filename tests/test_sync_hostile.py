"""The outbox against records that break the server and bugs that would kill its thread: one bad
record never blocks the rest, and the sync thread never stays dead (issue 18, point 7)."""

from __future__ import annotations

import logging
from typing import Any

from firmware.deadline import forward_deadline
from firmware.exc import SyncError, SyncErrorKind
from firmware.sync import jobs
from tests.test_sync_worker import UNIT, server_ids
from tests.test_sync_worker import rig as rig  # the fixture

YEAR_9999 = {"started_at": "9999-12-31T23:50:00+02:00", "ended_at": "9999-12-31T23:59:00+02:00"}


def poison(r: Any, bad: set[str], status: int = 500) -> None:
    """The server answers ``status`` for any batch holding one of ``bad`` (as a PostgreSQL store does
    for a NUL byte): the rest of the server works."""
    post = r.client.post_batch

    def answer(records: list[dict[str, Any]]) -> Any:
        if any(rec["id"] in bad for rec in records):
            r.attempts.append(r.clock.monotonic())
            raise SyncError(SyncErrorKind.RETRY, f"server answered {status}", status)
        return post(records)

    r.client.post_batch = answer


def save_poisoned(r: Any) -> str:
    """One record the server will fail on (5xx), saved and pushed."""
    from central.testing import make_record

    rec = make_record(UNIT)
    poison(r, {rec["id"]})
    r.journal.save(rec, r.clock.now())
    r.worker.kick()
    r.loop.run_pending()
    return rec["id"]


def test_a_record_the_server_keeps_failing_on_is_parked_and_the_rest_sync(rig, caplog):
    r = rig(park_after_server_errors=3)
    bad = save_poisoned(r)
    later = []
    for _ in range(5):  # calls go on being saved while the bad record waits
        later += r.save(10)
        r.run(600)
        assert set(server_ids(r.server)) == set(later)  # every record behind it went through
    st = r.worker.state()
    assert st["parked"] == 1 and st["pending"] == 0 and st["led"] == "red"
    assert [rid for rid, _ in r.worker.parked()] == [bad]
    assert "500" in dict(r.worker.parked())[bad]
    n = len(r.attempts)
    r.run(3600)
    assert len(r.attempts) == n  # parked: not retried for ever


def test_a_server_failing_for_everything_parks_nothing(rig):
    r = rig(park_after_server_errors=2)
    r.faults.fail_next(None, status=500, only="/api/v1/records")
    r.save(5)
    r.run(1800)
    assert r.worker.state()["parked"] == 0 and r.journal.pending_count() == 5
    r.faults.clear()
    r.run(600)
    r.assert_all_delivered_once()


def test_a_parked_record_is_resent_on_request(rig):
    r = rig(park_after_server_errors=1)
    save_poisoned(r)
    r.save(2)
    r.run(60)
    assert r.worker.state()["parked"] == 1
    r.client.post_batch = r.client.__class__.post_batch.__get__(r.client)  # the server was fixed
    assert r.worker.unpark() == 1
    r.run(10)
    r.assert_all_delivered_once()
    assert r.worker.state()["parked"] == 0 and r.worker.parked() == []


def test_year_9999_deadline_is_no_deadline():
    assert forward_deadline(YEAR_9999["ended_at"]) is None


def test_year_9999_record_does_not_kill_the_sync_thread(rig, caplog):
    """The unit scans pending same-day forwards after every push: a year-9999 end has no next day."""
    r = rig(park_after_server_errors=3)
    [bad] = r.save(1, appeal={**_appeal(), "forward_to": "ДСА"}, **YEAR_9999)
    ok = []
    for _ in range(4):
        ok += r.save(3)
        r.run(600)
        assert set(server_ids(r.server)) == set(ok)
    assert "internal error" not in caplog.text.replace("internal error on POST", "")
    st = r.worker.state()
    assert st["parked"] == 1 and dict(r.worker.parked()).keys() == {bad}


def _appeal() -> dict[str, Any]:
    from central.testing import make_appeal

    return make_appeal()


class _Boom(BaseException):
    """What even the job's own handler does not catch."""


def test_the_sync_thread_is_restarted_after_it_dies_and_says_why(rig, caplog, monkeypatch):
    r = rig(check_period_s=30.0)
    push = jobs.Outbox.push
    calls = {"n": 0}

    def dies_once(self, *args):
        calls["n"] += 1
        if calls["n"] == 1:
            raise _Boom("disk on fire")
        return push(self, *args)

    monkeypatch.setattr(jobs.Outbox, "push", dies_once)
    with caplog.at_level(logging.ERROR, logger="firmware.sync"):
        r.save(2)
        r.run(61)
    assert "sync thread died and was restarted" in caplog.text and "disk on fire" in caplog.text
    r.save(1)
    r.run(10)
    r.assert_all_delivered_once()


def test_parked_records_show_on_the_console_and_the_panel_and_resend(make_sim):
    from deskunit.console_backend import ConsoleBackend
    from hwsim.panel_server import snapshot
    from hwsim.probe import SimProbe
    from hwsim.sync_sim import attach_sync

    sim = make_sim()
    worker = attach_sync(sim, park_after_server_errors=1)
    post = worker.client.post_batch
    first: list[str] = []

    def fails_on_the_first_record(records):
        first[:] = first or [records[0]["id"]]
        if any(r["id"] == first[0] for r in records):
            raise SyncError(SyncErrorKind.RETRY, "server answered 500", 500)
        return post(records)

    worker.client.post_batch = fails_on_the_first_record
    for _ in range(2):
        sim.hook(off=True)
        sim.advance(2)
        sim.hook(off=False)
        sim.advance(30)
    assert snapshot(sim)["journal"]["parked"] == 1 and sim.led("sync") == "red"
    backend = ConsoleBackend(sim.app, probe=SimProbe(sim))
    queue = backend.queue()
    assert queue["parked (not sent)"].startswith("1;") and f"  {first[0]}" in queue
    worker.client.post_batch = post  # the server was fixed
    assert "1 parked record" in backend.resend_parked()
    sim.advance(5)
    assert snapshot(sim)["journal"]["parked"] == 0 and sim.synced_count() == 2 and sim.led("sync") == "green"
