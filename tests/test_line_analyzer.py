"""Behaviour of the streaming line analyzer on generated telephone signals."""
from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
from test_line_exact import voiced

from firmware.line.analyzer import VERDICTS, LineAnalyzer, analyze
from hwsim.audio import softphone_sends

SR = 8000
HAVE_SPEECH = shutil.which("espeak-ng") is not None and shutil.which("sox") is not None
needs_speech = pytest.mark.skipif(not HAVE_SPEECH, reason="espeak-ng and sox are needed to synthesise speech")
TEXT = "Доброго дня. Я телефоную щодо розгляду моєї справи в районному суді, підкажіть, будь ласка."


def level_db(x: np.ndarray) -> float:
    fr = x[: len(x) // 160 * 160].reshape(-1, 160)
    e = np.mean(fr**2, axis=1) + 1e-20
    act = e[10 * np.log10(e) > 10 * np.log10(e.max()) - 35]
    return float(10 * np.log10(np.mean(act)))


def at_level(x: np.ndarray, dbfs: float) -> np.ndarray:
    return x * 10 ** ((dbfs - level_db(x)) / 20)


def line_noise(n: int, dbfs: float, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 10 ** (dbfs / 20), n)


_SPEECH_CACHE: dict[tuple[str, int], np.ndarray] = {}


def speech(tmp: Path, voice: str = "uk", rate: int = 150) -> np.ndarray:
    """espeak-ng speech at 8 kHz, -26 dBFS active level, on a -62 dBFS live-line floor."""
    key = (voice, rate)
    if key not in _SPEECH_CACHE:
        raw, out = tmp / f"raw_{voice}_{rate}.wav", tmp / f"s_{voice}_{rate}.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-w", str(raw), TEXT], check=True)
        subprocess.run(["sox", str(raw), "-r", str(SR), "-c", "1", "-b", "16", str(out)], check=True)
        with wave.open(str(out)) as w:
            x = np.frombuffer(w.readframes(w.getnframes()), "<i2") / 32768.0
        _SPEECH_CACHE[key] = at_level(x - x.mean(), -26.0)
    x = _SPEECH_CACHE[key]
    pad = np.zeros(int(0.3 * SR))
    x = np.concatenate([pad, x, pad])
    return x + line_noise(len(x), -62.0, seed=len(x))


def quantise(x: np.ndarray) -> np.ndarray:
    return np.round(np.clip(x, -1, 1) * 32767) / 32768


def stream(x: np.ndarray, chunk: int = 160) -> list:
    an = LineAnalyzer(SR)
    out = []
    for i in range(0, len(x), chunk):
        out.extend(an.feed(x[i : i + chunk]))
    return out


# ---------------------------------------------------------------- dead vs live lines


def test_digital_silence_is_a_dead_line() -> None:
    assert analyze(np.zeros(5 * SR), SR).verdict == "no_signal"


def test_bare_mains_hum_is_a_dead_line() -> None:
    t = np.arange(6 * SR) / SR
    hum = 0.02 * sum(np.sin(2 * np.pi * 50 * h * t) / h for h in (1, 2, 3, 5))
    assert analyze(quantise(hum + line_noise(len(t), -90.0)), SR).verdict == "no_signal"


@pytest.mark.parametrize("floor", [-64.0, -55.0, -46.0])
def test_line_noise_without_a_talker_is_silent_not_dead(floor: float) -> None:
    x = quantise(line_noise(8 * SR, floor, seed=int(-floor)))
    reps = stream(x)
    assert analyze(x, SR).verdict == "silent"
    assert all(r.verdict == "silent" for r in reps), {r.verdict for r in reps}


@pytest.mark.parametrize("seed", [3, 4])
def test_clatter_on_a_live_line_is_not_a_talker(seed: int) -> None:
    # a kitchen or a street behind a silent caller: bursts of noise that rise well above the line
    # and fall away, several a second, but never at a pitch as a voice does
    rng = np.random.default_rng(seed)
    x = line_noise(8 * SR, -60.0, seed=seed)
    for _ in range(30):
        at, n = int(rng.integers(0, len(x) - 1200)), int(rng.integers(240, 960))
        x[at : at + n] += rng.normal(0, 1, n) * 3 * 10 ** (rng.uniform(-45, -35) / 20) * np.exp(-np.arange(n) / (n / 4))
    x = quantise(x)
    assert analyze(x, SR).verdict == "silent"
    assert not any(r.speech for r in stream(x))


def test_line_going_dead_is_detected_within_a_second() -> None:
    x = line_noise(10 * SR, -55.0)
    x[5 * SR :] = 0.0
    dead = [r.t for r in stream(x) if r.verdict == "no_signal"]
    assert dead and dead[0] - 5.0 <= 1.0


