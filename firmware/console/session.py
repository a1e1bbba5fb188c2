"""Who is at the console: login with the technician PIN, the lockout after wrong PINs, idle logout.

:class:`Login` keeps the session's state on the unit's clock: :data:`MAX_FAILURES` wrong PINs in a
row lock logins for :data:`LOCK_S` seconds; a session with no input for ``idle_logout_s`` ends.
Its ``login`` and ``logout`` are the console's commands of those names.

PIN guessing is slow by design: one check runs at a time (a ``login`` while one is still running,
even one the technician gave up on with Ctrl-C, is refused), the next ``login`` after a wrong PIN
waits :data:`FAIL_DELAY_S`, a PIN prompt cancelled with Ctrl-C counts as a wrong PIN, and the count
and the lock are kept in the backend's store (the state directory) so a restart clears neither.
Every attempt, cancellation and lock goes to the security audit; what was typed never does.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from enum import Enum, auto
from typing import Any

from firmware.clock import Clock
from firmware.console.protocol import Host, Mode
from firmware.console.settings import FAIL_DELAY_S, LOCK_S, MAX_FAILURES, NO_PIN_HELP
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
                 max_failures: int = MAX_FAILURES, lock_s: float = LOCK_S, fail_delay_s: float = FAIL_DELAY_S) -> None:
        self.host = host
        self.clock = clock
        self._call_later = call_later
        self.max_failures = max_failures
        self.lock_s = lock_s
        self.fail_delay_s = fail_delay_s
        self.authenticated = False
        self.failures = 0
        self.locked_until: float | None = None
        self.retry_at = 0.0  # the unit's monotonic time before which no new login starts
        self.checking = False  # a PIN check is running (perhaps abandoned): no second one
        self.last_input = clock.monotonic()
        self._idle_timer: Any = None
        self._restore()

    # ------------------------------------------------------------ kept across restarts
    def _restore(self) -> None:
        """Take the wrong-PIN count and the lock from the backend's store (wall-clock times there)."""
        try:
            saved = self.host.backend.login_state() or {}
            failures = int(saved.get("failures", 0))
            until = float(saved.get("locked_until", 0.0))
        except Exception:  # an unreadable store must not open the console: count as locked
            failures, until = 0, self.clock.now().timestamp() + self.lock_s
        self.failures = max(0, min(failures, self.max_failures - 1))
        left = min(until - self.clock.now().timestamp(), self.lock_s)  # a wall jump cannot lengthen it
        if left > 0:
            self.locked_until = self.clock.monotonic() + left

    def _save(self) -> None:
        until = self.clock.now().timestamp() + self.locked_for() if self.locked_for() else 0.0
        with contextlib.suppress(Exception):  # the backend logs it; the lock still holds in memory
            self.host.backend.save_login_state({"failures": self.failures, "locked_until": until})

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
        if self.checking:
            raise CommandError("login: the last PIN is still being checked; try again in a moment.")
        wait = self.retry_at - self.clock.monotonic()
        if wait > 0:
            raise CommandError(f"login: wait {math.ceil(wait)} s after a wrong PIN.")
        self.host.mode = Mode.PIN

    def cancelled(self) -> None:
        """Ctrl-C at the PIN prompt: counted as a wrong PIN (else cancelling would be free guessing)."""
        self._result(False, cancelled=True)

    def logout(self, _args: list[str], _raw: str) -> None:
        host = self.host
        if not self.authenticated:
            host.say("not logged in.")
            return
        self.authenticated = False
        self._cancel_idle()
        host.audit("logout", security=True)
        host.say("logged out.")

    def check_pin(self, pin: str) -> None:
        """The line typed at the PIN prompt: checked off the loop (PBKDF2 is slow on a Pi)."""
        host = self.host
        backend = host.backend
        pin_hash = backend.settings().pin_hash
        if not pin:
            self._result(False)  # nothing to hash: answered at once, counted all the same
            return
        current = host.begin_busy()
        self.checking = True

        def done(ok: Any) -> None:
            self.checking = False
            shown = current()  # the technician still waits (no Ctrl-C, no logout since)
            if shown:
                host.mode = Mode.LINE
            self._result(ok is True, quiet=not shown)  # counted even when nobody waits for it
            if shown:
                host.finish()

        host.run_blocking(lambda: backend.verify_pin(pin) and bool(pin_hash), lambda ok: host.guard(done, ok))

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
        self.retry_at = self.clock.monotonic() + self.fail_delay_s
        if self.failures >= self.max_failures:
            self.failures = 0
            self.locked_until = self.clock.monotonic() + self.lock_s
            return PinResult.LOCKED, wrong
        return PinResult.WRONG, wrong

    def _result(self, ok: bool, *, cancelled: bool = False, quiet: bool = False) -> None:
        host = self.host
        if ok and quiet:  # the technician gave up on it: a right PIN nobody waits for opens nothing
            host.audit("login abandoned (the answer came after Ctrl-C)", security=True)
            return
        result, wrong = self._attempt(ok)
        self._save()
        if result is PinResult.OK:
            host.audit("login ok", security=True)
            if not quiet:
                host.say("logged in.")
            self.touch_idle()
            return
        what = "login cancelled at the PIN prompt" if cancelled else "login failed"
        host.audit(f"{what} ({wrong} of {self.max_failures}){' (nobody waited for the answer)' if quiet else ''}",
                   security=True)
        if result is PinResult.LOCKED:
            host.audit("login locked", security=True)
        if quiet:
            return
        if result is PinResult.LOCKED:
            host.say(f"{'cancelled' if cancelled else 'wrong PIN'}. {self.max_failures} wrong PINs: login is locked "
                     f"for {int(self.lock_s // 60)} minutes.")
        elif not cancelled:
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
        self.host.audit("idle logout", security=True)
        self.host.say(f"\nidle for {int(limit)} s: logged out.")
        self.host.prompt()

    def _cancel_idle(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None

    def close(self) -> None:
        self._cancel_idle()
