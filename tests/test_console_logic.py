"""The console's logic against a simulated unit on a virtual clock: login, lockout, idle logout,
line editing, views, config, time, redaction and the audit log."""

from __future__ import annotations

import logging
import re

import pytest

from deskunit.console_backend import ConsoleBackend
from deskunit.console_config import read_overrides, with_saved_overrides
from deskunit.logsetup import redact
from firmware.console import PROMPT, PROMPT_AUTH, Console, ViewTimings
from firmware.pin_hash import hash_pin
from hwsim.probe import SimProbe

PIN = "4821"
FAST_HASH = hash_pin(PIN, iterations=1000)


class Session:
    """A console on a SimUnit, driven on the test's thread (which plays the loop's thread)."""

    def __init__(self, sim, timings: ViewTimings | None = None, **backend_kw) -> None:
        self.sim = sim
        self.out: list[bytes] = []
        self.restarts = 0
        self.backend = ConsoleBackend(sim.app, probe=SimProbe(sim), restart=self._restart, **backend_kw)
        self.console = Console(self.backend, sim.clock, write=self.out.append, call_later=sim.loop.call_later,
                               timings=timings)

    def _restart(self) -> None:
        self.restarts += 1

    def send(self, text: str | bytes, advance: float = 0.0) -> str:
        self.out.clear()
        self.console.feed(text.encode() if isinstance(text, str) else text)
        if advance:
            self.sim.advance(advance)
        return b"".join(self.out).decode()

    def login(self) -> str:
        self.send("login\r")
        return self.send(PIN + "\r")

    def audit(self) -> str:
        path = self.backend.audit_log.path
        return path.read_text(encoding="utf-8") if path.exists() else ""


@pytest.fixture
def session(make_sim):
    sim = make_sim(console={"pin_hash": FAST_HASH})
    s = Session(sim)
    yield s
    s.console.close()


def test_login_with_pin_changes_prompt_and_pin_is_not_echoed(session):
    assert session.send("login\r").endswith("PIN: ")
    out = session.send(PIN + "\r")
    assert PIN not in out
    assert "logged in" in out and out.endswith(PROMPT_AUTH)
    assert session.send("logout\r").endswith(PROMPT)


def test_before_login_only_help_login_and_public_status(session):
    out = session.send("status\r")
    assert "version" in out and "records waiting" in out
    assert "Петренко" not in out and "№ 7" not in out
    for cmd in ("lcd", "queue", "log", "config show", "keys", "time"):
        out = session.send(cmd + "\r")
        assert "log in first" in out, cmd
    session.login()
    assert "Петренко" in session.send("status\r")


def test_five_wrong_pins_lock_for_five_minutes_on_the_unit_clock(session):
    for _ in range(5):
        session.send("login\r")
        out = session.send("0000\r")
    assert "locked for 5 minutes" in out
    assert "try again in 5:00" in session.send("login\r")
    session.sim.advance(299)
    out = session.send("login\r")
    assert "try again in 0:01" in out and not out.endswith("PIN: ")
    session.sim.advance(1.5)
    assert "logged in" in session.login()
    audit = session.audit()
    assert audit.count("login failed") == 5 and "login locked" in audit and "login ok" in audit
    assert "0000" not in audit and PIN not in audit


def test_a_right_pin_during_the_lock_does_not_open(session):
    for _ in range(5):
        session.send("login\r")
        session.send("1111\r")
    out = session.login()
    assert "logged in" not in out


def test_idle_session_logs_out(session):
    session.login()
    session.sim.advance(200)
    session.send("status\r")  # activity restarts the idle time
    session.sim.advance(200)
    assert session.console.authenticated
    session.out.clear()
    session.sim.advance(150)
    assert not session.console.authenticated
    assert "logged out" in b"".join(session.out).decode()
    assert "idle logout" in session.audit()


def test_no_pin_hash_keeps_console_locked_and_says_how(make_sim):
    s = Session(make_sim())
    s.console.start()
    assert "hash-pin" in b"".join(s.out).decode()
    out = s.send("login\r")
    assert "deskunit console hash-pin" in out and "PIN: " not in out
    assert "log in first" in s.send("lcd\r")


