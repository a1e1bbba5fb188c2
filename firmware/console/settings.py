"""The console's fixed texts and limits, and :class:`ConsoleSettings`, typed from the ``[console]`` table.

    >>> ConsoleSettings.from_config({"console": {"port": "/dev/serial0", "baudrate": 115200,
    ...                                          "pin_hash": "", "idle_logout_s": 300}}).idle_logout_s
    300.0
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from firmware.vocabulary import Colour

PROMPT = "deskunit> "
PROMPT_AUTH = "deskunit# "
PIN_PROMPT = "PIN: "
CONFIRM_PROMPT = "Restart the unit now? Type yes to confirm: "
MAX_LINE = 256
MAX_FAILURES = 5
LOCK_S = 300.0
#: After a wrong PIN, the next ``login`` waits this long (with one check at a time, a PIN guesser
#: gets one try per check plus this, and the lock after MAX_FAILURES of them).
FAIL_DELAY_S = 2.0
#: Command lines audited per minute; beyond it (a flood of junk) they are counted, not written,
#: so they cannot push the security lines out. Logins and the like go to their own file anyway.
AUDIT_LINES_PER_MIN = 30
LED_TEST_COLOURS = (Colour.RED, Colour.GREEN, Colour.BLUE, Colour.AMBER)
#: What ``status`` shows before login: nothing about operators, callers or the line.
PUBLIC_STATUS = ("version", "uptime", "clock", "call", "leds", "records waiting", "hardware", "console")
#: Keys whose values never leave the unit.
SECRET_KEYS = ("server.token", "console.pin_hash")
NO_PIN_HELP = ("no technician PIN is set, so the console stays locked.\n"
               "To set one: run `deskunit console hash-pin` on the unit (or any PC with deskunit),\n"
               "put the printed value in console.pin_hash of /etc/deskunit/deskunit.toml, restart.")


def is_secret(key: str) -> bool:
    return key in SECRET_KEYS or key.endswith(("pin_hash", "token"))


@dataclass(frozen=True)
class ViewTimings:
    """How the live views pace themselves on the unit's clock (tests make the tests shorter)."""

    meter_period_s: float = 0.25  # the audio meter's refresh
    lcd_test_s: float = 2.0  # the LCD test pattern stays this long
    led_step_s: float = 0.3  # each colour of the LED test


@dataclass(frozen=True)
class ConsoleSettings:
    """The ``[console]`` table: the serial port, the technician PIN's hash, the idle logout."""

    port: str = "/dev/serial0"
    baudrate: int = 115200
    pin_hash: str = ""
    idle_logout_s: float = 300.0

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> ConsoleSettings:
        console = cfg["console"]
        return cls(str(console["port"]), int(console["baudrate"]), str(console.get("pin_hash") or ""),
                   float(console["idle_logout_s"]))
