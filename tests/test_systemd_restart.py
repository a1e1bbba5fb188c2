"""kill -9 mid-call, start again: the call in progress comes back (real ``deskunit run --sim`` processes).

The simulated handset starts off-hook with ``DESKUNIT_SIM_OFF_HOOK=1``, as a real handset is still
off-hook when the unit restarts under the operator's hand.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import uuid
from pathlib import Path

import pytest
from test_systemd_notify import NotifyListener, send, sim_process, stop


def read_journal(state_dir: Path) -> tuple[dict | None, list[dict]]:
    """The call draft and the records, read as another process would (the unit may be dead)."""
    db = sqlite3.connect(f"file:{state_dir / 'journal.sqlite3'}?mode=ro", uri=True)
    try:
        row = db.execute("SELECT body FROM drafts WHERE name = 'call'").fetchone()
        records = [json.loads(r[0]) for r in db.execute("SELECT body FROM records ORDER BY seq")]
    finally:
        db.close()
    return (json.loads(row[0]) if row else None), records


@pytest.fixture
def listener():
    lst = NotifyListener(f"@deskunit-restart-{uuid.uuid4().hex}")
    yield lst
    lst.close()


def crash_mid_hold(listener: NotifyListener, state_dir: Path) -> dict:
    proc = sim_process({"NOTIFY_SOCKET": listener.address}, state_dir=state_dir)
    try:
        listener.wait_for("READY", "1", timeout=15)
        send(proc, "h")
        send(proc, "o")  # script: how to address the caller
        send(proc, "H")
        send(proc, "o")  # consent: the caller is on hold
        listener.wait_for("STATUS", contains="on hold", timeout=10)
        draft, records = read_journal(state_dir)
        assert draft is not None and records == []
        assert [e["type"] for e in draft["events"]][-1] == "hold_start"
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL
    finally:
        stop(proc)
    listener.messages.clear()
    return draft


def test_restart_off_hook_comes_back_into_the_call(listener, tmp_path):
    state = tmp_path / "state"
    draft = crash_mid_hold(listener, state)
    proc = sim_process({"NOTIFY_SOCKET": listener.address, "DESKUNIT_SIM_OFF_HOOK": "1"}, state_dir=state)
    try:
        ready = listener.wait_for("READY", "1", timeout=15)
        assert "call 00:" in ready["STATUS"] and "on hold" in ready["STATUS"]
        restored, records = read_journal(state)
        assert records == [] and restored is not None
        assert restored["id"] == draft["id"]
        types = [e["type"] for e in restored["events"]]
        assert types[: len(draft["events"])] == [e["type"] for e in draft["events"]]
        assert "address_shown" in types and types[-1] == "unit_restarted"
        send(proc, "H")  # the operator takes the caller off hold
        listener.messages.clear()
        send(proc, "h")  # and hangs up
        listener.wait_for("STATUS", contains="; idle; ", timeout=10)
    finally:
        assert stop(proc) == 0
    restored, records = read_journal(state)
    assert restored is None and len(records) == 1
    record = records[0]
    assert record["id"] == draft["id"] and record["ended_at"] is not None
    types = [e["type"] for e in record["events"]]
    assert types.count("greeting_shown") == 1  # one call, not a second one started by the hook
    assert types[-3:] == ["unit_restarted", "hold_end", "call_end"]


def test_restart_on_hook_saves_the_call_as_ended(listener, tmp_path):
    state = tmp_path / "state"
    draft = crash_mid_hold(listener, state)
    proc = sim_process({"NOTIFY_SOCKET": listener.address}, state_dir=state)
    try:
        ready = listener.wait_for("READY", "1", timeout=15)
        assert ready["STATUS"].startswith("operator 7 signed in; idle; ")  # saved before READY
    finally:
        assert stop(proc) == 0
    restored, records = read_journal(state)
    assert restored is None and [r["id"] for r in records] == [draft["id"]]
    record = records[0]
    assert record["ended_at"] is not None and record["ended_at"] >= draft["started_at"]
    assert [e["type"] for e in record["events"]][-3:] == ["unit_restarted", "hold_end", "call_end"]
