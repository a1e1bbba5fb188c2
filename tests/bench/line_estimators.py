#!/usr/bin/env python3
"""Compare the shipped intelligibility estimator with boosted regression trees on the same inputs (a
benchmark script, not a test).

Trees are fitted (scikit-learn's HistGradientBoostingRegressor, needed by this script only: `pip install
scikit-learn`) on the windows of the training corpora, weighted as `line_train.py` weighs them, and put
in the shipped estimator's place in the very code the unit runs (`firmware.line.analyzer.ESTIMATOR`).
Then, for every judged corpus and for both estimators, it prints what `deskunit linecheck` would score
(recall, false alarm, overcall, spearman with ESTOI, as `tests/linecorpus/score.py` counts them) and how
well the file score separates the clips that cannot be understood from those that can with effort
(`line_bias.py`'s pairs ordered right).  With ``--live`` it also runs `bench_line_latency.py` and
`bench_line_stability.py` with the trees, for what the operator would see during a call.

    python3 tests/bench/line_estimators.py --train /tmp/train/lc201 ... --judge /tmp/r14/public ... [--live]

``--without-level`` leaves the talker's level out of the trees' inputs (issue 14, stop 24: the trees
ordered espeak's clean clips by it).
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parents[1]))
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))
import line_bias  # noqa: E402
import line_train  # noqa: E402
from linecorpus.score import figures  # noqa: E402

import firmware.line.analyzer as analyzer  # noqa: E402
from firmware.line.intelligibility import inputs  # noqa: E402
from firmware.line.wavfile import read_mono  # noqa: E402


def level_column() -> int:
    """Which of the estimator's inputs is the talker's level: the one column that moves with it."""
    bands, one = np.zeros((1, len(analyzer._CENTRES))), np.zeros(1)

    def row(level_dbfs: float) -> np.ndarray:
        return inputs(bands, bands, bands, bands, one, one, one, one, one, one, np.array([level_dbfs]),
                      np.zeros((1, 3)), bands, one)[0]

    moved = np.flatnonzero(row(-60.0) != row(-20.0))
    assert len(moved) == 1, moved
    return int(moved[0])


class Trees:
    """Boosted regression trees in the estimator's place: `estimate(inputs)` -> 0..1 per row."""

    def __init__(self, model, dropped: list[int]) -> None:
        self.model = model
        self.dropped = dropped

    def estimate(self, x: np.ndarray) -> np.ndarray:
        if len(x) == 0:
            return np.zeros(0)
        return np.clip(self.model.predict(np.delete(x, self.dropped, axis=1)), 0.0, 1.0)


def fit(corpora: list[Path], args: argparse.Namespace, dropped: list[int]) -> Trees:
    from sklearn.ensemble import HistGradientBoostingRegressor

    xs, ys, ws = [], [], []
    for corpus in corpora:
        x, y, ids = line_train.corpus_rows(corpus)
        _, inv, counts = np.unique(ids, return_inverse=True, return_counts=True)
        xs.append(np.delete(x, dropped, axis=1))
        ys.append(y)
        ws.append(1.0 / counts[inv])  # every clip weighs the same however long it is
    model = HistGradientBoostingRegressor(
        learning_rate=args.rate, max_iter=args.trees, max_leaf_nodes=args.leaves, min_samples_leaf=args.min_leaf,
        max_depth=args.depth, l2_regularization=1.0, early_stopping=False, random_state=0,
    ).fit(np.concatenate(xs), np.concatenate(ys), sample_weight=np.concatenate(ws))
    return Trees(model, dropped)


@contextlib.contextmanager
def estimating_with(estimator) -> Iterator[None]:
    """Every analyzer made inside (by `analyze`, by the simulated unit) uses `estimator`."""
    shipped = analyzer.ESTIMATOR
    analyzer.ESTIMATOR = estimator
    try:
        yield
    finally:
        analyzer.ESTIMATOR = shipped


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
    ap.add_argument("--train", nargs="+", type=Path, required=True, help="corpora the trees are fitted on")
    ap.add_argument("--judge", nargs="+", type=Path, required=True, help="corpora both estimators are judged on")
    ap.add_argument("--trees", type=int, default=400, help="boosting rounds (one tree each)")
    ap.add_argument("--rate", type=float, default=0.05, help="learning rate")
    ap.add_argument("--leaves", type=int, default=31, help="most leaves in a tree")
    ap.add_argument("--min-leaf", type=int, default=1000, help="fewest training windows in a leaf")
    ap.add_argument("--depth", type=int, default=8, help="deepest a tree may grow")
    ap.add_argument("--without-level", action="store_true", help="leave the talker's level out of the trees' inputs")
    ap.add_argument("--live", action="store_true", help="also run the latency and stability benchmarks with the trees")
    args = ap.parse_args()
    try:
        import sklearn  # noqa: F401
    except ImportError:
        sys.exit("line_estimators.py fits with scikit-learn: pip install scikit-learn")
    trees = fit(args.train, args, [level_column()] if args.without_level else [])
    for corpus in args.judge:
        print(corpus.name)
        print(f"  shipped  {judge(corpus)}", flush=True)
        with estimating_with(trees):
            print(f"  trees    {judge(corpus)}", flush=True)
    if args.live:
        import bench_line_latency
        import bench_line_stability

        with estimating_with(trees):
            for bench, argv in ((bench_line_latency, ["--seeds", "6"]), (bench_line_stability, ["--seeds", "5"])):
                print(f"\n{bench.__name__}.py {' '.join(argv)}, with the trees:", flush=True)
                sys.argv = [bench.__file__, *argv]
                bench.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
