"""A desk whose unit can lose power, on the real drivers: the clock and the state directory outlive
the unit (tests).

    >>> desk = PowerDesk(tmp_path / "state", load_config(), START)
    >>> desk.tap("APPEAL", "OK", "2")
    >>> desk.cut_and_restore(off_s=30.0, off_hook=True)   # the unit dies, time goes on, it starts again

The cut is the simulator's own (:meth:`hwsim.unit.SimUnit.power_cut`, as a scenario's ``power``
step): nothing ends (no hook-on, no record, no sign-out), the pins float, the LCD goes dark; the
handset is moved while the unit is off; :meth:`~hwsim.unit.SimUnit.power_on` boots again on the same
state directory with the start-up recovery, as ``deskunit run`` does.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from firmware.clock import VirtualClock
from hwsim.unit import SimUnit


class PowerDesk:
    """See the module docstring; ``sim`` is the unit now running."""

    def __init__(self, state_dir: Path, cfg: Any, start: datetime) -> None:
        self.sim = SimUnit.create(cfg, VirtualClock(start), state_dir=state_dir)

    def cut_and_restore(self, off_s: float, off_hook: bool = False) -> SimUnit:
        self.sim.power_cut()
        self.sim.advance(off_s)  # time goes on for the desk, not for the unit
        self.sim.hook(off=off_hook)  # the handset as the operator left it while the unit was off
        self.sim.power_on()
        self.sim.advance(0.5)
        return self.sim

    def tap(self, *keys: str) -> None:
        for key in keys:
            self.sim.press(key)
            self.sim.advance(0.05)
            self.sim.release(key)
            self.sim.advance(0.15)
