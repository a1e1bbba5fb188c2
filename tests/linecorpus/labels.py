"""A clip's category, from objective measures against its clean reference.

The categories and their thresholds are the ones the project's detectors are judged by:

* ``no_signal``: the line is dead (digital silence, or a bare mains hum) -- set by construction;
* ``silent``: the line is live (background noise) but nobody speaks -- set by construction;
* ``unintelligible``: speech is there but cannot be followed: ESTOI < 0.50, or speech level < -50 dBFS;
* ``degraded``: understandable with effort: ESTOI < 0.75, or speech level < -40 dBFS;
* ``good``: everything else (clean atypical speech included).

ESTOI is the extended short-time objective intelligibility of Jensen and Taal (2016), from pystoi;
PESQ (ITU-T P.862, narrowband, from the pesq package) is recorded beside it for the second rank figure.
"""
from __future__ import annotations

from enum import Enum

import numpy as np

from .audio import RATE

# the borders of the labels (ESTOI, and the talker's speech level in dBFS)
UNINTELLIGIBLE_ESTOI, UNINTELLIGIBLE_DBFS = 0.50, -50.0
DEGRADED_ESTOI, DEGRADED_DBFS = 0.75, -40.0


class Label(Enum):
    """What a listener on the line would say about it, worst last."""

    GOOD = "good"
    DEGRADED = "degraded"
    UNINTELLIGIBLE = "unintelligible"
    SILENT = "silent"
    NO_SIGNAL = "no_signal"


CANNOT_HEAR = frozenset({Label.UNINTELLIGIBLE, Label.NO_SIGNAL})
NO_SPEECH = frozenset({Label.SILENT, Label.NO_SIGNAL})


def estoi(reference: np.ndarray, received: np.ndarray) -> float:
    from pystoi import stoi

    return float(stoi(reference, received, RATE, extended=True))


def pesq_nb(reference: np.ndarray, received: np.ndarray) -> float:
    from pesq import pesq

    try:
        return float(pesq(RATE, reference, received, "nb"))
    except Exception:  # the pesq package refuses a clip in which it finds no utterance: the worst score
        return 1.0


def label_for(intelligibility: float, level_dbfs: float) -> Label:
    if intelligibility < UNINTELLIGIBLE_ESTOI or level_dbfs < UNINTELLIGIBLE_DBFS:
        return Label.UNINTELLIGIBLE
    if intelligibility < DEGRADED_ESTOI or level_dbfs < DEGRADED_DBFS:
        return Label.DEGRADED
    return Label.GOOD
