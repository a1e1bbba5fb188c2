"""The unit's LINE LED at the start of a call: no false alarm while the analyzer fills its window."""

from __future__ import annotations

from firmware.line_monitor import LineMonitor
from hwsim.audio import SimLine


def verdicts_from(offset: int, mode: str, seconds: float = 4.0) -> list[tuple[float, str]]:
    posted: list = []
    monitor = LineMonitor(8000, posted.append)
    line = SimLine()
    line.set_mode(mode)
    line._pos = offset
    monitor.set_active(True)
    for _ in range(int(seconds * 10)):
        monitor.feed(line.read(800))
    return [(round(e.report.t, 1), e.verdict) for e in posted]


def test_clean_speech_never_flashes_a_bad_verdict_whatever_word_the_call_starts_in():
    speech = len(SimLine()._speech)
    for offset in range(0, speech, 1600):
        assert all(v == "good" for _, v in verdicts_from(offset, "clean")), offset


def test_a_dead_line_at_the_start_of_a_call_is_still_reported_within_a_second():
    got = verdicts_from(0, "dead")
    assert got and got[0][1] == "no_signal" and got[0][0] <= 1.0


def test_a_noisy_line_from_the_start_is_reported_once_the_window_is_full():
    got = verdicts_from(0, "noise:-10")
    assert got and got[0][1] in ("unintelligible", "degraded") and got[0][0] <= 3.0
