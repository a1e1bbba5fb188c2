"""Random key sequences, hook changes, line changes and power cuts (hypothesis, on the virtual clock).

After every step: typed appeal text is never silently dropped (it stays in the open form, on screen
after a power cut whatever the hook, until it is saved into a record or discarded with a
confirmation), and no screen had text cut off. After each run: every saved record is on the central
server (the real reference server on loopback) exactly once, synced twice over.
"""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

import pytest
from desk_bench import DeskBench
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from central.server import CentralServer
from central.testing import record_ids
from firmware.call.phase import Phase
from firmware.call.views import AppealView
from firmware.journal import Journal
from firmware.loop import EventLoop
from firmware.sync import SyncClient, SyncSettings, SyncWorker

#: A RAM disk when there is one: the journal syncs every key to disk, and the test is about logic.
FAST_DIR = "/dev/shm" if Path("/dev/shm").is_dir() else None
KEYS = ["OK", "BACK", "UP", "DOWN", "HOLD", "APPEAL", "APPEAL", *"0123456789", "*", "#", "2", "2", "OK"]
#: Whole gestures an operator makes, so random runs reach saved appeals and half-typed forms often.
GESTURES = {
    "start typing": ["APPEAL", "OK", "2", "2", "3"],
    "fill and save": ["APPEAL", "OK", "2", "OK", "DOWN", "OK", "4", "OK", "DOWN", "OK", "5", "OK", "DOWN", "OK",
                      "OK", "DOWN", "OK", *"0671234567", "OK", "APPEAL"],
    "discard": ["BACK", "BACK", "OK"],
}
STEP = st.one_of(
    st.tuples(st.just("gesture"), st.sampled_from(sorted(GESTURES))),
    st.tuples(st.just("gesture"), st.sampled_from(sorted(GESTURES))),
    st.tuples(st.just("cut"), st.booleans()),
    st.tuples(st.just("key"), st.sampled_from(KEYS)),
    st.tuples(st.just("key"), st.sampled_from(KEYS)),
    st.tuples(st.just("key"), st.sampled_from(KEYS)),
    st.tuples(st.just("key"), st.sampled_from(KEYS)),
    st.tuples(st.just("hook"), st.booleans()),
    st.tuples(st.just("cut"), st.booleans()),  # the hook may change while the unit is off
    st.tuples(st.just("wait"), st.sampled_from([0.5, 1.5, 4.0, 40.0])),
    st.tuples(st.just("line"), st.sampled_from(["good", "no_signal", "silent", "degraded"])),
)


@pytest.fixture(scope="module")
def central():
    server = CentralServer().start()
    yield server
    server.stop()


def form_state(bench: DeskBench) -> tuple[str, dict, str] | None:
    """(call id, confirmed values, the field being typed) of a form holding typed data, or None."""
    call = bench.unit.call
    if call is None or call.appeal is not None or call.appeal_form is None or not call.appeal_form.has_typed():
        return None
    form = call.appeal_form
    return call.id, dict(form.values), form.editor.value if form.editor is not None else ""


def record_of(bench: DeskBench, call_id: str) -> dict | None:
    return next((r for r in bench.journal.all() if r["id"] == call_id), None)


def check_typed_not_dropped(bench: DeskBench, typed: dict[str, tuple]) -> None:
    live = form_state(bench)
    for call_id in list(typed):
        if live is not None and live[0] == call_id:
            continue
        call = bench.unit.call
        if call is not None and call.id == call_id and call.appeal_form is not None and call.appeal is None:
            typed.pop(call_id)  # the operator deleted what was typed, key by key
            continue
        record = record_of(bench, call_id)
        if call is not None and call.id == call_id and call.appeal is not None:
            typed.pop(call_id)  # saved into the call: the record will carry it
            continue
        assert record is not None, f"call {call_id} with a typed appeal vanished"
        discarded = any(e["type"] == "appeal_discarded" for e in record["events"])
        assert record["appeal"] is not None or discarded, f"typed appeal dropped: {record['events']}"
        typed.pop(call_id)
    if live is not None:
        typed[live[0]] = live


def sync_all(state_dir: Path, central: CentralServer, unit_id: str, token: str) -> None:
    from firmware.clock import VirtualClock

    clock = VirtualClock()
    loop = EventLoop(clock, handler=lambda e: None)
    journal = Journal(state_dir / "journal.sqlite3")
    worker = SyncWorker(journal, SyncClient(central.url + "/api/v1", token, timeout_s=5.0), loop, clock,
                        SyncSettings(lockstep=True, set_time=False))
    worker.start()
    try:
        for _ in range(50):
            worker.kick()
            worker.wait_idle(30)
            loop.run_until(clock.monotonic() + 5.0)
            worker.wait_idle(30)
            loop.run_pending()
            if journal.pending_count() == 0:
                break
        assert journal.pending_count() == 0
    finally:
        worker.stop()
        journal.close()


def server_ids(central: CentralServer, unit: str) -> list[str]:
    return record_ids(central.url, central.admin_token, unit)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(steps=st.lists(STEP, min_size=20, max_size=150), size=st.sampled_from(["20x4", "16x2"]))
def test_random_operation_never_drops_typed_text_and_syncs_each_record_once(central, steps, size):
    unit_id = f"prop-{uuid.uuid4().hex[:12]}"
    token = f"token-{unit_id}"
    central.add_unit(unit_id, token)
    with tempfile.TemporaryDirectory(prefix="deskunit-prop-", dir=FAST_DIR) as tmp:  # /dev/shm is memory
        check_random_operation(central, unit_id, token, steps, size, Path(tmp))


def check_random_operation(central: CentralServer, unit_id: str, token: str, steps: list, size: str,
                           state_dir: Path) -> None:
    bench = DeskBench(state_dir, size=size, unit={"id": unit_id})
    typed: dict[str, tuple] = {}
    try:
        for kind, arg in steps:
            if kind == "cut":
                before = form_state(bench) if bench.powered else None
                if bench.powered:
                    bench.power_cut()
                bench.advance(3.0)
                bench.power_on(off_hook=arg)
                after = form_state(bench)
                if before is not None:  # what was typed comes back, on screen, whatever the hook
                    assert after is not None and after[0] == before[0], (before, after)
                    assert after[1] == before[1] and after[2] == before[2], (before, after)
                    assert isinstance(bench.unit.views[-1], AppealView), bench.rows
                    assert (bench.unit.call.phase is Phase.WRAP_UP) == (not arg) or bench.unit.call.ended_at
            elif kind == "key":
                bench.key(arg)
            elif kind == "gesture":
                for key in GESTURES[arg]:
                    bench.key(key)
                    check_typed_not_dropped(bench, typed)
            elif kind == "hook":
                bench.hook(arg)
            elif kind == "wait":
                bench.advance(arg)
            else:
                bench.line(arg)
            assert not bench.unit.desk.screen.lost, (kind, arg, bench.unit.desk.screen.lost)
            check_typed_not_dropped(bench, typed)
        saved = [r["id"] for r in bench.journal.all()]
    finally:
        bench.close()
    sync_all(state_dir, central, unit_id, token)
    sync_all(state_dir, central, unit_id, token)  # a second sync sends nothing again
    at_server = server_ids(central, unit_id)
    assert sorted(at_server) == sorted(saved) and len(set(at_server)) == len(at_server)
