#!/usr/bin/env python3
"""Print the streaming line analyzer's decision latencies (a benchmark script, not a test).

Clean espeak-ng speech (8 kHz, -26 dBFS, a -62 dBFS line-noise floor) is streamed in 20 ms chunks; from
12 s to 24 s the line goes dead (digital zeros), or impaired (white noise 5 dB above the speech, in the
line's band with ``--voices``; 60 % packet loss; 30 % loss in bursts of 3 packets; hard clipping; 70 %
loss in bursts of 4 that the caller's jitter buffer conceals, the packet before again, fading, under the
line's hiss), then back to clean; and a caller falls silent on a live line for 40 s. "detected" is the
first alarm after the onset (no_signal for a dead line, unintelligible for noise, heavy loss and heavy
concealment, anything but good for bursty loss and clipping), "recovery" the first "good" after the line
is clean again. With ``--seeds N`` also the worst case over N noise seeds, and in how many seeds each
latency is past issue 14's bound (a worst case is one seed: 60 % loss sits at the cannot-understand
border, so its detection time varies from seed to seed), and the ESTOI of each impaired stretch against
the clean one over the seeds, with the detections past the bound counted again over the seeds whose
stretch the corpus rules say cannot be understood (ESTOI under 0.50; needs pystoi, as the corpus builders
do). Last, on the simulator's line and its own speech from every 0.25 s of it as the start: 10 s of heavy
loss, loud noise or a dead line, then clean: in how many runs the LED showed the line unintelligible
(dead) only after more than 3 s (1 s), and of the runs whose LED is not green when the line comes back,
how many are green again only after more than 2 s (a talker's pause just then must not hold the LED). And
a spell of noise a listener follows with effort (12 s, 12 s into the call) that ends: of the runs whose
LED is not green when it ends, how many are green again only after more than 2 s; the noises are the
stability benchmark's (white 9 dB, pink 5 dB, babble 10 and 5 dB under the talker) and, with
``--noises DIR``, each WAV recording in DIR at 10 and 5 dB, carried in the line's band.

With ``--voices DIR`` the caller of each seed is one of the WAV recordings in DIR instead (real
talkers, any rate; band-limited as a line carries them, looped, at the same level), in every section
but the simulated line's, which plays its own speech.

    python3 tests/bench/bench_line_latency.py [--seeds 40] [--voices DIR] [--noises DIR]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench_line_stability import Callers, condition  # noqa: E402
from linecorpus.impair import lose_packets, noise_over_the_line, telephone_band  # noqa: E402
from linecorpus.labels import UNINTELLIGIBLE_ESTOI, estoi  # noqa: E402
from linecorpus.speech import recorded  # noqa: E402

from firmware.line.analyzer import LineAnalyzer  # noqa: E402
from firmware.line.shown import ShownVerdict  # noqa: E402
from firmware.line_monitor import LineMonitor  # noqa: E402
from hwsim.audio import SimLine, bundled_speech  # noqa: E402

SR = 8000
TEXT = (
    "Доброго дня. Я телефоную щодо розгляду моєї справи в районному суді. Підкажіть, будь ласка, "
    "коли призначено наступне засідання у моїй справі. Мене звати Марія Коваленко."
)


def speech(seconds: float, recording: Path | None = None) -> np.ndarray:
    """Continuous espeak-ng speech (or a talker's `recording`, band-limited as a line carries it),
    looped to `seconds`, active level -26 dBFS."""
    if recording is not None:
        x = recorded(recording)
    else:
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


class Seen(NamedTuple):
    """A verdict and when it was given (a report's, or the LED's after it)."""

    t: float
    verdict: str | None


def first(reps: list, after: float, ok: set[str]) -> float | None:
    """Seconds from `after` to the first of `reps` (reports or `Seen`) with a verdict in `ok`."""
    for r in reps:
        if r.t > after and r.verdict in ok:
            return r.t - after
    return None


def shown(reps: list) -> list[Seen]:
    """The verdict the unit shows (LINE LED) after each report."""
    sv, out = ShownVerdict(), []
    for r in reps:
        sv.update(r)
        out.append(Seen(r.t, sv.verdict))
    return out


def fmt(v: float | None) -> str:
    return "never" if v is None else f"{v:.2f} s"


def gilbert_loss(x: np.ndarray, rng: np.random.Generator, loss: float, burst: float) -> np.ndarray:
    """Zero 20 ms packets by a two-state (Gilbert) model: mean loss rate `loss`, mean burst `burst` packets."""
    y = x.copy()
    fr = y[: len(y) // 160 * 160].reshape(-1, 160)
    p_bg = 1.0 / burst
    p_gb = loss * p_bg / (1.0 - loss)
    bad = False
    for i in range(len(fr)):
        bad = rng.random() < (1.0 - p_bg if bad else p_gb)
        if bad:
            fr[i] = 0.0
    return y


def clipped(x: np.ndarray, frac_of_peak: float) -> np.ndarray:
    """Hard clipping at a fraction of the peak, re-amplified to near full scale as an AGC would."""
    c = frac_of_peak * float(np.max(np.abs(x)))
    return np.clip(x, -c, c) * (0.9 / c)


ALARM = {"unintelligible", "no_signal"}
NOT_GOOD = {"degraded", "unintelligible", "no_signal"}


def scenarios(s: np.ndarray, rng: np.random.Generator,
              line_band: bool = False) -> tuple[np.ndarray, list[tuple[str, np.ndarray, set[str]]]]:
    """The clean line, and (name, signal impaired from A_S to B_S and clean around it, verdicts that
    count as detected) for each impairment; with `line_band` the line carried the caller, and so carries
    the noise at their end in its band too."""
    a, b = A_S * SR, B_S * SR
    hiss = floor_noise(len(s), rng)
    base = s + hiss
    out = []
    dead = base.copy()
    dead[a:b] = 0.0
    out.append(("dead line (zeros)", dead, {"no_signal"}))
    noisy = base.copy()
    noise = rng.normal(0, 10 ** (-21 / 20), b - a)  # white noise 5 dB above the speech
    noisy[a:b] += telephone_band(noise) if line_band else noise
    out.append(("noise at SNR -5 dB", noisy, ALARM))
    lossy = base.copy()
    seg = lossy[a:b].reshape(-1, 160)
    seg[rng.random(len(seg)) < 0.6] = 0.0  # 60 % of packets lost
    out.append(("packet loss 60 %", lossy, ALARM))
    bursty = base.copy()
    bursty[a:b] = gilbert_loss(base[a:b], rng, 0.3, 3.0)
    out.append(("loss 30 %, burst 3", bursty, NOT_GOOD))
    clip = base.copy()
    clip[a:b] = clipped(base[a:b], 0.03) * 10 ** (-26 / 20)  # hard clipped, back at the same level
    out.append(("clipping at 3 % of peak", clip, NOT_GOOD))
    concealed = base.copy()  # the caller's jitter buffer conceals; the line's hiss comes after it
    concealed[a:b] = lose_packets(s[a:b], rng, 0.7, 4.0, "repeat") + hiss[a:b]
    out.append(("loss 70 %, burst 4, concealed", concealed, ALARM))
    return base, out


A_S, B_S = 12, 24  # impairment from 12 s to 24 s, clean again afterwards


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=1, help="also print the worst case over this many noise seeds")
    ap.add_argument("--voices", type=Path, help="a folder of talkers' WAV recordings: each seed's caller one of them")
    ap.add_argument("--noises", type=Path, help="a folder of noise recordings (WAV) for the noisy spells that end")
    a = ap.parse_args()
    noises = sorted(a.noises.glob("*.wav")) if a.noises else []
    if a.noises and not noises:
        sys.exit(f"no WAV recordings in {a.noises}")
    s = speech(40.0)
    callers = Callers([s] * a.seeds, line_band=False)
    if a.voices:
        recordings = sorted(a.voices.glob("*.wav"))
        if not recordings:
            sys.exit(f"no WAV recordings in {a.voices}")
        callers = Callers([speech(40.0, recordings[seed % len(recordings)]) for seed, _ in by_seed(callers)],
                          line_band=True)
        print(f"callers: {len(recordings)} recordings in {a.voices}, one a seed")
    estois: dict[tuple[int, str], float] = {}
    for view in ("analyzer", "shown"):
        report(callers, view, estois)
    noisy_spells(callers, noises)
    sim_recovery()
    return silent_line(s)


# issue 14's bounds: a dead line within 1 s, an unintelligible one within 3 s, good again within 2 s
# (bursty loss and clipping, detected as anything but good, have none)
DETECT_BOUND_S = {frozenset({"no_signal"}): 1.0, frozenset(ALARM): 3.0}
RECOVER_BOUND_S = 2.0


def past(latencies: list[float | None], bound: float) -> int:
    """How many of `latencies` are over `bound` (never counts as over)."""
    return sum(t is None or t > bound + 1e-9 for t in latencies)


FIRST_SEED = 3  # the seed of the first run; run k has FIRST_SEED + k


def by_seed(callers: Callers) -> Iterator[tuple[int, np.ndarray]]:
    """Each run's seed and its caller's speech."""
    return enumerate(callers.voices, FIRST_SEED)


def report(callers: Callers, view: str, estois: dict[tuple[int, str], float]) -> None:
    """Print detection and recovery latencies of the analyzer's verdict or of the shown (LED) one, the
    caller's speech of each run in `callers` (`by_seed`); `estois` keeps the ESTOI of each (seed,
    impairment) stretch for the next view."""
    seeds = len(callers.voices)
    worst: dict[str, list[float | None]] = {}
    seen: dict[str, tuple[set[str], list[float | None], list[float | None]]] = {}
    print(f"{view + ' verdict':30s}{'onset->detected':>17s}{'recovery->good':>17s}   verdict before onset")
    for seed, s in by_seed(callers):
        base, impaired = scenarios(s, np.random.default_rng(seed), callers.line_band)
        for name, x, hit in impaired:
            reps = stream(x) if view == "analyzer" else shown(stream(x))
            det, rec = first(reps, A_S, hit), first(reps, B_S, {"good"})
            if seed == FIRST_SEED:
                before = [r.verdict for r in reps if r.t <= A_S][-1]
                print(f"{name:30s}{fmt(det):>17s}{fmt(rec):>17s}   {before}")
            w = worst.setdefault(name, [0.0, 0.0])
            w[0] = None if det is None or w[0] is None else max(w[0], det)
            w[1] = None if rec is None or w[1] is None else max(w[1], rec)
            _, dets, recs = seen.setdefault(name, (hit, [], []))
            dets.append(det)
            recs.append(rec)
            if seeds > 1 and hit != {"no_signal"} and (seed, name) not in estois:
                estois[seed, name] = estoi(base[A_S * SR : B_S * SR], x[A_S * SR : B_S * SR])
    if seeds > 1:
        print(f"worst case over {seeds} seeds:")
        for name, (det, rec) in worst.items():
            print(f"{name:30s}{fmt(det):>17s}{fmt(rec):>17s}")
        print(f"seeds past the bounds (detected: dead {DETECT_BOUND_S[frozenset({'no_signal'})]:g} s, unintelligible "
              f"{DETECT_BOUND_S[frozenset(ALARM)]:g} s; good again {RECOVER_BOUND_S:g} s):")
        for name, (hit, dets, recs) in seen.items():
            bound = DETECT_BOUND_S.get(frozenset(hit))
            detected = "-" if bound is None else f"{past(dets, bound)} of {seeds}"
            print(f"{name:30s}{detected:>17s}{f'{past(recs, RECOVER_BOUND_S)} of {seeds}':>17s}")
        print("ESTOI of the impaired stretch over the seeds; detected past the bound, of the seeds whose stretch "
              f"cannot be understood (ESTOI < {UNINTELLIGIBLE_ESTOI:.2f}):")
        for name, (hit, dets, _) in seen.items():
            if hit == {"no_signal"}:
                continue
            e = np.array([estois[seed, name] for seed, _ in by_seed(callers)])
            bound = DETECT_BOUND_S.get(frozenset(hit))
            lost = [d for d, v in zip(dets, e, strict=True) if v < UNINTELLIGIBLE_ESTOI]
            detected = "" if bound is None else f"{past(lost, bound)} of {len(lost)}"
            print(f"{name:30s}   {e.min():.3f}-{e.max():.3f} (mean {e.mean():.3f}){detected:>12s}")


# noise a listener follows with effort, as the stability benchmark makes it (ESTOI 0.52-0.69 there, at its
# SNR over the talker's active frames), and the SNRs of the noise recordings named with --noises (over the
# talker's speech level as the corpus builders measure it, `noise_over_the_line`)
NOISY_SPELLS = ("white:9", "pink:5", "babble:10", "babble:5")
RECORDED_SNR_DB = (10, 5)


def noisy_spells(callers: Callers, noises: list[Path]) -> None:
    """Print how soon the shown verdict is good again after a spell of noise a listener follows with effort
    ends (A_S..B_S, each seed's caller): runs not green when it ends, and of those, green again after more
    than RECOVER_BOUND_S (the noise through the line's band where the line carried the callers)."""
    print(f"a noisy spell that ends ({B_S - A_S} s of it): runs not green when it ends; green again after more "
          f"than {RECOVER_BOUND_S:g} s; worst")
    n = (B_S - A_S) * SR
    recordings = {f.stem: recorded(f) for f in noises}
    looped = {stem: np.tile(x, n // len(x) + 2) for stem, x in recordings.items()}  # long enough from any start
    spells = [(name, None, None) for name in NOISY_SPELLS]
    spells += [(f"{stem}:{snr}", stem, snr) for stem in recordings for snr in RECORDED_SNR_DB]
    late = not_green = 0
    width = max(30, *(len(name) + 2 for name, _, _ in spells))
    a, b = A_S * SR, B_S * SR
    for name, stem, snr in spells:
        backs = []
        for seed, s in by_seed(callers):
            rng = np.random.default_rng(seed)
            x = s + floor_noise(len(s), rng)
            if stem is None:
                x[a:b] = condition(name, x[a:b], rng, callers)
            else:
                z = looped[stem]
                start = int(rng.integers(0, len(z) - n))
                x[a:b] = noise_over_the_line(x[a:b], z[start : start + n], snr)
            seen = shown(stream(x))
            if [v.verdict for v in seen if v.t <= B_S + 1e-9][-1] != "good":
                backs.append(first(seen, B_S, {"good"}))
        worst = None if None in backs else max(backs, default=0.0)
        late_here = past(backs, RECOVER_BOUND_S)
        late += late_here
        not_green += len(backs)
        print(f"{name:{width}s}{len(backs):>5d} of {len(callers.voices):<4d}{late_here:>6d}{fmt(worst):>12s}")
    print(f"{'all':{width}s}{not_green:>5d} of {len(callers.voices) * len(spells):<4d}{late:>6d}")


# the simulated line's impairments and the verdicts that count as detecting each (None: a line followed
# with effort, which has no detection bound)
SIM_IMPAIRMENTS = {"loss:0.6": ALARM, "loss:0.5": None, "noise:-5": ALARM, "noise:0": ALARM, "dead": {"no_signal"}}
SIM_PLAN_S = (6.0, 10.0, 6.0)  # clean, impaired, clean again


def sim_recovery(step_s: float = 0.25) -> None:
    """Detection and good-again latencies of the unit's line monitor on the simulated line, from every
    `step_s` of its speech."""
    print(f"simulated line, its speech from every {step_s:g} s, 6 s clean, 10 s impaired, 6 s clean: runs "
          "detected after more than the bound (dead 1 s, unintelligible 3 s); runs not green when the line comes "
          "back; good again after more than 2 s; worst")
    back_at = SIM_PLAN_S[0] + SIM_PLAN_S[1]
    starts = range(0, len(bundled_speech(SR)), int(step_s * SR))
    for mode, hit in SIM_IMPAIRMENTS.items():
        runs, backs, dets = 0, [], []
        for start in starts:
            line, posted = SimLine(SR), []
            monitor = LineMonitor(SR, posted.append)
            monitor.set_active(True)
            line.seek(start)
            for m, seconds in zip(("clean", mode, "clean"), SIM_PLAN_S, strict=True):
                line.set_mode(m)
                for _ in range(round(seconds * 10)):
                    monitor.feed(line.read(SR // 10))
            changes = [Seen(e.report.t, e.verdict) for e in posted]
            if hit is not None:  # a detection only after the line is back counts as late either way
                dets.append(first(changes, SIM_PLAN_S[0], hit))
            if [c.verdict for c in changes if c.t <= back_at + 1e-9][-1] == "good":
                continue
            runs += 1
            backs.append(first(changes, back_at, {"good"}))
        worst = None if None in backs else max(backs, default=0.0)
        detected = "-" if hit is None else f"{past(dets, DETECT_BOUND_S[frozenset(hit)])} of {len(dets)}"
        print(f"{mode:30s}{detected:>12s}{runs:>9d}{past(backs, RECOVER_BOUND_S):>9d}{fmt(worst):>12s}")


def silent_line(s: np.ndarray) -> int:
    rng = np.random.default_rng(3)
    silent = np.concatenate([s[: 10 * SR] + floor_noise(10 * SR, rng), floor_noise(40 * SR, rng, -55.0)])
    reps = stream(silent)
    after = [r.verdict for r in reps if r.t > 10]
    t_sil = first(reps, 10, {"silent"})
    held = all(v == "silent" for v in after[int((t_sil or 0) / 0.2) + 1 :]) if t_sil is not None else False
    print(f"caller silent on a live line: 'silent' after {fmt(t_sil)}, held for the remaining "
          f"{40 - (t_sil or 0):.1f} s: {held}; verdicts seen {sorted(map(str, set(after)))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
