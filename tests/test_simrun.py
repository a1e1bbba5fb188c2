"""``deskunit run --sim`` as a background service: it keeps running without keys and stops on a signal.

Each test starts the real command in a subprocess (the real clock; a few seconds each): the panel's
URL and the console's pty come first, each on a line of its own, before any LCD frame; both answer;
the end of stdin (``</dev/null``, a pipe that closes) stops the keys, not the unit; ``q``, SIGTERM
and Ctrl-C (SIGINT) stop it cleanly with status 0.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

from deskunit.simrun import keys_wanted

STARTUP_S = 30.0


def sim_env() -> dict[str, str]:
    """This environment for a simulated unit: the simulator's own configuration, no systemd socket."""
    env = {**os.environ, "DESKUNIT_CONFIG": ""}
    env.pop("NOTIFY_SOCKET", None)
    return env


class SimProcess:
    """One ``deskunit run --sim`` with its stdout read line by line on a thread."""

    def __init__(self, tmp: Path, stdin: int | None, *args: str) -> None:
        env = {**sim_env(), "PYTHONUNBUFFERED": "1"}
        self.port = free_port()
        tmp.mkdir(parents=True, exist_ok=True)
        self.stderr_path = tmp / "stderr.txt"  # the logs: read back when a run ends other than it should
        with open(self.stderr_path, "w") as stderr:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "deskunit.cli", "run", "--sim", "--state-dir", str(tmp / "state"),
                 "--http-port", str(self.port), *args],
                stdin=stdin, stdout=subprocess.PIPE, stderr=stderr, env=env, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_line(self, predicate, timeout: float = STARTUP_S) -> str:
        """The first line, printed so far or within ``timeout``, that ``predicate`` accepts."""
        for line in self.seen:
            if predicate(line):
                return line
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            self.seen.append(line)
            if predicate(line):
                return line
        raise AssertionError(f"no such line within {timeout} s; got {self.seen}")

    def exited(self, timeout: float = 15.0) -> int:
        """The exit status once the process ends; fails with the end of its log if it is not 0."""
        status = self.proc.wait(timeout)
        assert status == 0, f"exit status {status}; stderr ends: {self.stderr_path.read_text()[-3000:]}"
        return status

    def value(self, label: str) -> str:
        return next(line for line in self.seen if line.startswith(label)).split(": ", 1)[1].split()[0]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def start(tmp_path) -> Iterator:
    started: list[SimProcess] = []

    def run(stdin: int | None, *args: str) -> SimProcess:
        p = SimProcess(tmp_path / str(len(started)), stdin, *args)
        started.append(p)
        return p

    yield run
    for p in started:
        p.stop()


def read_until(port: serial.Serial, text: bytes, timeout: float = 10.0) -> bytes:
    got = b""
    deadline = time.monotonic() + timeout
    while text not in got and time.monotonic() < deadline:
        got += port.read(256)
    return got


def test_in_the_background_with_no_stdin_it_serves_panel_and_console_until_sigterm(start):
    p = start(subprocess.DEVNULL)
    first_frame = p.wait_line(lambda line: line.startswith("+-"))
    before = p.seen[: p.seen.index(first_frame)]
    assert any(line.startswith("front panel: http://127.0.0.1:") for line in before), before
    assert any(line.startswith("console pty: /dev/") for line in before), before
    assert any(line.startswith("technician PIN (simulator only): ") for line in before), before
    url = p.value("front panel")
    assert url == f"http://127.0.0.1:{p.port}/"

    time.sleep(2.0)  # end of input used to stop the unit at once
    assert p.proc.poll() is None, "the unit stopped on its own"
    with urllib.request.urlopen(url + "api/info", timeout=5) as r:
        assert json.load(r)["cols"] == 20
    with serial.Serial(p.value("console pty"), 115200, timeout=0.2) as console:
        console.write(b"status\r")
        answer = read_until(console, b"uptime")
        assert b"version" in answer and b"uptime" in answer, answer
        console.write(b"login\r")
        assert b"PIN" in read_until(console, b"PIN")
        console.write(p.value("technician PIN (simulator only)").encode() + b"\r")
        assert b"logged in" in read_until(console, b"logged in").lower()

    p.proc.send_signal(signal.SIGTERM)
    assert p.exited() == 0
    p.wait_line(lambda line: line == "deskunit: stopped", timeout=5)


