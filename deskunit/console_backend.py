"""The serial console's access to a running unit, and its wiring to a serial port.

:class:`ConsoleBackend` implements :class:`firmware.console.Backend` over a :class:`hal.assembly.App`.
What differs between a Pi and the simulator (reading the LCD and LEDs back, the audio device) comes
from a :class:`deskunit.console_hardware.HardwareProbe`; ``config`` is :mod:`deskunit.console_config`.
Every method runs on the event loop's thread; slow work (PIN hashing, the network, fsync) runs on
:meth:`ConsoleBackend.run_blocking`'s worker threads and answers through ``loop.call_soon``.

    >>> service = attach_console(app, "/dev/serial0")      # in run_hardware, after App.build
    >>> service = attach_console(sim.app, cable.unit_path, probe=SimProbe(sim))   # deskunit run --sim

Personal data: the log tail is redacted when captured and again when shown
(:func:`deskunit.logsetup.redact`); ``config show`` hides secrets and operators' names; ``queue``
shows counts only.
"""

from __future__ import annotations

import collections
import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from deskunit.console_config import ConfigEditor
from deskunit.console_hardware import HardwareProbe, RealProbe, Selftest, show_unit_leds
from deskunit.logsetup import redact
from firmware.console import Console, ConsoleSettings, SelftestCheck, ViewTimings
from firmware.events import HookChanged, KeyDown, KeyUp
from firmware.journal import PERSONAL_FIELDS
from firmware.leds import COLOURS
from firmware.pin_hash import verify_pin
from firmware.sync import ServerSettings
from firmware.timefmt import mmss
from firmware.version import package_version
from firmware.vocabulary import ClockSource
from hal.assembly import App
from hal.serialport import Inbox, SerialPort

log = logging.getLogger(__name__)

AUDIT_FILE = "console-audit.log"
#: Logins, wrong and cancelled PINs, lockouts, logouts, restarts: apart, so junk cannot push them out.
SECURITY_FILE = "console-security.log"
#: The wrong-PIN count and the lock, kept across restarts.
LOGIN_STATE_FILE = "console-login.json"
AUDIT_MAX_BYTES = 512 * 1024
#: Input bytes waiting for the loop at most (a UART overruns beyond its buffer too), and taken per turn.
INBOX_BYTES = 4096
FEED_SLICE = 256

# ---------------------------------------------------------------- the log, redacted


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


# ---------------------------------------------------------------- the backend


def _fmt_age(seconds: float) -> str:
    s = int(max(0, seconds))
    if s < 120:
        return f"{s} s"
    if s < 7200:
        return f"{s // 60} min"
    return f"{s // 3600} h {s % 3600 // 60} min"


class Workers:
    """A few daemon threads, started on first use, running submitted functions in order.

    Two, so a check the technician gave up on (Ctrl-C while ``sync now`` waits for the server) does
    not hold up the next login; daemon threads, so a hung network check never delays the daemon's exit.
    """

    def __init__(self, name: str, count: int = 2) -> None:
        self._name = name
        self._count = count
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def submit(self, fn: Callable[[], None]) -> None:
        with self._lock:
            if not self._threads:
                for i in range(self._count):
                    thread = threading.Thread(target=self._run, name=f"{self._name}-{i}", daemon=True)
                    thread.start()
                    self._threads.append(thread)
        self._jobs.put(fn)

    def close(self) -> None:
        with self._lock:
            for _ in self._threads:
                self._jobs.put(None)

    def _run(self) -> None:
        while (fn := self._jobs.get()) is not None:
            fn()


def roster_names(cfg: dict[str, Any]) -> list[str]:
    """The operators' names in the roster, whole and word by word: hidden in every log line shown."""
    names = [str(op.get("name", "")) for op in cfg.get("operators") or []]
    return names + [part for n in names for part in n.split()]


def personal_now(unit: Any) -> list[str]:
    """The signed-in operator's name and the open appeal's personal fields, to hide as well."""
    known: list[str] = []
    if unit.operator is not None:
        known += [unit.operator.name, *unit.operator.name.split()]
    call = unit.call
    if call is not None and call.appeal:
        known += [str(v) for k, v in call.appeal.items() if k in PERSONAL_FIELDS and v]
    return known


