"""The unit's configuration: defaults from ``config/default.toml``, a site file merged over them,
and validation that names the key and the reason.

    >>> cfg = load_config(overrides={"lcd": {"size": "16x2"}})
    >>> cfg["lcd"]["size"]
    '16x2'
    >>> load_config(overrides={"lcd": {"size": "40x2"}})
    Traceback (most recent call last):
    ConfigError: lcd.size: must be one of 20x4, 16x2 (got '40x2')

Search order for the site file (like most daemons): ``$DESKUNIT_CONFIG``, then
``/etc/deskunit/deskunit.toml``; a missing site file means defaults only.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from firmware.deadline import working_days
from firmware.exc import ConfigError
from firmware.merge import merge
from firmware.phrase_check import check_phrase_overrides
from firmware.pin_hash import hash_problem
from firmware.vocabulary import Language

SITE_CONFIG = Path("/etc/deskunit/deskunit.toml")
EX_CONFIG = 78  # sysexits.h: configuration error

Config = dict[str, Any]


def default_config() -> Config:
    """``config/default.toml``, with the directories (court bodies, offices) of ``directories.toml``."""
    files = resources.files("deskunit_config")
    cfg = tomllib.loads(files.joinpath("default.toml").read_text(encoding="utf-8"))
    cfg["directories"] = tomllib.loads(files.joinpath("directories.toml").read_text(encoding="utf-8"))
    return cfg


#: A site file is a few kB; anything near this is not one.
MAX_FILE_BYTES = 1 << 20
#: Tables inside tables, at most (the deepest real key is phrases.uk.ui.x: 4).
MAX_DEPTH = 8


def read_toml(path: Path) -> Config:
    """A TOML file as tables, or :class:`ConfigError` (exit 78) for anything that is not a sane one:
    unreadable, too big, not UTF-8 text, not TOML, nested deeper than :data:`MAX_DEPTH`."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise ConfigError(str(path), f"cannot read: {e.strerror or e}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(str(path), f"larger than {MAX_FILE_BYTES // 1024} kB: not a configuration file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(str(path), f"not UTF-8 text (byte {e.start}): save it as UTF-8") from None
    if "\x00" in text:
        raise ConfigError(str(path), "holds NUL bytes: a binary file, not TOML")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(str(path), f"not valid TOML: {e}") from None
    except RecursionError:
        raise ConfigError(str(path), f"nested deeper than {MAX_DEPTH} levels") from None
    where = too_deep(doc)
    if where is not None:
        raise ConfigError(where, f"nested deeper than {MAX_DEPTH} levels")
    return doc


def too_deep(node: Any, where: str = "", depth: int = 0) -> str | None:
    """The first key (dotted) nested deeper than :data:`MAX_DEPTH`, or None."""
    if depth > MAX_DEPTH:
        return where or "(top)"
    items = node.items() if isinstance(node, Mapping) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        if isinstance(value, Mapping | list):
            found = too_deep(value, f"{where}.{key}" if where else str(key), depth + 1)
            if found:
                return found
    return None


def site_config_path() -> Path | None:
    env = os.environ.get("DESKUNIT_CONFIG")
    if env:
        return Path(env)
    return SITE_CONFIG if SITE_CONFIG.exists() else None


def load_config(path: Path | None = None, overrides: Mapping[str, Any] | None = None,
                simulator: bool = False) -> Config:
    """Defaults, then the site file (``path`` or the search order), then ``overrides``; validated.
    ``simulator``: operators may sign in without a PIN (scenarios and ``run --sim`` only)."""
    cfg = default_config()
    if path is not None:
        cfg = merge(cfg, read_toml(path))
    if overrides:
        cfg = merge(cfg, overrides)
    validate(cfg, require_pin=not simulator)
    return cfg


# ---------------------------------------------------------------- validation

Check = Callable[[Any], str | None]  # returns the reason it is wrong, or None


def one_of(*choices: Any) -> Check:
    return lambda v: None if v in choices else f"must be one of {', '.join(map(str, choices))} (got {v!r})"


def of_type(*types: type) -> Check:
    names = " or ".join(t.__name__ for t in types)

    def check(v: Any) -> str | None:
        ok = isinstance(v, types) and not (isinstance(v, bool) and bool not in types)
        return None if ok else f"must be {names} (got {v!r})"

    return check


def in_range(lo: float, hi: float) -> Check:
    def check(v: Any) -> str | None:
        if isinstance(v, bool) or not isinstance(v, int | float):
            return f"must be a number (got {v!r})"
        return None if lo <= v <= hi else f"must be between {lo} and {hi} (got {v})"

    return check


def hh_mm(v: Any) -> str | None:
    if isinstance(v, str) and re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", v):
        return None
    return f"must be a time HH:MM (got {v!r})"


def time_zone(v: Any) -> str | None:
    try:
        ZoneInfo(str(v))
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {v!r}"
    return None


def day_list(v: Any) -> str | None:
    if not isinstance(v, list) or not v:
        return f"must be a list of days, e.g. [\"mon\", \"fri\"] (got {v!r})"
    try:
        working_days(v)
    except ValueError as e:
        return str(e)
    return None


def gpio_pin(v: Any) -> str | None:
    if isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 27:
        return None
    return f"must be a BCM pin 0-27 (got {v!r})"


def pin_list(n: int) -> Check:
    def check(v: Any) -> str | None:
        if not isinstance(v, list) or len(v) != n:
            return f"must be a list of {n} BCM pins (got {v!r})"
        for p in v:
            if gpio_pin(p):
                return gpio_pin(p)
        return None

    return check


def whole(lo: int, hi: int) -> Check:
    """A whole number in [lo, hi]: no float (``1.0`` where an I2C port or a count is meant)."""
    def check(v: Any) -> str | None:
        if isinstance(v, bool) or not isinstance(v, int):
            return f"must be a whole number (got {_short(v)})"
        return None if lo <= v <= hi else f"must be between {lo} and {hi} (got {v})"

    return check


def whole_of(*choices: int) -> Check:
    def check(v: Any) -> str | None:
        if isinstance(v, bool) or not isinstance(v, int) or v not in choices:
            return f"must be one of {', '.join(map(str, choices))} (got {_short(v)})"
        return None

    return check


def _short(v: Any) -> str:
    """A value as a message shows it: at most 60 characters (a 400 kB value must not flood the log)."""
    text = repr(v)
    return text if len(text) <= 60 else f"{text[:57]}..."


def url(v: Any) -> str | None:
    """Empty (no sync), or http(s)://host[:port][/path] with a host, a port 1-65535 and no spaces."""
    if v == "":
        return None
    if not isinstance(v, str) or len(v) > 2000:
        return f"must be an http(s) URL (got {_short(v)})"
    if any(ch.isspace() for ch in v):
        return f"must not contain spaces (got {_short(v)})"
    try:
        parts = urlsplit(v)
        port = parts.port
    except ValueError as e:  # a port beyond 65535, or not a number
        return f"not a usable URL: {e} (got {_short(v)})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"must be an http(s) URL with a host (got {_short(v)})"
    if port == 0:
        return f"port 0 is no port (got {_short(v)})"
    return None


def existing_file(v: Any) -> str | None:
    """Empty, or the path of a readable regular file."""
    if not isinstance(v, str):
        return f"must be text (got {_short(v)})"
    if v and not Path(v).is_file():
        return f"no such file: {_short(v)}"
    return None


def pin_hash_value(v: Any) -> str | None:
    if not isinstance(v, str):
        return f"must be text (got {_short(v)})"
    return hash_problem(v)


def non_empty_path(v: Any) -> str | None:
    if not isinstance(v, str) or not v.strip():
        return "must be a directory path (got an empty one)"
    return None


SCHEMA: dict[str, Check] = {
    "unit.id": lambda v: None if isinstance(v, str) and re.fullmatch(r"[A-Za-z0-9._-]{1,64}", v)
    else f"must be 1-64 letters, digits, '.', '_' or '-' (got {v!r})",
    "unit.state_dir": non_empty_path,
    "unit.language": one_of(*Language),
    "unit.timezone": time_zone,
    "greeting.morning": hh_mm,
    "greeting.day": hh_mm,
    "greeting.evening": hh_mm,
    "lcd.size": one_of("20x4", "16x2"),
    "lcd.rom": one_of("cyrillic", "A02", "A00"),
    "lcd.i2c_port": whole(0, 10),
    "lcd.i2c_address": whole(0x03, 0x77),
    "pins.hook": gpio_pin,
    "pins.hook_active_low": of_type(bool),
    **{f"pins.key_{k}": gpio_pin for k in ("hold", "appeal", "up", "down", "ok", "back")},
    "pins.keypad_rows": pin_list(4),
    "pins.keypad_cols": pin_list(3),
    "pins.led_line": pin_list(3),
    "pins.led_hold": pin_list(3),
    "pins.led_sync": pin_list(3),
    "pins.led_active_high": of_type(bool),
    "pins.bounce_s": in_range(0, 0.5),
    "audio.backend": one_of("sounddevice", "pyaudio"),
    "audio.device": of_type(str, int),
    "audio.sample_rate": whole_of(8000, 16000),
    "line.countdown_s": in_range(1, 120),
    "line.silent_callback_s": in_range(5, 600),
    "hold.warn_s": in_range(10, 3600),
    "hold.limit_s": in_range(10, 3600),
    "appeal.long_ring_s": in_range(10, 300),
    "appeal.normal_ring_s": in_range(10, 300),
    "appeal.forward_cutoff": hh_mm,
    "appeal.working_days": day_list,
    "appeal.forward_warn_min": in_range(0, 600),
    "appeal.default_country": lambda v: None if isinstance(v, str) and re.fullmatch(r"[1-9][0-9]{0,2}", v)
    else f"must be a country calling code, 1-3 digits without + (got {v!r})",
    "appeal.retention_days": whole(1, 3650),
    "journal.keep_days": whole(1, 3650),
    "server.url": url,
    "server.token": of_type(str),
    "server.ca_file": existing_file,
    "server.timeout_s": in_range(0.5, 120),
    "server.allow_http": of_type(bool),
    "console.port": of_type(str),
    "console.baudrate": whole_of(9600, 19200, 38400, 57600, 115200, 230400),
    "console.pin_hash": pin_hash_value,
    "console.idle_logout_s": in_range(30, 86400),
}


SCHEMA_PIN_KEYS = {"hook", *(f"key_{k}" for k in ("hold", "appeal", "up", "down", "ok", "back"))}


def lookup(cfg: Mapping[str, Any], dotted: str) -> Any:
    node: Any = cfg
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise KeyError(dotted)
        node = node[part]
    return node


def validate(cfg: Mapping[str, Any], require_pin: bool = False) -> None:
    """Raise :class:`ConfigError` for the first wrong key (unknown keys are refused too).
    ``require_pin``: every operator listed needs a PIN (a unit's own config, outside the simulator)."""
    known_tables = {k.split(".")[0] for k in SCHEMA} | {"operators", "phrases", "directories"}
    for table in cfg:
        if table not in known_tables:
            raise ConfigError(table, "unknown section")
    for dotted, check in SCHEMA.items():
        try:
            value = lookup(cfg, dotted)
        except KeyError:
            raise ConfigError(dotted, "missing") from None
        reason = check(value)
        if reason:
            raise ConfigError(dotted, reason)
    for table in {k.split(".")[0] for k in SCHEMA}:
        for key in cfg[table]:
            if f"{table}.{key}" not in SCHEMA:
                raise ConfigError(f"{table}.{key}", "unknown key")
    validate_cross_fields(cfg)
    validate_pin_map(cfg["pins"])
    validate_combinations(cfg)
    validate_operators(cfg.get("operators", []), require_pin=require_pin)
    validate_directories(cfg.get("directories", {}))
    if "phrases" in cfg:
        check_phrase_overrides(cfg["phrases"])


def validate_cross_fields(cfg: Mapping[str, Any]) -> None:
    """Rules between keys: the parts of the day in order, stages and ring times that make sense."""
    if lookup(cfg, "hold.warn_s") >= lookup(cfg, "hold.limit_s"):
        raise ConfigError("hold.warn_s", "must be less than hold.limit_s")
    morning, day, evening = (hh_mm_minutes(lookup(cfg, f"greeting.{k}")) for k in ("morning", "day", "evening"))
    if not morning < day:
        raise ConfigError("greeting.morning", f"must be before greeting.day ({cfg['greeting']['day']})")
    if not day < evening:
        raise ConfigError("greeting.day", f"must be before greeting.evening ({cfg['greeting']['evening']})")
    if lookup(cfg, "appeal.long_ring_s") < lookup(cfg, "appeal.normal_ring_s"):
        raise ConfigError("appeal.long_ring_s", f"must be at least appeal.normal_ring_s "
                                                f"({cfg['appeal']['normal_ring_s']})")


def hh_mm_minutes(text: str) -> int:
    hh, mm = text.split(":")
    return int(hh) * 60 + int(mm)


#: GPIOs the unit's buses own: I2C for the LCD, the UART for the technician console.
RESERVED_PINS = {2: "I2C SDA (the LCD)", 3: "I2C SCL (the LCD)", 14: "UART TX (the console)",
                 15: "UART RX (the console)"}


def validate_pin_map(pins: Mapping[str, Any]) -> None:
    """Every GPIO used once, and none of the LCD's I2C or the console's UART pins."""
    seen: dict[int, str] = {}
    for key, value in pins.items():
        numbers = value if isinstance(value, list) else [value] if key in SCHEMA_PIN_KEYS else []
        for number in numbers:
            where = f"pins.{key}"
            if number in RESERVED_PINS:
                raise ConfigError(where, f"BCM {number} is {RESERVED_PINS[number]}")
            if number in seen:
                raise ConfigError(where, f"BCM {number} is already used by pins.{seen[number]}")
            seen[number] = key


def validate_combinations(cfg: Mapping[str, Any]) -> None:
    """Values that are each fine but cannot run together, or cannot run at all on a desk."""
    server, audio = cfg["server"], cfg["audio"]
    if server["url"].startswith("http://") and not server["allow_http"]:
        raise ConfigError("server.url", "http:// sends the unit's token and the callers' personal data in clear; "
                          "use https:// (a lab without TLS may set server.allow_http = true)")
    if server["url"] and not server["token"]:
        raise ConfigError("server.token", "required when server.url is set (the server refuses a unit without it)")
    device = audio["device"]
    if audio["backend"] == "pyaudio" and isinstance(device, str) and device and not device.isdigit():
        raise ConfigError("audio.device", f"the pyaudio backend opens devices by index (e.g. 2), not by name "
                          f"(got {device!r}); use the sounddevice backend for names")
    if isinstance(device, str) and device.startswith("hw:"):
        raise ConfigError("audio.device", f"{device!r} opens the interface without resampling, and "
                          f"{audio['sample_rate']} Hz fails on interfaces that only do 44.1/48 kHz; name a plug "
                          "PCM instead (\"default\", or one defined in /etc/asound.conf, see docs/raspberry-pi.md)")
    if isinstance(device, int) and device < 0:
        raise ConfigError("audio.device", f"a device index is 0 or more (got {device}); \"\" is the default input")


#: An operator's full name, at most (the LCD shows it on two rows of 20).
MAX_NAME = 80


def validate_operators(operators: Any, require_pin: bool = False) -> None:
    """The roster; ``require_pin``: every operator needs a PIN (the unit's own config file)."""
    if not isinstance(operators, list):
        raise ConfigError("operators", "must be a list of tables [[operators]]")
    seen: set[int] = set()
    for i, op in enumerate(operators):
        where = f"operators[{i}]"
        if not isinstance(op, Mapping):
            raise ConfigError(where, "must be a table")
        number = op.get("number")
        if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= 9999:
            raise ConfigError(f"{where}.number", f"must be a number 1-9999 (got {number!r})")
        if number in seen:
            raise ConfigError(f"{where}.number", f"operator {number} is listed twice")
        seen.add(number)
        name = op.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{where}.name", "must be the operator's full name")
        if len(name) > MAX_NAME or not name.isprintable():
            raise ConfigError(f"{where}.name", f"must be at most {MAX_NAME} printable characters "
                                               f"(got {len(name)} characters)")
        problem = pin_hash_value(op.get("pin_hash", ""))
        if problem:
            raise ConfigError(f"{where}.pin_hash", problem)
        if require_pin and not op.get("pin_hash"):
            raise ConfigError(f"{where}.pin_hash", "required: `deskunit console hash-pin` prints one")


DIRECTORY_FIELDS = {"court_bodies": {"id": str, "name": str},
                    "offices": {"id": str, "name": str, "address": str, "ramp": bool, "wide_door": bool,
                                "lift": bool}}


def validate_directories(directories: Any) -> None:
    if not isinstance(directories, Mapping):
        raise ConfigError("directories", "must be a table")
    for name, value in directories.items():
        if name not in DIRECTORY_FIELDS:
            raise ConfigError(f"directories.{name}", "unknown directory (court_bodies, offices)")
        if not isinstance(value, list):
            raise ConfigError(f"directories.{name}", "must be a list of tables")
        ids: set[str] = set()
        for i, entry in enumerate(value):
            where = f"directories.{name}[{i}]"
            if not isinstance(entry, Mapping):
                raise ConfigError(where, "must be a table")
            for key, kind in DIRECTORY_FIELDS[name].items():
                if not isinstance(entry.get(key), kind):
                    raise ConfigError(f"{where}.{key}", f"must be {'true or false' if kind is bool else 'text'}")
            if entry["id"] in ids:
                raise ConfigError(f"{where}.id", f"{entry['id']!r} is listed twice")
            ids.add(entry["id"])