def test_keys_from_a_pipe_then_the_end_of_input_keeps_it_running_until_ctrl_c(start):
    p = start(subprocess.PIPE)
    p.wait_line(lambda line: line.startswith("+-"))
    assert p.proc.stdin is not None
    p.proc.stdin.write("h\n")  # off hook: a call starts
    p.proc.stdin.close()
    p.wait_line(lambda line: "LINE:green" in line or "LINE:amber" in line)
    p.wait_line(lambda line: line.startswith("deskunit: end of input"))
    time.sleep(1.0)
    assert p.proc.poll() is None
    p.proc.send_signal(signal.SIGINT)
    assert p.exited() == 0


def test_q_quits(start):
    p = start(subprocess.PIPE)
    p.wait_line(lambda line: line.startswith("+-"))
    assert p.proc.stdin is not None
    p.proc.stdin.write("q\n")
    p.proc.stdin.flush()
    assert p.exited() == 0


def test_no_keys_says_so_and_ignores_stdin(start):
    p = start(subprocess.PIPE, "--no-keys")
    p.wait_line(lambda line: line.startswith("keys: not read from stdin"))
    assert p.proc.stdin is not None
    p.proc.stdin.write("q\n")
    p.proc.stdin.flush()
    time.sleep(1.0)
    assert p.proc.poll() is None, "--no-keys still took 'q' from stdin"
    p.proc.send_signal(signal.SIGTERM)
    assert p.exited() == 0


def test_which_stdin_gives_keys(tmp_path):
    with open(os.devnull) as null:
        assert not keys_wanted(null)
    r, w = os.pipe()
    with os.fdopen(r) as pipe, os.fdopen(w, "w"):
        assert keys_wanted(pipe)
    script = tmp_path / "keys.txt"
    script.write_text("h\n")
    with script.open() as f:
        assert keys_wanted(f)
    assert not keys_wanted(None)


# SIGTERM while start-up runs code compiled by exec, as a dataclass's generated methods are: the
# stop is requested from inside that code (the earliest a signal's handler runs is the next bytecode)
STOP_DURING_START_UP = """
import os, signal, sys
import deskunit.simrun as simrun
real = simrun.attach_sync
def attach_sync_as_the_stop_arrives(sim):
    exec("os.kill(os.getpid(), signal.SIGTERM)\\nfor _ in range(1000): pass", {"os": os, "signal": signal})
    return real(sim)
simrun.attach_sync = attach_sync_as_the_stop_arrives
from deskunit.cli import main
status = main(["run", "--sim", "--no-keys", "--http-port", "0", "--state-dir", sys.argv[1]])
if status:  # sys.exit(0) would leave at once, before CPython looks back for an interrupt; `-m` does look
    sys.exit(status)
"""


def test_a_stop_that_arrives_in_compiled_code_during_start_up_still_exits_0(tmp_path):
    """A handler that raised KeyboardInterrupt there stopped the unit cleanly, and CPython then ended
    the process by SIGINT because the interrupt had left exec'd code (status -2 after a clean stop)."""
    p = subprocess.run([sys.executable, "-c", STOP_DURING_START_UP, str(tmp_path / "state")],
                       capture_output=True, text=True, env=sim_env(), timeout=STARTUP_S + 15)
    assert p.returncode == 0, f"exit status {p.returncode}; stderr ends: {p.stderr[-3000:]}"
    assert "deskunit: stopped" in p.stdout
