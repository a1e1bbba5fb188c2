"""``deskunit failed UNIT``: what systemd runs (``OnFailure=``) once the unit has given up on deskunit.

A unit that hit its restart limit, or stopped with a bad configuration, leaves a blank or frozen LCD
and nothing but the journal to say why. This one-shot says it where people look: one critical line
in the journal (with systemd's own result for the unit, no personal data: the daemon's log says the
rest) and, because the daemon no longer holds the LCD, a short notice on the glass for the operator.

    deskunit failed deskunit.service      # systemd/deskunit-failure@.service runs it as %i
"""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from firmware.config import ConfigError, load_config, site_config_path
from firmware.display import parse_size
from firmware.lcd.codec import encode_screen

log = logging.getLogger("deskunit.failure")

NOTICE = ["deskunit stopped", "Call the technician", "journalctl -u", "deskunit"]


def unit_result(unit: str, run: Callable[..., Any] = subprocess.run) -> str:
    """systemd's word on ``unit`` (Result, exit status, restarts), or why it could not be asked."""
    try:
        out = run(["systemctl", "show", unit, "-p", "Result", "-p", "ExecMainStatus", "-p", "NRestarts"],
                  capture_output=True, text=True, timeout=5, check=False).stdout
    except (OSError, subprocess.SubprocessError) as e:
        return f"systemctl unavailable ({type(e).__name__})"
    return ", ".join(line.strip() for line in out.splitlines() if line.strip()) or "no answer from systemctl"


def show_notice(cfg: dict[str, Any], display: Any | None = None) -> None:
    """The notice on the unit's LCD (``display``: an :class:`hal.lcd.RplcdDisplay`, else the real one)."""
    cols, rows = parse_size(cfg["lcd"]["size"])
    if display is None:
        from hal.lcd import RplcdDisplay

        display = RplcdDisplay(cols=cols, rows=rows, address=cfg["lcd"]["i2c_address"], port=cfg["lcd"]["i2c_port"])
    lines = [line[:cols] for line in NOTICE][:rows]
    display.show(encode_screen(lines, cfg["lcd"]["rom"], cols=cols, height=rows))


def main(unit: str, display: Any | None = None, run: Callable[..., Any] = subprocess.run) -> int:
    """Log the failure (always) and show it on the LCD (when the LCD can be reached); exit 0."""
    print(f"<2>{unit} failed and systemd gave up on it: {unit_result(unit, run)}; "
          f"see journalctl -u {unit}", flush=True)
    try:
        cfg = load_config(site_config_path())
    except ConfigError as e:
        print(f"<3>the LCD shows nothing: the configuration is bad ({e.key})", flush=True)
        return 0
    try:
        show_notice(cfg, display)
    except Exception as e:  # no I2C, no RPLCD: the journal line is what remains
        print(f"<4>the failure notice could not be shown on the LCD: {type(e).__name__}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "deskunit.service"))
