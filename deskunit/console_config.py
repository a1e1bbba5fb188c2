"""The console's ``config`` command: show, check and set the unit's configuration.

``config set`` validates with :mod:`firmware.config`, applies what is safe to apply live and saves
the value in ``<state_dir>/console-overrides.toml`` (read at start by :func:`with_saved_overrides`).
Secrets are never shown, operators' names neither.
"""

from __future__ import annotations

import difflib
import json
import logging
import os
import tomllib
from pathlib import Path
from typing import Any

from firmware.config import SCHEMA, load_config, lookup, merge, site_config_path, validate
from firmware.console import is_secret
from firmware.exc import CommandError, ConfigError

log = logging.getLogger("deskunit.console_backend")

OVERRIDES_FILE = "console-overrides.toml"
#: Keys the running unit reads each time it needs them, so a new value is safe to apply at once.
LIVE_KEYS = frozenset({
    "unit.language", "greeting.morning", "greeting.day", "greeting.evening", "line.countdown_s",
    "line.silent_callback_s", "hold.warn_s", "hold.limit_s", "console.idle_logout_s", "console.pin_hash",
})


def parse_value(text: str) -> Any:
    """A console value as TOML (``200``, ``true``, ``0x27``, ``[1, 2]``, ``"x"``), else the bare text."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text.strip()


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot save a {type(value).__name__}")


def read_overrides(state_dir: Path) -> dict[str, Any]:
    path = Path(state_dir) / OVERRIDES_FILE
    if not path.exists():
        return {}
    with open(path, "rb") as fh:
        return tomllib.load(fh)


def write_overrides(state_dir: Path, overrides: dict[str, Any]) -> Path:
    """Write atomically: a power cut leaves the old file or the new one, never half of one."""
    path = Path(state_dir) / OVERRIDES_FILE
    lines = ["# Set with the technician console (config set). Merged over the site config at start."]
    for table in sorted(overrides):
        lines.append(f"\n[{table}]")
        lines += [f"{key} = {toml_value(v)}" for key, v in sorted(overrides[table].items())]
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


def with_saved_overrides(cfg: dict[str, Any]) -> dict[str, Any]:
    """``cfg`` with the console's saved values merged over it; unchanged (and a warning) when they
    no longer validate, so a stale override never stops the unit from starting."""
    try:
        saved = read_overrides(Path(cfg["unit"]["state_dir"]))
    except (OSError, tomllib.TOMLDecodeError) as e:
        log.warning("console overrides ignored: %s", e)
        return cfg
    if not saved:
        return cfg
    merged = merge(cfg, saved)
    try:
        validate(merged)
    except ConfigError as e:
        log.warning("console overrides ignored: %s", e)
        return cfg
    return merged


class ConfigEditor:
    """The running unit's configuration as the console shows and changes it (loop thread only)."""

    def __init__(self, unit: Any, state_dir: Path, config_path: Path | None = None) -> None:
        self.unit = unit  # firmware.unit.Unit: its cfg is replaced whole when a config is applied
        self.state_dir = Path(state_dir)
        self.config_path = config_path

    @property
    def cfg(self) -> dict[str, Any]:
        return self.unit.cfg

    def items(self) -> list[tuple[str, str]]:
        saved = self.saved()
        items = []
        for key in SCHEMA:
            value = lookup(self.cfg, key)
            shown = ("<set>" if value else "<not set>") if is_secret(key) else toml_value(value)
            table, name = key.split(".", 1)
            if name in saved.get(table, {}):
                shown += "   (set on the console)"
            items.append((key, shown))
        ops = self.cfg.get("operators") or []
        numbers = ", ".join(str(op.get("number")) for op in ops) or "none"
        with_pin = sum(1 for op in ops if op.get("pin_hash"))
        items.append(("operators", f"{len(ops)} ({numbers}); {with_pin} with a PIN; names not shown"))
        return items

    def saved(self) -> dict[str, Any]:
        try:
            return read_overrides(self.state_dir)
        except (OSError, tomllib.TOMLDecodeError):
            return {}

    def check(self) -> list[str]:
        problems = []
        try:
            validate(self.cfg)
        except ConfigError as e:
            problems.append(f"running config: {e}")
        site = self.config_path or site_config_path()
        try:
            saved = read_overrides(self.state_dir)
        except (OSError, tomllib.TOMLDecodeError) as e:
            problems.append(f"{self.state_dir / OVERRIDES_FILE}: {e}")
            saved = {}
        try:
            load_config(site, overrides=saved)
        except ConfigError as e:
            problems.append(f"{site or 'defaults'} + console overrides: {e}")
        return problems or [f"config: OK (running config, {site or 'defaults'}, console overrides)"]

    def set(self, key: str, text: str) -> str:
        if key not in SCHEMA:
            close = difflib.get_close_matches(key, list(SCHEMA), n=1)
            hint = f" Did you mean {close[0]}?" if close else " config show lists the keys."
            raise CommandError(f"refused: unknown key {key[:60]!r}.{hint} Nothing changed.")
        value = parse_value(text)
        table, name = key.split(".", 1)
        candidate = merge(self.cfg, {table: {name: value}})
        validate(candidate)  # ConfigError: the console says why; nothing is touched
        saved = self.saved()
        saved.setdefault(table, {})[name] = value
        try:
            path = write_overrides(self.state_dir, saved)
        except OSError as e:
            reason = e.strerror or e
            raise CommandError(f"refused: cannot save to {self.state_dir}: {reason}. Nothing changed.") from None
        shown = ("<set>" if value else "<not set>") if is_secret(key) else toml_value(value)
        if key in LIVE_KEYS:
            self.unit.apply_config({table: {name: value}})
            return f"{key} = {shown}: applied now, saved in {path}"
        return f"{key} = {shown}: saved in {path}; takes effect after restart"
