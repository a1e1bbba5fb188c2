"""The technician's serial console as pure logic: bytes in, bytes out, on the loop's thread.

:class:`Console` edits a line (echo, backspace/DEL, Ctrl-U, Ctrl-C, CR/LF/CRLF, escape sequences
such as arrow keys ignored, a length limit), runs commands through a :class:`Backend` and writes
its answers through ``write``. Live views (the audio meter, the key test) and the LCD/LED tests
run on timers from ``call_later``, i.e. on the unit's clock, so a virtual clock drives them in
tests exactly as the real clock does on a Pi.

Threading: every method runs on the event loop's thread. The serial reader thread only posts
``loop.call_soon(console.feed, data)``; slow work (PBKDF2, network) goes through ``run_blocking``,
whose ``done`` callback must come back on the loop's thread.

    >>> out = []
    >>> console = Console(backend, clock, write=out.append, call_later=loop.call_later)
    >>> console.feed(b"help\\r")
    >>> b"login" in b"".join(out)
    True

Security: before ``login`` only help, login and a non-personal part of status run;
:data:`MAX_FAILURES` wrong PINs lock logins for :data:`LOCK_S` seconds of the unit's clock; an idle
session logs out; every command line is audited without the PIN (see :meth:`Console.audit_text`).
A command that raises prints a one-line error and the prompt: the console never stops the unit.
"""

from __future__ import annotations

import codecs
import difflib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from firmware.clock import Clock
from firmware.config import ConfigError

log = logging.getLogger(__name__)

PROMPT = "deskunit> "
PROMPT_AUTH = "deskunit# "
PIN_PROMPT = "PIN: "
CONFIRM_PROMPT = "Restart the unit now? Type yes to confirm: "
MAX_LINE = 256
MAX_FAILURES = 5
LOCK_S = 300.0
METER_PERIOD_S = 0.25
LCD_TEST_S = 2.0
LED_STEP_S = 0.3
LED_TEST_COLOURS = ("red", "green", "blue", "amber")
#: What ``status`` shows before login: nothing about operators, callers or the line.
PUBLIC_STATUS = ("version", "uptime", "clock", "call", "leds", "records waiting", "hardware", "console")
#: Keys whose values never leave the unit.
SECRET_KEYS = ("server.token", "console.pin_hash")
NO_PIN_HELP = ("no technician PIN is set, so the console stays locked.\n"
               "To set one: run `deskunit console hash-pin` on the unit (or any PC with deskunit),\n"
               "put the printed value in console.pin_hash of /etc/deskunit/deskunit.toml, restart.")

Write = Callable[[bytes], None]
Done = Callable[[Any], None]


def is_secret(key: str) -> bool:
    return key in SECRET_KEYS or key.endswith(("pin_hash", "token"))


class CommandError(Exception):
    """A command cannot do what was asked; the message is shown to the technician as is."""


class Backend(Protocol):
    """What the console needs of the unit (see ``deskunit.console_backend``); loop thread only.

    Blocking calls (``verify_pin``, checks marked blocking, ``sync_now``) are run via
    ``run_blocking``; everything else must return at once.
    """

    def pin_hash(self) -> str: ...
    def verify_pin(self, pin: str) -> bool: ...
    def idle_logout_s(self) -> float: ...
    def audit(self, text: str, authenticated: bool) -> None: ...
    def status(self) -> dict[str, str]: ...
    def in_call(self) -> bool: ...
    def lcd_rows(self) -> list[str]: ...
    def lcd_test_pattern(self) -> list[str]: ...
    def lcd_show(self, rows: list[str]) -> None: ...
    def lcd_restore(self) -> None: ...
    def led_states(self) -> dict[str, str]: ...
    def led_set(self, name: str, colour: str) -> None: ...
    def led_restore(self) -> None: ...
    def watch_inputs(self, on_event: Callable[[str], None]) -> Callable[[], None]: ...
    def audio_begin(self) -> Callable[[], None]: ...
    def audio_report(self) -> dict[str, Any] | None: ...
    def selftest(self) -> list[Check]: ...
    def queue(self) -> dict[str, str]: ...
    def sync_now(self) -> str: ...
    def config_items(self) -> list[tuple[str, str]]: ...
    def config_check(self) -> list[str]: ...
    def config_set(self, key: str, value: str) -> str: ...
    def log_tail(self, n: int) -> list[str]: ...
    def clock_status(self) -> dict[str, Any]: ...
    def set_time(self, when: datetime) -> None: ...
    def restart(self) -> None: ...


