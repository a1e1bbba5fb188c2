"""One technician's session on one serial line: input dispatch by mode, login, views, errors.

:class:`Console` ties the :class:`~firmware.console.terminal.Terminal`, the
:class:`~firmware.console.session.Login` and the command table together, and is the
:class:`~firmware.console.protocol.Host` its commands run in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from firmware.clock import Clock
from firmware.console.commands import Commands
from firmware.console.live import LiveViews, meter_line
from firmware.console.protocol import Backend, Done, Mode, RunBlocking, View, Write
from firmware.console.session import Login
from firmware.console.settings import (
    AUDIT_LINES_PER_MIN,
    CONFIRM_PROMPT,
    NO_PIN_HELP,
    PIN_PROMPT,
    PROMPT,
    PROMPT_AUTH,
    ViewTimings,
)
from firmware.console.terminal import CTRL_C, ESC, Edit, Escape, Terminal
from firmware.exc import CommandError, ConfigError

log = logging.getLogger("firmware.console")


def _run_now(fn: Callable[[], Any], done: Done) -> None:
    try:
        result = fn()
    except Exception as e:
        result = e
    done(result)


class Console:
    """One console session on one serial line; see :mod:`firmware.console`.

    Larger than 25 methods on purpose: most of its methods are the
    :class:`~firmware.console.protocol.Host` its commands run in (output,
    views, busy work, errors); the line editor, the login and the commands themselves live apart.
    """

    meter_line = staticmethod(meter_line)

    def __init__(self, backend: Backend, clock: Clock, write: Write, call_later: Callable[[float, Callable], Any],
                 run_blocking: RunBlocking | None = None, timings: ViewTimings | None = None) -> None:
        self.backend = backend
        self.clock = clock
        self.term = Terminal(write)
        self.login = Login(self, clock, call_later)
        self.mode = Mode.LINE
        self._call_later = call_later
        self._run_blocking = run_blocking or _run_now
        self._view: View | None = None
        self._busy_token = 0
        self._dispatching = False  # inside _end_line, which prompts once at its end
        self._audit_window = (clock.monotonic(), 0)  # (minute started, command lines audited in it)
        self._audit_skipped = 0
        self.commands = Commands(self, LiveViews(self, timings or ViewTimings()), login=self.login.login,
                                 logout=self.login.logout, authenticated=lambda: self.login.authenticated,
                                 locked_for=self.login.locked_for)

    # ------------------------------------------------------------ state, as tests and the backend see it
    @property
    def authenticated(self) -> bool:
        return self.login.authenticated

    @property
    def buf(self) -> str:
        return self.term.buf

    # ------------------------------------------------------------ output (Host)
    def emit(self, text: str) -> None:
        self.term.emit(text)

    def say(self, text: str = "") -> None:
        self.term.say(text)

    def flush(self) -> None:
        self.term.flush()

    @property
    def prompt_text(self) -> str:
        if self.mode is Mode.PIN:
            return PIN_PROMPT
        if self.mode is Mode.CONFIRM:
            return CONFIRM_PROMPT
        return PROMPT_AUTH if self.login.authenticated else PROMPT

    def prompt(self) -> None:
        if self.mode in (Mode.VIEW, Mode.BUSY):
            return
        self.emit(self.prompt_text)

    def finish(self) -> None:
        """Prompt after work that may end inside or after the line that started it."""
        if not self._dispatching:
            self.prompt()

    def guard(self, fn: Callable[..., None], *args: Any) -> None:
        """Run a callback (input, timer, reply); whatever it raises, end at a prompt."""
        try:
            fn(*args)
        except Exception as e:
            log.exception("console failed")
            self._recover(e)
        self.flush()

    def _recover(self, e: BaseException) -> None:
        try:
            self.end_view(quiet=True)
        except Exception:
            log.exception("console view cleanup failed")
            self._view = None
        self.mode = Mode.LINE
        self.term.reset()
        self.say(f"\nerror: {type(e).__name__}: {str(e)[:120]}")
        self.prompt()

    def audit(self, text: str, security: bool = False) -> None:
        try:
            self.backend.audit(text, self.login.authenticated, security)
        except Exception:
            log.exception("console audit failed")

    def audit_command(self, text: str) -> None:
        """A command line for the audit, at most :data:`AUDIT_LINES_PER_MIN` a minute (a flood is
        counted, and the count written once lines are let through again)."""
        start, n = self._audit_window
        now = self.clock.monotonic()
        if now - start >= 60.0:
            start, n = now, 0
        if n >= AUDIT_LINES_PER_MIN:
            self._audit_skipped += 1
            self._audit_window = (start, n)
            return
        if self._audit_skipped:
            self.audit(f"({self._audit_skipped} command lines not logged: more than {AUDIT_LINES_PER_MIN} a minute)")
            self._audit_skipped = 0
            n += 1
        self.audit(text)
        self._audit_window = (start, n + 1)

    def run_blocking(self, fn: Callable[[], Any], done: Done) -> None:
        self._run_blocking(fn, done)

    def begin_busy(self) -> Callable[[], bool]:
        """Wait for blocking work; the returned check turns False once Ctrl-C (or a logout) gave up on it."""
        self.mode = Mode.BUSY
        self._busy_token += 1
        token = self._busy_token
        return lambda: token == self._busy_token

    def abandon(self) -> None:
        """The session ends under whatever runs: views stop, a pending answer is dropped, the line cleared."""
        self.end_view(quiet=True)
        self._busy_token += 1
        self.mode = Mode.LINE
        self.term.buf = ""

    def start(self) -> None:
        """Greet whoever is on the line (output is simply lost when no one is)."""
        def banner() -> None:
            self.say("\ndeskunit technician console. Type help.")
            if not self.backend.settings().pin_hash:
                self.say(NO_PIN_HELP)
            self.prompt()

        self.guard(banner)

    # ------------------------------------------------------------ input
    def feed(self, data: bytes) -> None:
        """Bytes from the serial line (on the loop's thread)."""
        def take(data: bytes) -> None:
            self.login.touched()
            for ch in self.term.decode(data):
                self._char(ch)

        self.guard(take, data)

    def _char(self, ch: str) -> None:
        term = self.term
        if ch == CTRL_C:
            term.escape = Escape.NONE
        if term.escape is not Escape.NONE:
            term.swallow(ch)
            if self.mode is not Mode.VIEW:
                return
        if self.mode is Mode.VIEW:
            assert self._view is not None
            if ch == ESC:
                term.start_escape()
            if self._view.on_key(ch):
                self.end_view()
            return
        if ch == CTRL_C:
            self._cancel()
            return
        if ch == ESC:
            term.start_escape()
            return
        if self.mode is Mode.BUSY:
            return
        edit = term.edit(ch, echo=self.mode is not Mode.PIN)
        if edit is Edit.ENTER:
            self._end_line()
        elif edit is Edit.CLEARED:
            self.prompt()

    def _cancel(self) -> None:
        if self.mode is Mode.BUSY:
            self._busy_token += 1
            self.mode = Mode.LINE
            self.say("^C (the check goes on in the background; its answer is dropped)")
        else:
            self.say("^C")
            was, self.mode = self.mode, Mode.LINE
            if was is Mode.PIN:
                self.login.cancelled()
        self.term.clear()
        self.prompt()

    def _end_line(self) -> None:
        self.say()
        line, overflow = self.term.take_line()
        if overflow:
            self.prompt()
            return
        mode = self.mode
        self._dispatching = True
        try:
            if mode is Mode.PIN:
                self.login.check_pin(line)
            elif mode is Mode.CONFIRM:
                self.mode = Mode.LINE
                self.commands.confirm_restart(line)
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
        self.audit_command(self.commands.audit_text(words))
        if cmd is None:
            self.commands.unknown(words[0])
            return
        if not cmd.public and not self.login.authenticated:
            self.say(f"{name}: log in first (login, then the technician PIN). Before login: help, login, status.")
            return
        self.login.touch_idle()
        try:
            cmd.fn(words[1:], line.strip()[len(words[0]):].strip())
        except CommandError as e:
            self.say(str(e))
        except ConfigError as e:
            self.say(f"refused: {e.key}: {e.reason}. Nothing changed.")
        except Exception as e:
            log.exception("console command %s failed", name)
            self.end_view(quiet=True)
            self.mode = Mode.LINE
            self.say(f"{name}: failed: {type(e).__name__}: {str(e)[:120]}")

    # ------------------------------------------------------------ views (Host)
    def start_view(self, view: View) -> None:
        self._view = view
        self.mode = Mode.VIEW

    def view_is(self, view: View) -> bool:
        return self._view is view

    def end_view(self, quiet: bool = False) -> None:
        view, self._view = self._view, None
        if view is None:
            return
        for t in view.timers:
            t.cancel()
        if self.mode is Mode.VIEW:
            self.mode = Mode.LINE
        try:
            view.on_stop()
        finally:
            if not quiet:
                self.emit("\r\n")
                self.finish()

    def later(self, view: View, delay: float, fn: Callable[[], None]) -> None:
        def fire() -> None:
            if self._view is view:
                self.guard(fn)

        view.timers.append(self._call_later(delay, fire))

    # ------------------------------------------------------------ teardown
    def close(self) -> None:
        """Stop live views (restoring LEDs, LCD, key routing) and timers."""
        self.end_view(quiet=True)
        self.login.close()
