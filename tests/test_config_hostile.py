"""Configuration a careless technician or a hostile server could hand the unit (issue 18, points 4
and 5): `deskunit config check` refuses every file in tests/fixtures/hostile_config/ with exit 78 and
a message naming the key, never a traceback; a pushed config failing the same checks is refused
and the last good one kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from deskunit.cli import main as deskunit
from firmware.config import EX_CONFIG, load_config
from firmware.exc import ConfigError
from firmware.pin_hash import hash_pin, verify_pin
from firmware.sync import PUSHED_CONFIG_DRAFT
from firmware.sync.pushed_config import validate_pushed_config
from tests.test_sync_worker import rig as rig  # the fixture

HOSTILE = Path(__file__).parent / "fixtures" / "hostile_config"
FILES = sorted(HOSTILE.iterdir())
#: What each file's message must name (the key, or what is wrong with the file).
NAMES = {
    "phrases_language_is_a_number.toml": "phrases.uk", "phrases_key_is_a_number.toml": "phrases.uk.greeting",
    "phrases_empty_list.toml": "phrases.uk.phrase", "phrases_one_entry_list.toml": "hold_consent",
    "phrases_unknown_placeholder.toml": "{x}", "phrases_format_spec.toml": "format spec",
    "phrases_missing_keys.toml": "phrases.uk.ui", "lcd_i2c_port_float.toml": "lcd.i2c_port",
    "lcd_i2c_address_float.toml": "lcd.i2c_address", "server_ca_file_missing.toml": "server.ca_file",
    "server_url_no_host.toml": "server.url", "server_url_port_99999.toml": "server.url",
    "server_url_space.toml": "spaces", "console_pin_hash_garbage.toml": "console.pin_hash",
    "console_pin_hash_2e9_iterations.toml": "2000000000 PBKDF2 rounds",
    "operator_pin_hash_2e9_iterations.toml": "operators[0].pin_hash",
    "operator_pin_hash_too_few_iterations.toml": "operators[0].pin_hash",
    "unit_state_dir_empty.toml": "unit.state_dir", "operator_name_too_long.toml": "operators[0].name",
    "greeting_out_of_order.toml": "greeting.morning", "greeting_day_before_morning.toml": "greeting.morning",
    "deeply_nested_tables.toml": "nested deeper", "not_utf8.toml": "not UTF-8",
    "binary.toml": "not UTF-8", "deeply_nested_arrays.toml": "nested deeper",
}


def test_every_fixture_is_named():
    assert {f.name for f in FILES} == set(NAMES)


@pytest.mark.parametrize("path", FILES, ids=[f.name for f in FILES])
def test_config_check_exits_78_naming_the_key(path, capsys):
    assert deskunit(["config", "check", str(path)]) == EX_CONFIG
    err = capsys.readouterr().err
    assert NAMES[path.name] in err and "Traceback" not in err
    assert len(err) < 600  # a 400 kB value is not echoed back


def test_a_400_kb_operator_name_is_refused_without_echoing_it(tmp_path, capsys):
    path = tmp_path / "long.toml"
    path.write_text('[[operators]]\nnumber = 7\nname = "' + "О" * 200_000 + '"\n', encoding="utf-8")
    assert deskunit(["config", "check", str(path)]) == EX_CONFIG
    err = capsys.readouterr().err
    assert "operators[0].name" in err and len(err) < 600


def test_run_exits_78_too_not_a_traceback(tmp_path, capsys):
    assert deskunit(["run", "--config", str(HOSTILE / "binary.toml")]) == EX_CONFIG
    assert "configuration error" in capsys.readouterr().err


def test_good_values_still_pass(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    cfg = load_config(overrides={
        "server": {"url": "https://central.example.org:8443/api/v1", "token": "unit-token", "ca_file": str(ca)},
        "console": {"pin_hash": hash_pin("4821", iterations=120_000)},
        "phrases": {"uk": {"script": {"intro": "Оператор {number}: {name}"}, "ui": {"idle": "Чекаю {{дзвінка}}"}}},
    })
    assert cfg["lcd"]["i2c_port"] == 1


def test_a_hash_asking_for_2e9_rounds_never_runs_them():
    stored = "pbkdf2_sha256$2000000000$000102030405060708090a0b0c0d0e0f$" + "0" * 64
    assert verify_pin("1234", stored) is False  # returns at once: no 20 s of PBKDF2 on the loop


BAD_PUSHES = {
    "bank missing keys": {"phrases": {"uk": {"greeting": "Вітаю"}}},
    "unknown placeholder": {"phrases": {"uk": {"script": {"intro": "Оператор {x}"}}}},
    "one-entry phrase list": {"phrases": {"en": {"phrase": [{"id": "a", "title": "A", "text": "B"}]}}},
    "2e9 PBKDF2 rounds": {"operators": [{"number": 7, "name": "Олена Петренко", "pin_hash":
                                         "pbkdf2_sha256$2000000000$000102030405060708090a0b0c0d0e0f$" + "0" * 64}]},
    "nested 50 deep": {"phrases": {"uk": {"ui": "x"}}},
}
for _ in range(50):
    BAD_PUSHES["nested 50 deep"] = {"phrases": {"uk": {"ui": BAD_PUSHES["nested 50 deep"]}}}


@pytest.mark.parametrize("doc", BAD_PUSHES.values(), ids=BAD_PUSHES.keys())
def test_pushed_config_that_would_break_calls_is_refused(doc):
    with pytest.raises(ConfigError):
        validate_pushed_config(doc)


def test_a_refused_push_keeps_the_last_good_one(rig):
    r = rig(pull_period_s=600.0)
    good = {"phrases": {"uk": {"ui": {"idle": "Чекаю"}}}}
    r.server.set_config(good)
    r.worker.pull_now()
    r.run(0.01)
    for bad in BAD_PUSHES.values():
        r.server.set_config(bad)
        r.run(601)
        assert r.configs == [good] and r.journal.get_draft(PUSHED_CONFIG_DRAFT)["doc"] == good
        assert "pushed config refused" in r.worker.state()["last_error"]
