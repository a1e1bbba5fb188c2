"""The panel server over plain HTTP (no browser): snapshots, SSE, actions, refusals; the 5x8 font table."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from firmware.clock import RealClock
from firmware.config import load_config
from firmware.lcd.glyphs import GLYPHS as CGRAM_GLYPHS
from firmware.lcd.rom import ROM_NAMES, rom_table
from hwsim.font5x8 import GLYPHS, glyph_for, rom_font
from hwsim.panel_server import PanelServer
from hwsim.unit import SimUnit


@pytest.fixture
def served(tmp_path) -> Iterator[tuple[SimUnit, PanelServer]]:
    clock = RealClock()
    clock.set_wall(datetime.fromisoformat("2026-11-23T14:00:00+02:00"), "scenario")
    sim = SimUnit.create(load_config(), clock, state_dir=tmp_path / "state")
    sim.unit.sign_in(7, "Олена Петренко")
    sim.start_realtime()
    panel = PanelServer(sim, port=0, refresh_s=0.05).start()
    yield sim, panel
    panel.stop()
    sim.close()


def request(panel: PanelServer, method: str, path: str, body: Any = None, headers: dict | None = None,
            raw: bytes | None = None) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", panel.port, timeout=5)
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    hdrs = {"Content-Type": "application/json"} if data is not None else {}
    hdrs.update(headers or {})
    conn.request(method, path, body=data, headers=hdrs)
    resp = conn.getresponse()
    payload = resp.read()
    conn.close()
    ctype = resp.getheader("Content-Type") or ""
    return resp.status, json.loads(payload) if ctype.startswith("application/json") else payload


def state_when(panel: PanelServer, predicate, timeout: float = 6.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        status, state = request(panel, "GET", "/api/state")
        assert status == 200
        if predicate(state):
            return state
        assert time.monotonic() < deadline, f"state never matched; last {state}"
        time.sleep(0.05)


def test_page_assets_and_static_facts(served):
    sim, panel = served
    status, page = request(panel, "GET", "/")
    assert status == 200 and b'id="lcd"' in page and b"/panel.js" in page
    for asset in ("/panel.js", "/panel.css"):
        assert request(panel, "GET", asset)[0] == 200
    assert request(panel, "GET", "/../pyproject.toml")[0] == 404
    _, info = request(panel, "GET", "/api/info")
    assert (info["cols"], info["rows"], info["rom"]) == (20, 4, "cyrillic")
    assert {"OK", "HOLD", "APPEAL", "0", "#"} <= set(info["keys"]) and "uk_1.wav" in info["wavs"]
    _, font = request(panel, "GET", "/api/font")
    assert font["41"] == list(GLYPHS["A"]) and font["a0"] == list(glyph_for("Б"))


def test_actions_drive_the_unit_and_snapshots_follow(served):
    sim, panel = served
    assert request(panel, "POST", "/api/hook", {"off": True}) == (200, {"ok": True})
    state = state_when(panel, lambda s: s["hook"]["off"] and "Дoбpoгo" in s["lcd"]["text"][0])
    assert state["lcd"]["display_on"] and state["lcd"]["backlight"]
    assert len(state["lcd"]["codes"]) == 4 and len(state["lcd"]["cgram"]) == 8
    state = state_when(panel, lambda s: s["line"]["verdict"] is not None)
    assert state["line"]["listening"] and state["line"]["mode"] == "clean"

    assert request(panel, "POST", "/api/key", {"key": "HOLD", "down": True})[0] == 200
    assert not sim.board.gpio(sim.board.key_pin["HOLD"]).state  # held: the pin is low
    request(panel, "POST", "/api/key", {"key": "HOLD", "down": False})
    assert sim.board.gpio(sim.board.key_pin["HOLD"]).state
    request(panel, "POST", "/api/key", {"key": "OK", "down": True})
    request(panel, "POST", "/api/key", {"key": "OK", "down": False})
    state_when(panel, lambda s: s["leds"]["hold"]["colour"] == "green")

    assert request(panel, "POST", "/api/audio", {"mode": "dead"})[0] == 200
    state_when(panel, lambda s: s["leds"]["line"]["colour"] == "red" and s["line"]["mode"] == "dead", timeout=8)
    assert request(panel, "POST", "/api/audio", {"mode": "uk_2.wav"})[0] == 200
    assert sim.line.mode.endswith("uk_2.wav")

    assert request(panel, "POST", "/api/server", {"up": False})[0] == 200
    state_when(panel, lambda s: s["server"]["up"] is False)


@pytest.mark.parametrize(("path", "body", "status", "words"), [
    ("/api/key", {"key": "F13", "down": True}, 400, "no key 'F13'"),
    ("/api/key", {"key": "OK", "down": "yes"}, 400, '"down" must be true or false'),
    ("/api/hook", {}, 400, '"off" must be true or false'),
    ("/api/audio", {"mode": "noise:loud"}, 400, "not a number"),
    ("/api/audio", {"mode": "loss:3"}, 400, "between 0 and 1"),
    ("/api/audio", {"mode": "/etc/passwd.wav"}, 400, "bundled WAV"),
    ("/api/nothing", {"x": 1}, 404, "no such endpoint"),
])
def test_bad_actions_are_refused_with_the_reason_and_change_nothing(served, path, body, status, words):
    sim, panel = served
    got, reply = request(panel, "POST", path, body)
    assert got == status and words in reply["error"] and reply["ok"] is False
    assert sim.line.mode == "clean"


def test_requests_other_pages_could_forge_are_refused(served):
    _, panel = served
    # a form post from another site cannot send application/json without a preflight
    status, _ = request(panel, "POST", "/api/hook", raw=b"off=true",
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 415
    assert request(panel, "POST", "/api/hook", raw=b"[1]")[0] == 400
    assert request(panel, "POST", "/api/hook", raw=b"{nope")[0] == 400
    # DNS rebinding: a foreign name pointed at 127.0.0.1 still says its own name in Host
    assert request(panel, "GET", "/api/state", headers={"Host": "evil.example:8080"})[0] == 403
    assert request(panel, "POST", "/api/hook", {"off": True}, headers={"Host": "evil.example"})[0] == 403


def test_server_sent_events_push_new_snapshots(served):
    sim, panel = served
    conn = http.client.HTTPConnection("127.0.0.1", panel.port, timeout=5)
    conn.request("GET", "/api/events")
    resp = conn.getresponse()
    assert resp.status == 200 and resp.getheader("Content-Type").startswith("text/event-stream")

    def next_state() -> dict:
        data = None
        while True:
            line = resp.fp.readline().decode().rstrip("\n")
            if line.startswith("data: "):
                data = json.loads(line[6:])
            elif line == "" and data is not None:
                return data

    first = next_state()
    assert first["hook"]["off"] is False
    sim.hook(off=True)
    deadline = time.monotonic() + 5
    while not (state := next_state())["hook"]["off"]:
        assert time.monotonic() < deadline
    assert state["version"] > first["version"]
    conn.close()


def test_stop_ends_open_event_streams_and_frees_the_port(served):
    _, panel = served
    conn = http.client.HTTPConnection("127.0.0.1", panel.port, timeout=5)
    conn.request("GET", "/api/events")
    resp = conn.getresponse()
    resp.fp.readline()
    t0 = time.monotonic()
    panel.stop()
    assert time.monotonic() - t0 < 3
    with pytest.raises(OSError):
        http.client.HTTPConnection("127.0.0.1", panel.port, timeout=1).request("GET", "/api/state")
    conn.close()


def test_loopback_only():
    with pytest.raises(ValueError, match="loopback"):
        PanelServer(object(), host="0.0.0.0")


@pytest.mark.parametrize("rom", ROM_NAMES)
def test_font_covers_ascii_and_the_cyrillic_rom(rom):
    font = rom_font(rom)
    assert set(font) == set(range(0x10, 0x100))
    for code, char in rom_table(rom).items():
        if rom == "cyrillic" or 0x20 <= code < 0x7F and char.isascii():
            assert font[code] is not None, f"{rom} 0x{code:02x} {char!r} has no drawing"
    for bitmap in filter(None, font.values()):
        assert len(bitmap) == 8 and bitmap[7] == 0 and all(0 <= row < 32 for row in bitmap)


def test_font_letters_differ_and_lookalikes_share_the_latin_drawing():
    assert glyph_for("А") == glyph_for("A") and glyph_for("р") == glyph_for("p")
    drawn = [b for ch, b in GLYPHS.items() if ch != " "]
    assert len(set(drawn)) == len(drawn), "two characters share one drawing"
    assert not set(drawn) & set(CGRAM_GLYPHS.values())  # the custom letters really are missing from the ROM
    assert glyph_for("é")[0] and glyph_for("ｱ") is None
