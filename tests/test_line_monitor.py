"""The unit's LINE LED at the start of a call: no false alarm while the analyzer fills its window."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pytest
from linecorpus.audio import at_level, write_wav
from linecorpus.impair import band_limit, lose_packets

from firmware.line.analyzer import LineAnalyzer
from firmware.line_monitor import LineMonitor
from hwsim.audio import SimLine, bundled_speech, softphone_pauses, softphone_sends


def shown(chunks: Iterable[np.ndarray]) -> list[tuple[float, str]]:
    """The verdicts a monitor judging a new call posts as it is fed `chunks` of the caller's line."""
    posted: list = []
    monitor = LineMonitor(8000, posted.append)
    monitor.set_active(True)
    for chunk in chunks:
        monitor.feed(chunk)
    return [(round(e.report.t, 1), e.verdict) for e in posted]


def verdicts_from(offset: int, mode: str, seconds: float = 4.0) -> list[tuple[float, str]]:
    return run_modes([(mode, seconds)], offset)


def test_clean_speech_never_flashes_a_bad_verdict_whatever_word_the_call_starts_in():
    speech = len(bundled_speech(8000))
    for offset in range(0, speech, 1600):
        assert all(v == "good" for _, v in verdicts_from(offset, "clean")), offset


def test_a_dead_line_at_the_start_of_a_call_is_still_reported_within_a_second():
    got = verdicts_from(0, "dead")
    assert got and got[0][1] == "no_signal" and got[0][0] <= 1.0


def test_a_noisy_line_from_the_start_is_reported_once_the_window_is_full():
    got = verdicts_from(0, "noise:-10")
    assert got and got[0][1] in ("unintelligible", "degraded") and got[0][0] <= 3.0


@pytest.mark.parametrize("start", [0, 8000, 24000])
def test_a_caller_whose_first_words_follow_the_greeting_is_not_shown_silent_before_them(start: int):
    # the operator greets first; a caller who answers 3.5 s into the call has not gone quiet: the LED
    # turned blue at 2.4 s and green again as they spoke
    got = run_modes([("silence", 3.5), ("clean", 6.0)], start)
    assert [v for _, v in got] == ["good"], got


def test_a_caller_silent_from_the_start_is_shown_silent_once_a_pause_would_be():
    got = run_modes([("silence", 8.0)])
    assert got == [(4.8, "silent")], got


@pytest.mark.parametrize("start", [0, 16000, 24000, 40000])
def test_a_faint_caller_who_pauses_after_their_first_words_is_not_shown_silent(tmp_path: Path, start: int):
    # a caller at -45 dBFS says a few words, pauses 3.4 s and goes on: before the unit's first verdict
    # the analyzer's own hysteresis still said silent through that pause, and the LED went blue 4.8 s
    # into the call, then amber: a pause of 3.4 s is not silence (R19), and the words before it count
    speech = bundled_speech(8000).astype(np.float64)
    said = int(1.6 * 8000)
    x = np.concatenate([speech[start : start + said], np.zeros(int(3.4 * 8000)),
                        speech[start + said : start + said + 6 * 8000]])
    path = tmp_path / "faint_pause.wav"
    write_wav(path, at_level(x, -45.0))
    got = run_modes([(str(path), len(x) / 8000)])
    assert [v for _, v in got] == ["degraded"], got


def run_modes(plan: list[tuple[str, float]], start: int = 0) -> list[tuple[float, str]]:
    """Feed the monitor the simulated line through ``plan`` [(mode, seconds)], 0.1 s at a time, its
    speech from sample ``start`` on."""
    line = SimLine()
    line.seek(start)

    def chunks() -> Iterator[np.ndarray]:
        for mode, seconds in plan:
            line.set_mode(mode)
            for _ in range(round(seconds * 10)):
                yield line.read(800)

    return shown(chunks())


