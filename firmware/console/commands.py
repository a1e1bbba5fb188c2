"""The console's command table and its request-and-answer commands (help, status, queue, sync,
config, log, time, restart); the live views and tests are in :mod:`firmware.console.live`.

Each command is ``fn(args, raw_rest_of_line)`` on the loop's thread; it answers through the
:class:`~firmware.console.protocol.Host` and raises :class:`firmware.exc.CommandError` with the
text to show when it cannot do what was asked.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from firmware.console.live import LiveViews
from firmware.console.protocol import Command, Host, Mode
from firmware.console.settings import PUBLIC_STATUS, is_secret
from firmware.exc import CommandError
from firmware.timefmt import remaining

CommandFn = Callable[[list[str], str], None]


class Commands:
    """The table of commands, in the order ``help`` lists them, and the simple ones' code."""

    def __init__(self, host: Host, live: LiveViews, *, login: CommandFn, logout: CommandFn,
                 authenticated: Callable[[], bool], locked_for: Callable[[], float]) -> None:
        self.host = host
        self._authenticated = authenticated
        self._locked_for = locked_for
        self.table: dict[str, Command] = {}

        def add(name: str, usage: str, summary: str, fn: CommandFn, public: bool = False,
                audit_args: bool = True) -> None:
            self.table[name] = Command(name, usage, summary, fn, public, audit_args)

        add("help", "help [COMMAND]", "this list, or one command's use", self.help, public=True)
        add("login", "login", "log in with the technician PIN (asked for, not shown)", login, public=True,
            audit_args=False)
        add("logout", "logout", "end the session", logout, public=True, audit_args=False)
        add("status", "status", "version, uptime, operator, call, line, LEDs, clock, queue, sync",
            self.status, public=True, audit_args=False)
        add("audio", "audio", "live line meter with the verdict (any key stops)", live.audio, audit_args=False)
        add("lcd", "lcd | lcd test", "what the LCD shows now | a test pattern, then the unit's screen", live.lcd)
        add("led", "led | led test", "LED states | each LED through its colours, then back", live.led)
        add("keys", "keys", "live key and hook test (Ctrl-C stops)", live.keys, audit_args=False)
        add("selftest", "selftest", "LCD, LEDs, keys, audio device, storage, server: PASS/FAIL", live.selftest,
            audit_args=False)
        add("queue", "queue", "records waiting to sync (counts only)", self.queue, audit_args=False)
        add("sync", "sync now", "push waiting records and fetch config/time now", self.sync)
        add("config", "config show | config check | config set KEY VALUE",
            "configuration (secrets hidden); set validates, applies and saves", self.config)
        add("log", "log [N]", "the last N lines of the unit's log (personal data hidden)", self.log)
        add("time", "time | time set 2026-11-23T09:15:00+02:00 [--force]",
            "clock status | set the clock (only when untrusted, or --force)", self.time)
        add("restart", "restart", "restart the unit (asks first)", self.restart, audit_args=False)

    def get(self, name: str) -> Command | None:
        return self.table.get(name)

    def audit_text(self, words: Sequence[str]) -> str:
        """The command as the audit log keeps it: never a PIN, a secret or a stray word of digits."""
        name = words[0].lower()
        cmd = self.table.get(name)
        if cmd is None:
            # A PIN typed at the wrong moment must not land in the audit log; a typo of letters may.
            first = words[0]
            return f"unknown {first[:32]!r}" if first.isalpha() else f"unknown ({len(' '.join(words))} chars)"
        if not cmd.audit_args or len(words) == 1:
            return name if len(words) == 1 else f"{name} (+{len(words) - 1} words)"
        if name == "config" and len(words) >= 3 and words[1].lower() == "set" and is_secret(words[2]):
            return f"config set {words[2]} <redacted>"
        return " ".join([name, *words[1:]])[:160]

    def unknown(self, word: str) -> None:
        shown = word[:32]
        close = difflib.get_close_matches(word.lower(), list(self.table), n=1, cutoff=0.6)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        self.host.say(f"unknown command '{shown}'.{hint}")
        self.help([], "")

    # ------------------------------------------------------------ the commands
    def help(self, args: list[str], _raw: str) -> None:
        if args and args[0].lower() in self.table:
            cmd = self.table[args[0].lower()]
            self.host.say(f"{cmd.usage}\n  {cmd.summary}" + ("" if cmd.public else "\n  (after login)"))
            return
        lines = ["commands (* after login):"]
        for cmd in self.table.values():
            mark = " " if cmd.public else "*"
            if len(cmd.usage) > 30:
                lines.append(f" {mark} {cmd.usage}\n{'':<34}{cmd.summary}")
            else:
                lines.append(f" {mark} {cmd.usage:<30} {cmd.summary}")
        lines.append("Line editing: Backspace, Ctrl-U clears the line, Ctrl-C cancels.")
        self.host.say("\n".join(lines))

    def status(self, _args: list[str], _raw: str) -> None:
        backend, authenticated = self.host.backend, self._authenticated()
        status = backend.status()
        if not backend.settings().pin_hash:
            status["console"] = "locked: no technician PIN set (deskunit console hash-pin)"
        elif self._locked_for():
            status["console"] = f"login locked for {remaining(self._locked_for())}"
        else:
            status["console"] = "logged in" if authenticated else "not logged in"
        keys = list(status) if authenticated else [k for k in PUBLIC_STATUS if k in status]
        width = max(len(k) for k in keys)
        self.host.say("\n".join(f"{k:<{width}}  {status[k]}" for k in keys))
        if not authenticated:
            self.host.say("(log in for operator, line, sync)")

    def queue(self, _args: list[str], _raw: str) -> None:
        q = self.host.backend.queue()
        width = max(len(k) for k in q)
        self.host.say("\n".join(f"{k:<{width}}  {v}" for k, v in q.items()))

    def sync(self, args: list[str], _raw: str) -> None:
        if [a.lower() for a in args] != ["now"]:
            raise CommandError("usage: sync now")
        self._background("sync", self.host.backend.sync_now)

    def _background(self, what: str, fn: Callable[[], str]) -> None:
        host = self.host
        current = host.begin_busy()
        host.say(f"{what}: working (Ctrl-C to stop waiting)...")

        def done(result: Any) -> None:
            if not current():
                return
            host.mode = Mode.LINE
            if isinstance(result, BaseException):
                host.say(f"{what}: failed: {type(result).__name__}: {str(result)[:120]}")
            else:
                host.say(str(result))
            host.finish()

        host.run_blocking(fn, lambda result: host.guard(done, result))

    def config(self, args: list[str], raw: str) -> None:
        backend = self.host.backend
        action = args[0].lower() if args else ""
        if action == "show" and len(args) == 1:
            items = backend.config_items()
            width = max((len(k) for k, _ in items), default=0)
            self.host.say("\n".join(f"{k:<{width}} = {v}" for k, v in items))
        elif action == "check" and len(args) == 1:
            problems = backend.config_check()
            self.host.say("\n".join(problems) if problems else "config: OK")
        elif action == "set" and len(args) >= 3:
            value = raw.split(None, 2)[2]
            self.host.say(backend.config_set(args[1], value))
        else:
            raise CommandError("usage: config show | config check | config set KEY VALUE")

    def log(self, args: list[str], _raw: str) -> None:
        n = 20
        if args:
            if not args[0].isdigit() or not 1 <= int(args[0]) <= 500:
                raise CommandError("usage: log [N]  (N from 1 to 500)")
            n = int(args[0])
        lines = self.host.backend.log_tail(n)
        self.host.say("\n".join(lines) if lines else "(the log is empty)")

    def time(self, args: list[str], _raw: str) -> None:
        backend = self.host.backend
        if not args:
            st = backend.clock_status()
            trust = "trusted" if st["trusted"] else "NOT trusted"
            self.host.say(f"{st['now'].isoformat(timespec='seconds')}  {trust} (source: {st['source']})")
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
        st = backend.clock_status()
        if st["trusted"] and not force:
            raise CommandError(f"the clock is trusted (source: {st['source']}); add --force to override it.")
        backend.set_time(when)
        st = backend.clock_status()
        self.host.say(f"clock set: {st['now'].isoformat(timespec='seconds')} (source: {st['source']})")

    def restart(self, _args: list[str], _raw: str) -> None:
        self.host.mode = Mode.CONFIRM

    def confirm_restart(self, answer: str) -> None:
        host = self.host
        if answer.strip().lower() != "yes":
            host.say("restart cancelled.")
            return
        host.audit("restart confirmed")
        host.say("restarting...")
        host.flush()
        host.backend.restart()
