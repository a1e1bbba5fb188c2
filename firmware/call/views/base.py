"""The screen base classes: a view, and a long text shown a page at a time."""

from __future__ import annotations

from firmware.call.views.host import ViewHost
from firmware.lcd import paginate
from firmware.vocabulary import Key


class View:
    """A screen: what it shows and what its keys do."""

    fullscreen = False  # True: uses every row (no call status line)

    def lines(self, host: ViewHost) -> list[str]:
        raise NotImplementedError

    def footer(self, host: ViewHost) -> tuple[str, ...] | None:
        """A row kept at the bottom of every page instead of the status row (a question's answer keys),
        as wordings longest first (the screen shows the first that fits); the lines above it page by
        themselves."""
        return None

    def on_key(self, host: ViewHost, key: str) -> bool:
        """Handle ``key``; False lets the desk apply its defaults (HOLD, APPEAL, language)."""
        return False


class PagedView(View):
    """A long text shown a page at a time; DOWN/UP turn pages when there is more than one, and the
    last row of each page says where the operator is («1/3»)."""

    fullscreen = True

    def __init__(self) -> None:
        self.page = 0

    def text(self, host: ViewHost) -> str:
        raise NotImplementedError

    def pages(self, host: ViewHost) -> list[list[str]]:
        screen = host.screen
        lines = screen.wrap(self.text(host))
        if len(lines) <= screen.rows:
            return [lines]
        chunks = paginate(lines, max(1, screen.rows - 1))
        return [chunk + [f"{n + 1}/{len(chunks)}".rjust(screen.cols)] for n, chunk in enumerate(chunks)]

    def lines(self, host: ViewHost) -> list[str]:
        pages = self.pages(host)
        self.page = min(self.page, len(pages) - 1)
        return pages[self.page]

    def turn(self, host: ViewHost, key: str) -> bool:
        count = len(self.pages(host))
        if key == Key.DOWN and self.page + 1 < count:
            self.page += 1
            return True
        if key == Key.UP and self.page > 0:
            self.page -= 1
            return True
        return False

    def turn_or_close(self, host: ViewHost, key: str) -> bool:
        """DOWN/UP turn the pages; OK or BACK closes the view."""
        if self.turn(host, key):
            return True
        if key in (Key.OK, Key.BACK):
            host.pop_view()
            return True
        return False
