"""The repository's own documents stay true to it: docs/rules.md names files and scenarios that exist
and covers R1..R26; the README and docs link only to files in the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULES = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")


def test_every_rule_has_a_row():
    rows = [line for line in RULES.splitlines() if line.startswith("| R")]
    covered = set()
    for row in rows:
        for a, b in re.findall(r"R(\d+)(?:, R(\d+))?", row.split("|")[1]):
            covered |= {int(a)} | ({int(b)} if b else set())
    assert covered == set(range(1, 27))


def test_the_code_the_rules_point_at_exists():
    paths = set(re.findall(r"`((?:firmware|central|config|hal|hw-sim|deskunit)/[\w/.-]*)`", RULES))
    assert paths
    missing = sorted(p for p in paths if not (ROOT / p).exists())
    assert missing == []


def test_the_scenarios_the_rules_point_at_exist():
    names = set()
    for line in RULES.splitlines():
        if line.startswith("| R"):
            names |= set(re.findall(r"`([a-z0-9_]+)`", line.rstrip(" |").rsplit("|", 1)[-1]))
    assert len(names) > 20
    missing = sorted(n for n in names if not (ROOT / "tests" / "scenarios" / f"{n}.toml").exists())
    assert missing == []


def test_links_stay_inside_the_repository():
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#\s]+)", doc.read_text(encoding="utf-8")):
            if target.startswith(("http://", "https://")):
                continue
            resolved = (doc.parent / target).resolve()
            assert resolved.is_relative_to(ROOT), (doc.name, target)
            assert resolved.exists(), (doc.name, target)
