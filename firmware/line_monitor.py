"""Between the audio source and the event loop: feeds the line analyzer and posts its verdicts.

It runs on the audio thread (or, in the simulator, wherever audio is produced) and touches no unit
state: it only posts :class:`firmware.events.LineVerdict` events, one each time the verdict changes.
``latest`` holds the newest report for meters (a plain attribute swap, safe to read from any thread).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from firmware.events import Event, LineVerdict

#: The analyzer judges the last 2 s of the line: before it has heard that much of a call, only a
#: dead line (which must be caught within a second) and a good one are believed; a bad or silent
#: verdict waits for a full window (measured over every start offset of our speech: none after 2.2 s).
#: At the start of a call the operator speaks first anyway: a quiet caller then is not "silent".
SETTLE_S = 2.4
#: A line getting worse (amber, red for "unintelligible") must stay so this long before the LED and
#: the contact countdown follow: the analyzer can swing for a second while noise sets in, and the
#: operator's panel must stay calm. A dead line is reported at once; getting better is reported at once.
ESCALATE_AFTER_S = 1.2
SEVERITY = {"good": 0, "silent": 0, "degraded": 1, "unintelligible": 2, "no_signal": 3}


class LineMonitor:
    """Analyzer + change detection; ``post`` receives a LineVerdict whenever the verdict changes."""

    def __init__(self, sample_rate: int, post: Callable[[Event], None]) -> None:
        from firmware.line.analyzer import LineAnalyzer

        self.sample_rate = sample_rate
        self._post = post
        self.analyzer = LineAnalyzer(sample_rate)
        self.verdict: str | None = None
        self.latest = None
        self.active = False
        self._wanted = False
        self._candidate: tuple[str, float] | None = None  # a worse verdict waiting to persist, since t

    def set_active(self, on: bool) -> None:
        """Judge the line from now on (a call began) or stop; safe from any thread."""
        self._wanted = on

    def restart(self) -> None:
        """Judge the line afresh from the next block (audio is back after a gap: nothing from before
        it may count); call it from the thread that feeds."""
        self.active = False

    @property
    def wanted(self) -> bool:
        return self._wanted

    def feed(self, samples: np.ndarray) -> None:
        if self._wanted != self.active:
            self.active = self._wanted
            if self.active:  # a new call: judge the line afresh, on the audio thread itself
                self.analyzer.reset()
                self.verdict = None
                self._candidate = None
        if not self.active:
            return
        for report in self.analyzer.feed(samples):
            self.latest = report
            if report.verdict == self.verdict:
                self._candidate = None
                continue
            persisted = self._persists(report)  # counts from the first such report, settling or not
            if report.verdict not in ("good", "no_signal") and report.t < SETTLE_S:
                continue
            if persisted:
                self._candidate = None
                self.verdict = report.verdict
                self._post(LineVerdict(report.verdict, float(report.score), report))

    def _persists(self, report) -> bool:
        """Whether a change may be reported now: see :data:`ESCALATE_AFTER_S`."""
        verdict = report.verdict
        if verdict == "no_signal" or SEVERITY[verdict] <= SEVERITY.get(self.verdict or "good", 0):
            return True
        if self._candidate is None or self._candidate[0] != verdict:
            self._candidate = (verdict, report.t)
        return report.t - self._candidate[1] >= ESCALATE_AFTER_S - 1e-9
