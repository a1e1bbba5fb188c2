"""attach_sync: the simulated unit syncing to a loopback central server under the virtual clock."""

from __future__ import annotations

from hwsim.sync_sim import attach_sync


def _call(sim, seconds: float = 3.0) -> None:
    sim.hook(off=True)
    sim.advance(seconds)
    sim.hook(off=False)
    sim.advance(0.5)


def test_records_saved_while_down_sync_when_back_and_led_follows(make_sim):
    sim = make_sim()
    worker = attach_sync(sim)
    sim.advance(1)
    assert sim.led("sync") == "green"
    sim.set_server(False)
    _call(sim)
    _call(sim)
    assert sim.synced_count() == 0 and sim.led("sync") == "amber"
    assert worker.state()["pending"] == 2
    sim.advance(600)
    assert sim.led("sync") == "red"  # failing for long
    sim.set_server(True)
    sim.advance(301)
    assert sim.synced_count() == 2 and sim.led("sync") == "green"


def test_push_is_immediate_when_up(make_sim):
    sim = make_sim()
    attach_sync(sim)
    _call(sim)
    assert sim.synced_count() == 1 and sim.led("sync") == "green"


def test_other_record_subscribers_are_kept(make_sim):
    sim = make_sim()
    seen = []
    sim.app.records.subscribe(seen.append)
    attach_sync(sim)
    _call(sim)
    assert len(seen) == 1 and sim.synced_count() == 1


def test_same_run_same_led_log(make_sim):
    """Lockstep: two runs of the same outage give the same SYNC LED changes at the same times."""
    logs = []
    for _ in range(2):
        sim = make_sim()
        attach_sync(sim, seed=3)
        sim.set_server(False)
        _call(sim)
        sim.advance(100)
        sim.set_server(True)
        sim.advance(200)
        logs.append([(round(t, 3), v) for t, n, v in sim.board.led_log if n == "sync"])
    assert logs[0] == logs[1] and logs[0][-1][1] == "green"


def test_pushed_config_reaches_the_unit(make_sim):
    sim = make_sim()
    attach_sync(sim)
    sim.central.set_config({"operators": [{"number": 9, "name": "Новий Оператор"}]})
    sim.sync.pull_now()
    sim.advance(0.1)
    assert [op["number"] for op in sim.unit.roster()] == [9]
