#!/usr/bin/env python3
"""Where the line analyzer's score leaves ESTOI: file score minus ESTOI per kind of impairment (a
diagnosis, not a test).

Every speech clip of the corpora is judged with `analyze`, as `deskunit linecheck` judges it, and its
score is set against the ESTOI in the corpus manifest.  Clips in noise are grouped by whether the
noise is other talkers (a file named "babble...", or make_corpus's babble) and by SNR (3 dB and
under, above); the rest by impairment.  A group the analyzer cannot tell apart shows as a bias: in
issue #14, babble at or above the caller's level came out 0.11-0.30 too high on every real corpus.

Per corpus it also prints how well the score separates the clips that cannot be understood from those
that can with effort, whatever the threshold: the share of (unintelligible, degraded) pairs it orders
right, and the recall it would reach if the threshold were set so that 10 % of the degraded clips fall
under it (issue #14's bar asks for 0.97 there).

    python3 tests/bench/line_bias.py /tmp/r14/real_c1 /tmp/r15/real_c5 ...
"""
from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from linecorpus.score import BAR_AT_LEAST, BAR_AT_MOST  # noqa: E402

from firmware.line.analyzer import analyze  # noqa: E402
from firmware.line.wavfile import read_mono  # noqa: E402

SPEECH_LABELS = ("good", "degraded", "unintelligible")
OVERCALL_AT = BAR_AT_MOST["overcall"]  # share of degraded clips under the threshold at which recall is read
BAR_RECALL = BAR_AT_LEAST["cannot_hear_recall"]  # issue 14's bar: the recall it asks for there
LOW_SNR_DB = 3.0
BORDER = (0.35, 0.70)  # clips this near the cannot-understand border (ESTOI 0.5): where a miss costs a verdict
BORDER_ROW = f"(ESTOI {BORDER[0]:g}-{BORDER[1]:g})"


def group(clip: dict[str, str]) -> str:
    """The clip's group: noise by interferer and SNR, anything else by its impairment."""
    params = dict(p.split("=", 1) for p in clip["params"].split(",") if "=" in p)
    if clip["impairment"] in ("noise", "babble") and "snr" in params:
        talkers = clip["impairment"] == "babble" or params.get("noise", "").startswith("babble")
        low = float(params["snr"]) <= LOW_SNR_DB
        return f"{'babble' if talkers else 'noise'} {'<=' if low else '>'} {LOW_SNR_DB:g} dB"
    return clip["impairment"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpora", nargs="+", type=Path, help="folders with manifest.csv")
    args = ap.parse_args()
    total: dict[str, list[float]] = defaultdict(list)
    for corpus in args.corpora:
        errors: dict[str, list[float]] = defaultdict(list)
        by_label: dict[str, list[float]] = defaultdict(list)
        with open(corpus / "manifest.csv", newline="") as fh:
            clips = [c for c in csv.DictReader(fh) if c["label"] in SPEECH_LABELS and c["impairment"] != "level"]
        for clip in clips:
            samples, rate = read_mono(str(corpus / clip["file"]))
            estoi = float(clip["estoi"])
            score = analyze(samples, rate).score
            by_label[clip["label"]].append(score)
            error = score - estoi
            errors[group(clip)].append(error)
            if BORDER[0] <= estoi <= BORDER[1]:
                errors[BORDER_ROW].append(error)
        print(corpus.name + separation(by_label["unintelligible"], by_label["degraded"]))
        show(errors)
        for name, e in errors.items():
            total[name].extend(e)
    if len(args.corpora) > 1:
        print("all")
        show(total)
    return 0



def separation(unintelligible: list[float], degraded: list[float]) -> str:
    """How the scores of the two kinds of clip lie: pairs ordered right, recall at OVERCALL_AT."""
    if not unintelligible or not degraded:
        return ""
    u, d = np.array(unintelligible), np.array(degraded)
    ordered = float(np.mean(u[:, None] < d[None, :]) + 0.5 * np.mean(u[:, None] == d[None, :]))
    threshold = np.sort(d)[int(OVERCALL_AT * len(d))]  # at most that share of degraded clips under it
    recall = float(np.mean(u < threshold))
    return (f"  (unintelligible under degraded in {ordered:.3f} of pairs; recall {recall:.3f} with "
            f"{OVERCALL_AT:.0%} of degraded under the threshold)")


def show(errors: dict[str, list[float]]) -> None:
    for name, e in sorted(errors.items()):
        print(f"  {name:20s} {len(e):4d} clips  score - ESTOI {np.mean(e):+.3f} (sd {np.std(e):.3f}, "
              f"mean size {np.mean(np.abs(e)):.3f})")


if __name__ == "__main__":
    sys.exit(main())
