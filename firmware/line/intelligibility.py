"""How well a listener follows the caller: an ESTOI-scale estimate from the analyzer's measurements.

The analyzer measures the physics of the line over its 2-s window: per 1/3-octave band the talker's
level over three ideas of the noise under it (the line's floor by minimum statistics, the valleys
between the talker's words, and those valleys corrected for a fluctuating interferer such as babble),
how deeply each band is modulated, the share of lost, concealed and clipped audio, mains hum, how much
of the window carries speech, its level, and how periodic (voiced) the speech frames are: one talker's
voiced sounds repeat with their pitch, and noise or other talkers under them break that up.

How those measurements map to intelligibility is not a formula anyone can write down for real voices
in real noise, so it is learned, by two kinds of model fitted to the ESTOI of labelled clips:

* a small neural network (one hidden layer of tanh units, a few of them averaged): smooth in its
  inputs, so a clean line scores steadily high from one window to the next (the LED clears at once
  when a bad spell ends, and does not flicker on a line at the good border);
* boosted regression trees (a few hundred small trees whose leaves add up): they split each
  measurement where the data say a listener's loss sets in and combine the bands sharply, which
  orders real voices in real noise near the cannot-understand border better than the network
  (pairs of unintelligible and degraded clips ordered right: 0.86-0.96 -> 0.89-0.98 on seven real
  corpora, issue 14), but their window-to-window estimates of a good line scatter more: alone, they
  cleared a recovered line 0.6 s later and let the LED flicker in babble.

The estimate is the network's where the network says the line is good, the trees' where it says the
line is poor, and a blend between (`TREES_BELOW_NET`): each model where it is the better one.  The
trees do not see the talker's level (see `inputs`).  `tests/bench/line_train.py` fits both on corpora
built from real recordings (talkers, and noises as different as streets, machines, water, crowds and
babble) and espeak-ng speech, and writes them to `intelligibility_weights.py`; this module only
evaluates them (numpy, a fraction of a millisecond for the windows of a clip).
"""
from __future__ import annotations

import base64
import zlib

import numpy as np

from firmware.line import intelligibility_weights as _w

# what the inputs are clipped to before the models see them (dB): beyond these a band is simply
# masked or simply clear
SNR_RANGE = (-15.0, 25.0)
FLOOR_SNR_RANGE = (-15.0, 30.0)
MODULATION_MAX_DB = 20.0
TILT_MAX_DB = 30.0
SWING_MAX_DB = 20.0
LEVEL_RANGE = (-60.0, -20.0)
CLIPPING_FULL = 0.35  # share of speech samples on a plateau at which clipping has done all its damage


def _array(stored: tuple[str, list[int], str]) -> np.ndarray:
    """An array of `intelligibility_weights`: (numpy dtype, shape, base64 of its zlib-deflated bytes)."""
    dtype, shape, data = stored
    return np.frombuffer(zlib.decompress(base64.b64decode(data)), dtype=dtype).reshape(shape)


