#!/usr/bin/env python3
"""What a softphone's silences cost a clean line: every clean clip of the corpora judged as it is and
as a softphone with voice activity detection sends it (the talker's pauses as exact digital silence,
`hwsim.audio.softphone_sends`), side by side (a diagnosis, not a test).

A listener follows both alike (the pauses carry nothing to follow), so the two should get one verdict
and about one score.  Prints per corpus and over all of them the mean and worst score change and how
the verdicts move (issue #14: the analyzer read such pauses as a line with no floor, and the models
took that for packet loss).

Then the same voices as calls: every four clean clips of a corpus joined by 0.6-2 s of the line's
hiss (-65 dBFS), the whole sent through the softphone and streamed through `LineAnalyzer` as the
unit hears it.  Printed: the calls in which the analyzer says no_signal, and those in which it does
so after the call's first 3 s (the pauses between sentences are not a dead line; a call that opens
with silence cannot be told from one).

    python3 tests/bench/line_softphone_pairs.py /tmp/r15/real_c5 /tmp/r16/real_c7b ...
"""
from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench_line_gated import first_no_signal  # noqa: E402

from firmware.line.analyzer import analyze  # noqa: E402
from firmware.line.wavfile import read_mono  # noqa: E402
from hwsim.audio import softphone_sends  # noqa: E402

CLIPS_PER_CALL = 4
GAP_S = (0.6, 2.0)
HISS_DBFS = -65.0
SETTLED_S = 3.0


def clean_clips(corpus: Path) -> list[tuple[np.ndarray, int]]:
    """(samples, rate) of every clean clip of `corpus`."""
    with open(corpus / "manifest.csv", newline="", encoding="utf-8") as f:
        return [read_mono(str(corpus / row["file"])) for row in csv.DictReader(f) if row["impairment"] == "clean"]


def pairs(clips: list[tuple[np.ndarray, int]]) -> list[tuple[str, float, str, float]]:
    """(verdict, score) of every clip as it is, and as a softphone sends it."""
    out = []
    for x, rate in clips:
        sent = softphone_sends(x, rate)
        a, b = analyze(x, rate), analyze(sent, rate)
        out.append((a.verdict.value, a.score, b.verdict.value, b.score))
    return out


def calls(clips: list[tuple[np.ndarray, int]], seed: int = 1) -> list[float | None]:
    """For each call of CLIPS_PER_CALL clips (one rate): the first time the analyzer says no_signal."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(0, len(clips) - CLIPS_PER_CALL + 1, CLIPS_PER_CALL):
        group = clips[k : k + CLIPS_PER_CALL]
        rate = group[0][1]
        if any(r != rate for _, r in group):
            continue
        parts = []
        for x, _ in group:
            parts += [x, rng.normal(0.0, 10 ** (HISS_DBFS / 20), int(rng.uniform(*GAP_S) * rate))]
        out.append(first_no_signal(softphone_sends(np.concatenate(parts), rate), rate=rate))
    return out


def summary(name: str, got: list[tuple[str, float, str, float]]) -> str:
    change = np.array([b - a for _, a, _, b in got])
    moves = Counter(f"{va}->{vb}" for va, _, vb, _ in got if va != vb)
    moved = ", ".join(f"{k} {n}" for k, n in sorted(moves.items())) or "none"
    return (f"{name:12s} {len(got):4d} clips  score change mean {change.mean():+.3f} worst {change.min():+.3f}"
            f"  verdicts moved: {moved}")


def calls_summary(dead: list[float | None]) -> str:
    late = sum(t is not None and t > SETTLED_S for t in dead)
    return (f"{'':12s} {len(dead):4d} calls  with no_signal {sum(t is not None for t in dead)}, "
            f"after their first {SETTLED_S:g} s {late}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpora", nargs="+", type=Path, help="corpus directories (manifest.csv and WAVs)")
    a = ap.parse_args(argv)
    every, streamed = [], []
    for corpus in a.corpora:
        clips = clean_clips(corpus)
        got, dead = pairs(clips), calls(clips)
        if got:
            print(summary(corpus.name, got))
            print(calls_summary(dead))
            every += got
            streamed += dead
    if len(a.corpora) > 1 and every:
        print(summary("all", every))
        print(calls_summary(streamed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
