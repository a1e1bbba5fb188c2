"""Many kill -9 cycles during sync (the child of tests/test_sync_kill.py), then the same checks:
0 records lost, 0 duplicates at the server, never a record marked synced that the server lacks.

    python tests/bench/bench_sync_kill.py [--kills 200] [--seed 1] [--max-life 0.6]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from test_sync_kill import TOKEN, UNIT, check_nothing_lost_nothing_twice, kill_cycles  # noqa: E402

from central.server import CentralServer  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-life", type=float, default=0.6, help="longest a child lives before the kill (s)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-kill-") as d, CentralServer() as server:
        server.add_unit(UNIT, TOKEN)
        journal = Path(d) / "journal.sqlite3"
        t0 = time.perf_counter()
        kill_cycles(journal, server, args.kills, random.Random(args.seed), args.max_life)
        n = check_nothing_lost_nothing_twice(journal, server)
        print(f"{args.kills} kills in {time.perf_counter() - t0:.1f} s: {n} records, 0 lost, 0 duplicates at the "
              f"server, none marked synced before the server held it")


if __name__ == "__main__":
    main()