@dataclass(frozen=True)
class Check:
    """One selftest item: ``fn`` returns (status, reason) with status PASS, FAIL or SKIP."""

    name: str
    fn: Callable[[], tuple[str, str]]
    blocking: bool = False


@dataclass
class _Command:
    name: str
    usage: str
    summary: str
    fn: Callable[[list[str], str], None]
    public: bool = False
    audit_args: bool = True


@dataclass
class _View:
    """A live view or a timed test owning the screen until it ends."""

    name: str
    on_key: Callable[[str], bool]  # True: the key ends the view
    on_stop: Callable[[], None] = lambda: None
    timers: list[Any] = field(default_factory=list)


def _run_now(fn: Callable[[], Any], done: Done) -> None:
    try:
        result = fn()
    except Exception as e:
        result = e
    done(result)


def _mmss(seconds: float) -> str:
    s = max(0, int(seconds + 0.999))
    return f"{s // 60}:{s % 60:02d}"


class Console:
    """One console session on one serial line; see the module docstring."""

    def __init__(self, backend: Backend, clock: Clock, write: Write, call_later: Callable[[float, Callable], Any],
                 run_blocking: Callable[[Callable[[], Any], Done], None] | None = None) -> None:
        self.backend = backend
        self.clock = clock
        self._write = write
        self._call_later = call_later
        self._run_blocking = run_blocking or _run_now
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._out: list[str] = []
        self.buf = ""
        self.mode = "line"  # line | pin | confirm | view | busy
        self._cr = False
        self._esc = ""  # "", "esc", "csi", "ss3"
        self._esc_len = 0
        self._overflow = False
        self._view: _View | None = None
        self._busy_token = 0
        self.authenticated = False
        self.failures = 0
        self.locked_until: float | None = None
        self._last_input = clock.monotonic()
        self._idle_timer: Any = None
        self._dispatching = False  # inside _end_line, which prompts once at its end
        self.commands: dict[str, _Command] = {}
        self._register()

    # ------------------------------------------------------------ plumbing
    def _emit(self, text: str) -> None:
        self._out.append(text)

    def say(self, text: str = "") -> None:
        """Queue ``text`` plus a line end (``\\n`` becomes CRLF for a raw serial terminal)."""
        self._emit(text.replace("\r\n", "\n").replace("\n", "\r\n") + "\r\n")

    def flush(self) -> None:
        if self._out:
            data = "".join(self._out).encode("utf-8", "replace")
            self._out.clear()
            try:
                self._write(data)
            except Exception:
                log.exception("console write failed")

    @property
    def prompt_text(self) -> str:
        return {"pin": PIN_PROMPT, "confirm": CONFIRM_PROMPT}.get(
            self.mode, PROMPT_AUTH if self.authenticated else PROMPT)

    def prompt(self) -> None:
        if self.mode in ("view", "busy"):
            return
        self._emit(self.prompt_text)

    def _finish(self) -> None:
        """Prompt after work that may end inside or after the line that started it."""
        if not self._dispatching:
            self.prompt()

    def _guard(self, fn: Callable[..., None], *args: Any) -> None:
        """Run a callback (input, timer, reply); whatever it raises, end at a prompt."""
        try:
            fn(*args)
        except Exception as e:
            log.exception("console failed")
            self._recover(e)
        self.flush()

    def _recover(self, e: BaseException) -> None:
        try:
            self._end_view(quiet=True)
        except Exception:
            log.exception("console view cleanup failed")
            self._view = None
        self.mode, self.buf, self._overflow, self._esc = "line", "", False, ""
        self.say(f"\nerror: {type(e).__name__}: {str(e)[:120]}")
        self.prompt()

    def start(self) -> None:
        """Greet whoever is on the line (output is simply lost when no one is)."""
        self._guard(self._banner)

    def _banner(self) -> None:
        self.say("\ndeskunit technician console. Type help.")
        if not self.backend.pin_hash():
            self.say(NO_PIN_HELP)
        self.prompt()

    # ------------------------------------------------------------ input
    def feed(self, data: bytes) -> None:
        """Bytes from the serial line (on the loop's thread)."""
        self._guard(self._feed, data)

    def _feed(self, data: bytes) -> None:
        self._last_input = self.clock.monotonic()
        for ch in self._decoder.decode(data):
            self._char(ch)

    def _char(self, ch: str) -> None:
        if ch == "\x03":
            self._esc = ""
        if self._esc:
            self._escape(ch)
            if self.mode != "view":
                return
        if self.mode == "view":
            assert self._view is not None
            if ch == "\x1b":
                self._esc, self._esc_len = "esc", 0
            if self._view.on_key(ch):
                self._end_view()
            return
        if ch == "\x03":
            self._cancel()
            return
        if ch == "\x1b":
            self._esc, self._esc_len = "esc", 0
            return
        if self.mode == "busy":
            return
        if ch == "\n" and self._cr:
            self._cr = False
            return
        self._cr = ch == "\r"
        if ch in "\r\n":
            self._end_line()
        elif ch in "\x7f\x08":
            if self.buf and not self._overflow:
                self.buf = self.buf[:-1]
                if self.mode != "pin":
                    self._emit("\b \b")
        elif ch == "\x15":
            self.buf, self._overflow = "", False
            self._emit("\r\x1b[K")
            self.prompt()
        elif ch.isprintable() and ch != "\ufffd":
            if self._overflow:
                return
            if len(self.buf) >= MAX_LINE:
                self._overflow, self.buf = True, ""
                self.say(f"\nline too long (at most {MAX_LINE} characters): discarded up to the next Enter")
                return
            self.buf += ch
            if self.mode != "pin":
                self._emit(ch)
        # other control characters (tab, Ctrl-D, ...) and undecodable bytes are ignored

    def _escape(self, ch: str) -> None:
        """Swallow ESC sequences: CSI (ESC [ ... final), SS3 (ESC O x), or ESC + one character."""
        self._esc_len += 1
        if self._esc == "esc":
            self._esc = {"[": "csi", "O": "ss3"}.get(ch, "")
        elif self._esc == "ss3" or not "\x20" <= ch <= "\x3f" or self._esc_len > 32:
            self._esc = ""  # SS3's one character, or CSI's final byte (or a runaway sequence)

    def _cancel(self) -> None:
        if self.mode == "busy":
            self._busy_token += 1
            self.mode = "line"
            self.say("^C (the check goes on in the background; its answer is dropped)")
        else:
            self.say("^C")
            self.mode = "line"
        self.buf, self._overflow = "", False
        self.prompt()

    def _end_line(self) -> None:
        self.say()
        line, overflow = self.buf, self._overflow
        self.buf, self._overflow = "", False
        if overflow:
            self.prompt()
            return
        mode = self.mode
        self._dispatching = True
        try:
            if mode == "pin":
                self._check_pin(line)
            elif mode == "confirm":
                self.mode = "line"
                self._confirm_restart(line)
            else:
                self.run_line(line)
        finally:
            self._dispatching = False
        self.prompt()

    # ------------------------------------------------------------ commands
    def run_line(self, line: str) -> None:
        """Run one command line (the prompt is the caller's business)."""
        words = line.split()
        if not words:
            return
        name = words[0].lower()
        cmd = self.commands.get(name)
        self.audit(self.audit_text(words))
        if cmd is None:
            self._unknown(words[0])
            return
        if not cmd.public and not self.authenticated:
            self.say(f"{name}: log in first (login, then the technician PIN). Before login: help, login, status.")
            return
        self._touch_idle()
        try:
            cmd.fn(words[1:], line.strip()[len(words[0]):].strip())
        except CommandError as e:
            self.say(str(e))
        except ConfigError as e:
            self.say(f"refused: {e.key}: {e.reason}. Nothing changed.")
        except Exception as e:
            log.exception("console command %s failed", name)
            self._end_view(quiet=True)
            self.mode = "line"
            self.say(f"{name}: failed: {type(e).__name__}: {str(e)[:120]}")

    def audit_text(self, words: Sequence[str]) -> str:
        """The command as the audit log keeps it: never a PIN, a secret or a stray word of digits."""
        name = words[0].lower()
        cmd = self.commands.get(name)
        if cmd is None:
            # A PIN typed at the wrong moment must not land in the audit log; a typo of letters may.
            first = words[0]
            return f"unknown {first[:32]!r}" if first.isalpha() else f"unknown ({len(' '.join(words))} chars)"
        if not cmd.audit_args or len(words) == 1:
            return name if len(words) == 1 else f"{name} (+{len(words) - 1} words)"
        if name == "config" and len(words) >= 3 and words[1].lower() == "set" and is_secret(words[2]):
            return f"config set {words[2]} <redacted>"
        return " ".join([name, *words[1:]])[:160]

    def audit(self, text: str) -> None:
        try:
            self.backend.audit(text, self.authenticated)
        except Exception:
            log.exception("console audit failed")

    def _unknown(self, word: str) -> None:
        shown = word[:32]
        close = difflib.get_close_matches(word.lower(), list(self.commands), n=1, cutoff=0.6)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        self.say(f"unknown command '{shown}'.{hint}")
        self._help([], "")

    def _register(self) -> None:
        def add(name: str, usage: str, summary: str, fn: Callable[[list[str], str], None], public: bool = False,
                audit_args: bool = True) -> None:
            self.commands[name] = _Command(name, usage, summary, fn, public, audit_args)

        add("help", "help [COMMAND]", "this list, or one command's use", self._help, public=True)
        add("login", "login", "log in with the technician PIN (asked for, not shown)", self._login, public=True,
            audit_args=False)
        add("logout", "logout", "end the session", self._logout, public=True, audit_args=False)
        add("status", "status", "version, uptime, operator, call, line, LEDs, clock, queue, sync",
            self._status, public=True, audit_args=False)
        add("audio", "audio", "live line meter with the verdict (any key stops)", self._audio, audit_args=False)
        add("lcd", "lcd | lcd test", "what the LCD shows now | a test pattern, then the unit's screen", self._lcd)
        add("led", "led | led test", "LED states | each LED through its colours, then back", self._led)
        add("keys", "keys", "live key and hook test (Ctrl-C stops)", self._keys, audit_args=False)
        add("selftest", "selftest", "LCD, LEDs, keys, audio device, storage, server: PASS/FAIL", self._selftest,
            audit_args=False)
        add("queue", "queue", "records waiting to sync (counts only)", self._queue, audit_args=False)
        add("sync", "sync now", "push waiting records and fetch config/time now", self._sync)
        add("config", "config show | config check | config set KEY VALUE",
            "configuration (secrets hidden); set validates, applies and saves", self._config)
        add("log", "log [N]", "the last N lines of the unit's log (personal data hidden)", self._log)
        add("time", "time | time set 2026-11-23T09:15:00+02:00 [--force]",
            "clock status | set the clock (only when untrusted, or --force)", self._time)
        add("restart", "restart", "restart the unit (asks first)", self._restart, audit_args=False)

    def _help(self, args: list[str], _raw: str) -> None:
        if args and args[0].lower() in self.commands:
            cmd = self.commands[args[0].lower()]
            self.say(f"{cmd.usage}\n  {cmd.summary}" + ("" if cmd.public else "\n  (after login)"))
            return
        lines = ["commands (* after login):"]
        for cmd in self.commands.values():
            mark = " " if cmd.public else "*"
            if len(cmd.usage) > 30:
                lines.append(f" {mark} {cmd.usage}\n{'':<34}{cmd.summary}")
            else:
                lines.append(f" {mark} {cmd.usage:<30} {cmd.summary}")
        lines.append("Line editing: Backspace, Ctrl-U clears the line, Ctrl-C cancels.")
        self.say("\n".join(lines))

    # ------------------------------------------------------------ login
    def _touch_idle(self) -> None:
        if self.authenticated and self._idle_timer is None:
            self._idle_timer = self._call_later(self.backend.idle_logout_s(), lambda: self._guard(self._idle_check))

    def _idle_check(self) -> None:
        self._idle_timer = None
        if not self.authenticated:
            return
        limit = self.backend.idle_logout_s()
        idle = self.clock.monotonic() - self._last_input
        if idle + 1e-6 < limit:
            self._idle_timer = self._call_later(limit - idle, lambda: self._guard(self._idle_check))
            return
        self._end_view(quiet=True)
        self._busy_token += 1
        self.mode, self.buf = "line", ""
        self.authenticated = False
        self.audit("idle logout")
        self.say(f"\nidle for {int(limit)} s: logged out.")
        self.prompt()

    def locked_for(self) -> float:
        if self.locked_until is None:
            return 0.0
        left = self.locked_until - self.clock.monotonic()
        if left <= 0:
            self.locked_until = None
            return 0.0
        return left

    def _login(self, _args: list[str], _raw: str) -> None:
        if not self.backend.pin_hash():
            raise CommandError(NO_PIN_HELP)
        left = self.locked_for()
        if left:
            raise CommandError(f"login locked after {MAX_FAILURES} wrong PINs: try again in {_mmss(left)}.")
        if self.authenticated:
            raise CommandError("already logged in.")
        self.mode = "pin"

    def _check_pin(self, pin: str) -> None:
        self.mode = "busy"
        self._busy_token += 1
        token = self._busy_token
        pin_hash = self.backend.pin_hash()

        def done(ok: Any) -> None:
            if token != self._busy_token:
                return
            self.mode = "line"
            self._login_result(ok is True)
            self._finish()

        self._run_blocking(lambda: bool(pin) and self.backend.verify_pin(pin) and bool(pin_hash),
                           lambda ok: self._guard(done, ok))

    def _login_result(self, ok: bool) -> None:
        if self.locked_for():  # locked while the PIN was being checked
            ok = False
        if ok:
            self.authenticated, self.failures = True, 0
            self._last_input = self.clock.monotonic()
            self.audit("login ok")
            self.say("logged in.")
            self._touch_idle()
            return
        self.failures += 1
        self.audit(f"login failed ({self.failures} of {MAX_FAILURES})")
        if self.failures >= MAX_FAILURES:
            self.failures = 0
            self.locked_until = self.clock.monotonic() + LOCK_S
            self.audit("login locked")
            self.say(f"wrong PIN. {MAX_FAILURES} wrong PINs: login is locked for {int(LOCK_S // 60)} minutes.")
        else:
            self.say(f"wrong PIN ({self.failures} of {MAX_FAILURES}).")

    def _logout(self, _args: list[str], _raw: str) -> None:
        if not self.authenticated:
            self.say("not logged in.")
            return
        self.authenticated = False
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        self.audit("logout")
        self.say("logged out.")

    # ------------------------------------------------------------ views
    def _start_view(self, view: _View) -> None:
        self._view = view
        self.mode = "view"

    def _end_view(self, quiet: bool = False) -> None:
        view, self._view = self._view, None
        if view is None:
            return
        for t in view.timers:
            t.cancel()
        if self.mode == "view":
            self.mode = "line"
        try:
            view.on_stop()
        finally:
            if not quiet:
                self._emit("\r\n")
                self._finish()

    def _later(self, view: _View, delay: float, fn: Callable[[], None]) -> None:
        def fire() -> None:
            if self._view is view:
                self._guard(fn)

        view.timers.append(self._call_later(delay, fire))

    # ------------------------------------------------------------ status and friends
    def _status(self, _args: list[str], _raw: str) -> None:
        status = self.backend.status()
        if not self.backend.pin_hash():
            status["console"] = "locked: no technician PIN set (deskunit console hash-pin)"
        elif self.locked_for():
            status["console"] = f"login locked for {_mmss(self.locked_for())}"
        else:
            status["console"] = "logged in" if self.authenticated else "not logged in"
        keys = list(status) if self.authenticated else [k for k in PUBLIC_STATUS if k in status]
        width = max(len(k) for k in keys)
        self.say("\n".join(f"{k:<{width}}  {status[k]}" for k in keys))
        if not self.authenticated:
            self.say("(log in for operator, line, sync)")

    def _lcd(self, args: list[str], _raw: str) -> None:
        if not args:
            rows = self.backend.lcd_rows()
            width = max((len(r) for r in rows), default=0)
            edge = "+" + "-" * width + "+"
            self.say("\n".join([edge, *(f"|{r.ljust(width)}|" for r in rows), edge]))
            return
        if args[0].lower() != "test":
            raise CommandError("usage: lcd | lcd test")
        if self.backend.in_call():
            raise CommandError("a call is on: lcd test waits until the call ends.")
        self.backend.lcd_show(self.backend.lcd_test_pattern())
        self.say(f"LCD test pattern for {LCD_TEST_S:g} s (any key ends it):")
        self._lcd([], "")
        view = _View("lcd test", on_key=lambda ch: True, on_stop=self._lcd_back)
        self._start_view(view)
        self._later(view, LCD_TEST_S, lambda: self._end_view())

    def _lcd_back(self) -> None:
        self.backend.lcd_restore()
        self._emit("LCD back to the unit's screen.")

    def _led(self, args: list[str], _raw: str) -> None:
        if not args:
            self.say("  ".join(f"{k.upper()}:{v}" for k, v in self.backend.led_states().items()))
            return
        if args[0].lower() != "test":
            raise CommandError("usage: led | led test")
        if self.backend.in_call():
            raise CommandError("a call is on: led test waits until the call ends.")
        steps = [(name, colour) for name in self.backend.led_states() for colour in (*LED_TEST_COLOURS, "off")]

        def restore() -> None:
            self.backend.led_restore()
            self._emit("LEDs back to the unit's states.")

        view = _View("led test", on_key=lambda ch: True, on_stop=restore)
        self.say("LED test (any key ends it):")
        self._start_view(view)

        def step(i: int) -> None:
            if i >= len(steps):
                self._end_view()
                return
            name, colour = steps[i]
            self.backend.led_set(name, colour)
            if colour != "off":
                self.say(f"  {name.upper():<5} {colour}")
            self._later(view, LED_STEP_S, lambda: step(i + 1))

        step(0)

    def _keys(self, _args: list[str], _raw: str) -> None:
        self.say("Key test: press keys, lift the handset. Keys do not reach the unit meanwhile. Ctrl-C ends it.")
        hinted = [False]

        def on_key(ch: str) -> bool:
            if ch == "\x03":
                return True
            if not hinted[0] and ch.isprintable():
                hinted[0] = True
                self.say("(Ctrl-C ends the key test)")
            return False

        def on_event(text: str) -> None:
            if self._view is view:
                self._guard(self.say, f"  {text}")

        view = _View("keys", on_key=on_key)
        self._start_view(view)
        view.on_stop = self.backend.watch_inputs(on_event)

    def _audio(self, _args: list[str], _raw: str) -> None:
        stop = self.backend.audio_begin()
        self.say("Line meter, 4 times a second (any key stops it):")
        view = _View("audio", on_key=lambda ch: True, on_stop=stop)
        self._start_view(view)

        def tick() -> None:
            self._emit("\r" + self.meter_line(self.backend.audio_report()) + "\x1b[K")
            self._later(view, METER_PERIOD_S, tick)

        tick()

    @staticmethod
    def meter_line(report: dict[str, Any] | None) -> str:
        if not report:
            return "no audio analysed yet"
        speech = report.get("speech_dbfs")
        width = 24
        filled = 0 if speech is None else max(0, min(width, int(round((speech + 60.0) / 60.0 * width))))
        bar = "#" * filled + "." * (width - filled)

        def num(key: str, fmt: str) -> str:
            v = report.get(key)
            return "--" if v is None else format(v, fmt)

        return (f"[{bar}] speech {num('speech_dbfs', '6.1f')} dBFS  noise {num('noise_dbfs', '6.1f')}  "
                f"SNR {num('snr_db', '5.1f')} dB  {str(report.get('verdict', '?')):<14} score {num('score', '4.2f')}")

    def _selftest(self, _args: list[str], _raw: str) -> None:
        checks = self.backend.selftest()
        results: list[str] = []
        self.mode = "busy"
        self._busy_token += 1
        token = self._busy_token
        self.say("selftest:")

        def record(check: Check, outcome: Any) -> None:
            if isinstance(outcome, BaseException):
                status, reason = "FAIL", f"{type(outcome).__name__}: {str(outcome)[:100]}"
            else:
                status, reason = outcome
            results.append(status)
            self.say(f"  {status:<4}  {check.name:<8} {reason}")

        def run(i: int) -> None:
            if token != self._busy_token:
                return
            while i < len(checks):
                check = checks[i]
                if check.blocking:
                    self.flush()

                    def done(outcome: Any, check: Check = check, i: int = i) -> None:
                        if token != self._busy_token:
                            return
                        record(check, outcome)
                        run(i + 1)

                    self._run_blocking(check.fn, lambda outcome, done=done: self._guard(done, outcome))
                    return
                try:
                    outcome: Any = check.fn()
                except Exception as e:
                    outcome = e
                record(check, outcome)
                i += 1
            counts = {s: results.count(s) for s in ("PASS", "FAIL", "SKIP") if results.count(s)}
            self.say("selftest: " + ", ".join(f"{n} {s}" for s, n in counts.items()))
            self.mode = "line"
            self._finish()

        run(0)

    def _queue(self, _args: list[str], _raw: str) -> None:
        q = self.backend.queue()
        width = max(len(k) for k in q)
        self.say("\n".join(f"{k:<{width}}  {v}" for k, v in q.items()))

    def _sync(self, args: list[str], _raw: str) -> None:
        if [a.lower() for a in args] != ["now"]:
            raise CommandError("usage: sync now")
        self._background("sync", self.backend.sync_now)

    def _background(self, what: str, fn: Callable[[], str]) -> None:
        self.mode = "busy"
        self._busy_token += 1
        token = self._busy_token
        self.say(f"{what}: working (Ctrl-C to stop waiting)...")

        def done(result: Any) -> None:
            if token != self._busy_token:
                return
            self.mode = "line"
            if isinstance(result, BaseException):
                self.say(f"{what}: failed: {type(result).__name__}: {str(result)[:120]}")
            else:
                self.say(str(result))
            self._finish()

        self._run_blocking(fn, lambda result: self._guard(done, result))

    def _config(self, args: list[str], raw: str) -> None:
        action = args[0].lower() if args else ""
        if action == "show" and len(args) == 1:
            items = self.backend.config_items()
            width = max((len(k) for k, _ in items), default=0)
            self.say("\n".join(f"{k:<{width}} = {v}" for k, v in items))
        elif action == "check" and len(args) == 1:
            problems = self.backend.config_check()
            self.say("\n".join(problems) if problems else "config: OK")
        elif action == "set" and len(args) >= 3:
            value = raw.split(None, 2)[2]
            self.say(self.backend.config_set(args[1], value))
        else:
            raise CommandError("usage: config show | config check | config set KEY VALUE")

    def _log(self, args: list[str], _raw: str) -> None:
        n = 20
        if args:
            if not args[0].isdigit() or not 1 <= int(args[0]) <= 500:
                raise CommandError("usage: log [N]  (N from 1 to 500)")
            n = int(args[0])
        lines = self.backend.log_tail(n)
        self.say("\n".join(lines) if lines else "(the log is empty)")

    def _time(self, args: list[str], _raw: str) -> None:
        if not args:
            st = self.backend.clock_status()
            trust = "trusted" if st["trusted"] else "NOT trusted"
            self.say(f"{st['now'].isoformat(timespec='seconds')}  {trust} (source: {st['source']})")
            return
        force = "--force" in args
        rest = [a for a in args if a != "--force"]
        if len(rest) != 2 or rest[0].lower() != "set":
            raise CommandError("usage: time | time set 2026-11-23T09:15:00+02:00 [--force]")
        try:
            when = datetime.fromisoformat(rest[1])
        except ValueError:
            raise CommandError(f"not a date and time: {rest[1][:40]!r} (e.g. 2026-11-23T09:15:00+02:00)") from None
        if when.tzinfo is None:
            raise CommandError("give the UTC offset too, e.g. 2026-11-23T09:15:00+02:00")
        st = self.backend.clock_status()
        if st["trusted"] and not force:
            raise CommandError(f"the clock is trusted (source: {st['source']}); add --force to override it.")
        self.backend.set_time(when)
        st = self.backend.clock_status()
        self.say(f"clock set: {st['now'].isoformat(timespec='seconds')} (source: {st['source']})")

    def _restart(self, _args: list[str], _raw: str) -> None:
        self.mode = "confirm"

    def _confirm_restart(self, answer: str) -> None:
        if answer.strip().lower() != "yes":
            self.say("restart cancelled.")
            return
        self.audit("restart confirmed")
        self.say("restarting...")
        self.flush()
        self.backend.restart()

    # ------------------------------------------------------------ teardown
    def close(self) -> None:
        """Stop live views (restoring LEDs, LCD, key routing) and timers."""
        self._end_view(quiet=True)
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
