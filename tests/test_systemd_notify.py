"""sd_notify end to end: a real ``deskunit run --sim`` process talks to a real AF_UNIX datagram socket.

Also: a stalled event loop stops the watchdog pings (in-process), and a bad configuration makes
``deskunit run`` exit 78 naming the key.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest

from deskunit.hardware import stop_handler
from deskunit.systemd import Notifier, supervise, unit_status, watchdog_interval
from firmware.clock import RealClock
from firmware.config import EX_CONFIG
from firmware.events import Callback
from firmware.loop import EventLoop


class NotifyListener:
    """systemd's side of the protocol: a bound datagram socket collecting what arrives, with times."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(b"\0" + address[1:].encode() if address.startswith("@") else address)
        self.sock.settimeout(0.05)
        self.messages: list[tuple[float, dict[str, str]]] = []

    def poll(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
            self.messages.append((time.monotonic(), fields))

    def wait_for(self, key: str, value: str | None = None, timeout: float = 10.0,
                 contains: str | None = None) -> dict[str, str]:
        end = time.monotonic() + timeout
        seen = 0
        while True:
            for _, fields in self.messages[seen:]:
                if key in fields and (value is None or fields[key] == value) and (
                        contains is None or contains in fields[key]):
                    return fields
            seen = len(self.messages)
            if time.monotonic() > end:
                raise AssertionError(f"no {key}={value or contains or '*'} in {[m for _, m in self.messages][-5:]}")
            self.poll(0.05)

    def times(self, key: str) -> list[float]:
        return [t for t, fields in self.messages if key in fields]

    def close(self) -> None:
        self.sock.close()
        if not self.address.startswith("@"):
            Path(self.address).unlink(missing_ok=True)


def sim_process(env_extra: dict[str, str], *args: str, state_dir: Path | None = None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")}
    env.update(env_extra)
    env.setdefault("DESKUNIT_CONFIG", "")
    cmd = [sys.executable, "-m", "deskunit.cli", "run", "--sim", "--http-port", "0", *args]
    if state_dir is not None:
        cmd += ["--state-dir", str(state_dir)]
    return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=env, text=True)


def send(proc: subprocess.Popen, line: str) -> None:
    assert proc.stdin is not None
    proc.stdin.write(line + "\n")
    proc.stdin.flush()


def stop(proc: subprocess.Popen) -> int:
    if proc.poll() is None:
        proc.terminate()
    try:
        return proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.fixture(params=["path", "abstract"])
def listener(request, tmp_path):
    address = str(tmp_path / "notify.sock") if request.param == "path" else f"@deskunit-test-{uuid.uuid4().hex}"
    lst = NotifyListener(address)
    yield lst
    lst.close()


def test_sim_process_sends_ready_status_and_watchdog(listener):
    proc = sim_process({"NOTIFY_SOCKET": listener.address, "WATCHDOG_USEC": "1000000"})
    try:
        ready = listener.wait_for("READY", "1", timeout=15)
        assert ready["STATUS"] == "operator 7 signed in; idle; 0 records waiting"
        listener.poll(2.6)
        pings = listener.times("WATCHDOG")
        assert len(pings) >= 4  # every 0.5 s (half of WatchdogSec=1 s)
        gaps = [b - a for a, b in zip(pings, pings[1:], strict=False)]
        assert max(gaps) < 1.0  # never late enough for systemd to act
        send(proc, "h")  # off-hook: STATUS follows the call
        listener.wait_for("STATUS", contains="call 00:0")
        send(proc, "H")
        send(proc, "o")  # consent given: on hold
        listener.wait_for("STATUS", contains="on hold")
        send(proc, "H")
        listener.messages.clear()
        send(proc, "h")  # the call is saved (and synced to the simulator's central server)
        listener.wait_for("STATUS", contains="operator 7 signed in; idle; ")
        assert stop(proc) == 0
        listener.wait_for("STOPPING", "1", timeout=5)
    finally:
        stop(proc)


def wait_started(proc: subprocess.Popen, timeout: float = 20.0) -> None:
    """Until the simulated unit has signed its operator in (its log goes to stderr under --sim)."""
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    for line in proc.stderr:
        if "signed in" in line or time.monotonic() > deadline:
            return


def test_no_notify_socket_means_silence_and_a_normal_run(tmp_path):
    proc = sim_process({})
    try:
        wait_started(proc)  # SIGTERM before the handler is installed would be a different test
        assert proc.poll() is None
    finally:
        assert stop(proc) == 0


def test_stalled_loop_stops_the_pings_and_they_resume_after(listener):
    loop = EventLoop(RealClock(), handler=lambda e: None)
    unit = SimpleNamespace(operator=None, call=None, journal=SimpleNamespace(pending_count=lambda: 0))
    notifier = Notifier(listener.address)
    supervision = supervise(loop, unit, notifier, environ={"WATCHDOG_USEC": "100000"})
    assert supervision.interval == pytest.approx(0.05)
    thread = loop.start()
    try:
        listener.poll(0.5)
        assert len(listener.times("WATCHDOG")) >= 5
        stall_from = time.monotonic()
        loop.post(Callback(time.sleep, (1.0,)))  # a handler that blocks the loop's thread
        listener.poll(1.6)
        stall_to = stall_from + 1.0
        during = [t for t in listener.times("WATCHDOG") if stall_from + 0.1 < t < stall_to - 0.05]
        after = [t for t in listener.times("WATCHDOG") if t > stall_to]
        assert during == []
        assert len(after) >= 5
    finally:
        loop.stop()
        thread.join(2)
        notifier.close()


def test_ping_thread_is_the_loop_thread(listener):
    loop = EventLoop(RealClock(), handler=lambda e: None)
    unit = SimpleNamespace(operator=None, call=None, journal=SimpleNamespace(pending_count=lambda: 3))
    threads: list[str] = []
    notifier = Notifier(listener.address)
    original = notifier.notify

    def spy(**fields):
        threads.append(threading.current_thread().name)
        return original(**fields)

    notifier.notify = spy  # type: ignore[method-assign]
    supervise(loop, unit, notifier, environ={"WATCHDOG_USEC": "100000"})
    thread = loop.start()
    try:
        listener.wait_for("STATUS", "no operator signed in; idle; 3 records waiting", timeout=3)
        listener.poll(0.3)
    finally:
        loop.stop()
        thread.join(2)
    assert threads and set(threads) == {"deskunit-loop"}


def test_notifier_is_a_no_op_without_a_socket():
    for address in (None, "", "relative/path", "@"):
        notifier = Notifier(address)
        assert not notifier.enabled
        assert notifier.ready("x") is False and notifier.watchdog() is False


def test_notifier_does_not_block_on_a_missing_or_full_listener(tmp_path):
    notifier = Notifier(str(tmp_path / "nobody.sock"))
    assert notifier.enabled and notifier.watchdog() is False  # no listener: dropped, no exception
    lst = NotifyListener(str(tmp_path / "full.sock"))
    try:
        notifier = Notifier(lst.address)
        t0 = time.monotonic()
        sent = [notifier.status("x" * 1000) for _ in range(5000)]  # nobody reads: the buffer fills
        assert time.monotonic() - t0 < 5 and not all(sent)
    finally:
        lst.close()


def test_reloading_carries_the_monotonic_time(listener):
    Notifier(listener.address).reloading()
    fields = listener.wait_for("RELOADING", "1", timeout=2)
    assert int(fields["MONOTONIC_USEC"]) > 0


def test_watchdog_interval_is_half_and_checks_the_pid():
    assert watchdog_interval({"WATCHDOG_USEC": "30000000"}) == 15.0
    assert watchdog_interval({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}) == 15.0
    assert watchdog_interval({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}) is None
    assert watchdog_interval({}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "soon"}) is None


