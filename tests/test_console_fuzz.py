"""Property: whatever bytes arrive (noise, control characters, escape sequences, huge lines,
half-typed commands, virtual time passing in between), the console never fails and a Ctrl-C
followed by Enter always brings back its prompt."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deskunit.console_backend import ConsoleBackend
from firmware import console as console_mod
from firmware.clock import VirtualClock
from firmware.config import load_config
from firmware.console import PROMPT, PROMPT_AUTH, Console, ViewTimings
from firmware.pin_hash import hash_pin
from hwsim.probe import SimProbe
from hwsim.unit import SimUnit

PIN = "4821"

FRAGMENTS = [
    "help", "status", "login\r", PIN + "\r", "logout\r", "lcd", "lcd test\r", "led test\r", "keys\r", "audio\r",
    "selftest\r", "queue\r", "sync now\r", "config show\r", "config check\r", "config set hold.limit_s 200\r",
    "config set hold.limit_s x\r", "config set\r", "config set server.token \"\"\r", "log 3\r", "log 99999\r",
    "time\r", "time set 2026-11-23T09:15:00+02:00\r", "time set nonsense --force\r", "restart\r", "yes\r",
    "sta", "con", "fig ", "\r", "\n", "\r\n", "\x03", "\x15", "\x7f", "\x08", "\x1b", "\x1b[", "\x1b[A", "\x1bO",
    "\x1b[200~", "\x00", "\t", "\x04", "ж", "\u202e", "\ufffd",
]

chunks = st.one_of(
    st.binary(max_size=48),
    st.sampled_from(FRAGMENTS).map(str.encode),
    st.text(max_size=24).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.integers(200, 1500).map(lambda n: b"A" * n),
    st.sampled_from([b"\xd0", b"\xe2\x82", b"\xff\xfe", b"\xc3\x28"]),  # broken UTF-8
)
actions = st.lists(st.one_of(chunks, st.floats(0.0, 0.8).map(lambda t: ("advance", t))), max_size=30)


class StrictConsole(Console):
    """Records every internal failure the console had to recover from."""

    recovered: list[BaseException]

    def _recover(self, e: BaseException) -> None:
        self.recovered.append(e)
        super()._recover(e)


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    cfg = load_config(overrides={"console": {"pin_hash": hash_pin(PIN, iterations=1000)}})
    unit = SimUnit.create(cfg, VirtualClock(datetime.fromisoformat("2026-11-23T09:15:00+02:00")),
                          state_dir=tmp_path_factory.mktemp("fuzz"))
    yield unit
    unit.close()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=actions, logged_in=st.booleans())
def test_random_input_never_breaks_the_console(sim, steps, logged_in):
    out: list[bytes] = []
    backend = ConsoleBackend(sim.app, probe=SimProbe(sim), restart=lambda: None)
    console = StrictConsole(backend, sim.clock, write=out.append, call_later=sim.loop.call_later,
                            timings=ViewTimings(lcd_test_s=0.2, led_step_s=0.05))
    console.recovered = []
    try:
        if logged_in:
            console.feed(b"login\r" + PIN.encode() + b"\r")
        for step in steps:
            if isinstance(step, tuple):
                sim.advance(step[1])
            else:
                console.feed(step)
        out.clear()
        console.feed(b"\x03\r")
        text = b"".join(out).decode("utf-8")
        assert text.endswith((PROMPT, PROMPT_AUTH)), text[-200:]
        assert console.mode == "line"
        assert console.recovered == []
        assert len(console.buf) <= console_mod.MAX_LINE
    finally:
        console.close()
    assert sim.loop.filter_count == 0  # the key test never leaves its filter behind
