#!/usr/bin/env python3
"""What a softphone's silences cost a clean line: every clean clip of the corpora judged as it is and
as a softphone with voice activity detection sends it (the talker's pauses as exact digital silence,
`hwsim.audio.softphone_pauses`), side by side (a diagnosis, not a test).

A listener follows both alike (the pauses carry nothing to follow), so the two should get one verdict
and about one score.  Prints per corpus and over all of them the mean and worst score change and how
the verdicts move (issue #14: the analyzer read such pauses as a line with no floor, and the models
took that for packet loss).

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
from firmware.line.analyzer import FRAME_S, analyze  # noqa: E402
from firmware.line.wavfile import read_mono  # noqa: E402
from hwsim.audio import softphone_pauses  # noqa: E402


def pairs(corpus: Path) -> list[tuple[str, float, str, float]]:
    """(verdict, score) of every clean clip of `corpus` as it is, and as a softphone sends it."""
    out = []
    with open(corpus / "manifest.csv", newline="", encoding="utf-8") as f:
        clips = [row for row in csv.DictReader(f) if row["impairment"] == "clean"]
    for clip in clips:
        x, rate = read_mono(str(corpus / clip["file"]))
        sent = np.where(softphone_pauses(x, int(rate * FRAME_S)), 0.0, x)
        a, b = analyze(x, rate), analyze(sent, rate)
        out.append((a.verdict.value, a.score, b.verdict.value, b.score))
    return out


def summary(name: str, got: list[tuple[str, float, str, float]]) -> str:
    change = np.array([b - a for _, a, _, b in got])
    moves = Counter(f"{va}->{vb}" for va, _, vb, _ in got if va != vb)
    moved = ", ".join(f"{k} {n}" for k, n in sorted(moves.items())) or "none"
    return (f"{name:12s} {len(got):4d} clips  score change mean {change.mean():+.3f} worst {change.min():+.3f}"
            f"  verdicts moved: {moved}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpora", nargs="+", type=Path, help="corpus directories (manifest.csv and WAVs)")
    a = ap.parse_args(argv)
    every = []
    for corpus in a.corpora:
        got = pairs(corpus)
        if got:
            print(summary(corpus.name, got))
            every += got
    if len(a.corpora) > 1 and every:
        print(summary("all", every))
    return 0


if __name__ == "__main__":
    sys.exit(main())