def unit(v: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """`v` mapped linearly from lo..hi onto 0..1 and clipped there (hi < lo maps downwards); np.clip's
    own overhead is larger than the work on a few dozen values."""
    return np.minimum(np.maximum((v - lo) / (hi - lo), 0.0), 1.0)


def inputs(
    snr_fill: np.ndarray, snr_valley: np.ndarray, snr_floor: np.ndarray, modulation: np.ndarray,
    dropout: np.ndarray, burst: np.ndarray, concealed: np.ndarray, clipping: np.ndarray, hum: np.ndarray,
    activity: np.ndarray, level_dbfs: np.ndarray, voicing: np.ndarray, tilt_db: np.ndarray,
    gap_swing_db: np.ndarray,
) -> np.ndarray:
    """The models' input rows, one per window: per-band columns (n, bands) and scalar ones (n,);
    `voicing` is (n, 3): mean periodicity of the speech frames and the shares above 0.5 and 0.75;
    `tilt_db` the heard spectrum's shape (each band re the mean, dB); `gap_swing_db` how far the
    line's level swings between the talker's sounds.

    The trees are fitted without the level column: how loud a caller arrives says little of how well
    the words come through (AGC and the handset set it), the training corpora's levels go with their
    impairments in ways a line's do not, and trees given it ordered espeak's clean clips by it."""
    fill = unit(snr_fill, *SNR_RANGE)
    return np.column_stack([
        fill, unit(snr_valley, *SNR_RANGE), unit(snr_floor, *FLOOR_SNR_RANGE),
        np.minimum(np.maximum(modulation, 0.0), MODULATION_MAX_DB) / 10.0,
        fill.mean(axis=1) ** 2,
        dropout, dropout * np.minimum(burst, 4.0), concealed, np.minimum(1.0, clipping / CLIPPING_FULL) ** 0.7,
        hum, activity, unit(level_dbfs, *LEVEL_RANGE), voicing,
        np.minimum(np.maximum(tilt_db, -TILT_MAX_DB), TILT_MAX_DB) / 10.0,
        np.minimum(gap_swing_db, SWING_MAX_DB) / 10.0,
    ])


#: where the network's estimate hands over to the trees': the trees' alone under the first, the
#: network's alone over the second, linearly between (under the good border of 0.75, above the
#: cannot-understand border of 0.53 and the estimates the trees make near it)
TREES_BELOW_NET = (0.65, 0.80)


class Networks:
    """The averaged networks of `intelligibility_weights`: `estimate(inputs)` -> 0..1 per row."""

    def __init__(self, members: tuple = _w.MEMBERS, scale: float = _w.SCALE) -> None:
        # every member standardises its inputs its own way: folded into its first layer, all members'
        # hidden units are one product of the inputs with one matrix
        w1s, b1s, w2s, b2s = [], [], [], []
        for m in members:
            mean, std = _array(m["mean"]), _array(m["std"])
            w1 = _array(m["w1"]) / std[:, None]
            w1s.append(w1)
            b1s.append(_array(m["b1"]) - mean @ w1)
            w2s.append(_array(m["w2"]))
            b2s.append(float(m["b2"]))
        self._w1 = np.concatenate(w1s, axis=1)
        self._b1 = np.concatenate(b1s)
        self._w2 = np.zeros((self._w1.shape[1], len(members)))  # block diagonal: member k's units to output k
        for k, w2 in enumerate(w2s):
            self._w2[k * len(w2) : (k + 1) * len(w2), k] = w2
        self._b2 = np.array(b2s)
        self._scale = scale

    def estimate(self, x: np.ndarray) -> np.ndarray:
        """The ESTOI-scale estimate (0..1) of every row of inputs."""
        out = 1.0 / (1.0 + np.exp(-(np.tanh(x @ self._w1 + self._b1) @ self._w2 + self._b2)))
        # the networks were fitted through a sigmoid stretched by `scale`, so that 0 and 1 are reachable
        est = self._scale * out.mean(axis=1) - (self._scale - 1.0) / 2.0
        return np.minimum(np.maximum(est, 0.0), 1.0)


class Trees:
    """The boosted trees of `intelligibility_weights`: `estimate(inputs)` -> 0..1 per row.

    All trees' nodes sit in one set of flat arrays; a leaf points to itself and never sends a row on
    (its threshold is infinite), so every row walks every tree for `depth` steps at once, whatever the
    depth of the leaf it reaches.  A split sends a row left when its input is at most the threshold."""

    def __init__(self, trees: dict = _w.TREES) -> None:
        self._feature = _array(trees["feature"]).astype(np.intp)
        self._threshold = _array(trees["threshold"]).astype(np.float64)
        # node k's children at 2k (left) and 2k + 1 (right): one gather a step instead of two and a choice
        self._children = _array(trees["children"]).astype(np.intp)
        self._value = _array(trees["value"]).astype(np.float64)
        self._roots = _array(trees["roots"]).astype(np.intp)
        self._depth = int(trees["depth"])
        self._base = float(trees["base"])

    def estimate(self, x: np.ndarray) -> np.ndarray:
        """The ESTOI-scale estimate (0..1) of every row of inputs."""
        flat = np.ascontiguousarray(x, dtype=np.float64).ravel()
        row0 = (np.arange(len(x)) * x.shape[1])[:, None]  # a row's input k is flat[row0 + k]
        node = np.broadcast_to(self._roots, (len(x), len(self._roots)))
        feature, threshold, children = self._feature, self._threshold, self._children
        # take: a third faster than indexing on these small arrays, and the method a tenth faster
        # than the function, which is a Python wrapper around it
        for _ in range(self._depth):
            right = flat.take(row0 + feature.take(node)) > threshold.take(node)
            node = children.take(2 * node + right)
        est = self._base + self._value.take(node).sum(axis=1)
        return np.minimum(np.maximum(est, 0.0), 1.0)


class Estimator:
    """The network's estimate where it says the line is good, the trees' where it says it is poor
    (`TREES_BELOW_NET`): `estimate(inputs)` -> 0..1 per row."""

    def __init__(self, networks: Networks | None = None, trees: Trees | None = None) -> None:
        self.networks = Networks() if networks is None else networks
        self.trees = Trees() if trees is None else trees

    def estimate(self, x: np.ndarray) -> np.ndarray:
        """The ESTOI-scale estimate (0..1) of every row of inputs."""
        est = self.networks.estimate(x)
        lo, hi = TREES_BELOW_NET
        poor = est < hi
        if poor.any():  # a good line (most windows of most calls) needs no trees
            net = est[poor]
            share = np.minimum(np.maximum((net - lo) / (hi - lo), 0.0), 1.0)  # of the network's
            est[poor] = share * net + (1.0 - share) * self.trees.estimate(x[poor])
        return est


ESTIMATOR = Estimator()