# ---------------------------------------------------------------- speech


@needs_speech
def test_clean_speech_is_good(tmp_path: Path) -> None:
    res = analyze(quantise(speech(tmp_path)), SR)
    assert res.verdict == "good" and res.score > 0.8


@needs_speech
@pytest.mark.parametrize("rate", [80, 280])
def test_slow_and_fast_talkers_are_good(tmp_path: Path, rate: int) -> None:
    assert analyze(quantise(speech(tmp_path, rate=rate)), SR).verdict == "good"


@needs_speech
def test_long_pause_inside_speech_is_neither_dead_nor_flagged(tmp_path: Path) -> None:
    s = speech(tmp_path)
    gap = line_noise(4 * SR, -62.0, seed=9)  # a 4 s pause on a live line (R19)
    x = quantise(np.concatenate([s, gap, s]))
    reps = stream(x)
    assert not {r.verdict for r in reps} & {"no_signal", "unintelligible", "degraded"}
    assert analyze(x, SR).verdict == "good"


@needs_speech
def test_score_falls_with_noise_and_heavy_noise_cannot_be_heard(tmp_path: Path) -> None:
    s = speech(tmp_path)
    scores = []
    for snr in (30, 10, 0, -5):
        x = quantise(s + line_noise(len(s), -26.0 - snr, seed=snr + 50))
        scores.append(analyze(x, SR).score)
    assert scores == sorted(scores, reverse=True), scores
    assert analyze(quantise(s + line_noise(len(s), -21.0, seed=1)), SR).verdict == "unintelligible"


@needs_speech
def test_faint_caller_cannot_be_heard(tmp_path: Path) -> None:
    s = speech(tmp_path)
    x = quantise(at_level(s, -58.0) + line_noise(len(s), -80.0, seed=3))
    assert analyze(x, SR).verdict == "unintelligible"


@needs_speech
@pytest.mark.parametrize("hiss_dbfs", [-77.0, -62.0])
def test_a_faint_caller_is_measured_at_their_level_however_the_line_hisses(tmp_path: Path, hiss_dbfs: float) -> None:
    # the corpus rules: under -50 dBFS a caller cannot be heard, under -40 with effort.  Over a hiss of
    # -62 dBFS the frames that rise clearly above it are a faint caller's loud syllables only: measured on
    # those, a caller at -52 dBFS read 3 dB louder and was shown as heard with effort
    s = speech(tmp_path)
    s = s[int(0.3 * SR) : -int(0.3 * SR)]  # the talker, without the padding's floor
    for dbfs, verdict in ((-45.0, "degraded"), (-52.0, "unintelligible")):
        x = quantise(at_level(s, dbfs) + line_noise(len(s), hiss_dbfs, seed=5))
        reports = [r for r in stream(x) if r.speech]
        assert abs(np.median([r.speech_dbfs for r in reports]) - dbfs) < 1.5
        assert analyze(x, SR).verdict == verdict


@needs_speech
@pytest.mark.parametrize("hiss_dbfs", [None, -90.0, -80.0])
def test_a_clipped_caller_is_measured_as_clipped_through_the_hiss_of_the_units_own_input(
    tmp_path: Path, hiss_dbfs: float | None,
) -> None:
    # an overdriven handset clips the talker at 3 % of their peak and the AGC brings them back to the
    # line's level (ESTOI about 0.60, followed with effort); the unit hears the line through its own
    # analog input, whose hiss scatters the plateau: counted only where it was exact, the clipping read
    # a share of 0.005 under a hiss of -80 dBFS and the line good
    s = speech(tmp_path)
    ceiling = 0.03 * np.max(np.abs(s))
    x = np.clip(s, -ceiling, ceiling) * (0.9 / ceiling) * 10 ** (-26 / 20)
    if hiss_dbfs is not None:
        x = x + line_noise(len(x), hiss_dbfs, seed=7)
    reports = [r for r in stream(x) if r.speech]
    assert np.mean([r.clipping for r in reports]) > 0.15
    assert analyze(x, SR).verdict == "degraded"


