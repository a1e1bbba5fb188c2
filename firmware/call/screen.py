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
        self.paging = False  # the last composed screen pages by itself: redraw it every AUTO_PAGE_S
        self.lost: list[str] = []  # text cut off the glass (a bug: see fit)

    def line(self, text: str) -> str:
        """One row's text in the form the LCD shows it (romanised on A00/A02)."""
        return display_text(text, self._rom(), self._language())

    def wrap(self, text: str) -> list[str]:
        """``text`` as the LCD will show it (romanised on A00/A02), wrapped to the screen's width."""
        return wrap(self.line(text), self.cols)

    def fit(self, lines: list[str], n: int) -> list[str]:
        """Exactly ``n`` rows of the width. Whatever does not fit is noted in :attr:`lost` (a test reads
        it: every text must fit or be paged, never cut)."""
        cut = [line[self.cols :] for line in lines if len(line.rstrip()) > self.cols] + lines[n:]
        if any(part.strip() for part in cut):
            self.lost.append(" ".join(part.strip() for part in cut if part.strip()))
        lines = [line[: self.cols] for line in lines]
        return (lines + [""] * n)[:n]

    def row(self, *variants: str) -> str:
        """The first of ``variants`` (longest first) that fits one row, in the form the LCD shows it."""
        shown = [self.line(v) for v in variants]
        fitting = next((v for v in shown if len(v) <= self.cols), None)
        if fitting is None:
            self.lost.append(shown[-1][self.cols :])
            return shown[-1][: self.cols]
        return fitting

    def compose(self, body: list[str], status: Callable[[], str], keep_status: bool = False) -> list[str]:
        """Body above the status line; a body one row too long takes the status row (unless
        ``keep_status``), a longer one pages by itself every few seconds (nothing the operator must
        read is ever cut off)."""
        rows = self.rows
        self.paging = False
        if len(body) <= rows - 1:
            return self.fit(body, rows - 1) + [status()]
        if len(body) <= rows and not keep_status:
            return self.fit(body, rows)
        per = max(1, rows - 1)
        pages = paginate(body, per)
        self.paging = True
        now = self._clock.monotonic()
        if self._paged_body != pages:  # a new text starts at its first page
            self._paged_body, self._paged_since = pages, now
        page = pages[int((now - self._paged_since + 1e-6) // AUTO_PAGE_S) % len(pages)]
        return self.fit(page, per) + ([status()] if rows > 1 else [])

    def page(self, lines: list[str]) -> list[str]:
        """A whole-screen text: as it is when it fits, else a page at a time by itself, «1/3» at the bottom."""
        if len(lines) <= self.rows:
            self.paging = False
            return self.fit(lines, self.rows)
        pages = paginate(lines, max(1, self.rows - 1))
        return self.compose(lines, lambda: self._page_tag(pages, lines), keep_status=True)

    def _page_tag(self, pages: list[list[str]], lines: list[str]) -> str:
        now = self._clock.monotonic()
        n = int((now - self._paged_since + 1e-6) // AUTO_PAGE_S) % len(pages)
        return f"{n + 1}/{len(pages)}".rjust(self.cols)
