"""The line analyzer under interferers that fill the caller's pauses: babble and mains hum."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from firmware.line.analyzer import analyze
from tests.test_line_analyzer import SR, babble, mix_at, needs_speech, quantise, speech


def hum(n: int, seed: int = 0) -> np.ndarray:
    """50 Hz mains hum with harmonics at 100, 150 and 250 Hz over a little broadband noise."""
    t = np.arange(n) / SR
    tones = sum(np.sin(2 * np.pi * 50 * h * t + h) / h for h in (1, 2, 3, 5))
    return tones + 0.05 * np.random.default_rng(seed).normal(0.0, 1.0, n)


@needs_speech
def test_babble_at_0_db_cannot_be_understood(tmp_path: Path) -> None:
    # four other talkers as loud as the caller: ESTOI falls to about 0.3-0.45
    x = speech(tmp_path)
    res = analyze(quantise(mix_at(x, babble(tmp_path, len(x)), 0.0)), SR)
    assert res.verdict == "unintelligible", res


@needs_speech
@pytest.mark.parametrize("snr", [0.0, -5.0])
def test_babble_drowning_the_caller_is_not_good_and_scores_below_distant_babble(tmp_path: Path, snr: float) -> None:
    x = speech(tmp_path)
    b = babble(tmp_path, len(x))
    near = analyze(quantise(mix_at(x, b, snr)), SR)
    far = analyze(quantise(mix_at(x, b, 20.0)), SR)
    assert near.verdict in ("degraded", "unintelligible")
    assert far.verdict == "good"
    assert far.score > near.score + 0.2


@needs_speech
def test_mains_hum_10_db_above_the_caller_is_not_good(tmp_path: Path) -> None:
    x = speech(tmp_path)
    loud = analyze(quantise(mix_at(x, hum(len(x)), -10.0)), SR)
    assert loud.verdict in ("degraded", "unintelligible"), loud
    assert loud.score < 0.6


@needs_speech
def test_faint_mains_hum_under_the_caller_stays_good(tmp_path: Path) -> None:
    x = speech(tmp_path)
    faint = analyze(quantise(mix_at(x, hum(len(x)), 15.0)), SR)
    assert faint.verdict == "good", faint
    loud = analyze(quantise(mix_at(x, hum(len(x)), -10.0)), SR)
    assert faint.score > loud.score + 0.2


def lowpass(x: np.ndarray, hz: float) -> np.ndarray:
    """A steep low-pass (Gaussian roll-off over 150 Hz), line noise filtered along with the speech."""
    f = np.fft.rfft(x)
    fr = np.fft.rfftfreq(len(x), 1 / SR)
    f[fr > hz] *= np.exp(-((fr[fr > hz] - hz) / 150) ** 2)
    return np.fft.irfft(f, len(x))


@needs_speech
@pytest.mark.parametrize("hz", [450.0, 700.0])
def test_speech_cut_to_the_lowest_bands_cannot_be_understood(tmp_path: Path, hz: float) -> None:
    # what is left above the cut-off lies at -100 dBFS, far above 16-bit quantisation but inaudible
    res = analyze(quantise(lowpass(speech(tmp_path), hz)), SR)
    assert res.verdict == "unintelligible", res
