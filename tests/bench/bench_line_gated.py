#!/usr/bin/env python3
"""Dead line or softphone pause: how the analyzer tells them apart (a benchmark script, not a test).

Two measurements on the simulated line, streamed through `LineAnalyzer` 0.1 s at a time:

* a softphone caller (the line's "vad" mode: pauses sent as digital silence) for 30 s, from every
  27th of our speech as the call's start: when, if ever, the analyzer says no_signal (only a call that
  opens with 0.6 s of silence, or first pauses for over 3 s, before the line showed it is gated should);
* a line that loses packets (5-45 %, in bursts of 1-5 on average, six seeds each) for 20 s and then
  dies: how long until the analyzer says no_signal (0.6 s on a line that never was gated).

    python3 tests/bench/bench_line_gated.py
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from linecorpus.impair import lose_packets  # noqa: E402

from firmware.line.analyzer import LineAnalyzer  # noqa: E402
from hwsim.audio import SimLine, bundled_speech  # noqa: E402

SR = 8000


def first_no_signal(x: np.ndarray, after_s: float = 0.0, rate: int = SR) -> float | None:
    """Seconds after `after_s` at which the analyzer first says no_signal, streaming `x` 0.1 s at a time."""
    an, step = LineAnalyzer(rate), rate // 10
    for i in range(0, len(x), step):
        for r in an.feed(x[i : i + step]):
            if r.raw.value == "no_signal" and r.t > after_s:
                return r.t - after_s
    return None


def main() -> int:
    speech = len(bundled_speech(SR))
    starts = range(0, speech, speech // 27)[:27]
    flagged = []
    for start in starts:
        line = SimLine(SR)
        line.set_mode("vad")
        line.seek(start)
        t = first_no_signal(line.read(30 * SR).astype(np.float64))
        if t is not None:
            flagged.append(f"{start / SR:.1f} s: {t:.1f}")
    print(f"softphone caller, {len(starts)} call starts: no_signal in {len(flagged)} "
          f"(start of our speech: first no_signal) {', '.join(flagged)}")
    print("line dying after lost packets: seconds to no_signal over 6 seeds (never: -)")
    print(f"{'loss':>6s} " + " ".join(f"{'burst ' + format(b, 'g'):>28s}" for b in (1, 2, 3, 5)))
    for loss in (0.05, 0.1, 0.2, 0.3, 0.45):
        cells = []
        for burst in (1.0, 2.0, 3.0, 5.0):
            times = []
            for seed in range(1, 7):
                src = SimLine(SR, seed=seed)
                src.seek(seed * 17000)
                x = lose_packets(src.read(20 * SR).astype(np.float64), np.random.default_rng(seed), loss, burst)
                t = first_no_signal(np.concatenate([x, np.zeros(3 * SR)]), 20.0)
                times.append("-" if t is None else f"{t:.1f}")
            cells.append(" ".join(f"{s:>3s}" for s in times))
        print(f"{loss:6.2f} " + " ".join(f"{c:>28s}" for c in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
