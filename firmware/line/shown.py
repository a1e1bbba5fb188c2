"""The verdict the unit shows (LINE LED, contact countdown): the line as a listener follows it.

The analyzer judges the last 2 s of audio every 0.2 s, and on a line that sits near one of its borders
(noise at 6-12 dB, heavy loss, babble) its heard score swings from one side to the other every few
seconds.  A person on the phone recognises a clearly bad line at once but judges a border line over
several seconds, and hears a sustained condition as one thing; the operator's LED and the contact
countdown (R16) follow that impression:

* a dead line is shown at once, and so is a caller who comes back from a dead or silent line;
* a clearly bad line (the heard score of the last `QUICK_S` far below a border, on a line that itself
  changed: lost or damaged audio, a floor that rose; while noise is still setting in, a line far under
  the border or a talker no louder than the noise) is shown at once; a moment in which the analyzer
  hears no talker on a noisy line counts as a line too noisy to hear anyone, unless a talker was heard
  just before, clearly over that noise (`TALKER_OVER_NOISE_DB`); a window that ends in the talker's
  pause is about a talker who stopped, not about the line, and does not count;
* otherwise the level is the band of the mean heard score over the last `LONG_S` seconds of speech,
  with hysteresis (`LONG_HYST` beyond the border of the level shown) and a steadiness check: the mean of
  the newer half of that window must say the same, so a line still sliding into a new condition is
  shown once it has settled and not at every level it passes on the way;
* a line that is clearly good again (`CLEAR_HEARD` for `RECOVER_AFTER_S`; less while lost audio that
  has stopped, for a whole second, is still leaving the analyzer's window; from a degraded level, a
  line that itself changed for the better, or `CLEAR_UNCHANGED_S` of it) is shown good at once; a
  milder but still bad line is shown milder only after `RELAX_S` of it, so a countdown started for a
  bad spell runs its 10 s unless the line clearly recovers, and a new bad spell after a recovery
  starts its own.

Before the analyzer has heard `SETTLE_S` of a call only a dead and a good line are believed, and a
caller who has not spoken yet, or spoke and paused, is silent only once a pause would be (`SILENT_AFTER_S`
after their last words).
"""
from __future__ import annotations

from collections import deque
from itertools import pairwise
from typing import NamedTuple

from firmware.line.analyzer import DEGRADED_BELOW, SILENT_AFTER_S, UNINTELLIGIBLE_BELOW, LineReport
from firmware.vocabulary import Verdict

