"""Console flood on the simulated 115200-baud UART: prints how fast the LCD follows the hook, the
watchdog's longest gap, the loop's queue, what the line carried and dropped, PBKDF2 runs and CPU.

    python3 tests/bench/bench_console_flood.py [--junk-s 10] [--logins-s 10]

The unit runs on the real clock in this process (loop, audio, serial threads); the technician's end
floods at line rate (unknown commands ``x\\r``, then cancelled logins ``login\\r0000\\r^C``) while a
terminal reads what comes back, and the hook is lifted and put down every half second.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from console_flood import run_flood  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--junk-s", type=float, default=10.0)
    ap.add_argument("--logins-s", type=float, default=10.0)
    ap.add_argument("--iterations", type=int, default=120_000, help="the PIN hash's PBKDF2 iterations")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        r = run_flood(Path(tmp), a.junk_s, a.logins_s, iterations=a.iterations)
    for key, value in r.summary().items():
        print(f"{key:<20} {value:.4g}" if isinstance(value, float) else f"{key:<20} {value}")
    print(f"{'console answered':<20} {'yes' if r.answered_after else 'NO'} (status after the flood)")
    if not r.answered_after:
        print(f"the terminal's last bytes: {r.tail!r}")


if __name__ == "__main__":
    main()
