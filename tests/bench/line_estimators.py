#!/usr/bin/env python3
"""Judge the intelligibility estimator's two models alone and together (a benchmark script, not a test).

The shipped estimator takes its networks' estimate of a good line and its trees' of a poor one
(`firmware.line.intelligibility`).  This puts each model alone in its place, in the very code the unit
runs (`firmware.line.analyzer.ESTIMATOR`), and prints for every corpus what `deskunit linecheck` would
score (recall, false alarm, overcall, spearman with ESTOI, as `tests/linecorpus/score.py` counts them)
and how well the file score separates the clips that cannot be understood from those that can with
effort (`line_bias.py`'s pairs ordered right).  With ``--live`` it also runs `bench_line_latency.py`
and `bench_line_stability.py` with each, for what the operator would see during a call.

    python3 tests/bench/line_estimators.py /tmp/r14/public /tmp/r16/real_c7b ... [--live]
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import sys
from collections.abc import Iterator
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parents[1]))
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))
import line_bias  # noqa: E402
from linecorpus.score import figures  # noqa: E402

import firmware.line.analyzer as analyzer  # noqa: E402
from firmware.line.wavfile import read_mono  # noqa: E402

SHIPPED = analyzer.ESTIMATOR
MODELS = {"shipped": SHIPPED, "networks": SHIPPED.networks, "trees": SHIPPED.trees}


@contextlib.contextmanager
def estimating_with(estimator) -> Iterator[None]:
    """Every analyzer made inside (by `analyze`, by the simulated unit) uses `estimator`."""
    analyzer.ESTIMATOR = estimator
    try:
        yield
    finally:
        analyzer.ESTIMATOR = SHIPPED


def judge(corpus: Path) -> str:
    """One line of figures for the estimator in use."""
    with open(corpus / "manifest.csv", newline="") as fh:
        clips = list(csv.DictReader(fh))
    answers, by_label = {}, {"unintelligible": [], "degraded": []}
    for clip in clips:
        samples, rate = read_mono(str(corpus / clip["file"]))
        v = analyzer.analyze(samples, rate)
        answers[clip["file"]] = {"verdict": v.verdict.value, "score": v.score}
        if clip["label"] in by_label and clip["impairment"] != "level":  # as line_bias.py takes them
            by_label[clip["label"]].append(v.score)
    f = figures(corpus, answers, 1.0)
    return (f"recall {f['cannot_hear_recall']:.3f}  false alarm {f['false_alarm']:.3f}  overcall "
            f"{f['overcall']:.3f}  spearman {f['spearman_estoi']:.3f}"
            + line_bias.separation(by_label["unintelligible"], by_label["degraded"]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpora", nargs="*", type=Path, help="folders with manifest.csv")
    ap.add_argument("--live", action="store_true", help="also run the latency and stability benchmarks with each")
    args = ap.parse_args()
    for corpus in args.corpora:
        print(corpus.name)
        for name, model in MODELS.items():
            with estimating_with(model):
                print(f"  {name:9s}{judge(corpus)}", flush=True)
    if args.live:
        import bench_line_latency
        import bench_line_stability

        for name, model in MODELS.items():
            with estimating_with(model):
                for bench, argv in ((bench_line_latency, ["--seeds", "6"]), (bench_line_stability, ["--seeds", "5"])):
                    print(f"\n{bench.__name__}.py {' '.join(argv)}, {name}:", flush=True)
                    sys.argv = [bench.__file__, *argv]
                    bench.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
