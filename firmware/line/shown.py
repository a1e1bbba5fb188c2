"""The verdict the unit shows (LINE LED, contact countdown): the line as a listener follows it.

The analyzer judges the last 2 s of audio every 0.2 s, and on a line that sits near one of its borders
(noise at 6-12 dB, heavy loss) its verdict swings from one side to the other every few seconds.  A
person on the phone hears a sustained condition as one thing, and the operator's LED and the contact
countdown (R16) must follow that impression, not every swing.  So the shown verdict has memory:

* a dead line is shown at once, and a caller who comes back from a dead or silent line at once;
* a worse verdict is shown once the line has been worse than shown for `ESCALATE_AFTER_S`, at the
  mildest level it held all that while, if the heard score sat clearly inside that level (`MARGIN`);
  a line near a border must stay worse for `ESCALATE_BORDER_S` first (noise setting in makes the
  analyzer overshoot for a few seconds, and a moment of red inside a degraded spell is not red);
* a better verdict is shown at once only when the line has clearly recovered (the analyzer hears it
  good with a margin for `RECOVER_AFTER_S`); a milder but still bad line must stay better than shown
  for `RELAX_AFTER_S` before the LED steps down to the worst level seen in that time.  A countdown
  started for a bad spell therefore runs its 10 s unless the line clearly recovers, and a new bad
  spell after a recovery starts its own.

Before the analyzer has heard `SETTLE_S` of a call only a dead and a good line are believed.
"""
from __future__ import annotations

from collections import deque

from firmware.line.analyzer import DEGRADED_BELOW, UNINTELLIGIBLE_BELOW, LineReport
from firmware.vocabulary import Verdict

#: The analyzer judges the last 2 s of the line: before it has heard that much of a call, only a
#: dead line (which must be caught within a second) and a good one are believed; a bad or silent
#: verdict waits for a full window (measured over every start offset of our speech: none after 2.2 s).
#: At the start of a call the operator speaks first anyway: a quiet caller then is not "silent".
SETTLE_S = 2.4
#: A line getting worse must stay worse this long before the LED and the countdown follow.
ESCALATE_AFTER_S = 1.0
ESCALATE_BORDER_S = 4.0
#: how far inside a worse level the mean heard score must sit for the quick escalation
MARGIN = {Verdict.DEGRADED: 0.10, Verdict.UNINTELLIGIBLE: 0.07}
#: While the noise floor is still rising (noise just set in: within ONSET_S it rose by ONSET_RISE_DB),
#: the analyzer's 2 s window mixes the new noise into its idea of the talker and overshoots for a few
#: seconds; only a line far inside the worse level (ONSET_MARGIN) is then escalated quickly.
ONSET_S = 2.4
ONSET_RISE_DB = 6.0
ONSET_MARGIN = 0.25
#: A line that is clearly good again (heard score at least CLEAR_HEARD) for this long is shown good:
#: babble lets the analyzer hear a talker well for a moment now and then, a recovered line stays so.
RECOVER_AFTER_S = 0.4
CLEAR_HEARD = 0.9
UPPER = {Verdict.DEGRADED: DEGRADED_BELOW, Verdict.UNINTELLIGIBLE: UNINTELLIGIBLE_BELOW}  # the analyzer's borders
#: A line that is better than shown, but not clearly good, must stay so this long before the LED steps
#: down: longer than the few seconds a border condition swings over (measured: 3-8 s).
RELAX_AFTER_S = 12.0
_EPS = 1e-9


class ShownVerdict:
    """Turns the analyzer's reports into the verdict to show; ``update`` returns it when it changes."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """A new call: nothing shown yet."""
        self.verdict: str | None = None
        self._worse: deque[tuple[float, str, float]] = deque()  # reports worse than shown, while they last
        self._better: deque[tuple[float, str, float]] = deque()  # reports better than shown, while they last
        self._clear_since: float | None = None
        self._noise: deque[tuple[float, float]] = deque()  # (t, noise floor dBFS) over the last ONSET_S

    def update(self, report: LineReport) -> str | None:
        """Take one report; return the new verdict to show, or None while it stands."""
        new = self._decide(report)
        if new is None or new == self.verdict:
            return None
        escalated = self.verdict is not None and _sev(new) > _sev(self.verdict)
        self.verdict = new
        # a step up to a milder level keeps the evidence for a worse one that has been building up
        kept: deque[tuple[float, str, float]] = deque()
        while escalated and self._worse and _sev(self._worse[-1][1]) > _sev(new):
            kept.appendleft(self._worse.pop())
        self._worse = kept
        self._better.clear()
        self._clear_since = None
        return new

    def _decide(self, r: LineReport) -> str | None:
        v, t, shown = r.verdict, r.t, self.verdict
        self._noise.append((t, r.noise_dbfs))
        while t - self._noise[0][0] > ONSET_S + _EPS:
            self._noise.popleft()
        clear = v == Verdict.GOOD and r.heard >= CLEAR_HEARD
        if not clear:
            self._clear_since = None
        elif self._clear_since is None:
            self._clear_since = t
        if v == shown:
            self._worse.clear()
            self._better.clear()
            return None
        if self._worse and _sev(v) <= _sev(shown):
            self._worse.clear()
        if v == Verdict.NO_SIGNAL:
            return v  # 0.6 s of nothing is conclusive
        if shown is None:
            return v if v == Verdict.GOOD or t >= SETTLE_S - _EPS else None
        back = shown in (Verdict.NO_SIGNAL, Verdict.SILENT) and Verdict(v).heard
        if v == Verdict.SILENT or back:
            return v  # a quiet live line (the analyzer waited 4.8 s for it), or the caller is back: at once
        sev, cur = _sev(v), _sev(shown)
        if sev > cur:
            self._better.clear()
            self._worse.append((t, v, r.heard))
            onset = r.noise_dbfs - min(n for _, n in self._noise) > ONSET_RISE_DB
            quick = self._settled(self._worse, ESCALATE_AFTER_S, t, mildest=True, trim=False)
            if quick is not None and quick != Verdict.NO_SIGNAL:
                recent = [h for ti, _, h in self._worse if t - ti < ESCALATE_AFTER_S - _EPS]
                margin = ONSET_MARGIN if onset else MARGIN[quick]
                if sum(recent) / len(recent) < UPPER[quick] - margin:
                    return quick
            return None if onset else self._settled(self._worse, ESCALATE_BORDER_S, t, mildest=True)
        self._worse.clear()
        if clear and t - self._clear_since >= RECOVER_AFTER_S - _EPS:
            return Verdict.GOOD
        self._better.append((t, v, r.heard))
        return self._settled(self._better, RELAX_AFTER_S, t, mildest=False)

    @staticmethod
    def _settled(run: deque[tuple[float, str, float]], hold: float, t: float, mildest: bool,
                 trim: bool = True) -> str | None:
        """After `run` has lasted `hold`: its mildest (escalating) or worst (relaxing) verdict of `hold`."""
        if t - run[0][0] < hold - _EPS:
            return None
        if trim:
            while len(run) > 1 and t - run[1][0] >= hold - _EPS:
                run.popleft()
        pick = min if mildest else max
        return pick((v for ti, v, _ in run if t - ti <= hold + _EPS), key=lambda v: _sev(v))


def _sev(verdict: str) -> int:
    return Verdict(verdict).severity
