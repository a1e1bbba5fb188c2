#!/usr/bin/env python3
"""Make babble noise from talkers' recordings: mixtures of a few voices, for `line_make_real_corpus.py`.

A crowd of many talkers is nearly steady noise; two or three talkers are the hard case for a line
analyzer, because the interferer is speech itself, with its pauses, pitch and syllable rhythm.  Each
mixture sums whole recordings of distinct talkers (every one at the same speech level as
`linecorpus.audio.speech_level_dbfs` measures it, then up to `--spread-db` quieter, from a random
point, looped to the length), scaled to -20 dBFS RMS and written as `babble_<prefix><k>_<talkers>.wav`:
`line_make_real_corpus.py` takes a noise whose name starts with "babble" for talkers (never the
background of a "silent" clip, so add a few other noises for those).

``--talkers 2-6`` draws each mixture's count from 2..6; ``--talkers 2x16,3x8`` makes 16 mixtures of
two and then 8 of three.  The training babble of issue 14 (talkers: the LibriSpeech voices kept for
training, see `line_train.py`):

    python3 tests/bench/line_make_babble.py V/ N/ --seed 22 --talkers 2-6 --count 24 --spread-db 6 --prefix lmix
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from linecorpus.audio import at_level  # noqa: E402

RATE = 16000
SECONDS = 30


def talker_ranges(spec: str, count: int | None) -> list[tuple[int, int]]:
    """Each mixture's fewest and most talkers: `2-6` (with `count`) a range drawn from as each mixture
    is made; `2x16,3x8` the counts as written."""
    if "x" in spec:
        return [(int(n), int(n)) for part in spec.split(",") for n, times in [part.split("x")]
                for _ in range(int(times))]
    lo, hi = (int(v) for v in spec.split("-"))
    if count is None:
        raise ValueError("--count is needed with a range of talkers")
    return [(lo, hi)] * count


def mixture(voices: list[Path], n: int, spread_db: float, rng: np.random.Generator) -> np.ndarray:
    """`n` distinct talkers of `voices`, SECONDS long, at -20 dBFS RMS."""
    length = SECONDS * RATE
    mix = np.zeros(length)
    for j in rng.choice(len(voices), n, replace=False):
        x, rate = sf.read(voices[j])
        if rate != RATE or x.ndim != 1:
            raise ValueError(f"{voices[j]}: need mono {RATE} Hz")
        x = at_level(x - x.mean(), -26.0)  # every talker at one speech level before the spread
        x = np.tile(x, length // len(x) + 2)
        start = int(rng.integers(0, len(x) - length))
        mix += x[start : start + length] * 10 ** (rng.uniform(-spread_db, 0) / 20)
    return mix * 0.1 / np.sqrt(np.mean(mix**2))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("voices", type=Path, help="a folder of mono 16 kHz WAV recordings, one talker each")
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--talkers", default="2-6", help="'LO-HI' (with --count) or 'NxTIMES,...'")
    ap.add_argument("--count", type=int, help="how many mixtures, with a range of talkers")
    ap.add_argument("--spread-db", type=float, default=6.0, help="talkers up to this much under the loudest")
    ap.add_argument("--prefix", default="mix")
    a = ap.parse_args()
    voices = sorted(a.voices.glob("*.wav"))
    try:
        ranges = talker_ranges(a.talkers, a.count)
    except ValueError as e:
        ap.error(f"--talkers {a.talkers!r}: {e}")
    if len(voices) < max(hi for _, hi in ranges):
        ap.error(f"{a.voices}: {len(voices)} recordings, a mixture needs {max(hi for _, hi in ranges)}")
    a.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    for k, (lo, hi) in enumerate(ranges):
        n = lo if lo == hi else int(rng.integers(lo, hi + 1))
        try:
            mix = mixture(voices, n, a.spread_db, rng)
        except ValueError as e:  # a recording of another rate or with channels
            ap.error(str(e))
        sf.write(a.out / f"babble_{a.prefix}{k}_{n}.wav", mix, RATE)
    print(f"wrote {len(ranges)} mixtures to {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