def test_a_faint_caller_over_the_line_hiss_is_shown_as_the_rules_hear_them(tmp_path: Path):
    # by the corpus rules a caller under -50 dBFS cannot be heard, under -40 dBFS only with effort.  Over
    # the simulated line's hiss (-62 dBFS) a caller at -52 dBFS was measured by the loud syllables that
    # clear it, 3 dB loud, and shown amber for the whole call: no countdown, a caller left unheard
    for dbfs, want in ((-45.0, "degraded"), (-52.0, "unintelligible")):
        path = tmp_path / f"faint_{-dbfs:.0f}.wav"
        write_wav(path, at_level(bundled_speech(8000).astype(np.float64), dbfs))
        got = run_modes([(str(path), 25.0)])
        assert got[-1][1] == want and got[-1][0] < 15.0, (dbfs, got)


def talker_pausing_between_phrases(phrase_s: float, fade_db: float, pause_s: float) -> np.ndarray:
    """Our speech said in phrases of `phrase_s`, each one's last second falling away by `fade_db` (as a
    real talker's last words do) and followed by a pause of `pause_s`: a minute of it."""
    speech = bundled_speech(8000).astype(np.float64)
    fall = 10 ** (-np.linspace(0.0, fade_db, 8000) / 20)
    said = []
    for k in range(0, len(speech), int(phrase_s * 8000)):
        phrase = speech[k : k + int(phrase_s * 8000)].copy()
        phrase[-len(fall):] *= fall[-len(phrase):]
        said += [phrase, np.zeros(int(pause_s * 8000))]
    return np.tile(np.concatenate(said), 4)[: 60 * 8000]


@pytest.mark.parametrize("fade_db", [14.0, 20.0])
def test_a_talker_whose_last_words_fall_away_before_each_pause_is_not_taken_for_a_bad_line(
    tmp_path: Path, fade_db: float,
):
    # white noise 15 dB under the caller (as the simulated line's noise:15), steady: a listener follows them
    # (ESTOI 0.81-0.82, good by the corpus rules); the windows that tail off into each pause scored the
    # talker low, and the LED went red: a countdown telling a caller who can be followed to call again
    talker = talker_pausing_between_phrases(3.0, fade_db, 2.0)
    noise = np.random.default_rng(1).standard_normal(len(talker)) * SimLine().talker_rms * 10 ** (-15 / 20)
    path = tmp_path / "phrases.wav"
    write_wav(path, talker + noise)
    got = run_modes([("clean", 3.0), (str(path), 30.0)])
    assert "unintelligible" not in [v for _, v in got], got


def test_a_one_second_burst_of_noise_does_not_flash_the_led_red():
    got = run_modes([("clean", 6.0), ("noise:-10", 0.8), ("clean", 6.0)])
    assert "unintelligible" not in [v for _, v in got], got


def test_a_line_drowned_in_noise_is_reported_within_three_and_a_half_seconds():
    got = run_modes([("clean", 6.0), ("noise:-10", 6.0)])
    bad = [t for t, v in got if v == "unintelligible"]
    assert bad and bad[0] - 6.0 <= 3.5, got


@pytest.mark.parametrize(("mode", "start"), [
    # the caller pauses just as the line sounds clear again (found by trying every 0.25 s of our speech):
    # the pause cut the clear stretch short and the LED stayed red or amber for 2.2-2.8 s
    ("loss:0.6", 2000), ("loss:0.6", 104000), ("noise:0", 72000),
    # the analyzer's window holds the lost packets for up to 2 s after the loss stops, and its heard
    # score climbs only as they leave it: a clear stretch at the usual bar came 2.2-2.4 s after it
    ("loss:0.6", 98000), ("loss:0.5", 60000),
])
def test_the_led_is_green_within_two_seconds_of_the_line_coming_back(mode: str, start: int):
    # issue 14 asks for good again within 2 s
    got = run_modes([("clean", 6.0), (mode, 10.0), ("clean", 6.0)], start)
    before = [v for t, v in got if t <= 16.0]
    assert before[-1] != "good", got
    good = [t for t, v in got if t > 16.0 and v == "good"]
    assert good and good[0] - 16.0 <= 2.0 + 1e-9, got


