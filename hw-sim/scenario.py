"""``deskunit sim --script``: run a scenario file on the simulated unit under a virtual clock.

The format is docs/scenarios.md: a ``[unit]`` set-up, then ``[[step]]`` tables applied
at their time ``at``; the run ends one second after the last step. Exit status: 0 every expectation
held, 1 one failed, 2 the file is invalid (the message names the step and the key).

    >>> result = run_scenario(Path("morning_greeting.toml"))
    >>> result.passed
    True
"""

from __future__ import annotations

import heapq
import itertools
import json
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from firmware.clock import KYIV, VirtualClock
from firmware.config import load_config, merge, read_toml
from firmware.events import ALL_KEYS
from firmware.exc import ConfigError, ScenarioError
from firmware.leds import COLOURS
from hwsim.audio import parse_mode
from hwsim.faults import POWER_STEPS, parse_fault
from hwsim.gpio import DELIVERIES
from hwsim.matching import shows
from hwsim.sync_sim import attach_sync
from hwsim.unit import SimUnit

KEYS_GAP_S = 0.15
PRESS_S = 0.1
ACTIONS = ("audio", "hook", "press", "keys", "server", "fault", "power")
EXPECTS = ("expect_lcd", "expect_not_lcd", "expect_led", "expect_record", "expect_synced")
STEP_KEYS = {"at", "hold_s", *ACTIONS, *EXPECTS}
UNIT_KEYS = {"lcd", "rom", "language", "clock", "operator", "server", "config", "gpio", "bounce_ms"}

@dataclass
class Failure:
    at: float
    step: int
    expected: Any
    got: Any


@dataclass
class Result:
    """The outcome of one scenario run, as written to ``--report``."""

    passed: bool = True
    failures: list[Failure] = field(default_factory=list)
    screens: list[dict[str, Any]] = field(default_factory=list)
    leds: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "failures": [f.__dict__ for f in self.failures],
            "screens": self.screens,
            "leds": self.leds,
            "records": self.records,
        }


# ---------------------------------------------------------------- parsing


