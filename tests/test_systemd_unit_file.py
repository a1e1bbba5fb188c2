"""The systemd unit files: deskunit.service fences its network and names an OnFailure= service, and
that service really reports the failure in the journal and on the LCD (issue 18, point 10)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from deskunit.failure import main as failed
from hwsim.lcd import simulated_display

SYSTEMD = Path(__file__).resolve().parents[1] / "systemd"


def directives(path: Path) -> dict[str, list[str]]:
    """Every ``Key=value`` of a unit file, values of repeated keys in order (as systemd reads them)."""
    out: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")) and "=" in line:
            key, value = line.split("=", 1)
            out.setdefault(key.strip(), []).append(value.strip())
    return out


def test_network_is_denied_but_loopback_and_the_site_lan():
    d = directives(SYSTEMD / "deskunit.service")
    assert d["IPAddressDeny"] == ["any"]
    allowed = " ".join(d["IPAddressAllow"]).split()
    assert "localhost" in allowed and "192.168.0.0/16" in allowed and "10.0.0.0/8" in allowed
    assert "any" not in allowed


def test_on_failure_names_a_service_that_runs_deskunit_failed():
    [target] = directives(SYSTEMD / "deskunit.service")["OnFailure"]
    assert target == "deskunit-failure@%n.service"
    template = SYSTEMD / "deskunit-failure@.service"
    [exec_start] = directives(template)["ExecStart"]
    assert exec_start.split()[1:] == ["failed", "%i"]
    rendered = subprocess.run(["bash", str(SYSTEMD.parent / "scripts" / "install-pi.sh"), "--prefix", "/srv/du",
                               "--print-failure-unit"], capture_output=True, text=True, timeout=30, check=True).stdout
    assert "ExecStart=/srv/du/current/bin/deskunit failed %i" in rendered and "@PREFIX@" not in rendered


def test_the_failure_notice_reaches_the_journal_and_the_lcd(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DESKUNIT_CONFIG", str(tmp_path / "absent.toml"))
    (tmp_path / "absent.toml").write_text("")
    display, lcd, bus = simulated_display(20, 4)
    asked = []

    def systemctl(argv, **_kw):
        asked.append(argv)
        return SimpleNamespace(stdout="Result=start-limit-hit\nExecMainStatus=1\nNRestarts=10\n")

    try:
        assert failed("deskunit.service", display=display, run=systemctl) == 0
        shown = " ".join(lcd.rows("cyrillic"))
    finally:
        display.close()
        bus.close()
    out = capsys.readouterr().out
    assert out.startswith("<2>deskunit.service failed") and "start-limit-hit" in out
    assert asked[0][:3] == ["systemctl", "show", "deskunit.service"]
    assert "deskunit stopped" in shown and "technician" in shown


def test_without_an_lcd_the_journal_line_still_comes_and_it_exits_0(tmp_path):
    (tmp_path / "site.toml").write_text("")
    env = {"DESKUNIT_CONFIG": str(tmp_path / "site.toml"), "PATH": "/usr/bin:/bin"}
    env = {"DESKUNIT_CONFIG": str(tmp_path / "site.toml"), "PATH": "/usr/bin:/bin"}
    p = subprocess.run([sys.executable, "-m", "deskunit.cli", "failed", "deskunit.service"], capture_output=True,
                       text=True, timeout=60, env=env)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("<2>deskunit.service failed")
    assert "could not be shown on the LCD" in p.stdout
