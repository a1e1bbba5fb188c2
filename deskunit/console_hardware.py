"""The console's look at the hardware: what differs between a Pi and the simulator, and the selftest.

A :class:`HardwareProbe` answers what only the hardware can (reading the LCD and LEDs back, the audio
device): :class:`RealProbe` on a Pi, ``hwsim.probe.SimProbe`` in the simulator. :class:`Selftest`
is the ``selftest`` command's list of checks.
"""

from __future__ import annotations

import os
import socket
import ssl
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from firmware.console import SelftestCheck, Status
from firmware.leds import COLOURS
from firmware.sync import ServerSettings
from firmware.vocabulary import Colour
from hal.assembly import App


class HardwareProbe(Protocol):
    """What differs between a Pi and the simulator when the console looks at the hardware."""

    #: whether :meth:`check_audio` may block (opening a sound device does)
    audio_check_blocks: bool

    def lcd_rows(self) -> list[str]:
        """The LCD's rows as the console shows them."""
        ...

    def lcd_readback(self) -> list[str] | None:
        """The rows the controller holds, read back; None where the hardware cannot be read."""
        ...

    def led_colour(self, name: str) -> str:
        """The colour the LED's pins show now ("?" when it is none of the known ones)."""
        ...

    def check_audio(self) -> tuple[str, str]:
        """The selftest's audio item: (PASS/FAIL/SKIP, reason)."""
        ...


class RealProbe:
    """The hardware of a Pi: the LCD cannot be read back; the LED pins' values can."""

    audio_check_blocks = True

    def __init__(self, app: App) -> None:
        self.app = app

    def lcd_rows(self) -> list[str]:
        return list(self.app.screen.text)

    def lcd_readback(self) -> list[str] | None:
        return None

    def led_colour(self, name: str) -> str:
        value = tuple(int(v) for v in self.app.hw_leds[name].device.value)
        return {rgb: c for c, rgb in COLOURS.items()}.get(value, "?")

    def check_audio(self) -> tuple[str, str]:
        from hal.audio import describe_device

        audio = self.app.unit.cfg["audio"]
        name = describe_device(audio["backend"], audio["device"] or None)
        return Status.PASS, f"input device {name!r} ({audio['backend']}, {audio['sample_rate']} Hz)"


class Selftest:
    """The selftest's checks: LCD, LEDs, keys, audio, storage, server (each (status, reason))."""

    def __init__(self, app: App, probe: HardwareProbe, lcd_test_pattern: Callable[[], list[str]]) -> None:
        self.app = app
        self.probe = probe
        self.lcd_test_pattern = lcd_test_pattern

    def checks(self) -> list[SelftestCheck]:
        return [
            SelftestCheck("lcd", self.lcd),
            SelftestCheck("leds", self.leds),
            SelftestCheck("keys", self.keys),
            SelftestCheck("audio", self.probe.check_audio, blocking=self.probe.audio_check_blocks),
            SelftestCheck("storage", self.storage, blocking=True),
            SelftestCheck("server", self.server, blocking=True),
        ]

    def lcd(self) -> tuple[str, str]:
        if self.app.unit.call is not None:
            return Status.SKIP, "a call is on (the screen is left alone)"
        pattern = self.lcd_test_pattern()
        try:
            self.app.screen.show(pattern)
            got = self.probe.lcd_readback()
            if got is None:
                return Status.PASS, "test frame written without a bus error (lcd test to look at it)"
            if got[0].rstrip() != pattern[0].rstrip():
                return Status.FAIL, f"wrote {pattern[0]!r}, the controller holds {got[0]!r}"
            return Status.PASS, "test frame written and read back from the controller"
        except OSError as e:
            return Status.FAIL, f"I2C error: {e}"
        finally:
            self.app.unit.refresh()

    def leds(self) -> tuple[str, str]:
        bad = []
        try:
            for name, led in self.app.hw_leds.items():
                for colour in (Colour.RED, Colour.GREEN, Colour.BLUE, Colour.OFF):
                    led.set_rgb(COLOURS[colour])
                    got = self.probe.led_colour(name)
                    if got != colour:
                        bad.append(f"{name} {colour}->{got}")
        finally:
            self._leds_back()
        if bad:
            return Status.FAIL, "pins read back wrong: " + ", ".join(bad)
        return Status.PASS, f"{len(self.app.hw_leds)} LEDs, every die driven and read back (led test to look)"

    def keys(self) -> tuple[str, str]:
        panel = self.app.panel
        stuck = [k for k, b in panel.buttons.items() if b.is_active]
        stuck += [f"keypad column {i + 1}" for i, c in enumerate(panel.keypad.cols) if c.is_active]
        hook = "off-hook" if panel.off_hook() else "on-hook"
        if stuck:
            return Status.FAIL, "pressed at rest (stuck or shorted): " + ", ".join(stuck)
        return Status.PASS, f"{len(panel.buttons)} keys and keypad at rest, hook {hook} (keys for a live test)"

    def storage(self) -> tuple[str, str]:
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
            return Status.FAIL, f"{state_dir}: {e.strerror or e}"
        records = self.app.journal.count()
        return Status.PASS, f"{state_dir} writable, {free_mb} MB free, journal holds {records} records"

    def server(self) -> tuple[str, str]:
        server = ServerSettings.from_config(self.app.unit.cfg)
        if not server.url:
            return Status.SKIP, "server.url is empty (no central server configured)"
        parts = urlsplit(server.url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        timeout = min(5.0, server.timeout_s)
        t0 = time.monotonic()
        try:
            with socket.create_connection((host, port), timeout=timeout) as sock:
                if parts.scheme == "https":
                    ctx = ssl.create_default_context(cafile=server.ca_file)
                    with ctx.wrap_socket(sock, server_hostname=host):
                        pass
        except ssl.SSLError as e:
            return Status.FAIL, f"{host}:{port} TLS: {e.reason or e}"
        except OSError as e:
            return Status.FAIL, f"{host}:{port}: {e.strerror or e}"
        what = "TLS handshake" if parts.scheme == "https" else "TCP connect"
        return Status.PASS, f"{host}:{port} {what} in {(time.monotonic() - t0) * 1000:.0f} ms"


    def _leds_back(self) -> None:
        show_unit_leds(self.app)


def show_unit_leds(app: App) -> None:
    """Drive the LED pins with what the unit's LEDs show again (after a test drove them)."""
    leds = app.unit.leds
    for name in leds.states:
        app.hw_leds[name].set_rgb(COLOURS[leds.shown(name).colour])
