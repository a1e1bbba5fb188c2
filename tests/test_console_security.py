"""The console's audit trail and PIN guessing (issue 18, point 8), and the operators' keypad PIN
lockout: junk cannot push failed logins out of the audit, cancelled PIN prompts count, nothing
typed reaches a log, one PIN check at a time, and the lock outlives a restart."""

from __future__ import annotations

import logging

from firmware.console import Console
from firmware.pin_hash import hash_pin
from tests.test_console_logic import FAST_HASH, PIN, Session


def test_junk_does_not_push_failed_logins_out_of_the_audit(make_sim):
    s = Session(make_sim(console={"pin_hash": FAST_HASH}))
    for _ in range(2):
        s.send("login\r")
        s.send("0000\r", advance=2.0)
    for _ in range(115_000 // 40):  # 115 kB of junk lines
        s.send("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r")
    security = s.security()
    assert security.count("login failed") == 2
    audit = s.audit()
    assert len(audit) < 8_000 and "command lines not logged" not in audit  # the count comes later
    s.sim.advance(61)
    s.send("status\r")
    assert "command lines not logged" in s.audit()


def test_cancelled_pin_prompts_count_and_lock(make_sim):
    s = Session(make_sim(console={"pin_hash": FAST_HASH}))
    for _ in range(12):
        s.send("login\r")
        s.send("\x03", advance=2.0)  # Ctrl-C at the PIN prompt
    out = s.login()
    assert "logged in" not in out and not s.console.authenticated
    security = s.security()
    assert security.count("login cancelled at the PIN prompt") == 5 and "login locked" in security


def test_nothing_typed_at_any_prompt_reaches_the_logs(make_sim, caplog):
    s = Session(make_sim(console={"pin_hash": FAST_HASH}))
    with caplog.at_level(logging.DEBUG):
        s.send("login\r")
        s.send("abcd\r", advance=2.0)  # letters at the PIN prompt
        s.send("qwerty\r")  # and at the command prompt, thinking it is still asking
        s.send("login\r")
        s.send("zyxw\x03", advance=2.0)
    logs = s.audit() + s.security() + caplog.text
    for typed in ("abcd", "qwerty", "zyxw"):
        assert typed not in logs


class Deferred:
    """run_blocking that holds the work until the test lets it run (a slow PBKDF2 on a Pi)."""

    def __init__(self) -> None:
        self.jobs: list = []

    def __call__(self, fn, done) -> None:
        self.jobs.append((fn, done))

    def finish(self) -> None:
        jobs, self.jobs = self.jobs, []
        for fn, done in jobs:
            done(fn())


def deferred_session(sim) -> tuple[Session, Deferred]:
    s = Session(sim)
    deferred = Deferred()
    s.console = Console(s.backend, sim.clock, write=s.out.append, call_later=sim.loop.call_later,
                        run_blocking=deferred)
    return s, deferred


def test_one_pin_check_at_a_time_and_an_abandoned_one_still_counts(make_sim):
    s, deferred = deferred_session(make_sim(console={"pin_hash": FAST_HASH}))
    s.send("login\r")
    s.send("0000\r")
    s.send("\x03")  # gives up waiting: the check goes on
    out = s.send("login\r")
    assert "still being checked" in out and not out.endswith("PIN: ")
    assert len(deferred.jobs) == 1
    deferred.finish()
    assert s.console.login.failures == 1 and "login failed (1 of 5)" in s.security()


def test_a_right_pin_answered_after_ctrl_c_opens_nothing(make_sim):
    s, deferred = deferred_session(make_sim(console={"pin_hash": FAST_HASH}))
    s.send("login\r")
    s.send(PIN + "\r")
    s.send("\x03")
    deferred.finish()
    assert not s.console.authenticated and "login abandoned" in s.security()


def test_the_lock_outlives_a_restart(make_sim):
    sim = make_sim(console={"pin_hash": FAST_HASH})
    s = Session(sim)
    for _ in range(3):
        s.send("login\r")
        s.send("0000\r", advance=2.0)
    s = Session(sim)  # the daemon was killed and started again: a new console on the same state dir
    for _ in range(2):
        s.send("login\r")
        out = s.send("0000\r", advance=2.0)
    assert "locked for 5 minutes" in out
    s = Session(sim)
    assert "login locked" in s.send("login\r")
    s.login()
    assert not s.console.authenticated
    sim.advance(300)
    assert "logged in" in Session(sim).login()


def keys(sim, text: str) -> None:
    for key in text.split():  # a finger's press: keypad keys are debounced as on the desk
        sim.press(key)
        sim.advance(0.05)
        sim.release(key)
        sim.advance(0.15)
    sim.advance(0.2)


def test_keypad_pin_locks_an_operator_number_after_five_wrong(make_sim):
    roster = [{"number": 12, "name": "Ігор Бондар", "pin_hash": hash_pin("2468", iterations=1000)}]
    sim = make_sim(operator=None, operators=roster)
    keys(sim, "1 2 OK")
    for _ in range(4):
        keys(sim, "1 1 1 1 OK")
        assert sim.shows("Невірний PIN"), sim.lcd_rows()
    keys(sim, "1 1 1 1 OK")
    assert sim.shows("забагато невірних PIN"), sim.lcd_rows()
    keys(sim, "1 2 OK")  # the number is locked: no PIN is even asked for
    assert sim.shows("забагато") and not sim.shows("PIN:")
    keys(sim, "2 4 6 8 OK")
    assert sim.unit.operator is None
    sim.advance(300)
    keys(sim, "1 2 OK 2 4 6 8 OK")
    assert sim.unit.operator is not None and sim.unit.operator.number == 12
