#!/usr/bin/env python3
"""Build a generalisation corpus for the line analyzer: other seed, languages, codecs and impairments.

Uses the project's own corpus builder (tests/linecorpus, the same labels) with plans that mix what its
default plan has little of: babble, echo, hum, concealment by repeated frames, codecs g723/speex/opus-6k,
ru/en voices. Score with tests/bench/line_score.py (or ../shared/linebench/score.py: same manifest).

    python3 tests/bench/line_make_general_corpus.py --out /tmp/linegen --seed 7
    python3 tests/bench/line_make_general_corpus.py --out /tmp/linegen11 --seed 11 --langs uk,en
    python3 tests/bench/line_make_general_corpus.py --out /tmp/linegen23 --seed 23 --langs en,ru,uk --mix alt
    python3 tests/bench/line_make_general_corpus.py --out /tmp/linegen31 --seed 31 --langs ru,uk --mix alt

`--mix alt` is a third, independent check: other SNRs, delays, loss rates and clipping points than
the default plan, so that nothing is tuned to the values of one plan.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from linecorpus.build import build  # noqa: E402


def plan() -> list[tuple[str, dict]]:
    p: list[tuple[str, dict]] = []
    p += [("clean", {})] * 8
    for style in ("slow", "fast", "low_pitch", "high_pitch", "stutter", "long_pauses"):
        p += [("atypical", {"style": style})] * 3
    for snr in (20, 10, 5, 0, -5):
        p += [("babble", {"snr": snr})] * 2
    for ms, gain in ((60, 0.5), (150, 0.6), (300, 0.7), (500, 0.9)):
        p += [("echo", {"ms": ms, "gain": gain})] * 2
    for snr in (10, 0, -10, -20):
        p += [("hum", {"snr": snr})] * 2
    for name in ("g723", "speex", "opus-6k"):
        p += [("codec", {"codec": name})] * 3
    p += [("codec", {"codec": "gsm", "loss": 0.1})] * 2
    for loss in (0.05, 0.15, 0.3, 0.5):
        p += [("loss", {"loss": loss, "burst": 2.0, "conceal": "repeat"})] * 2
    for kind in ("white", "pink"):
        for snr in (25, 12, 6, 2, -3, -8):
            p += [("noise", {"kind": kind, "snr": snr})]
    for c in (0.5, 0.1, 0.03):
        p += [("clip", {"frac": c})] * 2
    for lvl in (-35, -42, -46, -52, -58):
        p += [("level", {"dbfs": lvl})] * 2
    for hz in (3000, 1800, 1000, 550):
        p += [("lowpass", {"hz": hz})] * 2
    p += [("dead", {"how": "zero"})] * 4 + [("dead", {"how": "hum"})] * 4
    p += [("silent", {"floor": f}) for f in (-64, -58, -52, -47, -60, -50)]
    return p


def plan_alt() -> list[tuple[str, dict]]:
    """Another mix of the same impairment kinds, at values the default plan does not use."""
    p: list[tuple[str, dict]] = []
    p += [("clean", {})] * 8
    for style in ("slow", "fast", "low_pitch", "high_pitch", "stutter", "long_pauses"):
        p += [("atypical", {"style": style})] * 3
    for snr in (15, 7, 3, -2, -7):
        p += [("babble", {"snr": snr})] * 2
    for ms, gain in ((40, 0.6), (100, 0.8), (220, 0.5), (400, 0.8)):
        p += [("echo", {"ms": ms, "gain": gain})] * 2
    for snr in (5, -5, -15):
        p += [("hum", {"snr": snr})] * 2
    for name in ("g723", "speex", "opus-6k", "gsm", "g726-16k"):
        p += [("codec", {"codec": name})] * 2
    p += [("codec", {"codec": "gsm", "loss": 0.2})] * 2
    for loss in (0.1, 0.25, 0.4):
        p += [("loss", {"loss": loss, "burst": 1.5, "conceal": "repeat"})] * 2
    for loss in (0.1, 0.35):
        p += [("loss", {"loss": loss, "burst": 3.0})] * 2
    for kind in ("white", "pink"):
        for snr in (20, 8, 4, 0, -6):
            p += [("noise", {"kind": kind, "snr": snr})]
    for c in (0.3, 0.06, 0.02):
        p += [("clip", {"frac": c})] * 2
    for lvl in (-38, -44, -49, -55):
        p += [("level", {"dbfs": lvl})] * 2
    for hz in (2200, 1400, 800, 450):
        p += [("lowpass", {"hz": hz})] * 2
    p += [("dead", {"how": "zero"})] * 3 + [("dead", {"how": "hum"})] * 3
    p += [("silent", {"floor": f}) for f in (-62, -55, -49, -46)]
    return p


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--langs", default="ru,en", help="comma-separated voices to cycle through (uk, ru, en)")
    ap.add_argument("--mix", choices=("default", "alt"), default="default", help="which plan of impairments")
    a = ap.parse_args()
    n = build(a.out, plan() if a.mix == "default" else plan_alt(), a.seed, a.langs.split(","), None)
    print(f"wrote {n} clips to {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
