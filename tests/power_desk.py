"""A desk whose unit can lose power, on the real drivers: the clock and the state directory outlive
the unit (tests).

    >>> desk = PowerDesk(tmp_path / "state", load_config(), START)
    >>> desk.tap("APPEAL", "OK", "2")
    >>> desk.cut_and_restore(off_s=30.0, off_hook=True)   # the unit dies, time goes on, it starts again

A cut closes the unit without ending anything (no hook-on, no record, no sign-out), as kill -9 or a
power cut does; the new unit starts on the same state directory and runs the start-up recovery, as
``deskunit run`` does, with the handset as the operator left it while the unit was off.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from firmware.call.recovery import recover
from firmware.clock import VirtualClock
from hwsim.unit import SimUnit


class PowerDesk:
    """See the module docstring; ``sim`` is the unit now running."""

    def __init__(self, state_dir: Path, cfg: Any, start: datetime) -> None:
        self.state_dir = state_dir
        self.cfg = cfg
        self.clock = VirtualClock(start)
        self.sim = SimUnit.create(self.cfg, self.clock, state_dir=self.state_dir)

    def cut_and_restore(self, off_s: float, off_hook: bool = False) -> SimUnit:
        self.sim.close()  # no hook-on, no record, no sign-out: the power is simply gone
        self.clock.advance(off_s)
        sim = SimUnit.create(self.cfg, self.clock, state_dir=self.state_dir)
        sim.loop.call_soon(recover, sim.unit, off_hook)  # start-up, then
        sim.hook(off=off_hook)  # the handset as the operator left it while the unit was off
        sim.advance(0.5)
        self.sim = sim
        return sim

    def tap(self, *keys: str) -> None:
        for key in keys:
            self.sim.press(key)
            self.sim.advance(0.05)
            self.sim.release(key)
            self.sim.advance(0.15)