@needs_speech
def test_heavy_packet_loss_is_flagged(tmp_path: Path) -> None:
    s = speech(tmp_path).copy()
    fr = s[: len(s) // 160 * 160].reshape(-1, 160)
    rng = np.random.default_rng(4)
    lost = np.repeat(rng.random(len(fr) // 4 + 1) < 0.7, 4)[: len(fr)]  # 70 % lost in bursts of 4 packets
    fr[lost] = 0.0
    res = analyze(quantise(s), SR)
    assert res.verdict in ("unintelligible", "no_signal"), res


@needs_speech
def test_a_caller_on_a_line_that_loses_every_other_packet_is_heard_not_silent(tmp_path: Path) -> None:
    # no two packets in a row arrive, so no frame can be measured for pitch: the caller is still there
    s = speech(tmp_path).copy()
    fr = s[: len(s) // 160 * 160].reshape(-1, 160)
    fr[1::2] = 0.0
    x = quantise(s)
    assert analyze(x, SR).verdict in ("degraded", "unintelligible")
    assert not {r.verdict for r in stream(x) if r.t > 3.0} & {"silent", "no_signal"}


@needs_speech
@pytest.mark.parametrize("seed", [0, 1, 4])
def test_recovery_from_heavy_packet_loss_is_good_within_two_seconds(tmp_path: Path, seed: int) -> None:
    # the requirement is 2 s after the line recovers; 1.5 s keeps a margin (the span reaches 2 s back)
    s = speech(tmp_path)
    x = np.concatenate([s, s, s, s])  # about 28 s of talk
    a, b = len(s), 2 * len(s)
    fr = x[a:b][: (b - a) // 160 * 160].reshape(-1, 160)
    fr[np.random.default_rng(seed).random(len(fr)) < 0.8] = 0.0  # 80 % of packets lost, then clean
    reps = stream(quantise(x))
    b_s = a / SR + len(fr) * 160 / SR
    assert {r.verdict for r in reps if a / SR + 3.0 < r.t <= b_s} & {"unintelligible", "no_signal"}
    good = [r.t for r in reps if r.t > b_s and r.verdict == "good"]
    assert good and good[0] - b_s <= 1.5, good[:3]
    late = [r.verdict for r in reps if r.t > good[0]]
    assert set(late) <= {"good"}, late  # and it stays good


@needs_speech
def test_short_dropout_does_not_flap_the_verdict(tmp_path: Path) -> None:
    s = speech(tmp_path)
    x = np.concatenate([s, s])
    mid = len(s) + SR
    x[mid : mid + int(0.3 * SR)] = 0.0  # 0.3 s gap
    verdicts = [r.verdict for r in stream(quantise(x))]
    first_good = verdicts.index("good")
    assert set(verdicts[first_good:]) == {"good"}, verdicts


@needs_speech
def test_sixteen_khz_speech_is_judged_too(tmp_path: Path) -> None:
    s = speech(tmp_path)
    up = np.interp(np.arange(2 * len(s)) / 2, np.arange(len(s)), s)
    assert analyze(quantise(up), 16000).verdict == "good"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_digital_silence_in_a_talkers_pauses_is_heard_as_a_quiet_line(seed: int) -> None:
    # A softphone's VAD sends the talker's pauses as exact zeros.  The listener hears a quiet line
    # there, so the talker is judged as over the hiss of a live line: the silence costs the score less
    # than 0.07 (measured 0.049-0.060).  Judged as a line with no floor at all, it cost 0.13-0.14, and
    # took a talker at 0.85 into amber.
    on_line = voiced(12.0, seed)
    sent = softphone_sends(on_line, SR)
    assert np.mean(sent == 0.0) > 0.4  # the pauses are gone, as the softphone sends them
    with_hiss, with_silence = analyze(on_line, SR), analyze(sent, SR)
    assert with_hiss.verdict == with_silence.verdict == "good"
    assert with_silence.score > with_hiss.score - 0.07, (with_hiss.score, with_silence.score)


def test_the_reported_noise_floor_of_digital_silence_stays_digital_silence() -> None:
    # the talker is judged over a live line's hiss in such pauses, but a technician reading the
    # console must see what the line carries: nothing
    x = voiced(12.0, 1)
    x[4 * SR : 7 * SR] = 0.0
    reports = stream(x, 800)
    in_silence = [r.noise_dbfs for r in reports if 6.0 <= r.t <= 7.0]
    before = [r.noise_dbfs for r in reports if 2.0 <= r.t <= 4.0]
    assert max(in_silence) < -90.0 and min(before) > -70.0, (in_silence, before)


# ---------------------------------------------------------------- streaming contract


@needs_speech
def test_odd_chunk_sizes_give_the_same_reports_as_one_chunk(tmp_path: Path) -> None:
    s = speech(tmp_path)
    x = quantise(np.concatenate([s, np.zeros(2 * SR), s + line_noise(len(s), -30.0, seed=2)]))
    whole = LineAnalyzer(SR).feed(x)
    an = LineAnalyzer(SR)
    pieces = []
    rng = np.random.default_rng(5)
    i = 0
    while i < len(x):
        n = int(rng.integers(1, 3000))
        pieces.extend(an.feed(x[i : i + n]))
        i += n
    assert [(r.t, r.verdict) for r in pieces] == [(r.t, r.verdict) for r in whole]
    assert np.allclose([r.score for r in pieces], [r.score for r in whole])
    assert an.verdict == whole[-1].verdict


def test_reports_have_times_verdicts_and_reset_starts_over() -> None:
    an = LineAnalyzer(SR)
    reps = an.feed(line_noise(3 * SR, -55.0))
    assert reps and all(r.verdict in VERDICTS and r.raw in VERDICTS for r in reps)
    assert np.allclose(np.diff([r.t for r in reps]), reps[0].t)
    assert an.feed(np.zeros(10)) == []  # less than a window: nothing yet
    an.reset()
    assert an.feed(np.zeros(SR))[0].t == reps[0].t


@pytest.mark.parametrize("rate", [8000, 16000])
def test_stored_noise_floor_bias_is_what_the_calibration_measures(rate: int) -> None:
    an = LineAnalyzer(rate)
    stored = an._bias.copy()
    an._bias = np.ones(an.nb)
    assert np.allclose(an._calibrate_bias(), stored, rtol=1e-9)


def test_rejects_unsupported_sample_rate() -> None:
    with pytest.raises(ValueError, match="44100"):
        LineAnalyzer(44100)


def babble(tmp: Path, n: int, talkers: int = 4) -> np.ndarray:
    """Several other talkers at once, looped and offset so that their pauses do not line up."""
    voices = [("ru", 165), ("en-gb", 140), ("uk", 185), ("en-us", 155)]
    out = np.zeros(n)
    for i in range(talkers):
        s = speech(tmp, *voices[i % len(voices)])
        out += np.roll(np.tile(s, n // len(s) + 1)[:n], (i * 3301) % n)
    return out


def mix_at(x: np.ndarray, nz: np.ndarray, snr_db: float) -> np.ndarray:
    return x + nz * 10 ** ((level_db(x) - snr_db - level_db(nz)) / 20)


@needs_speech
@pytest.mark.parametrize(("room_db", "dbfs"), [(3.0, -44.0), (6.0, -48.0), (3.0, -56.0)])
def test_people_talking_far_behind_a_silent_caller_are_not_a_faint_caller(
    tmp_path: Path, room_db: float, dbfs: float
) -> None:
    # a street or a cafe around a caller who says nothing: other people's voices a few dB over the
    # room's noise, faint on the line; a faint caller close to the microphone swings far deeper
    n = 10 * SR
    room = mix_at(babble(tmp_path, n, talkers=3), line_noise(n, -30.0, seed=7), room_db)
    x = quantise(at_level(room, dbfs) + line_noise(n, -64.0, seed=8))
    assert analyze(x, SR).verdict == "silent"
    assert not any(r.speech for r in stream(x))
    caller = quantise(at_level(speech(tmp_path), dbfs) + line_noise(len(speech(tmp_path)), -80.0, seed=3))
    assert analyze(caller, SR).verdict == ("degraded" if dbfs > -50.0 else "unintelligible")


@needs_speech
def test_babble_that_drowns_the_caller_is_not_good(tmp_path: Path) -> None:
    # the minimum-statistics floor sits in the dips between babble talkers; the talker's own pauses,
    # filled by the babble, must count as the noise under the caller
    x = speech(tmp_path)
    b = babble(tmp_path, len(x))
    at0 = analyze(quantise(mix_at(x, b, 0.0)), SR)
    assert at0.verdict in ("degraded", "unintelligible")
    at_minus5 = analyze(quantise(mix_at(x, b, -5.0)), SR)
    assert at_minus5.verdict in ("degraded", "unintelligible")
    far = analyze(quantise(mix_at(x, b, 25.0)), SR)
    assert far.verdict == "good"
    assert far.score > at0.score > 0.0


@needs_speech
def test_a_talker_under_a_mains_hum_louder_than_him_is_still_heard(tmp_path: Path) -> None:
    # a badly grounded analogue line: 50 Hz and harmonics 5 dB over the talker, but nearly all of it
    # below the speech band, where a listener loses little.  The hum is periodic too; the talker's
    # voicing must be measured where he speaks, or his words are taken for a noisy empty line
    x = speech(tmp_path)
    t = np.arange(len(x)) / SR
    hum = sum(np.sin(2 * np.pi * 50 * h * t + h) / h for h in (1, 2, 3, 5))
    res = analyze(quantise(mix_at(x, hum, -5.0)), SR)
    assert res.verdict in ("good", "degraded") and res.score > 0.5


@needs_speech
def test_fast_continuous_talker_is_not_taken_for_babble(tmp_path: Path) -> None:
    res = analyze(quantise(speech(tmp_path, rate=300)), SR)
    assert res.verdict == "good"
    assert res.score > 0.85
