"""Every scenario of ours (tests/scenarios/) must pass under `deskunit sim --script`. Each public scenario
the project was specified with has an equivalent of ours there; when ../shared is beside the repository its
scenarios run as extra cases of the same test (absent, there is simply nothing extra to run)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import OUR_SCENARIOS, SHARED_SCENARIOS, shared_missing

from hwsim.matching import fold
from hwsim.scenario import STEP_KEYS, run_scenario

OURS = sorted(OUR_SCENARIOS.glob("*.toml"))
#: as on a Pi 5: gpiozero's lgpio pin factory (edges queued, one callback thread) and bouncing contacts
ON_A_PI = {"gpio": "lgpio", "bounce_ms": 8}
#: Power cuts mid-appeal and mid-hold (issue 13), for the runner's `power` steps.
POWER = sorted((OUR_SCENARIOS / "power").glob("*.toml"))


def shared_scenarios() -> list:
    if not SHARED_SCENARIOS.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=shared_missing(SHARED_SCENARIOS)),
                             id="shared-missing")]
    return [pytest.param(p, id=f"shared/{p.relative_to(SHARED_SCENARIOS)}")
            for p in sorted(SHARED_SCENARIOS.glob("*.toml")) + sorted(SHARED_SCENARIOS.glob("faults/*.toml"))]


@pytest.mark.parametrize("path", OURS, ids=lambda p: p.name)
def test_scenario_passes(path):
    result = run_scenario(path)
    assert result.passed, [f.__dict__ for f in result.failures]


@pytest.mark.parametrize("path", shared_scenarios())
def test_shared_scenario_passes(path):
    result = run_scenario(path)
    assert result.passed, [f.__dict__ for f in result.failures]


@pytest.mark.skipif("power" not in STEP_KEYS, reason="the scenario runner has no `power` steps yet")
@pytest.mark.parametrize("path", POWER, ids=lambda p: p.name)
def test_power_cut_scenario_passes(path):
    result = run_scenario(path)
    assert result.passed, [f.__dict__ for f in result.failures]


@pytest.mark.parametrize("path", shared_scenarios() + [pytest.param(p, id=p.name) for p in OURS])
def test_scenario_passes_with_lgpio_delivery_and_bouncing_keys(path):
    result = run_scenario(path, hardware=ON_A_PI)
    assert result.passed, [f.__dict__ for f in result.failures]


#: Power cuts mid-appeal and mid-hold (issue 13), for the runner's `power` steps.
POWER = sorted((OUR_SCENARIOS / "power").glob("*.toml"))
def test_cli_writes_a_report_and_exits_0(tmp_path):
    report = tmp_path / "r.json"
    p = subprocess.run([sys.executable, "-m", "deskunit.cli", "sim", "--script",
                        str(OUR_SCENARIOS / "opening_script.toml"), "--report", str(report)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    data = json.loads(report.read_text())
    assert data["passed"] is True and data["failures"] == []
    assert any(fold("Доброго ранку") in fold(" ".join(s["rows"])) for s in data["screens"])
    assert {"t", "led", "value"} <= set(data["leds"][0])


def test_a_failed_expectation_exits_1_and_is_reported(tmp_path):
    script = tmp_path / "s.toml"
    script.write_text('[unit]\nclock = "2026-11-23T09:15:00+02:00"\noperator = { number = 1, name = "A B" }\n'
                      '[[step]]\nat = 0.0\nhook = "off"\n[[step]]\nat = 1.0\nexpect_lcd = "Доброго вечора"\n')
    report = tmp_path / "r.json"
    p = subprocess.run([sys.executable, "-m", "deskunit.cli", "sim", "--script", str(script), "--report",
                        str(report)], capture_output=True, text=True)
    assert p.returncode == 1
    failure = json.loads(report.read_text())["failures"][0]
    assert failure["step"] == 2 and failure["at"] == 1.0 and "Доброго вечора" in str(failure["expected"])


@pytest.mark.parametrize("body, words", [
    ('[[step]]\nat = 1.0\npress = "FOO"\n', ["step 1", "press", "FOO"]),
    ('[[step]]\nat = 1.0\nhook = "off"\n[[step]]\nat = "x"\nhook = "on"\n', ["step 2", "'at'"]),
    ('[[step]]\nat = 0.0\naudio = "noise:loud"\n', ["step 1", "audio"]),
    ('[[step]]\nat = 0.0\nexpect_led = { lnie = "red" }\n', ["step 1", "expect_led", "lnie"]),
    ('[[step]]\nat = 0.0\nhook = "off"\nbogus = 1\n', ["step 1", "bogus"]),
    ('[unit]\nlcd = "40x2"\n[[step]]\nat = 0.0\nhook = "off"\n', ["lcd.size"]),
    ('[[step]\nat = 0', ["TOML"]),
    ('[[step]]\nat = 0.0\nfault = "lcd_fire"\n', ["step 1", "fault", "lcd_fire"]),
    ('[[step]]\nat = 0.0\nfault = "audio_unplug:2"\n', ["step 1", "fault"]),
    ('[[step]]\nat = 0.0\npower = "off"\n', ["step 1", "power"]),
    ('[unit]\ngpio = "pigpio"\n[[step]]\nat = 0.0\nhook = "off"\n', ["gpio", "pigpio"]),
    ('[unit]\nbounce_ms = -1\n[[step]]\nat = 0.0\nhook = "off"\n', ["bounce_ms"]),
])
def test_an_invalid_scenario_exits_2_naming_the_step_and_key(tmp_path, body, words):
    script = tmp_path / "bad.toml"
    script.write_text(body)
    p = subprocess.run([sys.executable, "-m", "deskunit.cli", "sim", "--script", str(script)],
                       capture_output=True, text=True)
    assert p.returncode == 2, p.stdout + p.stderr
    assert "Traceback" not in p.stdout + p.stderr
    for word in words:
        assert word in p.stdout
