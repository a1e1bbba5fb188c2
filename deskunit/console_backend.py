"""The serial console's access to a running unit, and its wiring to a serial port.

:class:`ConsoleBackend` implements :class:`firmware.console.Backend` over a
:class:`deskunit.app.App` (plus the simulator's extras when given a ``hwsim.unit.SimUnit``).
Every method runs on the event loop's thread; slow work (PIN hashing, the network, fsync) runs in
:meth:`ConsoleBackend.run_blocking`'s worker thread and answers through ``loop.call_soon``.

    >>> service = attach_console(app, "/dev/serial0")      # in run_hardware, after App.build
    >>> service = attach_console(sim.app, cable.unit_path, sim=sim)   # deskunit run --sim

Personal data: the log tail is redacted when captured and again when shown
(:func:`redact`); ``config show`` hides secrets and operators' names; ``queue`` shows counts only.
``config set`` validates with :mod:`firmware.config`, applies what is safe to apply live and saves
the value in ``<state_dir>/console-overrides.toml`` (read at start by :func:`with_saved_overrides`).
"""

from __future__ import annotations

import collections
import difflib
import json
import logging
import os
import re
import socket
import ssl
import threading
import time
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from deskunit.app import App
from firmware.config import SCHEMA, ConfigError, load_config, lookup, merge, site_config_path, validate
from firmware.console import Check, CommandError, Console, is_secret
from firmware.events import HookChanged, KeyDown, KeyUp
from firmware.leds import COLOURS
from firmware.pins import verify_pin
from firmware.timefmt import mmss
from firmware.version import package_version
from hal.serialport import SerialPort

log = logging.getLogger(__name__)

OVERRIDES_FILE = "console-overrides.toml"
AUDIT_FILE = "console-audit.log"
AUDIT_MAX_BYTES = 512 * 1024
#: Keys the running unit reads each time it needs them, so a new value is safe to apply at once.
LIVE_KEYS = frozenset({
    "unit.language", "greeting.morning", "greeting.day", "greeting.evening", "line.countdown_s",
    "line.silent_callback_s", "hold.warn_s", "hold.limit_s", "console.idle_logout_s", "console.pin_hash",
})
HIDDEN = "<hidden>"

