"""SyncWorker against the real reference server on loopback, with a real SQLite journal and a virtual
clock: every fault the server can inject, and after each: 0 records lost, 0 duplicates at the server.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from central.faults import Faults
from central.server import CentralServer
from central.testing import call, make_appeal, make_record, record_ids
from firmware.clock import KYIV, VirtualClock
from firmware.events import Event
from firmware.journal import Journal
from firmware.loop import EventLoop
from firmware.sync import PUSHED_CONFIG_DRAFT, Backoff, SyncClient, SyncSettings, SyncWorker

UNIT = "unit-t1"
TOKEN = "token-unit-t1"
RECORDS = "/api/v1/records"


def server_ids(server: CentralServer, unit: str = UNIT) -> list[str]:
    """Every record id the server holds for ``unit``, via GET /records with the admin token."""
    return record_ids(server.url, server.admin_token, unit)


class Rig:
    """A server, a journal, a virtual clock and a loop, with a worker in lockstep."""

    def __init__(self, tmp_path: Path, start: datetime | None = None, token: str = TOKEN,
                 timeout_s: float = 2.0, **options: Any) -> None:
        self.faults = Faults()
        self.clock = VirtualClock(start or datetime(2026, 11, 23, 10, 0, tzinfo=KYIV))
        self.server = CentralServer(faults=self.faults, clock=lambda: self.clock.now().timestamp()).start()
        self.server.add_unit(UNIT, TOKEN)
        self.loop = EventLoop(self.clock, handler=self._unexpected)
        self.journal = Journal(tmp_path / "journal.sqlite3")
        self.client = SyncClient(self.server.url + "/api/v1", token, timeout_s=timeout_s)
        self.leds: list[str] = []
        self.configs: list[dict[str, Any]] = []
        self.attempts: list[float] = []  # virtual monotonic time of each batch post
        post = self.client.post_batch

        def counted(records: list[dict[str, Any]]) -> Any:
            self.attempts.append(self.clock.monotonic())
            return post(records)

        self.client.post_batch = counted  # type: ignore[method-assign]
        settings = SyncSettings(**{"lockstep": True, "set_time": False, **options})
        self.worker = SyncWorker(self.journal, self.client, self.loop, self.clock, settings,
                                 on_led=self.leds.append, on_config=self.configs.append, rng=random.Random(7))
        self.worker.start()
        self.run(0)

    @staticmethod
    def _unexpected(event: Event) -> None:
        raise AssertionError(f"unexpected event {event}")

    def run(self, seconds: float) -> None:
        """Advance virtual time, never while a request is in flight."""
        end = self.clock.monotonic() + seconds
        self.worker.wait_idle(30)
        self.loop.run_pending()
        while True:
            due = self.loop.next_due()
            if due is None or due > end:
                break
            self.loop.run_until(due)
            self.worker.wait_idle(30)
            self.loop.run_pending()
        self.loop.run_until(end)
        self.worker.wait_idle(30)
        self.loop.run_pending()

    def save(self, n: int = 1, **fields: Any) -> list[str]:
        ids = []
        for _ in range(n):
            rec = make_record(UNIT, **fields)
            self.journal.save(rec, self.clock.now())
            ids.append(rec["id"])
        self.worker.kick()
        self.loop.run_pending()
        return ids

    @property
    def led(self) -> str:
        return self.worker.state()["led"]

    def assert_all_delivered_once(self) -> None:
        at_server = server_ids(self.server)
        assert len(at_server) == len(set(at_server)), "duplicates at the server"
        assert sorted(at_server) == sorted(self.journal.iter_ids()), "lost or foreign records"
        assert self.journal.pending_count() == 0

    def close(self) -> None:
        self.worker.stop()
        self.server.stop()
        self.journal.close()


@pytest.fixture
def rig(tmp_path):
    made: list[Rig] = []

    def build(**kw: Any) -> Rig:
        r = Rig(tmp_path / f"r{len(made)}", **kw)
        made.append(r)
        return r

    yield build
    for r in made:
        r.close()


def test_kick_pushes_at_once_and_led_goes_green(rig):
    r = rig()
    assert r.led == "green"
    r.save(3)
    r.run(0.01)
    r.assert_all_delivered_once()
    assert r.led == "green" and r.worker.state()["last_ok"] is not None


def test_server_down_for_hours_backoff_capped_then_delivered(rig):
    r = rig()
    r.faults.down()
    r.save(5)
    assert r.led == "amber"
    r.run(3 * 3600)
    assert r.server.count_records(UNIT) == 0
    assert r.led == "red" and r.worker.state()["pending"] == 5
    gaps = [b - a for a, b in zip(r.attempts, r.attempts[1:], strict=False)]
    assert gaps and max(gaps) <= 300.0 + 1e-6  # capped at 5 minutes
    assert min(gaps) >= 2.0 - 1e-6  # never a tight loop
    assert len(r.attempts) < 3 * 3600 / 100  # backing off, not hammering
    r.faults.up()
    r.run(300.0)
    r.assert_all_delivered_once()
    assert r.led == "green"


@pytest.mark.parametrize("arm", [
    lambda f: f.fail_next(3, status=503, only=RECORDS),
    lambda f: f.fail_next(1, status=500, only=RECORDS),
    lambda f: f.malformed_next(2, only=RECORDS),
    lambda f: f.truncate_next(2, only=RECORDS),
    lambda f: f.drop_after_store_next(2),
], ids=["503x3", "500", "malformed", "truncated", "lost-after-store"])
def test_transient_faults_retry_without_loss_or_duplicates(rig, arm):
    r = rig()
    arm(r.faults)
    r.save(4)
    assert r.worker.state()["last_error"] is not None
    r.run(120)
    r.assert_all_delivered_once()
    assert len(r.attempts) >= 2
    assert r.led == "green"


def test_timeout_on_a_slow_server_then_duplicate_counts_as_delivered(rig):
    r = rig(timeout_s=0.3)
    r.faults.delay(0.8, n=1, only=RECORDS)  # handled (stored), answered too late
    r.save(2)
    assert "timed out" in r.worker.state()["last_error"]
    assert r.server.count_records(UNIT) == 2 and r.journal.pending_count() == 2
    r.run(60)
    r.assert_all_delivered_once()


def test_slow_but_in_time_server(rig):
    r = rig(timeout_s=2.0)
    r.faults.delay(0.3, n=None, only=RECORDS)
    r.save(3)
    r.assert_all_delivered_once()
    assert len(r.attempts) == 1


def test_wall_clock_jumps_during_backoff_do_not_break_it(rig):
    r = rig()
    r.faults.down()
    r.save(2)
    r.run(10)
    n = len(r.attempts)
    r.clock.jump_wall(-30 * 86400)  # fake-hwclock from last month
    r.run(60)
    r.clock.jump_wall(+400 * 86400)  # then far in the future
    r.run(60)
    assert len(r.attempts) > n + 2  # retries kept going on monotonic time
    gaps = [b - a for a, b in zip(r.attempts, r.attempts[1:], strict=False)]
    assert max(gaps) <= 300.0
    r.faults.up()
    r.run(300)
    r.assert_all_delivered_once()


def test_auth_error_is_red_and_retried_slowly(rig):
    r = rig(token="wrong-token", auth_retry_s=300.0)
    r.save(2)
    st = r.worker.state()
    assert st["led"] == "red" and "401" in st["last_error"]
    n = len(r.attempts)
    r.save(1)  # a new record does not hammer a server that refuses us
    r.run(200)
    assert len(r.attempts) == n
    r.server.add_unit(UNIT, "wrong-token")  # the technician fixes the token at the server
    r.run(200)
    r.assert_all_delivered_once()
    assert r.led == "green"


def test_a_record_the_server_refuses_is_parked_the_rest_delivered(rig, caplog):
    r = rig()
    good = r.save(2)
    bad_appeal = make_appeal(kind="bogus", full_name="Секретне Ім'я")
    [bad] = r.save(1, appeal=bad_appeal)
    more = r.save(2)
    r.run(10)
    at_server = set(server_ids(r.server))
    assert at_server == set(good + more)
    st = r.worker.state()
    assert st["parked"] == 1 and st["pending"] == 0 and st["led"] == "red"
    assert bad in caplog.text and "Секретне" not in caplog.text  # ids only, no personal data
    assert r.journal.get_draft("sync_parked")["ids"].keys() == {bad}
    n = len(r.attempts)
    r.run(600)
    assert len(r.attempts) == n  # not retried forever


def test_conflict_is_parked_not_retried(rig):
    r = rig()
    rec = make_record(UNIT)
    other = dict(rec, outcome="abuse")
    assert call(r.server.url, "POST", "/api/v1/records", token=TOKEN, body=other).status == 201
    r.journal.save(rec)
    ok = r.save(1)
    r.run(30)
    st = r.worker.state()
    assert st["parked"] == 1 and st["led"] == "red"
    assert set(server_ids(r.server)) == {rec["id"], *ok}
    assert r.journal.pending_count() == 1  # kept, never marked synced


def test_same_day_forward_deadline_at_risk_turns_red_before_it_passes(rig):
    start = datetime(2026, 11, 23, 23, 0, tzinfo=KYIV)
    r = rig(start=start, deadline_margin_s=1800.0, check_period_s=30.0)
    r.faults.down()
    appeal = make_appeal(forward_to="Київський апеляційний суд")
    r.save(1, appeal=appeal, started_at="2026-11-23T22:55:00+02:00", ended_at="2026-11-23T22:58:00+02:00")
    assert r.worker.state()["deadline_at_risk"] is False and r.led == "amber"
    r.run(25 * 60)  # 23:25: not yet
    assert r.worker.state()["deadline_at_risk"] is False
    r.run(6 * 60)  # 23:31: less than 30 minutes left, still unsent
    st = r.worker.state()
    assert st["deadline_at_risk"] is True and st["led"] == "red"  # blinking on the panel: sync_shown
    assert "red" in r.leds
    r.faults.up()
    r.run(300)
    r.assert_all_delivered_once()
    assert r.worker.state()["deadline_at_risk"] is False and r.led == "green"


def test_pushed_config_good_stored_bad_refused_last_good_kept(rig):
    r = rig(pull_period_s=600.0)
    good = {"operators": [{"number": 7, "name": "Олена Петренко"}, {"number": 8, "name": "Іван Коваль"}],
            "directories": {"court_bodies": [{"id": "dsa", "name": "ДСА"}]},
            "phrases": {"uk": {"ui": {"idle": "Чекаю"}}}}
    r.server.set_config(good)
    r.worker.pull_now()
    r.run(0.01)
    assert r.configs == [good]
    stored = r.journal.get_draft(PUSHED_CONFIG_DRAFT)
    assert stored["doc"] == good and stored["etag"]
    r.run(601)  # unchanged: 304, not handed over again
    assert r.configs == [good]
    r.server.set_config({"operators": [{"number": 0, "name": "X"}]})
    r.run(601)
    assert r.configs == [good]
    assert r.journal.get_draft(PUSHED_CONFIG_DRAFT)["doc"] == good
    assert "operators[0].number" in r.worker.state()["last_error"]


def test_time_from_server_sets_an_untrusted_clock(tmp_path):
    clock = VirtualClock()  # untrusted, 2026-01-01
    server_now = datetime(2026, 11, 23, 9, 15, tzinfo=KYIV).timestamp()
    with CentralServer(clock=lambda: server_now) as server:
        server.add_unit(UNIT, TOKEN)
        loop = EventLoop(clock, handler=lambda e: None)
        journal = Journal(tmp_path / "j.sqlite3")
        worker = SyncWorker(journal, SyncClient(server.url, TOKEN), loop, clock, SyncSettings(lockstep=True))
        worker.start()
        loop.run_pending()
        worker.wait_idle(10)
        loop.run_pending()
        assert clock.trusted and clock.source == "server"
        assert abs((clock.now() - datetime.fromtimestamp(server_now, KYIV)).total_seconds()) < 1.0
        worker.stop()
        journal.close()


def test_backoff_is_capped_and_jittered():
    b = Backoff(base_s=2.0, cap_s=300.0, rng=random.Random(3))
    delays = [b.delay(n) for n in range(1, 40)]
    assert all(2.0 <= d <= 300.0 for d in delays)
    assert len({round(d, 3) for d in delays}) > 30
    assert b.ceiling(1) == 2.0 and b.ceiling(100) == 300.0


def test_restart_resends_what_was_not_confirmed(rig, tmp_path):
    """A unit that died after the server stored a batch re-sends it and gets 'duplicate'."""
    r = rig()
    r.faults.drop_after_store_next(2)  # the client retries a dropped kept-alive connection once
    ids = r.save(3)
    assert r.server.count_records(UNIT) == 3 and r.journal.pending_count() == 3
    r.worker.stop()
    w2 = SyncWorker(r.journal, SyncClient(r.server.url + "/api/v1", TOKEN), r.loop, r.clock,
                    SyncSettings(lockstep=True, set_time=False))
    w2.start()
    r.loop.run_pending()
    w2.wait_idle(10)
    r.loop.run_pending()
    assert sorted(server_ids(r.server)) == sorted(ids)
    assert r.journal.pending_count() == 0
    w2.stop()


def test_record_ids_are_uuid_and_untouched(rig):
    r = rig()
    ids = r.save(1)
    assert str(uuid.UUID(ids[0])) == ids[0]
    body = call(r.server.url, "GET", f"/api/v1/records?unit={UNIT}", token=r.server.admin_token).body
    assert body["records"][0]["body"] == r.journal.get(ids[0])
