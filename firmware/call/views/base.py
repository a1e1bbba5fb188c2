"""The screen base classes: a view, and a long text shown a page at a time above its key hints."""

from __future__ import annotations

from typing import TYPE_CHECKING

from firmware.lcd import paginate
from firmware.vocabulary import Key

if TYPE_CHECKING:
    from firmware.call.views.host import ViewHost


class View:
    """A screen: what it shows and what its keys do."""

    fullscreen = False  # True: uses every row (no call status line)

    def lines(self, host: ViewHost) -> list[str]:
        raise NotImplementedError

    def on_key(self, host: ViewHost, key: str) -> bool:
        """Handle ``key``; False lets the desk apply its defaults (HOLD, APPEAL, language)."""
        return False


class PagedView(View):
    """A long text shown a page at a time; DOWN/UP turn pages when there is more than one.

    :meth:`hint` (the keys that answer the screen, e.g. «OK - так BACK - ні») keeps the last row on
    every page, so it is never paged away; a text of several pages without a hint shows «1/3» there.
    """

    fullscreen = True

    def __init__(self) -> None:
        self.page = 0

    def text(self, host: ViewHost) -> str:
        raise NotImplementedError

    def hint(self, host: ViewHost) -> str:
        return ""

    def pages(self, host: ViewHost) -> list[list[str]]:
        screen = host.screen
        lines = screen.wrap(self.text(host))
        hint = self.hint(host)
        per = screen.rows
        if not hint and len(lines) <= per:
            return [lines]
        chunks = paginate(lines, max(1, per - 1))
        out = []
        for n, chunk in enumerate(chunks):
            tag = f"{n + 1}/{len(chunks)}" if len(chunks) > 1 else ""
            out.append(chunk + [bottom_row(screen.line(hint), tag, screen.cols)])
        return out

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


def bottom_row(hint: str, tag: str, cols: int) -> str:
    """The hint row: the keys, and the page tag at the right when there is room for both."""
    if not tag:
        return hint[:cols]
    if not hint:
        return tag
    if len(hint) + 1 + len(tag) <= cols:
        return f"{hint:<{cols - len(tag)}}{tag}"
    return hint[:cols]
