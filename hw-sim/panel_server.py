"""The simulated unit's front panel in a browser: a stdlib HTTP server with JSON endpoints and SSE.

``deskunit run --sim`` starts one on http://127.0.0.1:8765 (:data:`PANEL_PORT`, ``--http-port``; not
8080, the central server's default).  The page
(``hw-sim/panel/``: plain HTML, CSS and JS, no build step) draws the LCD dot by dot from the
emulator's DDRAM/CGRAM, the LEDs from their pins, and sends key, hook, audio and server actions back.

Threads: the unit's state belongs to its event loop.  Snapshots of what the panel shows are taken
on the loop's thread (after every frame the LCD gets, and when an LED pin or a timer asks for one
through ``loop.call_soon``) and handed to HTTP threads as immutable JSON text.  Actions from HTTP
threads take the paths the terminal interface takes: ``board.press``/``release``/``set_hook``
(gpiozero then posts events to the loop), ``line.set_mode``, and ``loop.call_soon`` for the server
switch.

Endpoints (127.0.0.1 only; POST bodies are JSON, which also keeps other sites' pages out, since a
cross-origin JSON POST needs a CORS preflight this server never grants):

    GET  /                      the panel page (also /panel.js, /panel.css)
    GET  /api/info              static facts: LCD size and ROM, keys, keypad, bundled WAV files
    GET  /api/font              the ROM's 5x8 bitmaps by code (null: no drawing)
    GET  /api/state             the newest snapshot
    GET  /api/events            server-sent events: ``state`` with each new snapshot
    POST /api/key               {"key": "OK", "down": true}
    POST /api/hook              {"off": true}
    POST /api/audio             {"mode": "clean" | "silence" | "dead" | "vad" | "noise:10" | "loss:0.2" | "uk_1.wav"}
    POST /api/server            {"up": false}
    POST /api/fault             {"fault": "lcd_bus:3" | "lcd_power" | "audio_unplug" | "audio_replug" |
                                 "power:cut" | "power:on"}  (see hwsim.faults)
    POST /api/clock             {"time": "2026-11-23T18:05"} (the unit's local time) and/or {"rate": 5}
    GET  /api/history           the newest records of the unit's journal, with appeal and outcome
    GET  /api/central           what the central server holds: the unit's newest records, the forwards
    GET  /api/meter             the line meter and verdict over the last minute of unit time

The page is for the person at the simulator: it shows callers' names from the journal and the
simulator's technician PIN, which is why it is served on loopback only.

    >>> server = PanelServer(sim, port=0).start()   # port 0: any free port
    >>> server.url
    'http://127.0.0.1:41234/'
    >>> server.stop()
"""

from __future__ import annotations

import collections
import json
import math
import threading
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any

from firmware.leds import LED_NAMES
from firmware.vocabulary import ClockSource
from hwsim import PANEL_PORT
from hwsim.audio import LINE_MODES, parse_mode
from hwsim.clock import RATES
from hwsim.faults import command
from hwsim.font5x8 import rom_font

STATIC = {"/": ("index.html", "text/html; charset=utf-8"),
          "/index.html": ("index.html", "text/html; charset=utf-8"),
          "/panel.js": ("panel.js", "text/javascript; charset=utf-8"),
          "/faults.js": ("faults.js", "text/javascript; charset=utf-8"),
          "/panel.css": ("panel.css", "text/css; charset=utf-8")}
REFRESH_S = 0.2
METER_WINDOW_S = 60.0  # the plot's span, in unit time
METER_STEP_S = 0.5  # one meter sample per this much unit time (at most; the refresh paces it)
HISTORY_ROWS = 10  # meter and blink labels; LCD frames and LED pin changes are pushed at once
KEEPALIVE_S = 15.0
MAX_BODY = 4096


def _number(value: Any, digits: int = 2) -> float | None:
    """JSON has no infinities: a missing or non-finite reading becomes null."""
    if value is None:
        return None
    value = float(value)
    return round(value, digits) if math.isfinite(value) else None


