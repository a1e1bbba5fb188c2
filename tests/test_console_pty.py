"""A whole technician session over a real pty with pyserial, against a simulated unit on the real
clock: the unit's side runs hal.serialport (pyserial) on one end of hwsim.pty's null-modem cable."""

from __future__ import annotations

import logging
import re
import time

import pytest
import serial

from deskunit.console_backend import attach_console
from deskunit.console_config import read_overrides
from firmware.clock import RealClock
from firmware.config import load_config
from firmware.console import ViewTimings
from firmware.pin_hash import hash_pin
from hwsim.probe import SimProbe
from hwsim.pty import NullModemCable
from hwsim.unit import SimUnit

PIN = "730519"
TIMEOUT_S = 8.0


class Terminal:
    """The technician's end: write a line, read until a pattern shows up (bounded wait)."""

    def __init__(self, path: str) -> None:
        self.port = serial.Serial(path, 115200, timeout=0.05)
        self.port.reset_input_buffer()
        self.seen = ""

    def expect(self, pattern: str, timeout: float = TIMEOUT_S) -> str:
        deadline = time.monotonic() + timeout
        buf = ""
        while time.monotonic() < deadline:
            buf += self.port.read(4096).decode("utf-8", "replace")
            if re.search(pattern, buf):
                self.seen += buf
                return buf
        raise AssertionError(f"no {pattern!r} within {timeout} s; got {buf[-600:]!r}")

    def run(self, line: str, until: str = r"deskunit[#>] $") -> str:
        self.port.write(line.encode() + b"\r")
        return self.expect(until)

    def close(self) -> None:
        self.port.close()


@pytest.fixture
def rig(tmp_path):
    cfg = load_config(overrides={"console": {"pin_hash": hash_pin(PIN, iterations=2000)},
                                 "server": {"token": "tok-3f9a-secret"}})
    sim = SimUnit.create(cfg, RealClock(), state_dir=tmp_path / "state")
    sim.unit.sign_in(7, "Олена Петренко")
    cable = NullModemCable()
    restarts: list[int] = []
    service = attach_console(sim.app, cable.unit_path, probe=SimProbe(sim), restart=lambda: restarts.append(1),
                             timings=ViewTimings(led_step_s=0.05, lcd_test_s=0.3))
    sim.start_realtime()
    term = Terminal(cable.technician_path)
    yield sim, term, service, restarts
    term.close()
    sim.close()
    cable.close()


def test_whole_technician_session_over_a_pty(rig):
    sim, term, service, restarts = rig
    term.run("")
    out = term.run("status")
    assert "records waiting" in out and "Петренко" not in out
    assert "log in first" in term.run("lcd")

    term.run("login", until="PIN: $")
    out = term.run(PIN, until=r"deskunit# $")
    assert "logged in" in out and PIN not in out

    out = term.run("status")
    assert "№ 7 Олена Петренко" in out and "LINE:off" in out and "trusted" in out

    out = term.run("lcd")
    assert "Oлeнa Пeтpeнкo" in out and "Чepгa" in out

    out = term.run("lcd test")
    assert "0123456789ABCDEFGHIJ" in out and "back to the unit's screen" in out
    assert "0123456789" not in "".join(sim.lcd_rows())

    out = term.run("led test")
    assert "LINE  red" in out and "SYNC  amber" in out and "LEDs back" in out
    assert all(sim.board.led_colour(n) == "off" for n in ("line", "hold", "sync"))

    term.port.write(b"keys\r")
    term.expect("Ctrl-C ends it")
    sim.press("OK")
    sim.release("OK")
    term.expect(r"key OK up \(held")
    sim.tap("5")  # a keypad key is debounced: held until the unit saw it, as a finger would
    term.expect("key 5 down")
    term.port.write(b"\x03")
    term.expect(r"deskunit# $")

    out = term.run("queue")
    assert re.search(r"records waiting +0", out)

    out = term.run("config show")
    assert "server.token" in out and "tok-3f9a" not in out and "pbkdf2" not in out

    out = term.run("config set hold.limit_s 210")
    assert "applied now" in out and sim.unit.cfg["hold"]["limit_s"] == 210
    out = term.run("config set hold.limit_s 5")
    assert "refused: hold.limit_s" in out and sim.unit.cfg["hold"]["limit_s"] == 210
    assert read_overrides(sim.state_dir) == {"hold": {"limit_s": 210}}

    out = term.run("time")
    assert re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", out)
    out = term.run("time set 2026-11-23T09:15:00+02:00")
    assert ("trusted" in out and "--force" in out) or "clock set" in out

    logging.getLogger("firmware.test").warning("caller Іван Франко, +380 67 765 43 21, ivan.franko@example.org")
    out = term.run("log 5")
    assert "caller" in out
    for secret in ("Іван", "Франко", "765 43 21", "ivan.franko"):
        assert secret not in out

    out = term.run("selftest")
    assert "PASS  lcd" in out and "PASS  storage" in out and "FAIL" not in out

    out = term.run("logout", until=r"deskunit> $")
    assert "logged out" in out
    assert "log in first" in term.run("config show")

    audit = service.backend.audit_log.path.read_text(encoding="utf-8")
    assert "tech config set hold.limit_s 210" in audit and PIN not in audit and "tok-3f9a" not in audit


def test_typing_noise_over_the_pty_never_stops_the_console(rig):
    sim, term, _service, _restarts = rig
    term.port.write(bytes(range(256)) + b"\x1b[1;5A" + b"z" * 700 + b"\r")
    term.port.write(b"\x03\r")
    term.expect(r"deskunit> $")
    assert "version" in term.run("status")


def test_status_shows_the_installed_version(rig):
    from importlib.metadata import version

    _sim, term, _service, _restarts = rig
    line = next(row for row in term.run("status").splitlines() if row.startswith("version"))
    assert line.split()[-1] == version("deskunit")
