"""The intelligibility estimate: the networks judge a good line, the trees a poor one, and the trees'
vectorised walk gives what walking each tree node by node gives."""
from __future__ import annotations

import numpy as np
import pytest

from firmware.line.intelligibility import ESTIMATOR, TREES_BELOW_NET, Trees, inputs

BANDS = 13


def measured(n: int, seed: int, level_dbfs: float | None = None) -> tuple:
    """`inputs`' arguments for n windows spread over what the analyzer measures, from a clean line to a
    buried talker (every talker at `level_dbfs` if given)."""
    rng = np.random.default_rng(seed)
    snr = rng.uniform(-15.0, 30.0, (n, 1)) + rng.normal(0.0, 4.0, (n, BANDS))
    share = rng.random((3, n))
    level = rng.uniform(-50, -20, n) if level_dbfs is None else np.full(n, level_dbfs)
    return (
        snr, snr - rng.uniform(0, 6, (n, 1)), snr + rng.uniform(0, 6, (n, 1)), rng.uniform(1, 15, (n, BANDS)),
        rng.uniform(0, 0.5, n) * (share[0] < 0.3), rng.uniform(1, 4, n), rng.uniform(0, 0.2, n) * (share[1] < 0.2),
        rng.uniform(0, 0.1, n) * (share[2] < 0.2), rng.uniform(0.7, 1.0, n), rng.uniform(0.3, 1.0, n), level,
        rng.uniform(0.2, 0.9, (n, 3)), rng.normal(0, 5, (n, BANDS)), rng.uniform(0, 8, n),
    )


def rows(n: int, seed: int) -> np.ndarray:
    return inputs(*measured(n, seed))


def walk_one_by_one(trees: Trees, x: np.ndarray) -> np.ndarray:
    """The plain reading of the stored trees: from each root, left while the input is at most the
    threshold, until a leaf (a node that is its own child)."""
    out = []
    for row in x:
        total = trees._base
        for root in trees._roots:
            node = int(root)
            while trees._children[2 * node] != node:
                node = int(trees._children[2 * node + (row[trees._feature[node]] > trees._threshold[node])])
            total += trees._value[node]
        out.append(min(max(total, 0.0), 1.0))
    return np.array(out)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_trees_vectorised_walk_is_the_node_by_node_walk(seed: int) -> None:
    x = rows(40, seed)
    assert np.allclose(ESTIMATOR.trees.estimate(x), walk_one_by_one(ESTIMATOR.trees, x), atol=1e-12)


def test_the_networks_judge_a_good_line_and_the_trees_a_poor_one() -> None:
    x = rows(400, 3)
    net, trees, est = ESTIMATOR.networks.estimate(x), ESTIMATOR.trees.estimate(x), ESTIMATOR.estimate(x)
    lo, hi = TREES_BELOW_NET
    good, poor, between = net >= hi, net <= lo, (net > lo) & (net < hi)
    assert good.sum() > 20 and poor.sum() > 20 and between.sum() > 20  # the rows reach every case
    assert np.array_equal(est[good], net[good])
    assert np.allclose(est[poor], trees[poor])
    lower, upper = np.minimum(net, trees)[between], np.maximum(net, trees)[between]
    assert np.all((lower - 1e-12 <= est[between]) & (est[between] <= upper + 1e-12))


def test_the_trees_never_split_on_the_talkers_level() -> None:
    quiet, loud = inputs(*measured(50, 4, -50.0)), inputs(*measured(50, 4, -20.0))
    level = np.flatnonzero((quiet != loud).any(axis=0))
    assert len(level) == 1  # the one column the level moves
    trees = ESTIMATOR.trees
    nodes = np.arange(len(trees._feature))
    splits = trees._feature[trees._children[2 * nodes] != nodes]
    assert level[0] not in set(splits.tolist())
    assert np.array_equal(trees.estimate(quiet), trees.estimate(loud))