@pytest.mark.parametrize(("mode", "start"), [
    # 60 % of the packets lost (ESTOI about 0.45) is heard just under the unintelligible border, not far
    # under it: with the margin a talker's dips need, the LED stayed green for 6.6-6.8 s from every
    # start of the simulator's speech
    ("loss:0.6", 0), ("loss:0.6", 52000),
    # white noise at the talker's own level (ESTOI about 0.43): the analyzer hears 0.32-0.36 from its
    # first full window, but a noise that just set in was held to the margin of the analyzer's onset
    # overshoot, and the LED waited for the long judgement (4.2-4.4 s from these starts)
    ("noise:0", 18000), ("noise:0", 52000),
])
def test_a_line_nobody_can_follow_is_shown_red_within_three_seconds(mode: str, start: int):
    # issue 14 asks for 3 s
    got = run_modes([("clean", 6.0), (mode, 6.0)], start)
    red = [t for t, v in got if v == "unintelligible"]
    assert red and red[0] - 6.0 <= 3.0 + 1e-9, got


def our_speech(start: int, seconds: float) -> np.ndarray:
    """`seconds` of the simulator's own speech from sample `start` on (looped)."""
    speech = bundled_speech(8000).astype(np.float64)
    return speech[(start + np.arange(int(seconds * 8000))) % len(speech)]


def played(folder: Path, name: str, x: np.ndarray) -> list[tuple[float, str]]:
    """What the monitor posts while the simulated line plays `x` (written to a WAV), with its own hiss."""
    path = folder / f"{name}.wav"
    write_wav(path, x)
    return run_modes([(str(path), len(x) / 8000)])


def muffled_then_clear(folder: Path, start: int, muffled_s: float, clear_s: float) -> list[tuple[float, str]]:
    """The simulated line playing our speech from sample `start`, muffled to 900 Hz for `muffled_s` (a
    line followed with effort), then in the full band for `clear_s`: what the monitor posts."""
    x = our_speech(start, muffled_s + clear_s)
    muffled = int(muffled_s * 8000)
    x[:muffled] = band_limit(x[:muffled], 900.0)
    return played(folder, f"muffled_{start}", x)


@pytest.mark.parametrize("start", [72000, 80000, 88000])
def test_a_muffled_line_that_opens_up_again_is_green_once_it_sounds_clean_for_a_window(tmp_path: Path, start: int):
    # neither the line's floor nor the talker's level changes when a muffled line opens up, so nothing
    # said "better": the LED stayed amber for 5.6-7.6 s on the clean line, until the long judgement
    got = muffled_then_clear(tmp_path, start, 14.0, 8.0)
    assert [v for t, v in got if t <= 14.0][-1] == "degraded", got
    back = next((t - 14.0 for t, v in got if t > 14.0 and v == "good"), None)
    assert back is not None and back <= 3.0, got


def concealed_after(
    folder: Path, start: int, clean_s: float, lossy_s: float, share: float = 0.7, run: float = 4.0,
) -> tuple[list[tuple[float, str]], np.ndarray]:
    """The simulated line playing our speech from sample `start`: clean for `clean_s`, then for `lossy_s`
    with the `share` of its packets lost in runs of `run` on average and concealed by the jitter buffer
    (the packet before again, fading), under the line's own hiss: what the monitor posts, and which
    packets of the lossy stretch were concealed."""
    x = our_speech(start, clean_s + lossy_s)
    onset = int(clean_s * 8000)
    lossy = lose_packets(x[onset:], np.random.default_rng(start + 1), share, run, "repeat")
    concealed = np.any((lossy != x[onset:]).reshape(-1, 160), axis=1)
    x[onset:] = lossy
    return played(folder, f"concealed_{start}", x), concealed


@pytest.mark.parametrize("start", [0, 24000, 52000, 88000])
def test_a_line_concealing_most_of_its_packets_under_its_hiss_is_not_shown_green(tmp_path: Path, start: int):
    # (ESTOI 0.36-0.44 from these starts.)  The copies were told only when exact, and the line's hiss
    # after the jitter buffer spoils that: the analyzer heard a clean talker and the LED stayed green
    got, _ = concealed_after(tmp_path, start, 6.0, 20.0)
    alarm = next((t for t, v in got if t > 6.0 and v != "good"), None)
    assert alarm is not None and alarm - 6.0 <= 8.0, got
    assert all(v != "good" for t, v in got if t >= alarm), got


