"""The line analyzer's fast paths: reports pinned to their values, shared work arrays, block times."""
from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pytest

from firmware.line.analyzer import _BLOCKS_PER_S, HOP_S, LineAnalyzer

SR = 8000


def voiced(seconds: float, seed: int) -> np.ndarray:
    """Speech-like test signal: a gliding harmonic voice in 4 Hz syllables with pauses, on line noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    f0 = 120.0 + 25.0 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / SR
    v = sum(np.sin(h * phase) / h for h in range(1, 30) if h * 140 < 3800)
    syll = np.clip(np.sin(2 * np.pi * 4.0 * t), 0, None) ** 2
    talk = (np.sin(2 * np.pi * 0.23 * t + seed) > -0.4).astype(float)  # phrases and pauses
    x = 0.08 * v * syll * talk
    return x + rng.normal(0, 10 ** (-62 / 20), len(t))


def signals() -> dict[str, np.ndarray]:
    """A clean talker, noise, packet loss, concealment, clipping, a dead stretch, and hum."""
    rng = np.random.default_rng(3)
    s = voiced(12.0, 1)
    lossy = s.copy()
    fr = lossy[: len(s) // 160 * 160].reshape(-1, 160)
    fr[rng.random(len(fr)) < 0.4] = 0.0
    conc = s.copy()
    fc = conc[: len(s) // 160 * 160].reshape(-1, 160)
    for i in np.flatnonzero(rng.random(len(fc)) < 0.2):
        if i:
            fc[i] = 0.7 * fc[i - 1]
    dead = s.copy()
    dead[4 * SR : 7 * SR] = 0.0
    t = np.arange(len(s)) / SR
    return {
        "clean": s,
        "noisy": s + rng.normal(0, 10 ** (-30 / 20), len(s)),
        "lossy": lossy,
        "concealed": conc,
        "clipped": np.clip(s, -0.02, 0.02),
        "dead": dead,
        "hum": s + 0.1 * np.sin(2 * np.pi * 50 * t),
    }


def digest(reports: list) -> tuple:
    """Report count, the verdict sequence and every float field's mean (to 1e-9: BLAS and FFT
    libraries of other machines may differ in the last bits)."""
    rows = [dataclasses.astuple(r) for r in reports]
    verdicts = "".join(r.verdict[0] + r.raw[0] for r in reports)
    means = [round(float(np.mean([row[i] for row in rows])), 9) for i in range(len(rows[0]))
             if isinstance(rows[0][i], float)]
    return len(rows), verdicts, means


# digests of the analyzer (re-pinned in #14: the learned intelligibility estimate, voicing, cut holes,
# the trees under the networks; pauses of digital silence heard at a live line's hiss; both refitted
# with 201 more talkers; the talker's level measured on their weak sounds too, the floor taken out;
# concealed packets charged more by how long their copies run); the fast paths keep them
PINNED: dict[str, tuple] = {'clean': (60,
           'sssdgggggggggggggggggsgsgsgsgsgsgsgggggggggggggggggggggggggggggggsgsgsgsgsgsgggggggggggggggggggggggggggggggsgsgsgsgsgsgs',
           [6.1,
            0.906225851,
            -30.013043068,
            -61.917865722,
            26.454610285,
            0.939792171,
            0.0,
            0.0,
            0.0,
            11.997313685,
            3756.640280525,
            0.910401191]),
 'clipped': (60,
             'sssdsdgggggggggggggggsgsgsgsgsgsgsgdgggggggggggggggggggggggggggggsgsgsgsgsgsgggggggggggggggggggggggggggggggsgsgsgsgsgsgs',
             [6.1,
              0.827267542,
              -38.929514057,
              -61.9111427,
              14.303874288,
              0.835442451,
              0.0,
              0.0,
              0.0,
              7.378186773,
              3806.61417105,
              0.797473257]),
 'concealed': (60,
               'ssgggdgdgdgggdgdgdgdgsgsgsgsgsgsgsgsgsgggggggggggggggggggggggggggsgsgsgsgsgsgggggggggggggggggggggggggggggggsgsgsgsgsgsgs',
               [6.1,
                0.739075367,
                -37.419469791,
                -63.75334046,
                26.059936186,
                0.893615098,
                0.0,
                0.161670019,
                0.0,
                12.103535992,
                3692.07343853,
                0.746719992]),
 'dead': (60,
          'sssdgggggggggggggggggsgsgsgsgsgsgsgggggggggsnnnnnnnnnnnnnnnnnnnnnnnnnnnsssssssgggggggggggggggggggggggggggggsgsgsgsgsgsgs',
          [6.1,
           0.735005848,
           -47.644553617,
           -76.734021545,
           20.202703548,
           0.746243237,
           0.0,
           0.0,
           0.0,
           9.505158364,
           2927.033859317,
           0.738840425]),
 'hum': (60,
         'sssdsdsdsdsdsdsdgggdgsnnnnnnnnnnnngggggggggggggggggggggggggggggggsnnnnnnnnnngggggggggggdgdgdgdgggggggggggggsnnnnnnnnnnnn',
         [6.1,
          0.738854387,
          -23.45062462,
          -61.914657236,
          21.192517091,
          0.893390165,
          0.0,
          0.067161469,
          3.2907e-05,
          8.435988411,
          3689.973613858,
          0.745353777]),
 'lossy': (60,
           'sssdsdsdsdsdsdsdsddddsdddddddddsdsdsdddddddddddddddddddddddddddddddddddddddsdddddddddudddddududddddddudududsdudddddddsds',
           [6.1,
            0.52284422,
            -41.527406508,
            -68.657275392,
            20.687825027,
            0.824095725,
            0.409178571,
            0.0,
            0.0,
            12.695196466,
            3289.973613858,
            0.52284422]),
 'noisy': (60,
           'susususususususususuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu',
           [6.1,
            0.135847857,
            -76.972046239,
            -30.472146015,
            0.715010388,
            0.192400602,
            0.0,
            0.0,
            0.0,
            2.086160335,
            330.54652597,
            0.135847857])}


def feed_all(an: LineAnalyzer, x: np.ndarray, chunk: int) -> list:
    out = []
    for i in range(0, len(x), chunk):
        out.extend(an.feed(x[i : i + chunk]))
    return out


@pytest.mark.parametrize("name", sorted(signals()))
@pytest.mark.parametrize("chunk", [800, 1 << 16])
def test_reports_keep_their_pinned_values(name: str, chunk: int) -> None:
    got = digest(feed_all(LineAnalyzer(SR), signals()[name], chunk))
    want = PINNED[name]
    assert got[:2] == want[:2]
    assert np.allclose(got[2], want[2], rtol=1e-7, atol=1e-7), (got[2], want[2])


def test_analyzers_sharing_work_arrays_do_not_disturb_each_other() -> None:
    sig = signals()
    a_alone = feed_all(LineAnalyzer(SR), sig["clean"], 4000)
    b_alone = feed_all(LineAnalyzer(SR), sig["lossy"], 4000)
    a, b = LineAnalyzer(SR), LineAnalyzer(SR)
    a_mix, b_mix = [], []
    for i in range(0, len(sig["clean"]), 4000):  # interleaved in one thread
        a_mix.extend(a.feed(sig["clean"][i : i + 4000]))
        b_mix.extend(b.feed(sig["lossy"][i : i + 4000]))
    assert a_mix == a_alone and b_mix == b_alone
    results: dict[str, list] = {}

    def run(name: str) -> None:
        an = LineAnalyzer(SR)
        results[name] = feed_all(an, sig[name], 1600)

    threads = [threading.Thread(target=run, args=(n,)) for n in ("clean", "lossy", "noisy", "hum")]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for name, reps in results.items():
        assert reps == feed_all(LineAnalyzer(SR), sig[name], 1600), name


def test_block_end_times_are_the_rounded_multiples_of_the_hop() -> None:
    an = LineAnalyzer(SR)
    reps = an.feed(np.zeros(int(SR * 30)))
    assert [r.t for r in reps] == [round(k * HOP_S, 6) for k in range(1, len(reps) + 1)]
    assert all(k / _BLOCKS_PER_S == round(k * HOP_S, 6) for k in range(1, 5_000_000, 997))  # 11 days
