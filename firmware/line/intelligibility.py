"""How well a listener follows the caller: an ESTOI-scale estimate from the analyzer's measurements.

The analyzer measures the physics of the line over its 2-s window: per 1/3-octave band the talker's
level over three ideas of the noise under it (the line's floor by minimum statistics, the valleys
between the talker's words, and those valleys corrected for a fluctuating interferer such as babble),
how deeply each band is modulated, the share of lost, concealed and clipped audio, mains hum, how much
of the window carries speech, its level, and how periodic (voiced) the speech frames are: one talker's
voiced sounds repeat with their pitch, and noise or other talkers under them break that up.

How those measurements map to intelligibility is not a formula anyone can write down for real voices
in real noise, so it is learned: a small neural network (one hidden layer of tanh units, a few of them
averaged) fitted to the ESTOI of labelled clips.  `tests/bench/line_train.py` fits it on corpora built
from real recordings (talkers, and noises as different as streets, machines, water, crowds and
babble) and espeak-ng speech, and writes the weights to `intelligibility_weights.py`; this module only
evaluates them (numpy, a few microseconds per window).
"""
from __future__ import annotations

import base64

import numpy as np

from firmware.line import intelligibility_weights as _w

# what the inputs are clipped to before the network sees them (dB): beyond these a band is simply
# masked or simply clear
SNR_RANGE = (-15.0, 25.0)
FLOOR_SNR_RANGE = (-15.0, 30.0)
MODULATION_MAX_DB = 20.0
TILT_MAX_DB = 30.0
SWING_MAX_DB = 20.0
LEVEL_RANGE = (-60.0, -20.0)
CLIPPING_FULL = 0.35  # share of speech samples on a plateau at which clipping has done all its damage


def _array(stored: tuple[list[int], str]) -> np.ndarray:
    """An array of `intelligibility_weights`: (shape, base64 of little-endian float64)."""
    shape, data = stored
    return np.frombuffer(base64.b64decode(data), dtype="<f8").reshape(shape).astype(np.float64)


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
    """The network's input rows, one per window: per-band columns (n, bands) and scalar ones (n,);
    `voicing` is (n, 3): mean periodicity of the speech frames and the shares above 0.5 and 0.75;
    `tilt_db` the heard spectrum's shape (each band re the mean, dB); `gap_swing_db` how far the
    line's level swings between the talker's sounds."""
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


class Estimator:
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


ESTIMATOR = Estimator()