@pytest.mark.parametrize("start", [8000, 24000, 32000, 52000, 72000])
def test_a_line_concealing_most_of_its_packets_in_long_runs_is_shown_red_within_three_seconds(
    tmp_path: Path, start: int,
):
    # issue 14 asks for 3 s.  The jitter buffer's copies fade, so the later ones of each run sank under
    # the hiss and were not counted: 70 % in runs of 4 read as 60 % in runs of 3, and the LED stayed
    # amber for the whole 20 s of a line nobody can follow.  Then each packet of a run was charged as
    # the bound nearly every real talker's clip stays under: red after 4.2-6.2 s from starts 8000, 32000
    # and 72000, and from 24000 never
    got, _ = concealed_after(tmp_path, start, 6.0, 20.0)
    red = next((t for t, v in got if t > 6.0 and v == "unintelligible"), None)
    assert red is not None and red - 6.0 <= 3.0 + 1e-9, got


@pytest.mark.parametrize("start", [7000, 78000])
def test_a_line_concealing_packets_all_along_is_not_shown_green_between_its_bursts(tmp_path: Path, start: int):
    # 35 % of the packets concealed in runs of 2 (a line followed with effort): the share of them in the
    # analyzer's 2-s window ebbs and flows with the bursts, and an ebb was taken for the loss ending:
    # green for a moment after amber, amber again at the next bursts, while no second went by unharmed
    got, concealed = concealed_after(tmp_path, start, 3.0, 30.0, share=0.35, run=2.0)
    assert not np.any(np.convolve(~concealed, np.ones(50), "valid") == 50)  # no second without a concealed packet
    amber = next((t for t, v in got if t > 3.0 and v != "good"), None)
    assert amber is not None, got
    assert all(v != "good" for t, v in got if t > amber), got
    # nor red: a stretch where its bursts bunch (0.6-0.7 of the analyzer's window concealed) is this
    # line's own course, not a loss that set in
    assert all(v != "unintelligible" for t, v in got), got


def test_a_dead_line_is_reported_at_once_even_mid_call():
    got = run_modes([("clean", 6.0), ("dead", 3.0)])
    dead = [t for t, v in got if v == "no_signal"]
    assert dead and dead[0] - 6.0 <= 1.0, got


@pytest.mark.parametrize("start", [20000, 76000])
def test_the_led_is_green_again_within_two_seconds_of_a_dead_line_coming_back(start: int):
    # starts at which the analyzer's first report after the dead spell is degraded: the line did change
    # (it came alive), and a clear stretch must show it good at once, not after the long judgement
    got = run_modes([("clean", 6.0), ("dead", 6.0), ("clean", 8.0)], start)
    good = [t for t, v in got if t > 12.0 and v == "good"]
    assert good and good[0] - 12.0 <= 2.0, got


def changes_after(got: list[tuple[float, str]], t: float) -> list[tuple[float, str]]:
    return [(tt, v) for tt, v in got if tt > t]


def test_a_sustained_border_noise_is_shown_as_one_thing_not_a_flicker():
    # white noise 6 dB under the caller sits on the degraded/unintelligible border: the analyzer swings
    got = run_modes([("clean", 3.0), ("noise:6", 40.0)])
    assert len(changes_after(got, 6.0)) <= 1, got


def test_a_countdown_spell_is_not_cut_short_by_a_moment_of_milder_line():
    got = run_modes([("clean", 3.0), ("noise:-10", 20.0)])
    bad = [t for t, v in got if v == "unintelligible"]
    assert bad and all(v == "unintelligible" for t, v in got if t >= bad[0]), got


def test_each_new_bad_spell_after_a_clear_recovery_is_shown_again():
    got = run_modes([("clean", 3.0), ("noise:-10", 6.0), ("clean", 6.0), ("noise:-10", 6.0)])
    verdicts = [v for _, v in got]
    assert verdicts.count("unintelligible") == 2 and "good" in verdicts[verdicts.index("unintelligible"):], got



def test_a_line_sliding_into_border_noise_is_shown_at_one_level_not_at_each_it_passes():
    # noise 4-8 dB under the caller sits near the degraded/unintelligible border, and the analyzer's
    # score slides through every level on its way down: the LED goes from green to one level and stays
    for level, start in ((4, 8000), (6, 0), (7, 16000), (8, 0)):
        shown = [v for _, v in run_modes([("clean", 3.0), (f"noise:{level}", 30.0)], start)]
        assert shown in (["good", "unintelligible"], ["good", "degraded"]), (level, start, shown)