#: The analyzer judges the last 2 s of the line: before it has heard that much of a call, only a
#: dead line (which must be caught within a second) and a good one are believed; a bad or silent
#: verdict waits for a full window (measured over every start offset of our speech: none after 2.2 s).
#: At the start of a call the operator speaks first anyway: a quiet caller then is not "silent", and
#: one who has not spoken yet is shown silent only after the analyzer's `SILENT_AFTER_S`, as a pause
#: in the talk is (a real talker's first words 2.4-3.6 s into a call flashed the LED blue, then green).
SETTLE_S = 2.4
#: A clearly bad line: the mean heard score of the last QUICK_S under the unintelligible border by
#: QUICK_MARGIN (from a good line; from a degraded one by more: a moment of red inside a degraded spell
#: is not red).  A degraded line is never obvious that fast: it is judged over LONG_S.
QUICK_S = 0.8
QUICK_MARGIN = {Verdict.GOOD: 0.08, Verdict.DEGRADED: 0.20}
#: While the noise floor is still rising (noise just set in: within ONSET_S it rose by ONSET_RISE_DB),
#: the analyzer's 2 s window mixes the new noise into its idea of the talker and overshoots for a few
#: seconds; only a line far inside the worse level (ONSET_MARGIN) is then shown at once.
ONSET_S = 2.4
ONSET_RISE_DB = 6.0
ONSET_MARGIN = 0.35
#: ... unless the talker is no louder than the noise that set in (their level over its floor at most
#: DROWNED_DB, over the last QUICK_S): drowned whatever the overshoot.  White noise as loud as the
#: simulator's talker (ESTOI about 0.43) is heard at 0.32-0.36 from its first full window, over the
#: onset's border, and was shown only after 4.0-4.4 s from half the starts of its speech; noise 3 dB
#: under it leaves the talker 2-4 dB over the floor, babble far more (its floor is its quietest moments).
DROWNED_DB = 0.0
#: Heavy packet loss or clipping makes the floor jump too (holes upset minimum statistics; a clipped,
#: re-amplified talker fills the pauses), but the low score is then the damage the analyzer measured
#: itself (the share of lost, concealed and clipped audio): no overshoot to wait out.
ONSET_DAMAGE = 0.1
#: On a line losing at least HEAVY_LOSS of its audio (lost or concealed packets, over the last QUICK_S)
#: the heard score's dips are the loss itself rather than the talker's course: from a good line the
#: quick border is then only HEAVY_LOSS_MARGIN under the unintelligible one.  60 % packet loss (ESTOI
#: 0.38-0.53) is heard at 0.41-0.52 once the analyzer's window is full, and the full margin held it
#: green past 3 s in 18 of 40 seeds (bench_line_latency.py); half loss (ESTOI 0.52-0.61, a line followed
#: with effort) dips to 0.50 as it sets in, under a margin of 0.03 (a countdown in every run of
#: bench_line_stability.py).  Clipping is not loss: half the speech on the plateau leaves a line
#: followed with effort (ESTOI 0.72 for a real talker), and it took that line red.  Nor is a line that
#: has lost packets all along (never under ONSET_DAMAGE within CHANGED_S) losing them anew: its bursts
#: bunch now and then, and 35 % concealed in runs of 2 (ESTOI 0.70-0.73) lost 0.6-0.7 of a 2-s window,
#: which the small margin took red, green again 4 s later.
HEAVY_LOSS = 0.45
HEAVY_LOSS_MARGIN = 0.04
#: The line itself changed when, within the last CHANGED_S, lost or damaged audio set in (or, for the
#: better, was there at all), its floor rose by ONSET_RISE_DB or fell by BETTER_DB, the talker came
#: BETTER_DB closer, or (for the better) the line came alive: a call's start, the end of a dead or
#: silent spell.  Only a line that changed for the worse is clearly bad at once, and only one that
#: changed for the better is clear again at once from a degraded level (from red, any clear stretch
#: is).  On a line that stayed as it was, a real talker's own course moves the heard score for a second
#: or two: the falling last words of a sentence took it under 0.45 (white noise at 15 dB, a line a
#: listener follows: red, a countdown), a stretch of clear words in babble at 10-15 dB over 0.88 (amber
#: to green and back); the long judgement hears the line over them.
CHANGED_S = 6.0
BETTER_DB = 10.0
#: A border line is judged on the mean heard score of this much speech, once LONG_MIN_S of it is in.
LONG_S = 6.0
LONG_MIN_S = 4.0
#: The LED steps to another level only on a mean this far beyond the border: a line that sits on a
#: border (babble at 5 or 15 dB, where the estimate swings by 0.1 from one 3-s stretch to the next)
#: would otherwise cross it now and then over a long call.
LONG_HYST = 0.05
#: the halves of a window whose means differ more than this are a line still changing
STEADY = 0.10
#: A better but still bad line is judged over this long before the LED steps down to it.
RELAX_S = 12.0
#: A line that is clearly good again (heard score at least CLEAR_HEARD) for RECOVER_AFTER_S is shown
#: good at once.  A clean line scores 0.85-0.95; noise 15 dB under the talker, which is still a degraded
#: line, reaches 0.86 at its best moments and babble about as much: a degraded line must sound clean to be
#: clear, a red one a little less.
RECOVER_AFTER_S = 0.2
CLEAR_HEARD = {Verdict.DEGRADED: 0.88, Verdict.UNINTELLIGIBLE: 0.86}
#: A degraded line that sounds clean while the line itself shows no change for the better (its floor
#: did not fall, as when babble stops, whose floor is its own quietest moments; a muffled line that
#: opens up again) is shown good once it has sounded so for the analyzer's whole 2-s window: green again
#: after babble took up to 11.8 s (bench_line_latency.py --voices with babble recordings), the long
#: judgement's RELAX_S.  A clean stretch in a sustained degraded line lasted at most 1.6 s while amber was
#: shown, over bench_line_stability.py's 30-seed runs with both voices (the LED replayed on their
#: reports; that benchmark prints the LED's changes, not this).  Nor is a line still losing packets
#: clean (see LOSS_PEAK_S): under 50 % concealed loss a lull of 2 s turned the LED green just as the loss
#: resumed.
CLEAR_UNCHANGED_S = 2.0
#: Lost audio that has stopped: the analyzer's 2-s window still holds the lost packets, and its heard
#: score climbs only as they leave it (a real talker on the clean line again: 0.77-0.84 while a third to a
#: twentieth of the window is still lost), so a line whose share of lost or damaged audio has fallen in
#: each of the last LOSS_FALLING_REPORTS reports, to at most half its peak within LOSS_PEAK_S, is clear
#: at CLEAR_AFTER_LOSS.  Green again after more than 2 s: 60 % loss 7 of 40 real talkers, loss in bursts 6
#: of 40 (bench_line_latency.py --voices), before it.  Gaps between bursts of loss halve the share too,
#: and between bursts of concealed packets (which the analyzer counts over the talker's sounds only, so
#: their share swings more) they kept it falling for 0.6 s and longer: amber, green for a moment, amber
#: again under 35-50 % concealed loss (bench_line_stability.py, conceal:F).  So the loss must also have
#: stopped: no packet of the report's last second lost or concealed (`LineReport.lost_lately`).  Nor has
#: a line that still loses packets changed for the better, whatever else moved: lost audio within the
#: window, or a talker who came closer after a pause, took it green between bursts too.
LOSS_PEAK_S = 2.0
LOSS_FALLING_REPORTS = 3
CLEAR_AFTER_LOSS = 0.80
#: the heard scores (lo, hi) of each level the analyzer gives while it hears a talker
LIMITS = {
    Verdict.GOOD: (DEGRADED_BELOW, 2.0),
    Verdict.DEGRADED: (UNINTELLIGIBLE_BELOW, DEGRADED_BELOW),
    Verdict.UNINTELLIGIBLE: (-1.0, UNINTELLIGIBLE_BELOW),
}
#: A report that hears no talker on a line the analyzer finds too noisy to hear anyone scores 0, unless
#: a talker was heard within TALKER_HEARD_S at least TALKER_OVER_NOISE_DB over the noise there is now:
#: then the speech detector missed a talker who is plainly there, and a few such zeros in the QUICK_S
#: mean took a degraded border line to red (white noise at 6 dB in 3 of 30 runs of the stability
#: benchmark).  The talker's level (`LineReport.speech_dbfs`, the floor taken out) sits about the SNR
#: over the noise: white noise 6 dB under the caller leaves them 5-7 dB over it (5th percentile, median
#: of the benchmark's reports), noise that drowns them (0 dB) 0-2 dB.
TALKER_HEARD_S = 2.0
TALKER_OVER_NOISE_DB = 4.0
_EPS = 1e-9


