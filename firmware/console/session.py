"""Who is at the console: login with the technician PIN, the lockout after wrong PINs, idle logout.

:class:`Login` keeps the session's state on the unit's clock: :data:`MAX_FAILURES` wrong PINs in a
row lock logins for :data:`LOCK_S` seconds; a session with no input for ``idle_logout_s`` ends.
Its ``login`` and ``logout`` are the console's commands of those names.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum, auto
from typing import Any

from firmware.clock import Clock
from firmware.console.protocol import Host, Mode
from firmware.console.settings import LOCK_S, MAX_FAILURES, NO_PIN_HELP
from firmware.exc import CommandError
from firmware.timefmt import remaining


class PinResult(Enum):
    """What a PIN attempt did."""

    OK = auto()
    WRONG = auto()
    LOCKED = auto()  # wrong, and the last allowed: logins are locked now


class Login:
    """The session's login state and its commands; loop thread only."""

    def __init__(self, host: Host, clock: Clock, call_later: Callable[[float, Callable], Any],
                 max_failures: int = MAX_FAILURES, lock_s: float = LOCK_S) -> None:
        self.host = host
        self.clock = clock
        self._call_later = call_later
        self.max_failures = max_failures
        self.lock_s = lock_s
        self.authenticated = False
        self.failures = 0
        self.locked_until: float | None = None
        self.last_input = clock.monotonic()
        self._idle_timer: Any = None

    def touched(self) -> None:
        """Input arrived."""
        self.last_input = self.clock.monotonic()

    def locked_for(self) -> float:
        """Seconds until logins open again (0: open)."""
        if self.locked_until is None:
            return 0.0
        left = self.locked_until - self.clock.monotonic()
        if left <= 0:
            self.locked_until = None
            return 0.0
        return left

    # ------------------------------------------------------------ the commands
    def login(self, _args: list[str], _raw: str) -> None:
        if not self.host.backend.settings().pin_hash:
            raise CommandError(NO_PIN_HELP)
        left = self.locked_for()
        if left:
            raise CommandError(f"login locked after {self.max_failures} wrong PINs: try again in {remaining(left)}.")
        if self.authenticated:
            raise CommandError("already logged in.")
        self.host.mode = Mode.PIN

    def logout(self, _args: list[str], _raw: str) -> None:
        host = self.host
        if not self.authenticated:
            host.say("not logged in.")
            return
        self.authenticated = False
        self._cancel_idle()
        host.audit("logout")
        host.say("logged out.")

    def check_pin(self, pin: str) -> None:
        """The line typed at the PIN prompt: checked off the loop (PBKDF2 is slow on a Pi)."""
        host = self.host
        current = host.begin_busy()
        backend = host.backend
        pin_hash = backend.settings().pin_hash

        def done(ok: Any) -> None:
            if not current():
                return
            host.mode = Mode.LINE
            self._result(ok is True)
            host.finish()

        host.run_blocking(lambda: bool(pin) and backend.verify_pin(pin) and bool(pin_hash),
                          lambda ok: host.guard(done, ok))

    def _attempt(self, ok: bool) -> tuple[PinResult, int]:
        """The PIN check's answer, and how many wrong PINs in a row this one makes (0 when right).

        A right PIN while locked (the lock began during the check) counts as wrong.
        """
        if self.locked_for():
            ok = False
        if ok:
            self.authenticated, self.failures = True, 0
            self.touched()
            return PinResult.OK, 0
        self.failures += 1
        wrong = self.failures
        if self.failures >= self.max_failures:
            self.failures = 0
            self.locked_until = self.clock.monotonic() + self.lock_s
            return PinResult.LOCKED, wrong
        return PinResult.WRONG, wrong

    def _result(self, ok: bool) -> None:
        host = self.host
        result, wrong = self._attempt(ok)
        if result is PinResult.OK:
            host.audit("login ok")
            host.say("logged in.")
            self.touch_idle()
            return
        host.audit(f"login failed ({wrong} of {self.max_failures})")
        if result is PinResult.LOCKED:
            host.audit("login locked")
            host.say(f"wrong PIN. {self.max_failures} wrong PINs: login is locked for "
                     f"{int(self.lock_s // 60)} minutes.")
        else:
            host.say(f"wrong PIN ({wrong} of {self.max_failures}).")

    # ------------------------------------------------------------ idle logout
    def touch_idle(self) -> None:
        """A command ran: make sure the idle check is scheduled."""
        if self.authenticated and self._idle_timer is None:
            self._idle_timer = self._call_later(self.host.backend.settings().idle_logout_s,
                                                lambda: self.host.guard(self._idle_check))

    def _idle_check(self) -> None:
        self._idle_timer = None
        if not self.authenticated:
            return
        limit = self.host.backend.settings().idle_logout_s
        idle = self.clock.monotonic() - self.last_input
        if idle + 1e-6 < limit:
            self._idle_timer = self._call_later(limit - idle, lambda: self.host.guard(self._idle_check))
            return
        self.host.abandon()
        self.authenticated = False
        self.host.audit("idle logout")
        self.host.say(f"\nidle for {int(limit)} s: logged out.")
        self.host.prompt()

    def _cancel_idle(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None

    def close(self) -> None:
        self._cancel_idle()