# ---------------------------------------------------------------- redaction

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w-])\+?\(?\d(?:[\s\-().]{0,2}\d){6,14}(?![\w-])")
_FIELD = re.compile(r"""(?i)(["']?(?:full_?name|name|residence|address|phone|e-?mail|essence)["']?\s*[:=]\s*)"""
                    r"""("[^"]*"|'[^']*'|\S+)""")
_NON_ASCII_WORDS = re.compile(r"[^\s\x00-\x7f]\S*(?:\s+\S*[^\s\x00-\x7f]\S*)*")
_NAME_PAIR = re.compile(r"\b[A-Z][a-z'’]+(?:[ -][A-Z][a-z'’]+)+\b")
_ADDRESS = re.compile(r"\b\d+[A-Za-z]?,?\s+[A-Z][a-z]+(?:\s+(?:[A-Z][a-z]+|St|Str|Ave|Rd)\.?)*")


def redact(text: str, known: Iterable[str] = ()) -> str:
    """``text`` with personal data replaced by <hidden>: known names and values, e-mails, phone
    numbers, ``name=...``-style fields, addresses, capitalised name pairs, and any non-Latin words
    (the unit's own log messages are English; Cyrillic in a log line is a caller's or operator's data).
    """
    for value in sorted({k for k in known if k and len(k) >= 3}, key=len, reverse=True):
        text = re.sub(re.escape(value), HIDDEN, text, flags=re.IGNORECASE)
    text = _EMAIL.sub(HIDDEN, text)
    text = _FIELD.sub(lambda m: m.group(1) + HIDDEN, text)
    text = _PHONE.sub(HIDDEN, text)
    text = _NON_ASCII_WORDS.sub(HIDDEN, text)
    text = _ADDRESS.sub(HIDDEN, text)
    text = _NAME_PAIR.sub(HIDDEN, text)
    return text


class RedactedLogBuffer(logging.Handler):
    """The newest log lines, kept in memory already redacted (raw text is never stored)."""

    def __init__(self, capacity: int = 500, known: Callable[[], Iterable[str]] = tuple) -> None:
        super().__init__(level=logging.INFO)
        self.lines: collections.deque[str] = collections.deque(maxlen=capacity)
        self._known = known

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                message += f" [{type(record.exc_info[1]).__name__}: {record.exc_info[1]}]"
            stamp = time.strftime("%m-%d %H:%M:%S", time.localtime(record.created))
            line = f"{stamp} {record.levelname:<7} {record.name}: {message}"
            self.lines.append(redact(line.replace("\n", " ")[:400], self._known()))
        except Exception:
            self.handleError(record)

    def tail(self, n: int) -> list[str]:
        return list(self.lines)[-n:]


# ---------------------------------------------------------------- overrides


def parse_value(text: str) -> Any:
    """A console value as TOML (``200``, ``true``, ``0x27``, ``[1, 2]``, ``"x"``), else the bare text."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text.strip()


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot save a {type(value).__name__}")


def read_overrides(state_dir: Path) -> dict[str, Any]:
    path = Path(state_dir) / OVERRIDES_FILE
    if not path.exists():
        return {}
    with open(path, "rb") as fh:
        return tomllib.load(fh)


def write_overrides(state_dir: Path, overrides: dict[str, Any]) -> Path:
    """Write atomically: a power cut leaves the old file or the new one, never half of one."""
    path = Path(state_dir) / OVERRIDES_FILE
    lines = ["# Set with the technician console (config set). Merged over the site config at start."]
    for table in sorted(overrides):
        lines.append(f"\n[{table}]")
        lines += [f"{key} = {toml_value(v)}" for key, v in sorted(overrides[table].items())]
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


def with_saved_overrides(cfg: dict[str, Any]) -> dict[str, Any]:
    """``cfg`` with the console's saved values merged over it; unchanged (and a warning) when they
    no longer validate, so a stale override never stops the unit from starting."""
    try:
        saved = read_overrides(Path(cfg["unit"]["state_dir"]))
    except (OSError, tomllib.TOMLDecodeError) as e:
        log.warning("console overrides ignored: %s", e)
        return cfg
    if not saved:
        return cfg
    merged = merge(cfg, saved)
    try:
        validate(merged)
    except ConfigError as e:
        log.warning("console overrides ignored: %s", e)
        return cfg
    return merged


# ---------------------------------------------------------------- the backend


def _fmt_age(seconds: float) -> str:
    s = int(max(0, seconds))
    if s < 120:
        return f"{s} s"
    if s < 7200:
        return f"{s // 60} min"
    return f"{s // 3600} h {s % 3600 // 60} min"


class ConsoleBackend:
    """The console's view of the unit; see the module docstring. Loop thread only (except
    :meth:`run_blocking` and the functions it runs)."""

    def __init__(self, app: App, *, sim: Any = None, sync: Any = None, restart: Callable[[], None] | None = None,
                 config_path: Path | None = None, log_buffer: RedactedLogBuffer | None = None) -> None:
        self.app = app
        self.unit = app.unit
        self.loop = app.loop
        self.clock = app.clock
        self.sim = sim
        self._sync = sync
        self._restart = restart
        self.config_path = config_path
        self.started = app.clock.monotonic()
        self.log_buffer = log_buffer or RedactedLogBuffer(known=self._static_known)
        self._audit_lock = threading.Lock()

    @property
    def cfg(self) -> dict[str, Any]:
        """The unit's running config (a pushed config replaces the unit's dict, so never cache it)."""
        return self.unit.cfg

    @property
    def sync(self) -> Any:
        """The sync worker (firmware.sync.SyncWorker): given, or attached to the app or SimUnit later."""
        return self._sync or getattr(self.app, "sync", None) or getattr(self.sim, "sync", None)

    # -- threads
    def run_blocking(self, fn: Callable[[], Any], done: Callable[[Any], None]) -> None:
        """Run ``fn`` off the loop; ``done(result or exception)`` then runs on the loop's thread."""

        def work() -> None:
            try:
                result = fn()
            except Exception as e:
                result = e
            self.loop.call_soon(done, result)

        threading.Thread(target=work, name="deskunit-console-work", daemon=True).start()

    # -- personal data
    def _static_known(self) -> list[str]:
        names = [str(op.get("name", "")) for op in self.cfg.get("operators") or []]
        return names + [part for n in names for part in n.split()]

    def _known(self) -> list[str]:
        known = self._static_known()
        op = self.unit.operator
        if op is not None:
            known += [op.name, *op.name.split()]
        call = self.unit.call
        if call is not None and call.appeal:
            known += [str(v) for k, v in call.appeal.items() if k in ("full_name", "residence", "phone", "email",
                                                                      "essence") and v]
        return known

    # -- login and audit
    def pin_hash(self) -> str:
        return str(self.cfg["console"].get("pin_hash") or "")

    def verify_pin(self, pin: str) -> bool:
        stored = self.pin_hash()
        return bool(stored) and verify_pin(pin, stored)

    def idle_logout_s(self) -> float:
        return float(self.cfg["console"]["idle_logout_s"])

    @property
    def audit_path(self) -> Path:
        return Path(self.app.state_dir) / AUDIT_FILE

    def audit(self, text: str, authenticated: bool) -> None:
        status = self.clock.status()
        stamp = status.now.isoformat(timespec="seconds") + ("" if status.trusted else "?")
        line = f"{stamp} {'tech' if authenticated else 'anon'} {text}\n"
        path = self.audit_path
        with self._audit_lock:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                if path.exists() and path.stat().st_size > AUDIT_MAX_BYTES:
                    os.replace(path, path.with_suffix(".log.1"))
                with open(path, "a", encoding="utf-8") as fh:
                    fh.write(line)
            except OSError as e:
                log.warning("console audit not written: %s", e)

    # -- status
    def status(self) -> dict[str, str]:
        unit, clock = self.unit, self.clock
        st = clock.status()
        out = {
            "version": package_version(),
            "uptime": _fmt_age(clock.monotonic() - self.started),
            "clock": f"{st.now.isoformat(timespec='seconds')} {'trusted' if st.trusted else 'NOT trusted'}"
                     f" (source: {st.source})",
        }
        call = unit.call
        if call is None:
            out["call"] = "idle (on-hook)"
        else:
            out["call"] = f"on a call, {mmss(unit.call_time())}"
            if call.hold_started is not None:
                out["call"] += f", on hold {mmss(unit.hold_elapsed())}"
        out["leds"] = "  ".join(f"{k.upper()}:{v}" for k, v in self.led_states().items())
        out["records waiting"] = str(self.app.journal.pending_count())
        op = unit.operator
        out["operator"] = f"№ {op.number} {op.name}" if op else "none signed in"
        out["line"] = unit.line_verdict or "not judged (no call)"
        if unit.audio_lost:
            out["line"] = "no audio input (nothing is judged)"
        if self.app.parts:  # a part missing or failing is named here, whatever else still works
            out["hardware"] = ", ".join(f"{name} {describe()}" for name, describe in self.app.parts.items())
        out["last sync"], out["sync"] = self._sync_summary()
        return out

    def _sync_summary(self) -> tuple[str, str]:
        if self.sync is None:
            return "unknown (no sync worker)", "not running" + ("" if self.cfg["server"]["url"] else
                                                               " (server.url is empty)")
        st = self.sync.state()
        detail = f"LED {st.get('led')}, pending {st.get('pending')}, parked {st.get('parked')}"
        if st.get("deadline_at_risk"):
            detail += ", a same-day forward is at risk"
        if st.get("last_error"):
            detail += f", last error: {redact(str(st['last_error']))[:80]}"
        return str(st.get("last_ok") or "never"), detail

    def in_call(self) -> bool:
        return self.unit.call is not None

    # -- LCD
    def lcd_rows(self) -> list[str]:
        if self.sim is not None:
            return list(self.sim.lcd_rows())
        return list(self.app.screen.text)

    def lcd_test_pattern(self) -> list[str]:
        cols, rows = self.app.screen.cols, self.app.screen.rows
        pattern = ["0123456789ABCDEFGHIJ", "АБВГДЕЖЗИЙКЛМНОПРСТУ", "Єє Її Ґґ abcxyz <>!?", "#" * cols]
        if rows == 2:
            pattern = [pattern[0], pattern[1]]
        return [p[:cols] for p in pattern[:rows]]

    def lcd_show(self, rows: list[str]) -> None:
        self.app.screen.show(rows)

    def lcd_restore(self) -> None:
        self.unit.refresh()

    # -- LEDs
    def led_states(self) -> dict[str, str]:
        return {name: str(state) for name, state in self.unit.leds.states.items()}

    def led_set(self, name: str, colour: str) -> None:
        self.app.hw_leds[name].set_rgb(COLOURS[colour])

    def led_restore(self) -> None:
        for name, state in self.unit.leds.states.items():
            self.app.hw_leds[name].set_rgb(COLOURS[state.colour])

    # -- inputs
    def watch_inputs(self, on_event: Callable[[str], None]) -> Callable[[], None]:
        """Report key and hook events; keys do not reach the unit meanwhile (the hook still does:
        a call that starts during a key test must still be greeted)."""
        loop = self.loop
        original = loop.handler
        t0 = self.clock.monotonic()

        def handler(event: Any) -> None:
            stamp = f"{self.clock.monotonic() - t0:7.2f}s"
            if isinstance(event, KeyDown):
                on_event(f"{stamp} key {event.key} down")
                return
            if isinstance(event, KeyUp):
                on_event(f"{stamp} key {event.key} up (held {event.held_s:.2f} s)")
                return
            if isinstance(event, HookChanged):
                on_event(f"{stamp} hook {'OFF-hook (handset lifted)' if event.off_hook else 'ON-hook (hung up)'}")
            original(event)

        loop.handler = handler

        def stop() -> None:
            if loop.handler is handler:
                loop.handler = original

        return stop

    # -- audio
    def audio_begin(self) -> Callable[[], None]:
        """Judge the line for the meter even without a call; stop again afterwards unless a call began."""
        monitor = self.app.monitor
        started_idle = self.unit.call is None and not monitor.wanted
        if started_idle:
            monitor.set_active(True)

        def stop() -> None:
            if started_idle and self.unit.call is None:
                monitor.set_active(False)

        return stop

    def audio_report(self) -> dict[str, Any] | None:
        r = self.app.monitor.latest
        if r is None:
            return None
        return {k: getattr(r, k, None) for k in ("speech_dbfs", "noise_dbfs", "snr_db", "verdict", "score")}

    # -- selftest
    def selftest(self) -> list[Check]:
        return [
            Check("lcd", self._check_lcd),
            Check("leds", self._check_leds),
            Check("keys", self._check_keys),
            Check("audio", self._check_audio, blocking=self.sim is None),
            Check("storage", self._check_storage, blocking=True),
            Check("server", self._check_server, blocking=True),
        ]

    def _check_lcd(self) -> tuple[str, str]:
        if self.in_call():
            return "SKIP", "a call is on (the screen is left alone)"
        pattern = self.lcd_test_pattern()
        try:
            self.lcd_show(pattern)
            if self.sim is None:
                return "PASS", "test frame written without a bus error (lcd test to look at it)"
            got = self.sim.lcd_rows()
            if got[0].rstrip() != pattern[0].rstrip():
                return "FAIL", f"wrote {pattern[0]!r}, the controller holds {got[0]!r}"
            return "PASS", "test frame written and read back from the controller"
        except OSError as e:
            return "FAIL", f"I2C error: {e}"
        finally:
            self.lcd_restore()

    def _check_leds(self) -> tuple[str, str]:
        bad = []
        try:
            for name, led in self.app.hw_leds.items():
                for colour in ("red", "green", "blue", "off"):
                    led.set_rgb(COLOURS[colour])
                    if self.sim is not None:
                        got = self.sim.board.led_colour(name)
                    else:
                        got = {rgb: c for c, rgb in COLOURS.items()}.get(tuple(int(v) for v in led.device.value), "?")
                    if got != colour:
                        bad.append(f"{name} {colour}->{got}")
        finally:
            self.led_restore()
        if bad:
            return "FAIL", "pins read back wrong: " + ", ".join(bad)
        return "PASS", f"{len(self.app.hw_leds)} LEDs, every die driven and read back (led test to look)"

    def _check_keys(self) -> tuple[str, str]:
        panel = self.app.panel
        stuck = [k for k, b in panel.buttons.items() if b.is_active]
        stuck += [f"keypad column {i + 1}" for i, c in enumerate(panel.keypad.cols) if c.is_active]
        hook = "off-hook" if panel.off_hook() else "on-hook"
        if stuck:
            return "FAIL", "pressed at rest (stuck or shorted): " + ", ".join(stuck)
        return "PASS", f"{len(panel.buttons)} keys and keypad at rest, hook {hook} (keys for a live test)"

    def _check_audio(self) -> tuple[str, str]:
        if self.sim is not None:
            return "PASS", f"simulated line (mode {self.sim.line.mode})"
        from hal.audio import describe_device

        audio = self.cfg["audio"]
        name = describe_device(audio["backend"], audio["device"] or None)
        return "PASS", f"input device {name!r} ({audio['backend']}, {audio['sample_rate']} Hz)"

    def _check_storage(self) -> tuple[str, str]:
        state_dir = Path(self.app.state_dir)
        probe = state_dir / f".selftest-{os.getpid()}"
        try:
            with open(probe, "wb") as fh:
                fh.write(b"deskunit selftest\n")
                fh.flush()
                os.fsync(fh.fileno())
            probe.unlink()
            usage = os.statvfs(state_dir)
            free_mb = usage.f_bavail * usage.f_frsize // (1024 * 1024)
        except OSError as e:
            return "FAIL", f"{state_dir}: {e.strerror or e}"
        records = self.app.journal.count()
        return "PASS", f"{state_dir} writable, {free_mb} MB free, journal holds {records} records"

    def _check_server(self) -> tuple[str, str]:
        server = self.cfg["server"]
        if not server["url"]:
            return "SKIP", "server.url is empty (no central server configured)"
        parts = urlsplit(server["url"])
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        timeout = min(5.0, float(server["timeout_s"]))
        t0 = time.monotonic()
        try:
            with socket.create_connection((host, port), timeout=timeout) as sock:
                if parts.scheme == "https":
                    ctx = ssl.create_default_context(cafile=server["ca_file"] or None)
                    with ctx.wrap_socket(sock, server_hostname=host):
                        pass
        except ssl.SSLError as e:
            return "FAIL", f"{host}:{port} TLS: {e.reason or e}"
        except OSError as e:
            return "FAIL", f"{host}:{port}: {e.strerror or e}"
        what = "TLS handshake" if parts.scheme == "https" else "TCP connect"
        return "PASS", f"{host}:{port} {what} in {(time.monotonic() - t0) * 1000:.0f} ms"

    # -- queue and sync
    def queue(self) -> dict[str, str]:
        journal = self.app.journal
        waiting = journal.pending_count()
        out = {"records waiting": str(waiting)}
        oldest = journal.oldest_pending_saved_at()
        if oldest:
            try:
                saved = datetime.fromisoformat(oldest)
                age = (self.clock.now() - saved).total_seconds()
                out["oldest saved"] = f"{saved.isoformat(timespec='seconds')} ({_fmt_age(age)} ago)"
            except ValueError:
                out["oldest saved"] = oldest
            pending = journal.pending(limit=10_000)
            appeals = [r["appeal"] for r in pending if r.get("appeal")]
            out["with an appeal"] = str(len(appeals))
            out["to forward (same day)"] = str(sum(1 for a in appeals if a.get("forward_to")))
        out["last sync"], out["sync"] = self._sync_summary()
        return out

    def sync_now(self) -> str:
        """Blocking (run_blocking): push and pull now, wait for the answers."""
        sync = self.sync
        if sync is None:
            return "sync: no sync worker runs in this unit" + ("" if self.cfg["server"]["url"] else
                                                                " (server.url is empty)")
        sync.kick()
        sync.pull_now()
        finished = sync.wait_idle(float(self.cfg["server"]["timeout_s"]) * 2 + 5)
        st = sync.state()
        head = "sync: done" if finished else "sync: still working (answers come later)"
        error = f"; last error: {redact(str(st['last_error']))[:80]}" if st.get("last_error") else ""
        return f"{head}; pending {st.get('pending')}, last success {st.get('last_ok') or 'never'}{error}"

    # -- config
    def config_items(self) -> list[tuple[str, str]]:
        saved = self._saved_overrides()
        items = []
        for key in SCHEMA:
            value = lookup(self.cfg, key)
            shown = ("<set>" if value else "<not set>") if is_secret(key) else toml_value(value)
            table, name = key.split(".", 1)
            if name in saved.get(table, {}):
                shown += "   (set on the console)"
            items.append((key, shown))
        ops = self.cfg.get("operators") or []
        numbers = ", ".join(str(op.get("number")) for op in ops) or "none"
        with_pin = sum(1 for op in ops if op.get("pin_hash"))
        items.append(("operators", f"{len(ops)} ({numbers}); {with_pin} with a PIN; names not shown"))
        return items

    def _saved_overrides(self) -> dict[str, Any]:
        try:
            return read_overrides(self.app.state_dir)
        except (OSError, tomllib.TOMLDecodeError):
            return {}

    def config_check(self) -> list[str]:
        problems = []
        try:
            validate(self.cfg)
        except ConfigError as e:
            problems.append(f"running config: {e}")
        site = self.config_path or site_config_path()
        try:
            saved = read_overrides(self.app.state_dir)
        except (OSError, tomllib.TOMLDecodeError) as e:
            problems.append(f"{self.app.state_dir / OVERRIDES_FILE}: {e}")
            saved = {}
        try:
            load_config(site, overrides=saved)
        except ConfigError as e:
            problems.append(f"{site or 'defaults'} + console overrides: {e}")
        return problems or [f"config: OK (running config, {site or 'defaults'}, console overrides)"]

    def config_set(self, key: str, text: str) -> str:
        if key not in SCHEMA:
            close = difflib.get_close_matches(key, list(SCHEMA), n=1)
            hint = f" Did you mean {close[0]}?" if close else " config show lists the keys."
            raise CommandError(f"refused: unknown key {key[:60]!r}.{hint} Nothing changed.")
        value = parse_value(text)
        table, name = key.split(".", 1)
        candidate = merge(self.cfg, {table: {name: value}})
        validate(candidate)  # ConfigError: the console says why; nothing is touched
        saved = self._saved_overrides()
        saved.setdefault(table, {})[name] = value
        try:
            path = write_overrides(self.app.state_dir, saved)
        except OSError as e:
            reason = e.strerror or e
            raise CommandError(f"refused: cannot save to {self.app.state_dir}: {reason}. Nothing changed.") from None
        shown = ("<set>" if value else "<not set>") if is_secret(key) else toml_value(value)
        if key in LIVE_KEYS:
            self.unit.apply_config({table: {name: value}})
            return f"{key} = {shown}: applied now, saved in {path}"
        return f"{key} = {shown}: saved in {path}; takes effect after restart"

    # -- log
    def log_tail(self, n: int) -> list[str]:
        known = self._known()
        return [redact(line, known) for line in self.log_buffer.tail(n)]

    # -- clock
    def clock_status(self) -> dict[str, Any]:
        st = self.clock.status()
        return {"now": st.now, "trusted": st.trusted, "source": st.source}

    def set_time(self, when: datetime) -> None:
        self.clock.set_wall(when, "technician")
        log.warning("clock set by the technician console")
        self.unit.refresh()

    # -- restart
    def restart(self) -> None:
        log.warning("restart requested on the technician console")
        if self._restart is not None:
            self._restart()
        else:  # the daemon returns from run_forever; systemd (Restart=always) starts it again
            self.loop.stop()