def test_audit_log_has_time_auth_and_commands_but_never_a_pin(session):
    session.send("status\r")
    session.send(PIN + "\r")  # a PIN typed as a command by mistake
    session.login()
    session.send("config set server.token s3cr3t-t0ken\r")
    audit = session.audit()
    assert "2026-11-23T09:15" in audit
    assert "anon status" in audit and "tech config set server.token <redacted>" in audit
    assert PIN not in audit and "s3cr3t" not in audit


def test_line_editing(session):
    assert session.send("stx\x7fa\x08atus\r").count("version") == 1  # "stx" DEL "a" BS "atus" -> "status"
    out = session.send("garbage\x15help\r")
    assert "commands" in out and "unknown" not in out
    out = session.send("\x1b[A\x1b[B\x1bOPhelp\r\n")
    assert "commands" in out and out.endswith(PROMPT)
    assert session.send("\n").endswith(PROMPT)  # the LF after the CR above was not a second Enter
    assert session.send("hel\x03").endswith("^C\r\n" + PROMPT)
    out = session.send("x" * 300 + "\r")
    assert "line too long" in out and "unknown" not in out and out.endswith(PROMPT)
    out = session.send("stauts\r")
    assert "Did you mean 'status'" in out and "Traceback" not in out


def test_lcd_and_lcd_test_restore_the_screen(session):
    session.login()
    before = session.sim.lcd_rows()
    out = session.send("lcd\r")
    assert "Oлeнa" in out  # as the glass shows it: the ROM's Latin look-alikes
    out = session.send("lcd test\r", advance=0.5)
    assert "0123456789" in "".join(session.sim.lcd_rows())
    session.send(b"", advance=2.0)
    assert session.sim.lcd_rows() == before
    assert session.console.mode == "line"


def test_led_test_goes_through_colours_and_restores(make_sim):
    session = Session(make_sim(console={"pin_hash": FAST_HASH}), timings=ViewTimings(led_step_s=0.1))
    session.login()
    seen: set[tuple[str, str]] = set()
    session.sim.board.factory.listeners.append(
        lambda pin, v: [seen.add((n, session.sim.board.led_colour(n))) for n in ("line", "hold", "sync")])
    out = session.send("led test\r", advance=3.0)
    for name in ("line", "hold", "sync"):
        for colour in ("red", "green", "blue", "amber"):
            assert (name, colour) in seen
        assert session.sim.board.led_colour(name) == "off"
    assert "SYNC  amber" in out or "SYNC  amber" in b"".join(session.out).decode()


def test_keys_view_reports_keys_and_keeps_them_from_the_unit(session):
    session.login()
    session.send("keys\r")
    session.out.clear()
    session.sim.press("APPEAL")
    session.sim.release("APPEAL")
    session.sim.advance(0.1)
    shown = b"".join(session.out).decode()
    assert "key APPEAL down" in shown and "key APPEAL up" in shown
    assert not session.sim.unit.views or type(session.sim.unit.views[-1]).__name__ != "AppealView"
    session.sim.hook(off=True)
    session.sim.advance(0.1)
    assert "OFF-hook" in b"".join(session.out).decode()
    assert session.sim.unit.call is not None  # the hook still reaches the unit
    assert session.send("\x03").endswith(PROMPT_AUTH)
    session.sim.press("OK")
    session.sim.release("OK")
    session.sim.advance(0.1)
    assert "key OK" not in b"".join(session.out).decode()


def test_audio_meter_until_any_key(session):
    session.login()
    session.sim.hook(off=True)
    out = session.send("audio\r", advance=1.0)
    out += b"".join(session.out).decode()
    assert "dBFS" in out and "good" in out
    assert session.send("q").endswith(PROMPT_AUTH)


def test_selftest_reports_each_part(session):
    session.login()
    out = session.send("selftest\r")
    for part in ("lcd", "leds", "keys", "audio", "storage", "server"):
        assert part in out
    assert "FAIL" not in out and out.endswith(PROMPT_AUTH)


def test_queue_shows_counts_never_personal_data(session):
    session.sim.journal.save({"id": "r1", "outcome": "answered", "appeal": {
        "full_name": "Іван Франко", "phone": "+380441234567", "email": "ivan@example.org", "residence": "Львів",
        "forward_to": "court-1"}})
    session.login()
    out = session.send("queue\r")
    assert re.search(r"records waiting +1\r\n", out) and re.search(r"with an appeal +1", out)
    for secret in ("Іван", "380441234567", "ivan@", "Львів"):
        assert secret not in out


