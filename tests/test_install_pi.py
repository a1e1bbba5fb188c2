"""scripts/install-pi.sh and the Pi's pinned dependencies: the unit file follows --prefix, a dry run
shows the versioned, hash-checked install, --rollback returns to the previous version, and the lock
covers every dependency the package declares."""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "install-pi.sh"
LOCK = ROOT / "requirements" / "pi.lock"


def install_pi(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True,
                          env={**os.environ, "SYSTEMCTL": "true", **env}, timeout=60)


@pytest.mark.parametrize("prefix", ["/opt/deskunit", "/srv/deskunit"])
def test_the_installed_unit_file_runs_the_unit_from_the_prefix(prefix):
    p = install_pi("--print-unit", "--prefix", prefix)
    assert p.returncode == 0, p.stderr
    unit = "\n".join(line for line in p.stdout.splitlines() if not line.startswith("#"))
    assert f"ExecStart={prefix}/current/bin/deskunit run" in unit.splitlines()
    assert f"Documentation=file:{prefix}/raspberry-pi.md" in unit.splitlines()
    assert "@PREFIX@" not in unit
    if prefix != "/opt/deskunit":
        assert "/opt/deskunit" not in unit


@pytest.mark.parametrize("prefix, reason", [("opt/deskunit", "absolute"), ("/srv/desk unit", "spaces")])
def test_a_prefix_the_unit_file_cannot_hold_is_refused(prefix, reason):
    p = install_pi("--print-unit", "--prefix", prefix)
    assert p.returncode == 2 and reason in p.stderr


def test_a_dry_run_installs_a_new_versioned_venv_from_the_lock():
    p = install_pi("--dry-run", "--prefix", "/srv/du")
    assert p.returncode == 0, p.stdout + p.stderr
    out = p.stdout
    assert re.search(r"python3 -m venv --system-site-packages /srv/du/releases/\d{8}T\d{6}Z", out)
    assert f"--require-hashes -r {LOCK}" in out
    assert "--no-deps" in out
    assert "ln -sfn /srv/du/releases/" in out and "/srv/du/current" in out
    assert "ExecStart=/srv/du/current/bin/deskunit run" in out


@pytest.mark.skipif(os.geteuid() != 0, reason="--rollback changes a prefix only as root (CI runs as root)")
def test_rollback_swaps_to_the_previous_version_and_back(tmp_path):
    prefix = tmp_path / "opt"
    for version in ("1.0.0", "1.1.0"):
        bin_dir = prefix / "releases" / version / "bin"
        bin_dir.mkdir(parents=True)
        (bin_dir / "deskunit").write_text(f"#!/bin/sh\necho deskunit {version}\n")
        (bin_dir / "deskunit").chmod(0o755)
    (prefix / "current").symlink_to(prefix / "releases" / "1.1.0")
    (prefix / "previous").symlink_to(prefix / "releases" / "1.0.0")

    p = install_pi("--rollback", "--prefix", str(prefix))
    assert p.returncode == 0, p.stdout + p.stderr
    assert os.readlink(prefix / "current") == str(prefix / "releases" / "1.0.0")
    assert os.readlink(prefix / "previous") == str(prefix / "releases" / "1.1.0")
    assert "deskunit 1.0.0 runs" in p.stdout

    p = install_pi("--rollback", "--prefix", str(prefix))
    assert p.returncode == 0
    assert os.readlink(prefix / "current") == str(prefix / "releases" / "1.1.0")


@pytest.mark.skipif(os.geteuid() != 0, reason="--rollback changes a prefix only as root (CI runs as root)")
def test_rollback_without_a_previous_version_says_so_and_changes_nothing(tmp_path):
    (tmp_path / "releases" / "1.0.0").mkdir(parents=True)
    (tmp_path / "current").symlink_to(tmp_path / "releases" / "1.0.0")
    p = install_pi("--rollback", "--prefix", str(tmp_path))
    assert p.returncode == 1 and "no previous version" in p.stderr
    assert os.readlink(tmp_path / "current") == str(tmp_path / "releases" / "1.0.0")


def test_the_lock_pins_every_dependency_with_hashes():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {re.split(r"[<>=!~;\[ ]", d, maxsplit=1)[0].lower().replace("_", "-") for d in declared}
    text = LOCK.read_text()
    pinned = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+) \\$", text, flags=re.M))
    assert names <= {n.lower() for n in pinned}, names - {n.lower() for n in pinned}
    for block in re.split(r"\n(?=[A-Za-z0-9_.-]+==)", text.split("\n", 6)[-1]):
        if "==" in block.split("\n", 1)[0]:
            assert "--hash=sha256:" in block, block.split("\n", 1)[0]
