"""The technician's serial console as pure logic: bytes in, bytes out, on the loop's thread.

:class:`Console` edits a line (echo, backspace/DEL, Ctrl-U, Ctrl-C, CR/LF/CRLF, escape sequences
such as arrow keys ignored, a length limit), runs commands through a :class:`Backend` and writes
its answers through ``write``. Live views (the audio meter, the key test) and the LCD/LED tests
run on timers from ``call_later``, i.e. on the unit's clock, so a virtual clock drives them in
tests exactly as the real clock does on a Pi.

The rooms: :mod:`~firmware.console.terminal` (bytes, escape sequences, the line being edited),
:mod:`~firmware.console.session` (login, lockout, idle logout), :mod:`~firmware.console.commands`
and :mod:`~firmware.console.live` (the commands), :mod:`~firmware.console.console` (the session
tying them together), :mod:`~firmware.console.protocol` and :mod:`~firmware.console.settings`.

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
session logs out; every command line is audited without the PIN (see :meth:`Commands.audit_text`).
A command that raises prints a one-line error and the prompt: the console never stops the unit.
"""

from firmware.console.commands import Commands
from firmware.console.console import Console
from firmware.console.live import meter_line
from firmware.console.protocol import Backend, Host, Mode, SelftestCheck, Status, View
from firmware.console.settings import (
    LOCK_S,
    MAX_FAILURES,
    MAX_LINE,
    PROMPT,
    PROMPT_AUTH,
    PUBLIC_STATUS,
    SECRET_KEYS,
    ConsoleSettings,
    ViewTimings,
    is_secret,
)
from firmware.exc import CommandError

__all__ = [
    "LOCK_S", "MAX_FAILURES", "MAX_LINE", "PROMPT", "PROMPT_AUTH", "PUBLIC_STATUS", "SECRET_KEYS", "Backend",
    "CommandError", "Commands", "Console", "ConsoleSettings", "Host", "Mode", "SelftestCheck", "Status", "View",
    "ViewTimings", "is_secret", "meter_line",
]
