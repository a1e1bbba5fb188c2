"""Score a line-quality detector on a labelled corpus.

The detector is any command that takes WAV paths as arguments and prints, one JSON object a line,
``{"file": PATH, "verdict": "good"|"degraded"|"unintelligible"|"silent"|"no_signal", "score": NUMBER}``
(the ``deskunit linecheck --json`` contract; ``file`` is matched by base name, ``score`` only by rank).

Figures, each over the clips it names:

  cannot_hear_recall  unintelligible and no_signal clips called unintelligible or no_signal
  false_alarm         good and silent clips called unintelligible or no_signal
  overcall            degraded clips (followable with effort) called unintelligible or no_signal
  atypical_flagged    clean atypical speech called anything but good
  silence_split       silent and no_signal clips given exactly their own label
  exact               all clips given exactly their label
  spearman_estoi      rank correlation of score with ESTOI over the clips that carry speech
  spearman_pesq       the same with PESQ
  audio_s_per_wall_s  seconds of audio judged per second of the command's wall time
  off_bar             the figures that miss issue 14's bar (`BAR_AT_LEAST`, `BAR_AT_MOST`): none, the bar is met
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import soundfile as sf

from .labels import CANNOT_HEAR, NO_SPEECH, Label

VERDICTS = {label.value for label in Label}
CANNOT_HEAR_V = {label.value for label in CANNOT_HEAR}
NO_SPEECH_V = {label.value for label in NO_SPEECH}
#: issue 14's bar for every corpus, the public one, those built from real recordings and the held-out ones
BAR_AT_LEAST = {"cannot_hear_recall": 0.97, "silence_split": 0.97, "spearman_estoi": 0.88}
BAR_AT_MOST = {"false_alarm": 0.02, "overcall": 0.10, "atypical_flagged": 0.02}


class DetectorFailed(RuntimeError):
    """The detector command exited with an error; the message carries the end of its stderr."""


def judge(command: list[str], files: list[Path], batch: int = 500) -> tuple[dict[str, dict], float]:
    """Run ``command`` over ``files`` in batches; its answers by file base name, and the wall time."""
    answers: dict[str, dict] = {}
    started = time.perf_counter()
    for first in range(0, len(files), batch):
        chunk = [str(f) for f in files[first:first + batch]]
        done = subprocess.run(command + chunk, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise DetectorFailed(f"{command[0]} exited with {done.returncode}: {done.stderr[-1500:]}")
        for line in done.stdout.splitlines():
            if line.lstrip().startswith("{"):
                answer = json.loads(line)
                answers[Path(answer["file"]).name] = answer
    return answers, time.perf_counter() - started


def _share(rows: list[dict], answers: dict[str, dict], which, hit) -> float:
    chosen = [r for r in rows if which(r) and r["file"] in answers]
    return sum(bool(hit(r, answers[r["file"]]["verdict"])) for r in chosen) / len(chosen) if chosen else math.nan


def _spearman(a: list[float], b: list[float]) -> float:
    from scipy.stats import spearmanr

    if len(a) < 3 or len(set(a)) < 2 or len(set(b)) < 2:
        return math.nan
    return float(spearmanr(a, b).statistic)


def figures(corpus: Path, answers: dict[str, dict], wall_s: float) -> dict:
    """Every figure of the module docstring, plus counts and the confusion of labels with verdicts."""
    with open(corpus / "manifest.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    speech = [r for r in rows if r["label"] not in NO_SPEECH_V and r["file"] in answers]
    scores = [float(answers[r["file"]].get("score", 0.0)) for r in speech]
    confusion: dict[str, Counter] = {}
    for r in rows:
        if r["file"] in answers:
            confusion.setdefault(r["label"], Counter())[answers[r["file"]]["verdict"]] += 1
    audio_s = sum(sf.info(corpus / r["file"]).duration for r in rows)
    return {
        "clips": len(rows),
        "labels": dict(Counter(r["label"] for r in rows)),
        "missing": sum(r["file"] not in answers for r in rows),
        "invalid_verdicts": sum(a.get("verdict") not in VERDICTS for a in answers.values()),
        "cannot_hear_recall": _share(rows, answers, lambda r: r["label"] in CANNOT_HEAR_V,
                                     lambda r, v: v in CANNOT_HEAR_V),
        "false_alarm": _share(rows, answers, lambda r: r["label"] in ("good", "silent"),
                              lambda r, v: v in CANNOT_HEAR_V),
        "overcall": _share(rows, answers, lambda r: r["label"] == "degraded", lambda r, v: v in CANNOT_HEAR_V),
        "atypical_flagged": _share(rows, answers, lambda r: r["impairment"] == "atypical", lambda r, v: v != "good"),
        "silence_split": _share(rows, answers, lambda r: r["label"] in NO_SPEECH_V, lambda r, v: v == r["label"]),
        "exact": _share(rows, answers, lambda r: True, lambda r, v: v == r["label"]),
        "spearman_estoi": _spearman(scores, [float(r["estoi"]) for r in speech]),
        "spearman_pesq": _spearman(scores, [float(r["pesq"]) for r in speech]),
        "audio_s_per_wall_s": audio_s / wall_s if wall_s > 0 else math.nan,
        "confusion": {label: dict(c) for label, c in sorted(confusion.items())},
    }


def off_bar(result: dict) -> list[str]:
    """The figures of `result` that miss issue 14's bar (a figure with no clips to count misses nothing)."""
    low = [k for k, at_least in BAR_AT_LEAST.items() if result[k] < at_least]
    high = [k for k, at_most in BAR_AT_MOST.items() if result[k] > at_most]
    return low + high


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--" not in argv:
        print("usage: line_score.py --corpus DIR [--json] [--batch N] -- DETECTOR COMMAND...", file=sys.stderr)
        return 2
    cut = argv.index("--")
    ap = argparse.ArgumentParser(description="Score a line-quality detector on a labelled corpus.")
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    ap.add_argument("--batch", type=int, default=500, help="files per detector call")
    a = ap.parse_args(argv[:cut])
    if not (a.corpus / "manifest.csv").is_file():
        print(f"--corpus: {a.corpus} has no manifest.csv (build one with line_make_corpus.py)", file=sys.stderr)
        return 2
    try:
        answers, wall = judge(argv[cut + 1:], sorted(a.corpus.glob("*.wav")), a.batch)
    except DetectorFailed as e:
        print(e, file=sys.stderr)
        return 1
    result = figures(a.corpus, answers, wall)
    result["off_bar"] = off_bar(result)
    if a.json:
        print(json.dumps(result))
        return 0
    for key, value in result.items():
        if key not in ("confusion", "off_bar"):
            print(f"{key:20s} {value:.3f}" if isinstance(value, float) else f"{key:20s} {value}")
    missed = ", ".join(result["off_bar"]) or "none (issue 14's bar is met)"
    print(f"{'off_bar':20s} {missed}")
    print("confusion (label -> verdicts):")
    for label, row in result["confusion"].items():
        print(f"  {label:15s} " + "  ".join(f"{v}={n}" for v, n in sorted(row.items())))
    return 0
