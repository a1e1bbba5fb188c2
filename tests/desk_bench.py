"""A unit's core on a bench: the real call layer, journal and loop on a virtual clock, with the LCD as
rows of text and no simulated silicon, so a test can drive thousands of keys, hooks and power cuts fast.

    >>> bench = DeskBench(tmp_path, size="16x2")
    >>> bench.hook(True); bench.keys("APPEAL", "OK", "2")
    >>> "ПІБ" in bench.text()
    True
    >>> bench.power_cut(); bench.power_on(off_hook=False)   # the form is back on screen

A power cut drops the unit, its loop and its timers (nothing runs while it is off) and closes the
journal as the process would die; ``power_on`` builds a new unit on the same journal file and runs the
start-up recovery, as ``deskunit run`` does.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from firmware.call.recovery import recover
from firmware.call.unit import Unit
from firmware.clock import VirtualClock
from firmware.config import load_config
from firmware.display import parse_size
from firmware.events import HookChanged, KeyDown, KeyUp, LineVerdict
from firmware.journal import Journal
from firmware.leds import Leds
from firmware.loop import EventLoop

KEY_GAP_S = 0.2


class TextScreen:
    """The LCD as rows of text."""

    def __init__(self, cols: int, rows: int) -> None:
        self.cols, self.rows = cols, rows
        self.shown: list[str] = [""] * rows

    def show(self, rows: list[str]) -> None:
        self.shown = list(rows)


class DeskBench:
    """See the module docstring. ``overrides`` are merged over the default config."""

    def __init__(self, state_dir: Path, *, size: str = "20x4", rom: str = "cyrillic", language: str = "uk",
                 clock: str | None = "2026-11-23T10:00:00+02:00",
                 operator: tuple[int, str] | None = (7, "Олена Петренко"), **overrides: Any) -> None:
        over = {"lcd": {"size": size, "rom": rom}, "unit": {"language": language}}
        for table, values in overrides.items():
            over.setdefault(table, {}).update(values)
        self.cfg = load_config(overrides=over)
        self.clock = VirtualClock(datetime.fromisoformat(clock)) if clock else VirtualClock()
        self.state_dir = Path(state_dir)
        self.operator = operator
        self.off_hook = False
        self.unit: Unit | None = None
        self.power_on(off_hook=False, first=True)

    # ---------------------------------------------------------------- power
    def power_on(self, off_hook: bool | None = None, first: bool = False) -> None:
        if off_hook is not None:
            self.off_hook = off_hook
        cols, rows = parse_size(self.cfg["lcd"]["size"])
        self.screen = TextScreen(cols, rows)
        holder: dict[str, Unit] = {}
        self.loop = EventLoop(self.clock, lambda e: holder["unit"].handle(e))
        leds = Leds({name: (lambda rgb: None) for name in ("line", "hold", "sync")}, self.loop.call_later)
        self.leds = leds
        self.journal = Journal(self.state_dir / "journal.sqlite3")
        self.unit = holder["unit"] = Unit(self.cfg, self.clock, self.loop, display=self.screen, leds=leds,
                                          journal=self.journal)
        if first and self.operator:
            self.unit.sign_in(*self.operator)
        self.recovery = recover(self.unit, off_hook=self.off_hook)
        if self.off_hook and self.unit.call is None:
            self.loop.post(HookChanged(off_hook=True))  # as run does: the hook as it is now
        self.loop.run_pending()

    def power_cut(self) -> None:
        """Everything not committed is gone; the journal file stays."""
        self.journal.close()
        self.unit = None

    @property
    def powered(self) -> bool:
        return self.unit is not None

    # ---------------------------------------------------------------- inputs
    def hook(self, off: bool) -> None:
        self.off_hook = off
        if self.unit is not None:
            self.loop.post(HookChanged(off_hook=off))
            self.loop.run_pending()

    def key(self, key: str, gap: float = KEY_GAP_S) -> None:
        if self.unit is None:
            return
        self.loop.post(KeyDown(key))
        self.loop.post(KeyUp(key))
        self.loop.run_pending()
        self.advance(gap)

    def keys(self, *keys: str, gap: float = KEY_GAP_S) -> None:
        for key in keys:
            self.key(key, gap)

    def line(self, verdict: str) -> None:
        if self.unit is not None:
            self.loop.post(LineVerdict(verdict, 0.0))
            self.loop.run_pending()

    def advance(self, seconds: float) -> None:
        if self.unit is None:
            self.clock.advance(seconds)
        else:
            self.loop.run_until(self.clock.monotonic() + seconds)

    # ---------------------------------------------------------------- reading
    @property
    def rows(self) -> list[str]:
        return self.screen.shown

    def text(self) -> str:
        return " ".join(" ".join(self.rows).split())

    def close(self) -> None:
        if self.unit is not None:
            self.journal.close()
            self.unit = None