def bundled_wavs() -> dict[str, str]:
    """The WAV files shipped with the simulator: name -> absolute path."""
    folder = resources.files("hwsim").joinpath("speech")
    return {p.name: str(p) for p in sorted(folder.iterdir(), key=lambda p: p.name) if p.name.endswith(".wav")}


def cursor_cell(lcd: Any) -> list[int] | None:
    """The visible (row, col) of the DDRAM address counter, or None when it is off the glass."""
    if lcd.in_cgram:
        return None
    address = lcd.address
    if lcd.two_line:
        if address <= 0x27:
            line, index = 0, address
        elif 0x40 <= address <= 0x67:
            line, index = 1, address - 0x40
        else:
            return None
        span = 40
    else:
        line, index, span = 0, address % 80, 80
    for row in range(lcd.n_rows):
        if (row % 2 if lcd.two_line else row) != line:
            continue
        col = (index - (row // 2) * lcd.cols - lcd.shift) % span
        if col < lcd.cols:
            return [row, col]
    return None


def snapshot(sim: Any) -> dict[str, Any]:
    """What the panel shows now. Call on the loop's thread (the LCD emulator is written there)."""
    lcd, board = sim.lcd, sim.board
    hook_pin = board.gpio(board.pins["hook"])
    listening = bool(sim.monitor.wanted)
    report = sim.monitor.latest if listening else None  # after hang-up the last call's meter is stale
    clock = sim.clock
    return {
        "lcd": {
            "cols": lcd.cols,
            "rows": lcd.n_rows,
            "rom": sim.cfg["lcd"]["rom"],
            "codes": [list(row) for row in lcd.screen_codes()],
            "cgram": [list(lcd.cgram_glyph(slot)) for slot in range(8)],
            "text": sim.lcd_rows(),
            "display_on": lcd.display_on,
            "backlight": lcd.backlight,
            "cursor_on": lcd.cursor_on,
            "blink_on": lcd.blink_on,
            "cursor": cursor_cell(lcd),
        },
        # colour: what the pins drive right now (a blinking LED alternates); seen: steady or "-blink"
        "leds": {name: {"colour": board.led_colour(name), "seen": board.led_value(name)} for name in LED_NAMES},
        "hook": {"off": (not hook_pin.state) == bool(board.pins["hook_active_low"])},
        "line": {
            "mode": sim.line.mode,
            "listening": listening,
            "verdict": report.verdict if report else None,
            "score": _number(report.score, 3) if report else None,
            "speech_dbfs": _number(report.speech_dbfs, 1) if report else None,
            "noise_dbfs": _number(report.noise_dbfs, 1) if report else None,
            "snr_db": _number(report.snr_db, 1) if report else None,
        },
        "server": {"up": bool(sim.server_up), "records": sim.synced_count()},
        "journal": {"records": sim.journal.count(), "pending": sim.journal.pending_count(),
                    "parked": sim.sync.state()["parked"] if sim.sync is not None else 0},
        "clock": {"now": clock.now().isoformat(timespec="seconds"), "trusted": clock.trusted,
                  "source": clock.source, "rate": getattr(clock, "rate", 1.0),
                  "settable": hasattr(clock, "set_rate")},
    }


def meter_sample(sim: Any) -> dict[str, Any]:
    """One point of the line plot: the analyzer's latest figures while a call is on, else nulls."""
    report = sim.monitor.latest if sim.monitor.wanted else None
    return {"t": round(sim.clock.monotonic(), 2),
            "verdict": report.verdict if report else None,
            "score": _number(report.score, 3) if report else None,
            "speech_dbfs": _number(report.speech_dbfs, 1) if report else None,
            "snr_db": _number(report.snr_db, 1) if report else None}


def call_row(record: dict[str, Any], synced: bool) -> dict[str, Any]:
    """A journal record as the history shows it (personal data included: loopback only)."""
    appeal = record.get("appeal") or None
    return {"id": record.get("id"), "started_at": record.get("started_at"), "ended_at": record.get("ended_at"),
            "operator": record.get("operator"), "language": record.get("language"),
            "outcome": record.get("outcome"), "line_worst": record.get("line_worst"),
            "hold_total_s": record.get("hold_total_s"), "synced": synced,
            "appeal": None if appeal is None else {k: appeal.get(k) for k in
                                                   ("kind", "full_name", "phone", "email", "forward_to")}}


class PanelServer:
    """Serves one :class:`hwsim.unit.SimUnit`'s panel on ``host:port`` (port 0 picks a free one)."""

    def __init__(self, sim: Any, host: str = "127.0.0.1", port: int = PANEL_PORT, refresh_s: float = REFRESH_S) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the panel server listens on loopback only")
        self.sim = sim
        self.refresh_s = refresh_s
        self._cond = threading.Condition()
        self._version = 0
        self._state_json = "{}"
        self._last: dict[str, Any] | None = None
        self._poke_pending = threading.Event()
        self._meter: collections.deque[dict[str, Any]] = collections.deque()
        self._meter_lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.keys = sorted(set(sim.board.key_pin) | set(sim.board.keypad_pos))
        self.wavs = bundled_wavs()
        self.font_json = json.dumps({f"{code:02x}": bitmap for code, bitmap in rom_font(sim.cfg["lcd"]["rom"]).items()})
        self.httpd = ThreadingHTTPServer((host, port), _handler_for(self))
        self.httpd.daemon_threads = True
        self.host, self.port = host, self.httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    # ---------------------------------------------------------------- life cycle
    def start(self) -> PanelServer:
        self.sim.on_screen.append(self._on_screen)
        self.sim.board.factory.listeners.append(self._on_pin)
        if self.sim.loop.thread is None:
            self._refresh()  # the loop has not started: nothing else touches the unit yet
        else:
            self.poke()
            self.wait_state(0, 2.0)
        for name, target in (("panel-http", self.httpd.serve_forever), ("panel-tick", self._tick)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        with self._cond:
            self._cond.notify_all()  # SSE streams see the stop and end
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._on_screen in self.sim.on_screen:
            self.sim.on_screen.remove(self._on_screen)
        if self._on_pin in self.sim.board.factory.listeners:
            self.sim.board.factory.listeners.remove(self._on_pin)
        for thread in self._threads:
            thread.join(timeout=2)

    # ---------------------------------------------------------------- snapshots
    def _on_screen(self, _rows: list[str]) -> None:
        self._refresh()  # on the loop's thread, right after the frame reached the glass

    def _on_pin(self, _pin: Any, _value: bool) -> None:
        self.poke()  # any thread (a key press from HTTP drives a pin too): snapshot on the loop

    def poke(self) -> None:
        """Ask the loop for a fresh snapshot (coalesced: one pending request at a time)."""
        if not self._poke_pending.is_set():
            self._poke_pending.set()
            self.sim.loop.call_soon(self._poked)

    def _poked(self) -> None:
        self._poke_pending.clear()
        self._sample_meter()
        self._refresh()

    def _sample_meter(self) -> None:
        sample = meter_sample(self.sim)
        with self._meter_lock:
            if self._meter and sample["t"] - self._meter[-1]["t"] < METER_STEP_S:
                return
            self._meter.append(sample)
            while self._meter and self._meter[0]["t"] < sample["t"] - METER_WINDOW_S:
                self._meter.popleft()

    def meter(self) -> dict[str, Any]:
        """The line over the last minute of unit time: samples oldest first, ``now`` on the same clock."""
        with self._meter_lock:
            samples = list(self._meter)
        return {"now": round(self.sim.clock.monotonic(), 2), "window_s": METER_WINDOW_S, "samples": samples}

    def history(self) -> dict[str, Any]:
        """The newest calls in the unit's journal."""
        return {"records": [call_row(r, synced) for r, synced in self.sim.journal.recent(HISTORY_ROWS)]}

    def central(self) -> dict[str, Any]:
        """What the central server holds from this unit: its newest records and the forwards (R11)."""
        server = self.sim.central
        if server is None:
            return {"attached": False, "records": [], "forwards": []}
        unit = self.sim.cfg["unit"]["id"]
        rows = server.store.list_records(unit, 0, 100_000)[-HISTORY_ROWS:][::-1]
        records = [{"seq": r["seq"], "received_at": r["received_at"], "outcome": r["body"].get("outcome"),
                    "appeal_kind": (r["body"].get("appeal") or {}).get("kind"), "id": r["id"]} for r in rows]
        forwards = [{k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in f.items()}
                    for f in server.store.forwards(None, None) if f.get("unit") in (None, unit)]
        return {"attached": True, "up": bool(self.sim.server_up), "count": server.count_records(unit),
                "records": records, "forwards": forwards}

    def _tick(self) -> None:
        while not self._stop.wait(self.refresh_s):
            self.poke()

    def _refresh(self) -> None:
        state = snapshot(self.sim)
        if state == self._last:
            return
        self._last = state
        with self._cond:
            self._version += 1
            self._state_json = json.dumps({"version": self._version, **state}, ensure_ascii=False)
            self._cond.notify_all()

    def state(self) -> tuple[int, str]:
        """The newest snapshot: (version, JSON text)."""
        with self._cond:
            return self._version, self._state_json

    def wait_state(self, after: int, timeout: float) -> tuple[int, str] | None:
        """Block until a snapshot newer than ``after`` exists (None on timeout or stop)."""
        with self._cond:
            self._cond.wait_for(lambda: self._version > after or self._stop.is_set(), timeout)
            if self._stop.is_set() or self._version <= after:
                return None
            return self._version, self._state_json

    # ---------------------------------------------------------------- actions (HTTP threads)
    def act(self, path: str, body: dict[str, Any]) -> None:
        """Carry out one POST; ValueError with a message for the operator of the page when refused."""
        sim = self.sim
        if path == "/api/key":
            key = body.get("key")
            if key not in self.keys:
                raise ValueError(f"no key {key!r} on the panel (keys: {' '.join(self.keys)})")
            (sim.board.press if _flag(body, "down") else sim.board.release)(key)
        elif path == "/api/hook":
            sim.board.set_hook(_flag(body, "off"))
        elif path == "/api/audio":
            mode = body.get("mode")
            if not isinstance(mode, str):
                raise ValueError('"mode" must be a string')
            if mode.lower().endswith(".wav"):
                if mode not in self.wavs:
                    raise ValueError(f"only the bundled WAV files are offered here: {', '.join(self.wavs)}")
                sim.line.set_mode(self.wavs[mode])
                return
            parse_mode(mode)  # the reason in words before anything changes
            sim.line.set_mode(mode)
        elif path == "/api/fault":
            command(sim, body.get("fault"))
        elif path == "/api/clock":
            self._set_clock(body)
        elif path == "/api/server":
            up = _flag(body, "up")
            # on the loop thread, like every other change to the simulated unit
            sim.loop.call_soon(lambda: sim.set_server(up))
        else:
            raise LookupError(path)
        self.poke()

    def _set_clock(self, body: dict[str, Any]) -> None:
        """Set the unit's wall time (trusted, as a technician would) and/or its rate; checked first."""
        clock = self.sim.clock
        if not hasattr(clock, "set_rate"):
            raise ValueError("this unit's clock cannot be set from the panel (it is not the simulator's clock)")
        unknown = set(body) - {"time", "rate"}
        if unknown or not body:
            raise ValueError(f'send "time" and/or "rate" (not {", ".join(sorted(unknown)) or "nothing"})')
        when = rate = None
        if "time" in body:
            if not isinstance(body["time"], str):
                raise ValueError('"time" must be a string like 2026-11-23T18:05')
            try:
                when = datetime.fromisoformat(body["time"])
            except ValueError:
                raise ValueError(f'"time": {body["time"]!r} is not a date and time like 2026-11-23T18:05') from None
            if when.tzinfo is None:
                when = when.replace(tzinfo=clock.tz)
        if "rate" in body:
            rate = body["rate"]
            if isinstance(rate, bool) or not isinstance(rate, int | float) or rate not in RATES:
                raise ValueError(f'"rate" must be one of {", ".join(f"{r:g}" for r in RATES)}')
        if when is not None:
            clock.set_wall(when, ClockSource.PANEL)
        if rate is not None:
            clock.set_rate(float(rate))

    def info(self) -> dict[str, Any]:
        sim = self.sim
        return {"unit": sim.cfg["unit"]["id"], "cols": sim.lcd.cols, "rows": sim.lcd.n_rows,
                "rom": sim.cfg["lcd"]["rom"], "keys": self.keys,
                "keypad": [list(row) for row in sim.app.panel.keypad.layout],
                "wavs": list(self.wavs), "audio_modes": list(LINE_MODES),
                "clock_rates": list(RATES), "technician_pin": getattr(sim, "technician_pin", None)}


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name)
    if not isinstance(value, bool):
        raise ValueError(f'"{name}" must be true or false')
    return value


def _handler_for(panel: PanelServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "deskunit-panel"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            pass  # the terminal belongs to the LCD printout

        def _host_ok(self) -> bool:
            # A page on another site that re-points its name at 127.0.0.1 (DNS rebinding) still sends
            # its own name here; only loopback names are answered.
            host = (self.headers.get("Host") or "").rsplit(":", 1)[0].strip("[]")
            if host in ("127.0.0.1", "localhost", "::1"):
                return True
            self._send(HTTPStatus.FORBIDDEN, b"forbidden host\n", "text/plain")
            return False

        def _send(self, status: int, body: bytes, ctype: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, text: str) -> None:
            self._send(status, text.encode("utf-8"), "application/json; charset=utf-8")

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            if not self._host_ok():
                return
            path = self.path.split("?", 1)[0]
            if path in STATIC:
                name, ctype = STATIC[path]
                body = resources.files("hwsim").joinpath("panel", name).read_bytes()
                self._send(HTTPStatus.OK, body, ctype)
            elif path == "/api/state":
                self._json(HTTPStatus.OK, panel.state()[1])
            elif path == "/api/info":
                self._json(HTTPStatus.OK, json.dumps(panel.info(), ensure_ascii=False))
            elif path == "/api/font":
                self._json(HTTPStatus.OK, panel.font_json)
            elif path in ("/api/history", "/api/central", "/api/meter"):
                getter = {"/api/history": panel.history, "/api/central": panel.central, "/api/meter": panel.meter}
                self._json(HTTPStatus.OK, json.dumps(getter[path](), ensure_ascii=False))
            elif path == "/api/events":
                self._events()
            else:
                self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")

        def do_POST(self) -> None:  # noqa: N802
            if not self._host_ok():
                return
            if (self.headers.get("Content-Type") or "").split(";")[0].strip() != "application/json":
                self._json(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, '{"ok": false, "error": "send application/json"}')
                return
            try:
                length = int(self.headers.get("Content-Length") or 0)
                if not 0 < length <= MAX_BODY:
                    raise ValueError("a JSON object of at most 4 KiB is expected")
                body = json.loads(self.rfile.read(length))
                if not isinstance(body, dict):
                    raise ValueError("a JSON object is expected")
                panel.act(self.path, body)
            except LookupError:
                self._json(HTTPStatus.NOT_FOUND, '{"ok": false, "error": "no such endpoint"}')
            except ValueError as e:  # json.JSONDecodeError is one too
                self._json(HTTPStatus.BAD_REQUEST, json.dumps({"ok": False, "error": str(e)}, ensure_ascii=False))
            else:
                self._json(HTTPStatus.OK, '{"ok": true}')

        def _events(self) -> None:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            version, text = panel.state()
            try:
                self.wfile.write(f"retry: 1000\nid: {version}\nevent: state\ndata: {text}\n\n".encode())
                self.wfile.flush()
                while not panel._stop.is_set():
                    got = panel.wait_state(version, KEEPALIVE_S)
                    if got is None:
                        self.wfile.write(b": keepalive\n\n")
                    else:
                        version, text = got
                        self.wfile.write(f"id: {version}\nevent: state\ndata: {text}\n\n".encode())
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the page went away

    return Handler
