"""Composing the LCD's rows: text in the form the glass shows it, a body above the status line, and a
body too long for the screen paged by itself every few seconds."""

from __future__ import annotations

from collections.abc import Callable

from firmware.clock import Clock
from firmware.lcd import display_text, paginate, wrap
from firmware.vocabulary import Language

AUTO_PAGE_S = 3.0


class Screen:
    """The LCD as rows of text (the views' :class:`~firmware.call.views.host.Canvas`) and its pager.

    ``language`` says which language's romanisation applies (A00/A02 ROMs) at the moment.
    """

    def __init__(self, cols: int, rows: int, rom: Callable[[], str], language: Callable[[], Language],
                 clock: Clock) -> None:
        self.cols = cols
        self.rows = rows
        self._rom = rom
        self._language = language
        self._clock = clock
        self._paged_body: list[list[str]] | None = None
        self._paged_since = 0.0

    def line(self, text: str) -> str:
        """One row's text in the form the LCD shows it (romanised on A00/A02)."""
        return display_text(text, self._rom(), self._language())

    def wrap(self, text: str) -> list[str]:
        """``text`` as the LCD will show it (romanised on A00/A02), wrapped to the screen's width."""
        return wrap(self.line(text), self.cols)

    def fit(self, lines: list[str], n: int, keep_last: bool = False) -> list[str]:
        """Exactly ``n`` rows, each cut to the width; ``keep_last`` keeps the last line when cutting."""
        lines = [line[: self.cols] for line in lines]
        if len(lines) > n and keep_last:
            lines = lines[: n - 1] + [lines[-1]]  # the idle screen keeps its clock line
        return (lines + [""] * n)[:n]

    def compose(self, body: list[str], status: Callable[[], str]) -> list[str]:
        """Body above the status line; a body one row too long takes the status row, a longer one pages
        by itself every few seconds (nothing the operator must read is ever cut off)."""
        rows = self.rows
        if len(body) <= rows - 1:
            return self.fit(body, rows - 1) + [status()]
        if len(body) <= rows:
            return self.fit(body, rows)
        per = max(1, rows - 1)
        pages = paginate(body, per)
        now = self._clock.monotonic()
        if self._paged_body != pages:  # a new text starts at its first page
            self._paged_body, self._paged_since = pages, now
        page = pages[int((now - self._paged_since + 1e-6) // AUTO_PAGE_S) % len(pages)]
        return self.fit(page, per) + ([status()] if rows > 1 else [])