class _Moment(NamedTuple):
    """The line's physics in one report: its floor, the share of lost (or concealed) and of clipped
    audio, the talker's level (None in a report without one), and the packets lost or concealed in its
    last second."""

    t: float
    floor_dbfs: float
    lost: float
    clipped: float
    talker_dbfs: float | None
    lost_lately: int

    @property
    def damage(self) -> float:
        """The share of the audio lost, concealed or clipped."""
        return self.lost + self.clipped


class ShownVerdict:
    """Turns the analyzer's reports into the verdict to show; ``update`` returns it when it changes."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """A new call: nothing shown yet."""
        self.verdict: str | None = None
        self._heard: deque[tuple[float, float]] = deque()  # (t, heard score) of reports with a talker
        self._since = 0.0  # when the heard scores began to count for the level shown
        self._clear_since: float | None = None
        self._line: deque[_Moment] = deque()  # the line's physics over the last CHANGED_S
        # when a window last carried the caller's speech (the call's start if none has): before the
        # first verdict, the analyzer's hysteresis can still say silent about a faint caller it heard
        self._spoke = 0.0
        self._met = -CHANGED_S  # when a talker was last heard on the line afresh (a call's start, after a dead spell)

    def update(self, report: LineReport) -> str | None:
        """Take one report; return the new verdict to show, or None while it stands."""
        new = self._decide(report)
        if new is None or new == self.verdict:
            return None
        if not (Verdict(new).heard or new == Verdict.UNINTELLIGIBLE) or self.verdict not in LIMITS:
            self._heard.clear()  # a dead or silent spell: the talker's scores before it say nothing now
        if self.verdict not in LIMITS and new in LIMITS:
            self._met = report.t
        self.verdict = new
        self._since = report.t
        self._clear_since = None
        return new

    def _decide(self, r: LineReport) -> str | None:
        v, t, shown = r.verdict, r.t, self.verdict
        self._track(r)
        if not _pause(r):  # neither starts nor breaks a clear stretch
            clear = (Verdict.GOOD in (v, r.raw) and shown in CLEAR_HEARD
                     and r.heard >= (CLEAR_AFTER_LOSS if self._loss_ended(t) else CLEAR_HEARD[Verdict(shown)]))
            if not clear:
                self._clear_since = None
            elif self._clear_since is None:
                self._clear_since = t
        # a degraded line is clear at once only if the line itself changed for the better, or else once
        # it has sounded clean for CLEAR_UNCHANGED_S while losing no packet
        clear = self._clear_since is not None and (
            shown != Verdict.DEGRADED or self._line_changed(worse=False)
            or (t - self._clear_since >= CLEAR_UNCHANGED_S - _EPS and not r.lost_lately))
        if v == Verdict.NO_SIGNAL:
            return v  # 0.6 s of nothing is conclusive
        if shown is None:
            if v == Verdict.SILENT:  # a caller not heard yet, or only before a pause: a pause like any other (R19)
                return v if t - self._spoke >= SILENT_AFTER_S - _EPS else None
            return v if v == Verdict.GOOD or t >= SETTLE_S - _EPS else None
        if v == Verdict.SILENT or (shown not in LIMITS and Verdict(v).heard):
            return v  # a quiet live line (the analyzer waited 4.8 s for it), or the caller is back: at once
        if shown not in LIMITS:
            return v  # a line that comes alive from dead or silent too noisy to hear anyone
        if clear and t - self._clear_since >= RECOVER_AFTER_S - _EPS:
            return Verdict.GOOD
        return self._judged(t, shown)

    def _track(self, r: LineReport) -> None:
        t = r.t
        if r.speech:
            self._spoke = t
        talking = r.speech and not _pause(r)
        self._line.append(_Moment(t, r.noise_dbfs, r.dropout + r.concealed, r.clipping,
                                  r.speech_dbfs if talking else None, r.lost_lately))
        while t - self._line[0].t > CHANGED_S + _EPS:
            self._line.popleft()
        if talking:
            self._heard.append((t, r.heard))
        elif r.raw == Verdict.UNINTELLIGIBLE and not self._talker_over_noise(t, r.noise_dbfs):
            self._heard.append((t, 0.0))  # a line so noisy that no talker could be heard on it
        while self._heard and t - self._heard[0][0] > RELAX_S + _EPS:
            self._heard.popleft()

    def _line_changed(self, worse: bool) -> bool:
        """Whether the line itself changed for the worse (or the better) within the last CHANGED_S."""
        now = self._line[-1]
        floors = [m.floor_dbfs for m in self._line]
        if worse:
            return now.damage >= ONSET_DAMAGE or now.floor_dbfs - min(floors) > ONSET_RISE_DB
        if now.lost_lately:
            return False  # a line still losing packets: whatever else moved, that did not end
        # lost or damaged audio within the window: a clear report there is its end; its share in the
        # analyzer's 2-s window falls only slowly
        return (now.t - self._met < CHANGED_S - _EPS
                or max(m.damage for m in self._line) >= ONSET_DAMAGE
                or max(floors) - now.floor_dbfs > BETTER_DB
                or (now.talker_dbfs is not None and now.talker_dbfs - min(
                    m.talker_dbfs for m in self._line if m.talker_dbfs is not None) > BETTER_DB))

    def _recent(self, t: float, span: float) -> list[_Moment]:
        """The line's record over the last `span` before `t`."""
        return [m for m in self._line if t - m.t < span - _EPS]

    def _loss_ended(self, t: float) -> bool:
        """Whether lost or damaged audio has stopped: its share of the window falling report by report,
        to half its peak or less."""
        if len(self._line) <= LOSS_FALLING_REPORTS:
            return False
        peak = max(m.damage for m in self._recent(t, LOSS_PEAK_S))
        last = [self._line[-k].damage for k in range(LOSS_FALLING_REPORTS + 1, 0, -1)]
        return (peak >= ONSET_DAMAGE and last[-1] <= peak / 2 and not self._line[-1].lost_lately
                and all(newer < older for older, newer in pairwise(last)))

    def _talker_over_noise(self, t: float, noise_dbfs: float) -> bool:
        """Whether a talker was heard lately, clearly louder than the line's noise is now."""
        last = next((m for m in reversed(self._line) if m.talker_dbfs is not None), None)
        return (last is not None and t - last.t < TALKER_HEARD_S - _EPS
                and last.talker_dbfs - noise_dbfs >= TALKER_OVER_NOISE_DB)

    def _quick_margin(self, t: float, cur: Verdict) -> float:
        """How far under the unintelligible border the quick mean must be for `cur` to turn red at once."""
        now = self._line[-1]
        recent = self._recent(t, QUICK_S)
        onset = now.damage < ONSET_DAMAGE and now.floor_dbfs - min(
            m.floor_dbfs for m in self._line if t - m.t <= ONSET_S + _EPS) > ONSET_RISE_DB
        if onset:
            talker = [m.talker_dbfs for m in recent if m.talker_dbfs is not None]
            if not talker or sum(talker) / len(talker) - now.floor_dbfs > DROWNED_DB:
                return ONSET_MARGIN
        if (cur is Verdict.GOOD and sum(m.lost for m in recent) / len(recent) >= HEAVY_LOSS
                and min(m.lost for m in self._line) < ONSET_DAMAGE):
            return HEAVY_LOSS_MARGIN
        return QUICK_MARGIN[cur]

    def _mean(
        self, t: float, span: float, since: float = -1.0, until: float | None = None,
    ) -> tuple[float, float] | None:
        """Mean heard score of the reports within `span` before `t` (after `since`, up to `until`), and
        the time they cover."""
        got = [(ti, h) for ti, h in self._heard
               if t - ti < span - _EPS and ti > since + _EPS and (until is None or ti <= until + _EPS)]
        if not got:
            return None
        return sum(h for _, h in got) / len(got), t - got[0][0] + 0.2

    def _judged(self, t: float, shown: str) -> str | None:
        cur = Verdict(shown)
        quick = self._mean(t, QUICK_S)
        if (cur in QUICK_MARGIN and quick is not None and quick[1] >= QUICK_S - _EPS and t >= SETTLE_S - _EPS
                and self._line_changed(worse=True) and quick[0] < UNINTELLIGIBLE_BELOW - self._quick_margin(t, cur)):
            return Verdict.UNINTELLIGIBLE
        # from a good line a border line is judged over LONG_S; between bad levels over RELAX_S since shown
        span, since, needed = (LONG_S, -1.0, LONG_MIN_S) if cur is Verdict.GOOD else (RELAX_S, self._since, RELAX_S)
        whole = self._mean(t, span, since=since)
        if whole is None or whole[1] < needed - _EPS:
            return None
        level = _level(whole[0], cur, LONG_HYST)
        if level is cur:
            return None
        # every third of the window must say so: a line still sliding into a new condition is not it yet
        cut = whole[1] / 3
        parts = [self._mean(t, whole[1] - k * cut, since=since, until=t - (2 - k) * cut) for k in range(3)]
        means = [p[0] for p in parts if p is not None]
        if len(means) < 3 or max(means) - min(means) > STEADY:
            return None
        return level if all(_level(m, cur, 0.0) is level for m in means) else None


def _pause(r: LineReport) -> bool:
    """A report in a pause between the talker's words (no speech in the last 0.4 s of a window that has
    some): its window tails off into the pause and scores a talker who stopped, not the line."""
    return r.raw == Verdict.SILENT and r.speech


def _level(score: float, cur: Verdict, hyst: float) -> Verdict:
    """The level of a heard score, keeping `cur` while the score is within `hyst` of its limits."""
    lo, hi = LIMITS[cur]
    if lo - hyst <= score < hi + hyst:
        return cur
    return next(level for level, (lo, hi) in LIMITS.items() if lo <= score < hi)
