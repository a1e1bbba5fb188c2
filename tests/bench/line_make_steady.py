#!/usr/bin/env python3
"""Make steady noises for `line_make_real_corpus.py`: white, pink, brown, blue and speech-shaped.

Each is 30 s of Gaussian noise at 16 kHz whose power spectrum falls or rises with frequency as its
colour says (pink 3 dB an octave down, brown 6, blue 3 up), peak-normalised to half of full scale;
the speech-shaped one has the long-term spectrum of the talkers' recordings in VOICES (mono 16 kHz WAVs,
e.g. the babble builder's input), smoothed over 200 bins.  For the `--noises STEADY` corpora of
`line_train.py` (V16: its talkers `V` as mono 16 kHz WAVs; the weights on main were fitted on noises of
the same kinds from an earlier script):

    python3 tests/bench/line_make_steady.py V16/ STEADY/ --seed 12
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.ndimage import uniform_filter1d

RATE = 16000
SECONDS = 30


def long_term_spectrum(voices: list[Path], n: int) -> np.ndarray:
    """The talkers' mean magnitude spectrum over `n` samples (each recording looped to that length)."""
    power = np.zeros(n // 2 + 1)
    for path in voices:
        x, rate = sf.read(path)
        if rate != RATE or x.ndim != 1:
            sys.exit(f"{path}: {rate} Hz, {x.ndim} channel(s); mono {RATE} Hz recordings are read")
        power += np.abs(np.fft.rfft(np.resize(x, n) * np.hanning(n))) ** 2
    return np.sqrt(uniform_filter1d(power, 200))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("voices", type=Path, help="a folder of mono 16 kHz WAV recordings of talkers")
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    voices = sorted(a.voices.glob("*.wav"))
    if not voices:
        sys.exit(f"no WAV recordings in {a.voices}")
    rng = np.random.default_rng(a.seed)
    n = SECONDS * RATE
    freq = np.fft.rfftfreq(n, 1 / RATE)
    freq[0] = freq[1]

    def shaped(gain: np.ndarray) -> np.ndarray:
        return np.fft.irfft(np.fft.rfft(rng.standard_normal(n)) * gain, n)

    noises = {"white": rng.standard_normal(n)}
    noises |= {name: shaped(freq**slope) for name, slope in (("pink", -0.5), ("brown", -1.0), ("blue", 0.5))}
    noises["speechshaped"] = shaped(long_term_spectrum(voices, n))
    a.out.mkdir(parents=True, exist_ok=True)
    for name, x in noises.items():
        sf.write(a.out / f"{name}.wav", x / np.max(np.abs(x)) * 0.5, RATE, subtype="PCM_16")
    print(f"wrote {len(noises)} noises to {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