def test_config_show_hides_secrets(make_sim):
    s = Session(make_sim(console={"pin_hash": FAST_HASH}, server={"token": "tok-very-secret"}))
    s.login()
    out = s.send("config show\r")
    assert "server.token" in out and "tok-very-secret" not in out
    assert FAST_HASH not in out and "pbkdf2" not in out
    assert "Петренко" not in out
    assert "hold.limit_s" in out


def test_config_set_good_applies_and_persists_bad_changes_nothing(session):
    session.login()
    out = session.send("config set hold.limit_s 240\r")
    assert "applied now" in out and session.sim.unit.cfg["hold"]["limit_s"] == 240
    assert read_overrides(session.sim.state_dir) == {"hold": {"limit_s": 240}}
    out = session.send("config set lcd.size 16x2\r")
    assert "after restart" in out and session.sim.unit.cfg["lcd"]["size"] == "20x4"
    out = session.send("config set hold.limit_s 100\r")  # below warn_s
    assert "refused: hold.warn_s" in out and session.sim.unit.cfg["hold"]["limit_s"] == 240
    out = session.send("config set hold.limit_s lots\r")
    assert "refused" in out and session.sim.unit.cfg["hold"]["limit_s"] == 240
    out = session.send("config set hold.limt_s 200\r")
    assert "unknown key" in out and "hold.limit_s" in out
    assert read_overrides(session.sim.state_dir) == {"hold": {"limit_s": 240}, "lcd": {"size": "16x2"}}
    cfg = session.sim.unit.cfg
    merged = with_saved_overrides({**cfg, "unit": {**cfg["unit"], "state_dir": str(session.sim.state_dir)}})
    assert merged["lcd"]["size"] == "16x2" and merged["hold"]["limit_s"] == 240
    assert "config: OK" in session.send("config check\r")


def test_time_set_only_when_untrusted_or_forced(make_sim):
    s = Session(make_sim(clock=None, console={"pin_hash": FAST_HASH}))
    s.login()
    assert "NOT trusted" in s.send("time\r")
    assert "offset" in s.send("time set 2026-11-23T09:15:00\r")
    out = s.send("time set 2026-11-23T09:15:00+02:00\r")
    assert "clock set: 2026-11-23T09:15:00+02:00 (source: technician)" in out
    assert s.sim.clock.trusted
    assert "--force" in s.send("time set 2026-11-23T10:00:00+02:00\r")
    assert "clock set: 2026-11-23T10:00:00" in s.send("time set 2026-11-23T10:00:00+02:00 --force\r")


def test_log_tail_hides_personal_data(session):
    session.login()
    logging.getLogger("deskunit.test").addHandler(session.backend.log_buffer)
    try:
        logging.getLogger("deskunit.test").warning(
            "appeal from Іван Франко, Львів, вул. Січових Стрільців 5, +380 44 123 45 67, ivan@example.org, "
            "name='John Smith', 12 Baker Street; record 0b9f3c1e-2d4a-4f00-9c1e-0123456789ab saved")
    finally:
        logging.getLogger("deskunit.test").removeHandler(session.backend.log_buffer)
    out = session.send("log\r")
    assert "record 0b9f3c1e-2d4a-4f00-9c1e-0123456789ab saved" in out
    for secret in ("Іван", "Франко", "Львів", "Січових", "380", "123 45 67", "ivan@", "John", "Smith", "Baker"):
        assert secret not in out, secret


def test_redact_keeps_ordinary_messages():
    msg = "operator 7 signed in; hold 180 s; sync push failed (3 in a row): HTTP 503; retry in 4.0 s"
    assert redact(msg) == msg
    assert "Петренко" not in redact("operator Олена Петренко signed in", ["Олена Петренко"])


def test_restart_asks_first(session):
    session.login()
    assert session.send("restart\r").endswith("Type yes to confirm: ")
    assert "cancelled" in session.send("no\r") and session.restarts == 0
    session.send("restart\r")
    assert "restarting" in session.send("yes\r") and session.restarts == 1


def test_a_failing_command_prints_an_error_and_the_prompt(session, monkeypatch):
    session.login()

    def boom() -> dict:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(session.backend, "queue", boom)
    out = session.send("queue\r")
    assert "queue: failed: RuntimeError: disk on fire" in out and out.endswith(PROMPT_AUTH)
    assert "Traceback" not in out
    assert "records waiting" in session.send("status\r")