def test_status_line_names_no_one():
    call = SimpleNamespace(hold_started=1.0, line="degraded")
    unit = SimpleNamespace(operator=SimpleNamespace(number=7, name="Олена Петренко"), call=call,
                           call_time=lambda: 75.0, hold_elapsed=lambda: 12.0,
                           journal=SimpleNamespace(pending_count=lambda: 2))
    text = unit_status(unit)
    assert text == "operator 7 signed in; call 01:15, on hold 00:12, line degraded; 2 records waiting"
    assert "Петренко" not in text


# ---------------------------------------------------------------- bad configuration

BAD = '[lcd]\nsize = "40x2"\n'


@pytest.mark.parametrize("how", ["--config", "env", "env --sim"])
def test_bad_config_exits_78_naming_the_key(tmp_path, how):
    bad = tmp_path / "deskunit.toml"
    bad.write_text(BAD, encoding="utf-8")
    env = dict(os.environ)
    cmd = [sys.executable, "-m", "deskunit.cli", "run"]
    if how == "--config":
        cmd += ["--config", str(bad)]
    else:
        env["DESKUNIT_CONFIG"] = str(bad)
        cmd += how.split()[1:]
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=30, stdin=subprocess.DEVNULL)
    assert result.returncode == EX_CONFIG == 78
    assert "lcd.size" in result.stderr and "40x2" in result.stderr


def test_unreadable_config_and_config_check(tmp_path):
    env = dict(os.environ, DESKUNIT_CONFIG=str(tmp_path / "missing.toml"))
    result = subprocess.run([sys.executable, "-m", "deskunit.cli", "run"], capture_output=True, text=True,
                            env=env, timeout=30)
    assert result.returncode == 78 and "missing.toml" in result.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text('[pins]\nhook = 99\n', encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "deskunit.cli", "config", "check", str(bad)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 78 and "pins.hook" in result.stderr


def test_a_stop_signal_ends_the_loop_even_while_the_loop_holds_its_queue(listener):
    """On the Pi the loop runs on the main thread, where Python runs the SIGTERM handler, between two
    steps of whatever the loop was doing: posting or taking an event holds the queue's lock. A handler
    that queued a wake-up waited for that lock forever (systemd's stop timeout, then SIGKILL)."""
    loop = EventLoop(RealClock(), handler=lambda e: None)
    unit = SimpleNamespace(operator=None, call=None, journal=SimpleNamespace(pending_count=lambda: 0))
    on_signal = stop_handler(loop, supervise(loop, unit, Notifier(listener.address)))

    def signal_arrives_inside_the_queue() -> None:
        with loop._queue.mutex:  # the step the signal interrupts
            on_signal(signal.SIGTERM, None)

    loop.post(Callback(signal_arrives_inside_the_queue))
    thread = loop.start()
    thread.join(3)
    assert not thread.is_alive(), "the stop waited for the queue's lock"
    listener.wait_for("STOPPING", "1", timeout=3)