class AuditLog:
    """The console's audit trail: command lines in ``<state_dir>/console-audit.log`` and the security
    events (logins, wrong and cancelled PINs, lockouts, logouts, restarts) in
    ``console-security.log``; never a PIN; stamped with the unit's clock; each rotated past 512 KiB."""

    def __init__(self, path: Path, clock: Any, security_path: Path | None = None) -> None:
        self.path = path
        self.security_path = security_path or path.with_name(SECURITY_FILE)
        self.clock = clock
        self._lock = threading.Lock()  # the console's worker threads audit too

    def write(self, text: str, authenticated: bool, security: bool = False) -> None:
        status = self.clock.status()
        stamp = status.now.isoformat(timespec="seconds") + ("" if status.trusted else "?")
        line = f"{stamp} {'tech' if authenticated else 'anon'} {text}\n"
        path = self.security_path if security else self.path
        with self._lock:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                if path.exists() and path.stat().st_size > AUDIT_MAX_BYTES:
                    os.replace(path, path.with_suffix(".log.1"))
                with open(path, "a", encoding="utf-8") as fh:
                    fh.write(line)
            except OSError as e:
                log.warning("console audit not written: %s", e)


class ConsoleBackend:
    """The console's view of the unit; see the module docstring. Loop thread only (except
    :meth:`run_blocking` and the functions it runs).

    Larger than 25 methods on purpose: it implements the whole :class:`firmware.console.Backend`
    protocol (each method a few lines over the app); the work behind ``config``, ``selftest``
    and the hardware read-back lives in :mod:`deskunit.console_config` and
    :mod:`deskunit.console_hardware`.
    """

    def __init__(self, app: App, *, probe: HardwareProbe | None = None, restart: Callable[[], None] | None = None,
                 config_path: Path | None = None, log_buffer: RedactedLogBuffer | None = None) -> None:
        self.app = app
        self.unit = app.unit
        self.loop = app.loop
        self.clock = app.clock
        self.probe = probe or RealProbe(app)
        self._restart = restart
        self.config_path = config_path
        self.started = app.clock.monotonic()
        self.log_buffer = log_buffer or RedactedLogBuffer(known=lambda: roster_names(self.cfg))
        self.audit_log = AuditLog(Path(app.state_dir) / AUDIT_FILE, app.clock)
        self._workers = Workers("deskunit-console-work")
        self._settings: tuple[dict[str, Any], ConsoleSettings] | None = None
        self.config = ConfigEditor(app.unit, app.state_dir, config_path)
        self._selftest = Selftest(app, self.probe, self.lcd_test_pattern)

    @property
    def cfg(self) -> dict[str, Any]:
        """The unit's running config (a pushed config replaces the unit's dict, so never cache it)."""
        return self.unit.cfg

    @property
    def sync(self) -> Any:
        """The app's sync worker (firmware.sync.SyncWorker), or None when the unit does not sync."""
        return self.app.sync

    def settings(self) -> ConsoleSettings:
        """The ``[console]`` settings of the running config (``config set`` may change the PIN and
        the idle logout at once: built again only when the config changed)."""
        cfg = self.cfg
        if self._settings is None or self._settings[0] is not cfg:
            self._settings = (cfg, ConsoleSettings.from_config(cfg))
        return self._settings[1]

    def server(self) -> ServerSettings:
        """The ``[server]`` settings of the running config."""
        return ServerSettings.from_config(self.cfg)

    # -- threads
    def run_blocking(self, fn: Callable[[], Any], done: Callable[[Any], None]) -> None:
        """Run ``fn`` off the loop; ``done(result or exception)`` then runs on the loop's thread."""

        def work() -> None:
            try:
                result = fn()
            except Exception as e:
                result = e
            self.loop.call_soon(done, result)

        self._workers.submit(work)

    def close(self) -> None:
        """Stop the workers once they finish what they run; queued work is dropped."""
        self._workers.close()

    # -- login and audit
    def verify_pin(self, pin: str) -> bool:
        stored = self.settings().pin_hash
        return bool(stored) and verify_pin(pin, stored)

    def audit(self, text: str, authenticated: bool, security: bool = False) -> None:
        self.audit_log.write(text, authenticated, security)
        if security:
            log.info("console: %s", text)  # what was typed is never in it: the events only

    def login_state(self) -> dict[str, Any] | None:
        path = Path(self.app.state_dir) / LOGIN_STATE_FILE
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None

    def save_login_state(self, state: dict[str, Any]) -> None:
        """Written atomically (a power cut leaves the old count or the new one)."""
        path = Path(self.app.state_dir) / LOGIN_STATE_FILE
        tmp = path.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps(state), encoding="utf-8")
            os.replace(tmp, path)
        except OSError as e:
            log.warning("console login state not saved: %s", e)

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
        out["journal"] = self.app.journal.status()
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
            return "unknown (no sync worker)", "not running" + ("" if self.server().url else
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
        return self.probe.lcd_rows()

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
        leds = self.unit.leds
        return {name: str(leds.shown(name)) for name in leds.states}

    def led_set(self, name: str, colour: str) -> None:
        self.app.hw_leds[name].set_rgb(COLOURS[colour])

    def led_restore(self) -> None:
        show_unit_leds(self.app)

    # -- inputs
    def watch_inputs(self, on_event: Callable[[str], None]) -> Callable[[], None]:
        """Report key and hook events; keys do not reach the unit meanwhile (the hook still does:
        a call that starts during a key test must still be greeted). Returns the function ending it."""
        t0 = self.clock.monotonic()

        def watch(event: Any) -> bool:
            stamp = f"{self.clock.monotonic() - t0:7.2f}s"
            if isinstance(event, KeyDown):
                on_event(f"{stamp} key {event.key} down")
                return True
            if isinstance(event, KeyUp):
                on_event(f"{stamp} key {event.key} up (held {event.held_s:.2f} s)")
                return True
            if isinstance(event, HookChanged):
                on_event(f"{stamp} hook {'OFF-hook (handset lifted)' if event.off_hook else 'ON-hook (hung up)'}")
            return False

        return self.loop.add_filter(watch)

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
    def selftest(self) -> list[SelftestCheck]:
        return self._selftest.checks()

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
        parked = self.sync.parked() if self.sync is not None else []
        if parked:
            out["parked (not sent)"] = f"{len(parked)}; `sync resend` sends them again"
            for rid, why in parked[:10]:
                out[f"  {rid}"] = why
        return out

    def resend_parked(self) -> str:
        sync = self.sync
        if sync is None:
            return "sync: no sync worker runs in this unit"
        n = sync.unpark()
        log.warning("parked records sent again from the technician console (%d)", n)
        return f"sync: {n} parked record(s) queued to be sent again" if n else "sync: no record is parked"

    def sync_now(self) -> str:
        """Blocking (run_blocking): push and pull now, wait for the answers."""
        sync = self.sync
        if sync is None:
            return "sync: no sync worker runs in this unit" + ("" if self.server().url else
                                                                " (server.url is empty)")
        sync.kick()
        sync.pull_now()
        finished = sync.wait_idle(self.server().timeout_s * 2 + 5)
        st = sync.state()
        head = "sync: done" if finished else "sync: still working (answers come later)"
        error = f"; last error: {redact(str(st['last_error']))[:80]}" if st.get("last_error") else ""
        return f"{head}; pending {st.get('pending')}, last success {st.get('last_ok') or 'never'}{error}"

    # -- config
    def config_items(self) -> list[tuple[str, str]]:
        return self.config.items()

    def config_check(self) -> list[str]:
        return self.config.check()

    def config_set(self, key: str, text: str) -> str:
        return self.config.set(key, text)

    # -- log
    def log_tail(self, n: int) -> list[str]:
        known = roster_names(self.cfg) + personal_now(self.unit)
        return [redact(line, known) for line in self.log_buffer.tail(n)]

    # -- clock
    def clock_status(self) -> dict[str, Any]:
        st = self.clock.status()
        return {"now": st.now, "trusted": st.trusted, "source": st.source}

    def set_time(self, when: datetime) -> None:
        self.clock.set_wall(when, ClockSource.TECHNICIAN)
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
    inbox: Inbox

    def close(self) -> None:
        self.port.close()
        self.console.close()
        self.backend.close()
        logging.getLogger().removeHandler(self.backend.log_buffer)


def attach_console(app: App, port_path: str | None = None, *, probe: HardwareProbe | None = None,
                   restart: Callable[[], None] | None = None, baudrate: int | None = None,
                   config_path: Path | None = None, timings: ViewTimings | None = None) -> ConsoleService:
    """Serve the technician console on ``port_path`` (default ``console.port``) for ``app``.

    The console runs on the loop's thread only and never waits for the line: bytes from the port's
    reader thread wait in a bounded :class:`~hal.serialport.Inbox` and reach the console
    :data:`FEED_SLICE` at a time, one loop event per slice (a flood shares the loop with the hook
    and the keys); output is queued to the port's writer thread, which drops what the line cannot
    carry. Raises what pyserial raises when the port cannot be opened.
    """
    settings = ConsoleSettings.from_config(app.cfg)
    backend = ConsoleBackend(app, probe=probe, restart=restart, config_path=config_path)
    console = Console(backend, app.clock, write=lambda data: port.write(data), call_later=app.loop.call_later,
                      run_blocking=backend.run_blocking, timings=timings)

    def drain() -> None:
        data, more = inbox.take(FEED_SLICE)
        if more:
            app.loop.call_soon(drain)  # behind whatever else is queued: the loop stays fair
        if data:
            console.feed(data)

    inbox = Inbox(wake=lambda: app.loop.call_soon(drain), limit=INBOX_BYTES)
    port = SerialPort(port_path or settings.port, int(baudrate or settings.baudrate), on_bytes=inbox.put)
    logging.getLogger().addHandler(backend.log_buffer)
    try:
        port.open()
    except Exception:
        logging.getLogger().removeHandler(backend.log_buffer)
        raise
    service = ConsoleService(console, backend, port, inbox)
    app.closers.append(service.close)
    app.loop.call_soon(console.start)
    return service
