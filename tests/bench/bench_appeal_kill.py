#!/usr/bin/env python3
"""kill -9 the simulated daemon at random points while appeals are saved, restart it, count losses.

    python3 tests/bench/bench_appeal_kill.py [--kills 200] [--state-dir DIR]

Prints: kills, appeals the LCD acknowledged, records, missing, doubled, partial (all three must be 0),
and the appeals half-typed at a kill, restarted with the handset down (the daemon starts on-hook):
drafts_at_cut, drafts_back_on_screen, drafts_lost (must be 0).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from appeal_kill import check, run  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kills", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--state-dir", type=Path)
    a = ap.parse_args()
    state = a.state_dir or Path(tempfile.mkdtemp(prefix="deskunit-kill-"))
    t0 = time.perf_counter()
    counts = check(state, run(state, a.kills, a.seed))
    print(" ".join(f"{k}={v}" for k, v in counts.items()), f"wall={time.perf_counter() - t0:.0f}s")
    return 0 if counts["missing"] == counts["doubled"] == counts["partial"] == counts["drafts_lost"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