def test_a_talker_the_detector_misses_for_a_moment_on_a_border_line_is_not_a_drowned_line():
    # noise 6-7 dB under the caller: now and then a report finds no talker (its window's speech falls
    # under the detector's thresholds) on a line loud enough to drown one; a caller heard 9 dB over that
    # noise a moment before is still there, and such a report must not take a degraded line to red
    for level, start in ((6, 96000), (6, 104000), (7, 104000)):
        got = run_modes([("clean", 3.0), (f"noise:{level}", 40.0)], start)
        assert len(changes_after(got, 6.0)) <= 1, (level, start, got)


def test_a_softphone_callers_pauses_sent_as_digital_silence_keep_the_led_green():
    # a softphone's VAD sends the caller's pauses (up to 1.2 s in our speech) as exact zeros: the line is
    # not dead in them, and the LED must not go red (nor a countdown start) at every pause.  The first
    # pause the caller talks after shows the line is gated; a call that opens with a long silence, or
    # whose first pause lasts over 3 s, is a dead line until then (it cannot be told from one)
    for start in (0, 40000, 72000):
        got = run_modes([("vad", 40.0)], start)
        assert {v for _, v in got} == {"good"}, (start, got)


def softphone_call_with_a_long_first_pause(pause_s: float) -> list[tuple[float, str]]:
    """A softphone caller who talks for 2.3 s without a pause the VAD gates (our speech from 1.6 s on),
    pauses for `pause_s` (the line's hiss, gated), then talks on; the verdicts posted.  The pause
    begins at 2.3 s."""
    speech = bundled_speech(8000)
    hiss = np.random.default_rng(3).normal(0.0, 10 ** (-65 / 20), int(pause_s * 8000))
    x = np.concatenate([speech[12800:31200], hiss, speech[40800:72000]])
    sent = softphone_sends(x, 8000)
    return shown(sent[i : i + 800] for i in range(0, len(sent), 800))


def test_a_softphone_callers_first_long_pause_is_not_a_dead_line():
    # before the line has shown whether it is gated, a silence that began as the caller's pause is a
    # dead line only after 3 s: callers pause for 2 s and more between sentences, and the pairs of
    # real voices (tests/bench/line_softphone_pairs.py) went red at such a first pause
    got = softphone_call_with_a_long_first_pause(2.6)
    assert "no_signal" not in [v for _, v in got], got


def test_a_line_that_dies_in_the_callers_first_pause_is_still_reported_dead():
    got = softphone_call_with_a_long_first_pause(5.0)
    dead = [t for t, v in got if v == "no_signal"]
    assert dead and 2.3 + 3.0 <= dead[0] <= 2.3 + 3.6, got


def test_a_softphone_caller_who_goes_quiet_is_shown_silent_not_dead():
    # on a gated line a caller who stops talking sends nothing at all: R21 (wait, call back), not R16
    got = run_modes([("vad", 10.0), ("dead", 12.0)])
    after = [v for t, v in got if t > 10.0]
    assert "no_signal" not in after and after[-1:] == ["silent"], got


def test_a_line_that_dies_after_lost_packets_is_still_reported_dead_at_once():
    # lost packets leave holes in the caller's pauses too, but the line's hiss between them says it is
    # not a softphone's gated line: when it dies, that is a dead line
    for loss in ("loss:0.05", "loss:0.2"):
        got = run_modes([(loss, 20.0), ("dead", 3.0)])
        dead = [t for t, v in got if v == "no_signal" and t > 20.0]
        assert dead and dead[0] - 20.0 <= 1.0, (loss, got)


def test_an_a_law_softphones_silence_is_a_pause_too():
    # an A-law codec's silence decodes to its smallest code, a steady -72 dBFS, not to zeros
    speech = bundled_speech(8000)
    x = SimLine().read(30 * 8000).astype(float)  # our speech from its start, on the line's hiss
    x[softphone_pauses(speech, 160)[np.arange(len(x)) % len(speech)]] = 8 / 32768
    an = LineAnalyzer(8000)
    dead = [r.t for i in range(0, len(x), 800) for r in an.feed(x[i : i + 800]) if r.raw == "no_signal"]
    assert not [t for t in dead if t > 5.0], dead
