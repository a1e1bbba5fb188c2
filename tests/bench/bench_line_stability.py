#!/usr/bin/env python3
"""Print how steady the LINE LED is under sustained line conditions (a benchmark script, not a test).

The whole unit runs on the simulator and a virtual clock.  For every condition the caller is heard
clean for 3 s after the handset is lifted, then the line carries the condition for 40 s: white, pink
or babble noise at 0-15 dB SNR, packet loss 10-50 % (the packets lost as silence, or 20-50 % of them
concealed by the caller's phone: the packet before again, fading, as jitter buffers do, with the line's
hiss after it), a faint caller, a low-pass line.  A listener hears a sustained condition as one
thing, so after its first 3 s the LED should change at most once.  A caller whose softphone sends
the pauses as digital silence ("vad", a clean line: the LED stays green) is on it for the whole 43 s,
and talking from the start (a call that opens with digital silence is a dead line until the caller
speaks: it cannot be told from one, see tests/test_line_monitor.py).

Printed per condition: the LED colours in order, LED changes per minute over the 40 s, changes after
the first 3 s of the condition, contact countdowns started vs completed («Зателефонуйте…» shown), and
what a listener makes of the condition by the corpus rules (`linecorpus.labels`: ESTOI against the
clean speech, and the speech level): a countdown completed on a line labelled good or degraded asks a
caller who can be followed to call again (the live unit's over-calling); a line labelled
unintelligible on which none completed leaves a caller who cannot be heard on the line; a line labelled
degraded never shown amber or red leaves the operator unwarned of a caller who is hard to follow.  Conditions
the simulator makes (packet loss) are labelled on the same impairment applied here with another seed;
the softphone's silences ("vad") are a clean line.  Needs pystoi (as the corpus builders do).

    python3 tests/bench/bench_line_stability.py [--seeds 5] [--voices DIR] [--conditions babble:10,pink:0]

With ``--seeds N`` every condition is also run with N-1 other noise seeds and speech offsets, and the
worst case over all of them is printed, with what the LED did in each run that changed more than once
after the first 3 s or cut a countdown short.  All of it twice: after 3 s of a clean line, and for a
call that opens on the condition (a listener hears the same line alike whenever it began).
``--conditions`` runs only the named ones, on the same seeds as a run of them all (a run's seed
follows its condition's place in the full list).

The caller is the simulator's own speech (espeak-ng), or with ``--voices DIR`` real talkers: each run
one of the WAV recordings in DIR (any rate; e.g. the held-out talkers of line_make_real_corpus.py),
band-limited as a line carries it, its babble the other recordings.  Noise then sets in at the caller's
end, as in the corpus builders: the line carries it in the same 300-3400 Hz band as the talker (noise
outside that band never reaches the unit, and by ESTOI it masked the talker's missing low and high
bands: a real talker in white noise 6 dB under them scored 0.47 with it, 0.57 without).  The conditions
the simulator makes on its own speech (packet loss, a softphone's silences) are then left out.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import wave
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from firmware.threads import pin_math_threads  # noqa: E402

pin_math_threads()

from linecorpus.audio import speech_level_dbfs  # noqa: E402
from linecorpus.impair import lose_packets, telephone_band  # noqa: E402
from linecorpus.labels import CANNOT_HEAR, Label, estoi, label_for  # noqa: E402
from linecorpus.speech import recorded  # noqa: E402

from firmware.clock import VirtualClock  # noqa: E402
from firmware.config import load_config  # noqa: E402
from hwsim.audio import bundled_speech  # noqa: E402
from hwsim.unit import SimUnit  # noqa: E402

SR = 8000
CLEAN_S, COND_S, SETTLE_S = 3.0, 40.0, 3.0
STEP_S = 0.1


class Callers(NamedTuple):
    """The callers of the runs, and whether a telephone line carried them (and so the noise at their end)."""

    voices: list[np.ndarray]
    line_band: bool


def talkers(folder: Path | None) -> Callers:
    """The callers: the simulator's own speech (as it plays it), or each WAV recording in `folder` as a
    line carries it."""
    if folder is None:
        return Callers([bundled_speech(SR).astype(np.float64)], line_band=False)
    found = [recorded(f) for f in sorted(folder.glob("*.wav"))]
    if not found:
        sys.exit(f"no WAV recordings in {folder}")
    return Callers(found, line_band=True)


def pick(rng: np.random.Generator, callers: Callers) -> np.ndarray:
    """One of the callers (the simulator's one voice without drawing: its runs keep their seeds)."""
    voices = callers.voices
    return voices[int(rng.integers(len(voices)))] if len(voices) > 1 else voices[0]


def speech(voice: np.ndarray, seconds: float, offset: int = 0) -> np.ndarray:
    """`seconds` of a caller's speech from `offset` on, looped."""
    idx = (offset + np.arange(int(seconds * SR))) % len(voice)
    return voice[idx]


def active_power(x: np.ndarray) -> float:
    fr = x[: len(x) // 160 * 160].reshape(-1, 160)
    e = np.mean(fr**2, axis=1) + 1e-20
    return float(np.mean(e[10 * np.log10(e) > 10 * np.log10(e.max()) - 35]))


def shaped(rng: np.random.Generator, n: int, kind: str, callers: Callers) -> np.ndarray:
    w = rng.normal(0, 1, n)
    if kind == "pink":
        f = np.fft.rfft(w)
        k = np.arange(len(f), dtype=float)
        k[0] = 1.0
        w = np.fft.irfft(f / np.sqrt(k), n)
    elif kind == "babble":  # six talkers: the callers' voices at other offsets and speeds
        w = np.zeros(n)
        for o, r in enumerate((1.0, 0.93, 1.08, 0.97, 1.12, 0.9)):
            s = speech(pick(rng, callers), n / SR * 1.2, o * 7919)
            w += np.interp(np.arange(n) * r, np.arange(len(s)), s)
    return w / np.sqrt(np.mean(w**2))


def condition(name: str, x: np.ndarray, rng: np.random.Generator, callers: Callers) -> np.ndarray:
    kind, _, arg = name.partition(":")
    if kind in ("white", "pink", "babble"):
        nz = shaped(rng, len(x), kind, callers) * np.sqrt(active_power(x) / 10 ** (float(arg) / 10))
        return x + (telephone_band(nz) if callers.line_band else nz)
    if kind == "conceal":  # the caller's phone plays its jitter buffer's concealment; the line hisses after it
        return lose_packets(x, rng, float(arg), CONCEALED_BURST, "repeat")
    if kind == "loss":
        fr = x[: len(x) // 160 * 160].reshape(-1, 160).copy()
        fr[rng.random(len(fr)) < float(arg)] = 0.0
        return fr.ravel()
    if kind == "level":
        return x * 10 ** ((float(arg) - 10 * np.log10(active_power(x))) / 20)
    if kind == "lowpass":
        f = np.fft.rfft(x)
        fr = np.fft.rfftfreq(len(x), 1 / SR)
        f[fr > float(arg)] *= np.exp(-((fr[fr > float(arg)] - float(arg)) / 150) ** 2)
        return np.fft.irfft(f, len(x))
    raise ValueError(name)


CONDITIONS = [
    "white:15", "white:12", "white:9", "white:6", "white:3", "white:0",
    "pink:15", "pink:10", "pink:5", "pink:0",
    "babble:15", "babble:10", "babble:5", "babble:0",
    "loss:0.1", "loss:0.2", "loss:0.35", "loss:0.5",
    "level:-45", "level:-52", "lowpass:1200", "lowpass:700", "vad",
    # after the rest, so that theirs keep their seeds (a run's seed follows its place here)
    "conceal:0.2", "conceal:0.35", "conceal:0.5",
]
CONCEALED_BURST = 2.0  # mean run of lost packets a phone conceals
# conditions the simulated line makes itself, after its hiss (lost packets, a softphone's silences), and
# of these the ones a call has from its start
SIM_CONDITIONS = ("loss", "vad")
WHOLE_CALL = ("vad",)


def listener_label(
    name: str, clean: np.ndarray, received: np.ndarray | None, rng: np.random.Generator,
    callers: Callers,
) -> tuple[float, Label]:
    """(ESTOI, label) of a condition as the corpus rules judge it; `received` is None for one the
    simulator makes, which is applied here to `clean` the same way."""
    if name in WHOLE_CALL:
        return 1.0, Label.GOOD
    if received is None:
        received = condition(name, clean, rng, callers)
    e = estoi(clean, received)
    return e, label_for(e, speech_level_dbfs(received))


def write_wav(path: Path, x: np.ndarray) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(np.round(np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())


def run(name: str, folder: Path, seed: int, lead: float, callers: Callers) -> dict:
    """One call: `lead` s of the clean line, then the condition for COND_S (lead 0: a call that opens on
    it); the caller one of `callers` (`talkers`)."""
    rng = np.random.default_rng(seed)
    caller = pick(rng, callers)
    clean = speech(caller, lead + COND_S, offset=int(rng.integers(0, 40000)))
    x = clean.copy()
    cut = int(lead * SR)
    by_sim = name.partition(":")[0] in SIM_CONDITIONS
    if not by_sim:
        x[cut:] = condition(name, clean[cut:], rng, callers)
    e, label = listener_label(name, clean[cut:], None if by_sim else x[cut:], np.random.default_rng(seed + 1),
                              callers)
    path = folder / f"{name.replace(':', '_')}.wav"
    if name not in WHOLE_CALL:  # the line plays it (a whole-call condition is the simulator's from the start)
        write_wav(path, np.concatenate([x, x[-SR:]]))
    cfg = load_config()
    sim = SimUnit.create(cfg, VirtualClock(datetime.fromisoformat("2026-11-23T11:00:00+02:00")),
                         state_dir=folder / f"state_{name.replace(':', '_')}_{lead:g}")
    try:
        sim.unit.sign_in(3, "Марина Ткач")
        if name in WHOLE_CALL:
            sim.line.set_mode(name)
            sim.line.seek(int(rng.integers(0, 30000)))  # our speech's first 3.75 s: no pause longer than 0.3 s
        else:
            sim.line.set_mode(str(path))
        sim.hook(off=True)
        t0 = sim.clock.monotonic()
        leds: list[tuple[float, str]] = []
        last = None
        switched = False
        while sim.clock.monotonic() - t0 < lead + COND_S - 1e-9:
            if by_sim and name not in WHOLE_CALL and not switched and sim.clock.monotonic() - t0 >= lead - 1e-9:
                sim.line.set_mode(name)
                switched = True
            sim.advance(STEP_S)
            colour = str(sim.unit.leds.states["line"])
            if colour != last:
                leds.append((round(sim.clock.monotonic() - t0, 1), colour))
                last = colour
        events = list(sim.unit.call.events) if sim.unit.call else []
    finally:
        sim.close()
    in_cond = [c for c in leds if c[0] > lead]
    late = [c for c in leds if c[0] > lead + SETTLE_S]
    return {
        "leds": leds, "per_min": len(in_cond) * 60.0 / COND_S, "late": len(late),
        "started": sum(ev["type"] == "countdown_start" for ev in events),
        "completed": sum(ev["type"] == "cannot_hear_shown" for ev in events),
        "cancelled": sum(ev["type"] == "countdown_cancelled" for ev in events),
        "estoi": e, "label": label,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=1, help="also run this many other seeds and print the worst case")
    ap.add_argument("--voices", type=Path, help="a folder of talkers' WAV recordings to be the caller")
    ap.add_argument("--conditions", help="only these conditions (comma-separated, e.g. babble:10,pink:0)")
    a = ap.parse_args()
    chosen = CONDITIONS
    if a.conditions:
        chosen = [name.strip() for name in a.conditions.split(",") if name.strip()]
        unknown = [name for name in chosen if name not in CONDITIONS]
        if unknown:
            ap.error(f"unknown condition {', '.join(unknown)}; the conditions are {', '.join(CONDITIONS)}")
    callers = talkers(a.voices)
    if a.voices:
        print(f"callers: {len(callers.voices)} recordings in {a.voices}; the simulator's own conditions "
              f"({', '.join(SIM_CONDITIONS)}) left out")
    with tempfile.TemporaryDirectory(prefix="line-stability-") as td:
        for title, lead in ((f"after {CLEAN_S:g} s of a clean line", CLEAN_S), ("a call that opens on it", 0.0)):
            print(f"{title}:")
            conditions(Path(td), a.seeds, lead, callers, chosen)
    return 0


def conditions(folder: Path, seeds: int, lead: float, callers: Callers, chosen: list[str] = CONDITIONS) -> None:
    """Run the `chosen` conditions after `lead` s of a clean line over `seeds` seeds and print what the LED
    did; the simulator's own conditions only when the caller is its own speech (not carried by a line)."""
    worst, bad = 0, []
    followable: dict[str, list[int]] = {}  # condition -> [runs, runs with a countdown completed]
    lost: dict[str, list[int]] = {}  # condition -> [runs, runs without one]
    unwarned: dict[str, list[int]] = {}  # condition -> [runs, runs never shown amber or red]
    print(f"{'condition':14s}{'changes/min':>12s}{'late':>6s}{'countdowns':>12s}{'ESTOI':>7s} {'listener':15s}"
          "LED (s: colour)")
    for k in range(seeds):
        for i, name in enumerate(CONDITIONS):
            if name not in chosen:
                continue
            if lead == 0.0 and name in WHOLE_CALL:
                continue  # a whole-call condition already opens the call
            if callers.line_band and name.partition(":")[0] in SIM_CONDITIONS:
                continue
            r = run(name, folder, 100 + 200 * k + i, lead, callers)
            worst = max(worst, r["late"])
            if r["late"] > 1 or r["cancelled"]:
                bad.append((f"{name} (seed {100 + 200 * k + i})", r))
            if r["label"] in CANNOT_HEAR:
                tally = lost.setdefault(name, [0, 0])
                tally[1] += r["completed"] == 0
            else:
                tally = followable.setdefault(name, [0, 0])
                tally[1] += r["completed"] > 0
            tally[0] += 1
            if r["label"] is Label.DEGRADED:
                tally = unwarned.setdefault(name, [0, 0])
                tally[1] += not any(colour in ("amber", "red") for t, colour in r["leds"] if t > lead)
                tally[0] += 1
            if k == 0:
                seq = _sequence(r["leds"])
                counts = f"{r['started']:>6d}/{r['completed']:<5d}"
                heard = f"{r['estoi']:7.3f} {r['label'].value:15s}"
                print(f"{name:14s}{r['per_min']:12.1f}{r['late']:6d}{counts}{heard}{seq}")
    print(f"most LED changes after the first {SETTLE_S:g} s of a condition: {worst} (target: at most 1)")
    if seeds > 1:
        print(f"over {seeds} seeds, more than one late change or a countdown cut short: "
              f"{', '.join(which for which, _ in bad) or 'none'}")
        for which, r in bad:
            cut = f" ({r['cancelled']} cut short)" if r["cancelled"] else ""
            counts = f"countdowns {r['started']}/{r['completed']}{cut}"
            print(f"  {which:26s}{r['estoi']:6.3f} {r['label'].value:15s}{counts}  {_sequence(r['leds'])}")
    print(f"countdowns completed on lines a listener can follow: {_tally(followable)}")
    print(f"lines that cannot be understood with no countdown completed: {_tally(lost)}")
    print(f"lines followed only with effort never shown amber or red: {_tally(unwarned)}")


def _sequence(leds: list[tuple[float, str]]) -> str:
    """The LED's colours in order, each with when it came on (s into the call)."""
    return " ".join(f"{t:g}:{c}" for t, c in leds)


def _tally(counts: dict[str, list[int]]) -> str:
    """"K of N runs (condition k/n, ...)" over the conditions with any such run."""
    hit = sum(c[1] for c in counts.values())
    total = sum(c[0] for c in counts.values())
    parts = ", ".join(f"{name} {c[1]}/{c[0]}" for name, c in counts.items() if c[1])
    return f"{hit} of {total} runs" + (f" ({parts})" if parts else "")


if __name__ == "__main__":
    sys.exit(main())
