#!/usr/bin/env python3
"""Build a labelled line corpus from REAL recordings on your disk: real voices in real recorded noise.

A sibling of `line_make_general_corpus.py`: the labels come from the project's corpus rules (ESTOI with
pystoi against each clip's clean reference, PESQ, the speech level; `linecorpus.labels.label_for`), but
the talkers and the noises are recordings, mixed as a telephone call would carry them:

* the noise is added at the caller's microphone (0-20 dB SNR), before the line;
* the line band-limits to 300-3400 Hz, then a codec may round-trip (G.711 u-law, GSM, G.726, Opus);
* some calls pass an AGC (slow gain riding the talker), some have comfort noise in the talker's
  pauses, some a softphone's VAD that sends exact digital silence between phrases (not a bad line);
* packet loss (zeroed or repeated packets), low level, dead lines and live lines nobody speaks on.

No third-party audio is stored in this repository: point --voices and --noises at folders of WAV
files (any rate, mono or stereo).  The corpora reported in issue #14 used these public snapshots,
read straight from the git blobs into /tmp and never redistributed:

  voices  LCAV/pyroomacoustics (MIT; the samples come from the corpora named):
            examples/input_samples/SiSec2011_Speech/dev1_{female4,male4}_src_{1..4}.wav at commit 4ac8f49e
            (SiSec 2011 evaluation speech: 4 women, 4 men, 10 s each);
            examples/input_samples/cmu_arctic_us_{aew_a0001..3,axb_a0004..6}.wav (CMU ARCTIC, free licence:
            one man, one woman, US English) and german_speech_8000.wav (a man, German, 8 kHz);
          egorsmkv/speech-recognition-uk (no licence file): speech-to-text/audio.wav (Ukrainian, exact
            digital silence around the phrase)
  noises  eric-wang135/EMGSE (no licence file): docs/noise/car noise.wav, street noise(1).wav,
            street noise(2).wav, engine noise.wav, English speech noise/two_male_one_female_english.wav and
            Chinese speech noise/two_male_one_female_chinese.wav (3-talker babble);
          LCAV/pyroomacoustics: examples/input_samples/doing_the_dishes.wav (Speech Commands, CC BY 4.0)
  (real_c1..c4, seeds 1-4).  A second set of noises, none of them in the estimator's training
  (tests/bench/line_train.py), for real_c5 and real_c6 (seeds 5, 6): EMGSE noise/noise_test/
  Car_Noise_Idle_Noise_60_mph.wav and Street Noise.wav, docs/noise/English speech noise/two_male_english.wav
  and Chinese speech noise/two_female_chinese.wav (2-talker babble); timsainb/noisereduce (MIT):
  assets/cafe_short.wav (a cafe: dishes and voices).  Its car and street recordings are the first set's
  (the same git blobs as docs/noise/car noise.wav and street noise(1).wav): the two sets differ in their
  babble, engine, dishes and cafe.  real_c7b (seed 7, the second set of noises) has
  talkers of Russian and Ukrainian, none of them English: snakers4/silero-vad (MIT) files/ru.wav at
  commit 2c41efa (its second 30 s; no part of it is in the training of the weights on main) and files/ru_num.wav at
  b42d13f, and the Ukrainian audio.wav above.

Many talkers, for training and for judging on talkers no model has heard: resemble-ai/Resemblyzer at
commit 15d828e stores LibriSpeech (CC BY 4.0) samples in audio_data/: librispeech_train-clean-100/, one
reading each by 251 talkers (12.5 s on average), and librispeech_test-other/, ten readings each by ten
others.  Decoded to WAV as they are (16 kHz), the train-clean ones named libri_<speaker>_<chapter>_<n>;
in name order every fifth from the third (index % 5 == 2: 50 talkers) is held out, the other 201 are
the training voices (and the talkers of their babble, `line_make_babble.py`).  real_c10 (seed 10) has
the 50 held-out talkers, real_c11 (seed 11) the ten test-other talkers (each one's readings joined by
0.4 s of silence into one recording), both with the second set of noises above.

    python3 tests/bench/line_make_real_corpus.py --voices V/ --noises N/ --out /tmp/r14/real_c1 --seed 1
    python3 tests/bench/line_score.py --corpus /tmp/r14/real_c1 -- deskunit linecheck --json

A noise file whose name starts with "babble" is treated as talkers (never used as a "silent" background).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from linecorpus.audio import PACKET, RATE, at_level, speech_level_dbfs  # noqa: E402
from linecorpus.build import write_manifest  # noqa: E402
from linecorpus.impair import coloured_noise, lose_packets, telephone_band, through_codec  # noqa: E402
from linecorpus.labels import estoi, label_for, pesq_nb  # noqa: E402

from hwsim.audio import softphone_pauses, softphone_sends  # noqa: E402

SR = RATE


def load(path: Path) -> np.ndarray:
    x, rate = sf.read(path, dtype="float64", always_2d=True)
    x = x.mean(axis=1)
    if rate != SR:  # FFT resampling: band-limited, fine for short recordings
        m = int(round(len(x) * SR / rate))
        spec = np.fft.rfft(x)
        out = np.zeros(m // 2 + 1, dtype=complex)
        k = min(len(out), len(spec))
        out[:k] = spec[:k]
        x = np.fft.irfft(out, m) * (m / len(x))
    return x - np.mean(x)


def agc(x: np.ndarray, target_dbfs: float = -22.0) -> np.ndarray:
    """A slow automatic gain control: 0.5 s attack/release on the speech envelope, gain <= +20 dB."""
    n = len(x) // PACKET
    e = np.mean(x[: n * PACKET].reshape(n, PACKET) ** 2, axis=1) + 1e-12
    env = np.empty(n)
    acc = e[0]
    for i in range(n):
        if 10 * np.log10(e[i]) > 10 * np.log10(acc) - 25:  # only speech-like frames move the gain
            acc = 0.96 * acc + 0.04 * e[i]
        env[i] = acc
    gain_db = np.minimum(target_dbfs - 10 * np.log10(env), 20.0)
    g = np.repeat(10 ** (gain_db / 20), PACKET)
    y = x.copy()
    y[: len(g)] *= g
    return np.clip(y, -1, 1)


class Sources:
    """The voices and noises found on disk, loaded once."""

    def __init__(self, voices: Path, noises: Path) -> None:
        self.voices = {p.stem: load(p) for p in sorted(voices.glob("*.wav"))}
        self.noises = {p.stem: load(p) for p in sorted(noises.glob("*.wav"))}
        if not self.voices or not self.noises:
            sys.exit(f"need WAV files in {voices} and {noises}")
        self.ambient = [k for k in self.noises if not k.startswith("babble")]

    def talk(self, rng: np.random.Generator, seconds: float = 6.0) -> tuple[np.ndarray, str]:
        """About `seconds` of one talker: a recording (or several by the same talker) with short pauses."""
        names = list(self.voices)
        name = names[rng.integers(len(names))]
        speaker = name.rsplit("_", 1)[0] if name.startswith("arctic") else name
        same = [k for k in names if k.startswith(speaker)] or [name]
        parts: list[np.ndarray] = []
        total = 0
        while total < seconds * SR:
            v = self.voices[same[rng.integers(len(same))]]
            if len(v) > seconds * SR * 1.5:  # a long recording: take a stretch of it
                start = int(rng.integers(0, len(v) - int(seconds * SR)))
                v = v[start : start + int(seconds * SR)]
            parts += [v, np.zeros(int(rng.uniform(0.2, 0.6) * SR))]
            total += len(v)
        x = np.concatenate(parts)
        return x, name

    def noise(self, rng: np.random.Generator, n: int, kind: str | None = None,
              ambient: bool = False) -> tuple[np.ndarray, str]:
        pool = self.ambient if ambient else list(self.noises)
        kind = kind or pool[rng.integers(len(pool))]
        z = self.noises[kind]
        if len(z) < n:
            z = np.tile(z, n // len(z) + 1)
        start = int(rng.integers(0, len(z) - n + 1))
        return z[start : start + n].copy(), kind


def plan(rng: np.random.Generator) -> list[tuple[str, dict]]:
    p: list[tuple[str, dict]] = []
    p += [("clean", {})] * 14
    p += [("clean", {"codec": c}) for c in ("ulaw", "gsm", "g726-16k", "opus-6k") for _ in range(2)]
    p += [("clean", {"agc": 1})] * 4
    p += [("vad_silence", {})] * 6  # exact digital silence in the talker's pauses
    p += [("comfort_noise", {"floor": f}) for f in (-70, -60, -55, -50)]
    p += [("atypical", {"style": "long_pauses"})] * 6
    for snr in (20, 15, 10, 7, 5, 3, 0, -3, -6):
        for _ in range(6):
            p.append(("noise", {"snr": snr, "codec": ["", "", "ulaw", "gsm", "opus-6k"][rng.integers(5)],
                                "agc": int(rng.random() < 0.3)}))
    for loss in (0.03, 0.1, 0.2, 0.3, 0.45):
        for conceal in ("zero", "repeat"):
            p += [("loss", {"loss": loss, "burst": [1.0, 2.0, 3.0][rng.integers(3)], "conceal": conceal})] * 2
    p += [("loss_noise", {"loss": loss, "snr": snr}) for loss, snr in ((0.1, 10), (0.2, 5), (0.05, 3), (0.3, 10))]
    p += [("level", {"dbfs": lvl}) for lvl in (-35, -42, -46, -52, -58) for _ in range(2)]
    p += [("dead", {"how": "zero"})] * 4 + [("dead", {"how": "hum"})] * 3
    p += [("silent", {"floor": f}) for f in (-64, -58, -52, -47, -60, -50, -44, -55)]
    return p


def render(i: int, kind: str, p: dict, rng: np.random.Generator,
           src: Sources) -> tuple[np.ndarray, np.ndarray, str, str | None, dict]:
    """(reference, degraded, talker, forced label, parameters with the noise recording used)."""
    talk, who = src.talk(rng)
    talk = np.concatenate([np.zeros(int(0.3 * SR)), talk, np.zeros(int(0.3 * SR))])
    level = float(rng.uniform(-30.0, -20.0))  # telephone speech levels
    if kind == "atypical":  # long pauses between phrases on a live line
        half = len(talk) // 2
        talk = np.concatenate([talk[:half], np.zeros(int(rng.uniform(2.5, 4.0) * SR)), talk[half:]])
    clean = at_level(telephone_band(talk), level)
    line = 10 ** (float(rng.uniform(-70, -60)) / 20)
    floor = rng.normal(0, line, len(clean))
    ref = clean + floor
    label = None
    if kind in ("clean", "atypical"):
        deg = ref.copy()
    elif kind == "vad_silence":
        deg = softphone_sends(clean, SR)
        ref = deg.copy()
    elif kind == "comfort_noise":
        deg = clean.copy()
        m = softphone_pauses(clean, PACKET)
        deg[m] = rng.normal(0, 10 ** (p["floor"] / 20), int(m.sum()))
        ref = deg.copy()
    elif kind in ("noise", "loss_noise"):
        nz, nk = src.noise(rng, len(talk))
        nz = telephone_band(nz)
        target = 10 ** ((speech_level_dbfs(clean) - p["snr"]) / 10)
        deg = clean + nz * np.sqrt(target / np.mean(nz**2)) + floor
        p = {**p, "noise": nk}
    elif kind == "loss":
        deg = lose_packets(ref, rng, p["loss"], p["burst"], p["conceal"])
    elif kind == "level":
        ref = at_level(clean, p["dbfs"]) + rng.normal(0, 10 ** (-75 / 20), len(clean))
        deg = ref.copy()
    elif kind == "dead":
        deg = np.zeros(len(ref)) if p["how"] == "zero" else coloured_noise(rng, len(ref), "hum") * 10 ** (-38 / 20)
        label = "no_signal"
    elif kind == "silent":
        nz, nk = src.noise(rng, len(ref), ambient=True)
        nz = telephone_band(nz)
        deg = nz * 10 ** (p["floor"] / 20) / np.sqrt(np.mean(nz**2)) + floor
        p = {**p, "noise": nk}
        label = "silent"
    else:
        raise ValueError(kind)
    if p.get("agc"):
        deg = agc(deg)
    if p.get("codec"):
        deg = through_codec(deg, p["codec"])
    if kind == "loss_noise":
        deg = lose_packets(deg, rng, p["loss"], 2.0)
    return ref, np.clip(deg, -1.0, 1.0), who, label, p


def build(out: Path, src: Sources, seed: int) -> int:
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rows = []
    items = plan(rng)
    for i, (kind, p) in enumerate(items):
        ref, deg, who, forced, p = render(i, kind, p, rng, src)
        path = out / f"{i:04d}_{kind}.wav"
        sf.write(path, deg, SR, subtype="PCM_16")
        deg16, _ = sf.read(path, dtype="float64")
        if forced:
            intelligibility, q, label = 0.0, 1.0, forced
        else:
            intelligibility, q = estoi(ref, deg16), pesq_nb(ref, deg16)
            lvl = speech_level_dbfs(deg16 if kind == "level" else ref)
            label = label_for(intelligibility, lvl).value
        impairment = "atypical" if kind == "atypical" else kind
        rows.append({
            "file": path.name, "label": label, "impairment": impairment,
            "params": ",".join(f"{k}={v}" for k, v in p.items() if not (k in ("codec", "agc") and not v)),
            "estoi": f"{intelligibility:.3f}", "pesq": f"{q:.2f}", "level_dbfs": f"{speech_level_dbfs(deg16):.1f}",
            "lang": "real", "style": "long_pauses" if kind == "atypical" else "typical", "voice": who,
        })
        print(f"\r{i + 1}/{len(items)} {path.name:28s} {label:15s}", end="", file=sys.stderr)
    print(file=sys.stderr)
    return write_manifest(out, rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--voices", type=Path, required=True, help="a folder of WAV recordings of talkers")
    ap.add_argument("--noises", type=Path, required=True, help="a folder of WAV recordings of noise")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    n = build(a.out, Sources(a.voices, a.noises), a.seed)
    print(f"wrote {n} clips and manifest.csv to {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
