"""Configuration: a wrong value is refused with its key and the reason; defaults are valid."""

from __future__ import annotations

import pytest

from firmware.config import ConfigError, load_config


def test_the_shipped_defaults_are_valid():
    cfg = load_config()
    assert cfg["lcd"]["size"] == "20x4" and cfg["directories"]["offices"]


@pytest.mark.parametrize("override, key, reason", [
    ({"lcd": {"size": "40x2"}}, "lcd.size", "one of 20x4, 16x2"),
    ({"lcd": {"rom": "B01"}}, "lcd.rom", "one of cyrillic"),
    ({"greeting": {"day": "25:00"}}, "greeting.day", "HH:MM"),
    ({"unit": {"timezone": "Mars/Olympus"}}, "unit.timezone", "unknown time zone"),
    ({"unit": {"language": "de"}}, "unit.language", "one of uk, ru, en"),
    ({"hold": {"warn_s": 200}}, "hold.warn_s", "less than hold.limit_s"),
    ({"greeting": {"morning": "13:00"}}, "greeting.morning", "before greeting.day (12:00)"),
    ({"greeting": {"day": "19:00"}}, "greeting.day", "before greeting.evening (18:00)"),
    ({"appeal": {"long_ring_s": 20}}, "appeal.long_ring_s", "at least appeal.normal_ring_s (30)"),
    ({"appeal": {"working_days": ["mon", "fryday"]}}, "appeal.working_days", "unknown day 'fryday'"),
    ({"appeal": {"working_days": []}}, "appeal.working_days", "list of days"),
    ({"appeal": {"default_country": "+380"}}, "appeal.default_country", "country calling code"),
    ({"audio": {"sample_rate": 44100}}, "audio.sample_rate", "8000"),
    ({"server": {"url": "ftp://x"}}, "server.url", "http(s) URL"),
    ({"pins": {"led_sync": [23, 18, 15]}}, "pins.led_sync", "UART RX"),
    ({"pins": {"key_ok": 4}}, "pins.key_ok", "already used by pins.hook"),
    ({"pins": {"keypad_rows": [1, 2]}}, "pins.keypad_rows", "list of 4"),
    ({"lcd": {"colour": "blue"}}, "lcd.colour", "unknown key"),
    ({"printer": {}}, "printer", "unknown section"),
    ({"operators": [{"number": 7, "name": "A", "pin_hash": "h"}, {"number": 7, "name": "B", "pin_hash": "h"}]},
     "operators[1].number", "twice"),
    ({"operators": [{"number": 7, "name": "A", "pin_hash": ""}]}, "operators[0].pin_hash", "hash-pin"),
    ({"operators": [{"number": 8, "name": "B"}]}, "operators[0].pin_hash", "required"),
    ({"directories": {"offices": [{"id": "x", "name": "X", "address": "a", "ramp": "yes", "wide_door": True,
                                   "lift": True}]}}, "directories.offices[0].ramp", "true or false"),
])
def test_a_bad_value_names_its_key_and_the_reason(override, key, reason):
    with pytest.raises(ConfigError) as e:
        load_config(overrides=override)
    assert e.value.key == key
    assert reason in e.value.reason


def test_config_check_names_a_cross_field_mistake(tmp_path):
    import subprocess
    import sys

    site = tmp_path / "deskunit.toml"
    site.write_text('[greeting]\nmorning = "12:30"\n', encoding="utf-8")
    p = subprocess.run([sys.executable, "-m", "deskunit.cli", "config", "check", str(site)], capture_output=True,
                       text=True)
    assert p.returncode == 78
    assert "greeting.morning" in p.stdout + p.stderr and "before greeting.day" in p.stdout + p.stderr


def test_the_default_config_has_no_operator_without_a_pin():
    assert load_config().get("operators", []) == []


def test_a_site_file_is_merged_over_the_defaults(tmp_path):
    site = tmp_path / "deskunit.toml"
    site.write_text('[lcd]\nsize = "16x2"\n[unit]\nid = "kyiv-desk-12"\n', encoding="utf-8")
    cfg = load_config(site)
    assert cfg["lcd"]["size"] == "16x2" and cfg["lcd"]["rom"] == "cyrillic" and cfg["unit"]["id"] == "kyiv-desk-12"


def test_a_broken_site_file_is_named(tmp_path):
    site = tmp_path / "deskunit.toml"
    site.write_text("[lcd\nsize=", encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(site)
    assert str(site) in str(e.value) and "TOML" in str(e.value)
