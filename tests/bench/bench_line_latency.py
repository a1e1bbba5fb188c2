#!/usr/bin/env python3
"""Print the streaming line analyzer's decision latencies (a benchmark script, not a test).

Clean espeak-ng speech (8 kHz, -26 dBFS, a -62 dBFS line-noise floor) is streamed in 20 ms chunks;
the line then goes dead (digital zeros), or heavily impaired (white noise 5 dB above the speech,
or 50 % packet loss), then back to clean; and a caller falls silent on a live line for 40 s.

    python3 tests/bench/bench_line_latency.py
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from firmware.line.analyzer import LineAnalyzer  # noqa: E402

SR = 8000
TEXT = (
    "Доброго дня. Я телефоную щодо розгляду моєї справи в районному суді. Підкажіть, будь ласка, "
    "коли призначено наступне засідання у моїй справі. Мене звати Марія Коваленко."
)


def speech(seconds: float) -> np.ndarray:
    """Continuous espeak-ng speech, looped to `seconds`, active level -26 dBFS."""
    with tempfile.TemporaryDirectory() as td:
        raw = Path(td, "s.wav")
        subprocess.run(["espeak-ng", "-v", "uk", "-s", "150", "-w", str(raw), TEXT], check=True)
        out = Path(td, "o.wav")
        subprocess.run(["sox", str(raw), "-r", str(SR), "-c", "1", "-b", "16", str(out)], check=True)
        with wave.open(str(out)) as w:
            x = np.frombuffer(w.readframes(w.getnframes()), "<i2") / 32768.0
    x = np.tile(x, int(seconds * SR / len(x)) + 1)[: int(seconds * SR)]
    fr = x[: len(x) // 160 * 160].reshape(-1, 160)
    e = np.mean(fr**2, axis=1)
    act = e[10 * np.log10(e + 1e-20) > 10 * np.log10(e.max()) - 35]
    return x * 10 ** ((-26 - 10 * np.log10(np.mean(act))) / 20)


def floor_noise(n: int, rng: np.random.Generator, dbfs: float = -62.0) -> np.ndarray:
    return rng.normal(0, 10 ** (dbfs / 20), n)


def stream(x: np.ndarray) -> list:
    an = LineAnalyzer(SR)
    reps = []
    for i in range(0, len(x), 160):
        reps.extend(an.feed(x[i : i + 160]))
    return reps


def first(reps: list, after: float, ok: set[str]) -> float | None:
    for r in reps:
        if r.t > after and r.verdict in ok:
            return r.t - after
    return None


def fmt(v: float | None) -> str:
    return "never" if v is None else f"{v:.2f} s"


def main() -> int:
    rng = np.random.default_rng(3)
    s = speech(40.0)
    n = len(s)
    a, b = 12 * SR, 24 * SR  # impairment from 12 s to 24 s, clean again afterwards
    base = s + floor_noise(n, rng)
    print("scenario                      onset->detected   recovery->good   verdict before onset")

    dead = base.copy()
    dead[a:b] = 0.0
    reps = stream(dead)
    print(f"{'dead line (zeros)':30s}{fmt(first(reps, 12, {'no_signal'})):>15s}"
          f"{fmt(first(reps, 24, {'good'})):>17s}   {[r.verdict for r in reps if r.t <= 12][-1]}")

    noisy = base.copy()
    noisy[a:b] += rng.normal(0, 10 ** (-21 / 20), b - a)  # white noise 5 dB above the speech
    reps = stream(noisy)
    print(f"{'noise at SNR -5 dB':30s}{fmt(first(reps, 12, {'unintelligible'})):>15s}"
          f"{fmt(first(reps, 24, {'good'})):>17s}   {[r.verdict for r in reps if r.t <= 12][-1]}")

    lossy = base.copy()
    seg = lossy[a:b].reshape(-1, 160)
    seg[rng.random(len(seg)) < 0.6] = 0.0  # 60 % of packets lost
    reps = stream(lossy)
    print(f"{'packet loss 60 %':30s}{fmt(first(reps, 12, {'unintelligible', 'no_signal'})):>15s}"
          f"{fmt(first(reps, 24, {'good'})):>17s}   {[r.verdict for r in reps if r.t <= 12][-1]}")

    silent = np.concatenate([base[: 10 * SR], floor_noise(40 * SR, rng, -55.0)])
    reps = stream(silent)
    after = [r.verdict for r in reps if r.t > 10]
    t_sil = first(reps, 10, {"silent"})
    held = all(v == "silent" for v in after[int((t_sil or 0) / 0.2) + 1 :]) if t_sil is not None else False
    print(f"caller silent on a live line: 'silent' after {fmt(t_sil)}, held for the remaining "
          f"{40 - (t_sil or 0):.1f} s: {held}; verdicts seen {sorted(set(after))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
