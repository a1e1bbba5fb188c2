"""Between the audio source and the event loop: feeds the line analyzer and posts its verdicts.

It runs on the audio thread (or, in the simulator, wherever audio is produced) and touches no unit
state: it only posts :class:`firmware.events.LineVerdict` events, one each time the verdict changes.
``latest`` holds the newest report for meters (a plain attribute swap, safe to read from any thread).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from firmware.events import Event, LineVerdict
from firmware.line.shown import ShownVerdict


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
        self.shown = ShownVerdict()  # the verdict with memory, as a listener follows the line

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
                self.shown.reset()
        if not self.active:
            return
        for report in self.analyzer.feed(samples):
            self.latest = report
            verdict = self.shown.update(report)
            if verdict is not None:
                self.verdict = verdict
                self._post(LineVerdict(verdict, float(report.score), report))
