#!/usr/bin/env python3
"""Print how the line analyzer measures a faint caller's level over a hissing line (a benchmark script).

The corpus rules (`linecorpus.labels`) judge a caller by ESTOI and by the speech level: under -50 dBFS
a caller cannot be heard, under -40 dBFS only with effort.  The analyzer caps its score by the level it
measures, so that measure must hold where a faint caller sits a few dB over the line's own hiss.  Each
voice is set to a level (`linecorpus.audio.at_level`, the rules' measure) and put on a line hissing at a
floor (white noise, as the simulator's line hisses); printed per floor and level: the median
`speech_dbfs` of the reports with a talker less the level set (dB, one column a voice), and how many
files `analyze` gives the label the rules give them (ESTOI against the talker, and the level).

Voices: the simulator's own speech, the corpus builders' espeak-ng callers in uk, ru and en (when
espeak-ng is installed; `linecorpus.speech`), and every WAV in --voices (any rate; real talkers, e.g.
the held-out talkers of line_make_real_corpus.py).

    python3 tests/bench/bench_line_level.py [--voices DIR] [--seconds 20]

Needs pystoi (as the corpus builders do).
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from firmware.threads import pin_math_threads  # noqa: E402

pin_math_threads()

from linecorpus.audio import at_level  # noqa: E402
from linecorpus.labels import estoi, label_for  # noqa: E402
from linecorpus.speech import SENTENCES, VOICES, synthesise  # noqa: E402

from firmware.line.analyzer import LineAnalyzer, analyze  # noqa: E402
from firmware.line.linecheck import read_wav, resample  # noqa: E402
from hwsim.audio import bundled_speech  # noqa: E402

SR = 8000
FLOORS_DBFS = (-77.0, -70.0, -62.0, -55.0)
LEVELS_DBFS = (-38.0, -44.0, -48.0, -52.0, -56.0)  # each 2 dB or more from the rules' borders


def voices(folder: Path | None, seconds: float) -> dict[str, np.ndarray]:
    found = {"sim": bundled_speech(SR).astype(np.float64)}
    if shutil.which("espeak-ng"):
        for lang in ("uk", "ru", "en"):
            found[f"espeak-{lang}"] = synthesise(" ".join(SENTENCES[lang][:2]), VOICES[lang][0])
    for f in sorted(folder.glob("*.wav")) if folder else []:
        x, rate = read_wav(str(f))
        found[f.stem[:14]] = x if rate == SR else resample(x, rate, SR)
    n = int(seconds * SR)
    return {k: np.tile(x, n // len(x) + 1)[:n] for k, x in found.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--voices", type=Path, help="a folder of talkers' WAV recordings")
    ap.add_argument("--seconds", type=float, default=20.0, help="each voice looped or cut to this long")
    a = ap.parse_args()
    talkers = voices(a.voices, a.seconds)
    rng = np.random.default_rng(1)
    print("measured speech level - level set (dB), per voice:", " ".join(talkers))
    errors: dict[float, list[float]] = {}
    agree: dict[float, list[bool]] = {}
    for floor in FLOORS_DBFS:
        for level in LEVELS_DBFS:
            cells = []
            for x in talkers.values():
                talker = at_level(x, level)
                line = talker + rng.normal(0, 10 ** (floor / 20), len(talker))
                measured = [r.speech_dbfs for r in LineAnalyzer(SR).feed(line) if r.speech]
                label = label_for(estoi(talker, line), level).value
                verdict = analyze(line, SR).verdict.value
                agree.setdefault(floor, []).append(verdict == label)
                if measured:
                    errors.setdefault(floor, []).append(float(np.median(measured)) - level)
                    cells.append(f"{errors[floor][-1]:+5.1f}")
                else:
                    cells.append("   - ")  # no talker heard at all
                cells[-1] += "" if verdict == label else f" ({verdict[:5]}, rules {label[:5]})"
            print(f"floor {floor:4.0f} dBFS, caller {level:4.0f} dBFS: " + "  ".join(cells))
    print("per floor: mean |error|, worst error (dB) where a talker was heard; files judged as the rules label them")
    for floor in FLOORS_DBFS:
        e = np.array(errors.get(floor, [np.nan]))
        print(f"  {floor:4.0f} dBFS: {np.mean(np.abs(e)):4.1f}, {e[np.argmax(np.abs(e))]:+5.1f}; "
              f"{sum(agree[floor])} of {len(agree[floor])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
