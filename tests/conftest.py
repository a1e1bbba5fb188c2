"""Shared fixtures: a simulated unit on a virtual clock, and where the project's shared folder would be.

The repository stands on its own. ``../shared`` (the seed documents and the scenarios the project
was specified with) is only beside it in the project's own workspace: tests that compare against it
run when it is there and are skipped, saying so, when it is not.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from firmware.clock import VirtualClock
from firmware.config import load_config
from hwsim.unit import SimUnit

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SHARED_SCENARIOS = SHARED / "scenarios"
SEEDS = SHARED / "seeds"


def shared_missing(what: Path) -> str:
    """The skip reason when ``what`` (inside ../shared) is not beside the repository."""
    return (f"{what} is not beside the repository: this test compares with the project's shared "
            f"documents and runs only when ../shared is present")
OUR_SCENARIOS = Path(__file__).resolve().parent / "scenarios"


@pytest.fixture
def make_sim(tmp_path):
    """Build a SimUnit: ``make_sim(clock="2026-11-23T09:15:00+02:00", lcd={"size": "16x2"})``."""
    made: list[SimUnit] = []

    def build(clock: str | None = "2026-11-23T09:15:00+02:00", operator=(7, "Олена Петренко"), gpio="mock",
              bounce_s=0.0, **overrides):
        cfg = load_config(overrides=overrides)
        vclock = VirtualClock(datetime.fromisoformat(clock)) if clock else VirtualClock()
        sim = SimUnit.create(cfg, vclock, state_dir=tmp_path / f"state{len(made)}", gpio=gpio, bounce_s=bounce_s)
        if operator:
            sim.unit.sign_in(*operator)
        made.append(sim)
        return sim

    yield build
    for sim in made:
        sim.close()