def load_scenario(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ScenarioError(f"{path}: cannot read: {e.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ScenarioError(f"{path}: not valid TOML: {e}") from None
    unit = data.get("unit", {})
    for key in unit:
        if key not in UNIT_KEYS:
            raise ScenarioError(f"[unit]: unknown key {key!r}")
    steps = data.get("step", [])
    if not isinstance(steps, list) or not steps:
        raise ScenarioError("no [[step]] tables")
    for i, step in enumerate(steps, 1):
        check_step(i, step)
    for key in data:
        if key not in ("unit", "step"):
            raise ScenarioError(f"unknown table {key!r}")
    return unit, steps


def check_step(i: int, step: dict[str, Any]) -> None:
    where = f"step {i}"
    for key in step:
        if key not in STEP_KEYS:
            raise ScenarioError(f"{where}: unknown key {key!r}")
    at = step.get("at")
    if isinstance(at, bool) or not isinstance(at, int | float) or at < 0:
        raise ScenarioError(f"{where}: 'at' must be a time in seconds >= 0 (got {at!r})")
    if not any(k in step for k in ACTIONS + EXPECTS):
        raise ScenarioError(f"{where}: nothing to do (expected one of {', '.join(ACTIONS + EXPECTS)})")
    if "audio" in step:
        try:
            parse_mode(str(step["audio"]))
        except ValueError as e:
            raise ScenarioError(f"{where}: audio: {e}") from None
    if "hook" in step and step["hook"] not in ("off", "on"):
        raise ScenarioError(f"{where}: hook must be 'off' or 'on' (got {step['hook']!r})")
    if "press" in step and step["press"] not in ALL_KEYS:
        raise ScenarioError(f"{where}: press: no key {step['press']!r} (keys: {' '.join(ALL_KEYS)})")
    if "hold_s" in step and (not isinstance(step["hold_s"], int | float) or step["hold_s"] <= 0):
        raise ScenarioError(f"{where}: hold_s must be a positive number of seconds")
    if "keys" in step and (not isinstance(step["keys"], str) or any(k not in ALL_KEYS[6:] for k in step["keys"])):
        raise ScenarioError(f"{where}: keys must be keypad keys 0-9 * # (got {step['keys']!r})")
    if "fault" in step:
        try:
            parse_fault(step["fault"])
        except ValueError as e:
            raise ScenarioError(f"{where}: fault: {e}") from None
    if "power" in step and step["power"] not in POWER_STEPS:
        raise ScenarioError(f"{where}: power must be 'cut' or 'on' (got {step['power']!r})")
    if "server" in step and step["server"] not in ("up", "down"):
        raise ScenarioError(f"{where}: server must be 'up' or 'down' (got {step['server']!r})")
    for key in ("expect_lcd", "expect_not_lcd"):
        if key in step and not isinstance(step[key], str):
            raise ScenarioError(f"{where}: {key} must be text")
    if "expect_led" in step:
        leds = step["expect_led"]
        if not isinstance(leds, dict) or not leds:
            raise ScenarioError(f"{where}: expect_led must be a table like {{ line = \"green\" }}")
        for name, value in leds.items():
            if name not in ("line", "hold", "sync"):
                raise ScenarioError(f"{where}: expect_led: no LED {name!r} (line, hold, sync)")
            if not isinstance(value, str) or value.removesuffix("-blink") not in COLOURS:
                raise ScenarioError(f"{where}: expect_led.{name}: unknown value {value!r}")
    if "expect_record" in step and not isinstance(step["expect_record"], dict):
        raise ScenarioError(f"{where}: expect_record must be a table of fields")
    if "expect_synced" in step and (isinstance(step["expect_synced"], bool)
                                    or not isinstance(step["expect_synced"], int) or step["expect_synced"] < 0):
        raise ScenarioError(f"{where}: expect_synced must be a count >= 0")


def unit_config(unit: dict[str, Any], base_dir: Path) -> dict[str, Any]:
    over: dict[str, Any] = {}
    if "config" in unit:
        over = read_toml(base_dir / unit["config"])
    extra: dict[str, Any] = {}
    if "lcd" in unit:
        extra.setdefault("lcd", {})["size"] = unit["lcd"]
    if "rom" in unit:
        extra.setdefault("lcd", {})["rom"] = unit["rom"]
    if "language" in unit:
        extra.setdefault("unit", {})["language"] = unit["language"]
    try:
        return load_config(overrides=merge(over, extra), simulator=True)
    except ConfigError as e:
        raise ScenarioError(f"[unit]: {e}") from None


def parse_hardware(unit: dict[str, Any]) -> tuple[str, float]:
    """``[unit] gpio`` (edge delivery) and ``bounce_ms`` (contact chatter) as (delivery, seconds)."""
    gpio = unit.get("gpio", "mock")
    if gpio not in DELIVERIES:
        raise ScenarioError(f"[unit]: gpio must be one of {', '.join(DELIVERIES)} (got {gpio!r})")
    bounce = unit.get("bounce_ms", 0)
    if isinstance(bounce, bool) or not isinstance(bounce, int | float) or not 0 <= bounce <= 100:
        raise ScenarioError(f"[unit]: bounce_ms must be a number of milliseconds 0-100 (got {bounce!r})")
    return gpio, bounce / 1000.0


def parse_clock(unit: dict[str, Any], tz: Any = None) -> VirtualClock:
    """The scenario's virtual clock; wall time shown in ``tz`` (the unit's configured zone)."""
    tz = tz or KYIV
    if "clock" not in unit:
        return VirtualClock(tz=tz)
    value = unit["clock"]
    try:
        when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        raise ScenarioError(f"[unit]: clock must be ISO 8601 with an offset (got {value!r})") from None
    if when.tzinfo is None:
        raise ScenarioError("[unit]: clock needs a UTC offset, e.g. 2026-11-23T09:15:00+02:00")
    return VirtualClock(wall_start=when, tz=tz)


# ---------------------------------------------------------------- running


def flatten(record: dict[str, Any]) -> dict[str, Any]:
    flat = dict(record)
    if isinstance(record.get("appeal"), dict):
        flat.update(record["appeal"])
    return flat


class Runner:
    """Applies the steps to a :class:`SimUnit` on a virtual clock and checks the expectations."""

    def __init__(self, path: Path, hardware: dict[str, Any] | None = None) -> None:
        """``hardware`` overrides the file's ``gpio`` / ``bounce_ms`` (to run one scenario both ways)."""
        self.path = path
        self.unit_spec, self.steps = load_scenario(path)
        self.cfg = unit_config(self.unit_spec, path.parent)
        self.clock = parse_clock(self.unit_spec, ZoneInfo(self.cfg["unit"]["timezone"]))
        gpio, bounce_s = parse_hardware({**self.unit_spec, **(hardware or {})})
        self.result = Result()
        self.sim = SimUnit.create(self.cfg, self.clock, base_dir=path.parent, gpio=gpio, bounce_s=bounce_s)
        attach_sync(self.sim)  # a central server on loopback; `server` steps take it down/up
        self.sim.on_screen.append(self._screen_changed)
        self._screen_changed(self.sim.lcd_rows())
        op = self.unit_spec.get("operator")
        if op:
            if not isinstance(op, dict) or "number" not in op or "name" not in op:
                raise ScenarioError("[unit]: operator must be { number = N, name = \"...\" }")
            self.sim.unit.sign_in(int(op["number"]), str(op["name"]))
        if self.unit_spec.get("server", "up") == "down":
            self.sim.set_server(False)
        self._pending: list[tuple[float, int, Any]] = []  # heap of (t, order, action): releases, typed keys
        self._order = itertools.count()

    def _screen_changed(self, rows: list[str]) -> None:
        if not self.result.screens or self.result.screens[-1]["rows"] != rows:
            self.result.screens.append({"t": round(self.clock.monotonic(), 3), "rows": rows})

    def advance_to(self, t: float) -> None:
        while self._pending and self._pending[0][0] <= t:
            when, _, action = heapq.heappop(self._pending)
            self.sim.advance_to(when)
            action()
        self.sim.advance_to(t)

    def later(self, t: float, action: Any) -> None:
        heapq.heappush(self._pending, (t, next(self._order), action))  # equal times keep their order

    def run(self) -> Result:
        try:
            for i, step in enumerate(self.steps, 1):
                at = float(step["at"])
                self.advance_to(at)
                self.apply(i, at, step)
            self.advance_to(max(float(s["at"]) for s in self.steps) + 1.0)
            self.result.leds = [{"t": round(t, 3), "led": n, "value": v} for t, n, v in self.sim.board.led_log]
            self.result.records = self.sim.journal.all()
            self.result.passed = not self.result.failures
        finally:
            self.sim.close()
        return self.result

    def apply(self, i: int, at: float, step: dict[str, Any]) -> None:
        sim = self.sim
        if "audio" in step:
            sim.line.set_mode(str(step["audio"]))
        if "server" in step:
            sim.set_server(step["server"] == "up")
        if "fault" in step:
            sim.inject_fault(step["fault"])
        if "power" in step:
            sim.power_cut() if step["power"] == "cut" else sim.power_on()
        if "hook" in step:
            sim.hook(off=step["hook"] == "off")
        if "press" in step:
            key = step["press"]
            sim.press(key)
            self.later(at + float(step.get("hold_s", PRESS_S)), lambda k=key: sim.release(k))
        if "keys" in step:
            for n, key in enumerate(step["keys"]):
                t = at + n * KEYS_GAP_S
                self.later(t, lambda k=key: sim.press(k))
                self.later(t + PRESS_S, lambda k=key: sim.release(k))
        sim.settle()
        self.check(i, at, step)

    def fail(self, i: int, at: float, expected: Any, got: Any) -> None:
        self.result.failures.append(Failure(at, i, expected, got))

    def check(self, i: int, at: float, step: dict[str, Any]) -> None:
        sim = self.sim
        screen = " ".join(sim.lcd_rows())
        rom = self.cfg["lcd"]["rom"]
        if "expect_lcd" in step and not shows(step["expect_lcd"], screen, rom):
            self.fail(i, at, {"lcd": step["expect_lcd"]}, {"lcd": sim.lcd_rows()})
        if "expect_not_lcd" in step and shows(step["expect_not_lcd"], screen, rom):
            self.fail(i, at, {"not_lcd": step["expect_not_lcd"]}, {"lcd": sim.lcd_rows()})
        if "expect_led" in step:
            got = {name: sim.led(name) for name in step["expect_led"]}
            if got != step["expect_led"]:
                self.fail(i, at, {"led": step["expect_led"]}, {"led": got})
        if "expect_record" in step:
            latest = sim.journal.latest()
            flat = flatten(latest) if latest else {}
            wrong = {k: flat.get(k) for k, v in step["expect_record"].items() if flat.get(k) != v}
            if latest is None or wrong:
                self.fail(i, at, {"record": step["expect_record"]}, {"record": wrong if latest else None})
        if "expect_synced" in step:
            got = sim.synced_count()
            if got != step["expect_synced"]:
                self.fail(i, at, {"synced": step["expect_synced"]}, {"synced": got})


def run_scenario(path: Path, report: Path | None = None, hardware: dict[str, Any] | None = None) -> Result:
    result = Runner(path, hardware).run()
    if report is not None:
        report.write_text(json.dumps(result.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")
    return result


def main(path: Path, report: Path | None = None, verbose: bool = True) -> int:
    try:
        result = run_scenario(path, report)
    except ScenarioError as e:
        print(f"{path}: invalid scenario: {e}")
        return 2
    if verbose:
        for f in result.failures:
            print(f"FAIL step {f.step} at {f.at:g}s: expected {f.expected}, got {f.got}")
        print(f"{path.name}: {'passed' if result.passed else 'FAILED'} "
              f"({len(result.screens)} screens, {len(result.records)} records)")
    return 0 if result.passed else 1