# ---------------------------------------------------------------- wiring


@dataclass
class ConsoleService:
    """A console attached to a serial port; :meth:`close` detaches it (App.close does so too)."""

    console: Console
    backend: ConsoleBackend
    port: SerialPort

    def close(self) -> None:
        self.port.close()
        logging.getLogger().removeHandler(self.backend.log_buffer)


def attach_console(app: App, port_path: str | None = None, *, sim: Any = None, sync: Any = None,
                   restart: Callable[[], None] | None = None, baudrate: int | None = None,
                   config_path: Path | None = None) -> ConsoleService:
    """Serve the technician console on ``port_path`` (default ``console.port``) for ``app``.

    Bytes from the port's reader thread are posted to the loop; the console runs on the loop's
    thread only. Raises what pyserial raises when the port cannot be opened.
    """
    cfg = app.cfg["console"]
    backend = ConsoleBackend(app, sim=sim, sync=sync, restart=restart, config_path=config_path)
    holder: dict[str, Console] = {}
    port = SerialPort(port_path or cfg["port"], int(baudrate or cfg["baudrate"]),
                      on_bytes=lambda data: app.loop.call_soon(holder["console"].feed, data))
    console = Console(backend, app.clock, write=port.write, call_later=app.loop.call_later,
                      run_blocking=backend.run_blocking)
    holder["console"] = console
    logging.getLogger().addHandler(backend.log_buffer)
    try:
        port.open()
    except Exception:
        logging.getLogger().removeHandler(backend.log_buffer)
        raise
    service = ConsoleService(console, backend, port)
    app.closers.append(service.close)
    app.loop.call_soon(console.start)
    return service
