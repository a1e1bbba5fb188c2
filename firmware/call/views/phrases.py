"""Browsing the phrase bank during a call (R6-R26) and showing one phrase full-screen."""

from __future__ import annotations

from firmware.call.views.base import PagedView, View
from firmware.call.views.host import ViewHost
from firmware.phrases import Phrase
from firmware.vocabulary import Key, Outcome

#: Outcomes the operator records from the phrase list (the others follow from what happened).
OUTCOME_ENTRIES = (Outcome.CALLBACK, Outcome.TRANSFER)


class PhraseListView(View):
    """The phrases the operator may need (R6-R26), browsed with UP/DOWN; OK shows one full-screen.

    The first entry switches the call's language (R1); the last ones record what the call came to
    when the operator will call back or has transferred the caller (R17, R21).
    """

    def __init__(self) -> None:
        self.index = 1  # start on the first phrase; entry 0 is the language switch

    def entries(self, host: ViewHost) -> list[Phrase | Outcome | None]:
        return [None, *host.bank.phrases, *OUTCOME_ENTRIES]

    def lines(self, host: ViewHost) -> list[str]:
        entries = self.entries(host)
        self.index %= len(entries)
        entry = entries[self.index]
        bank, screen = host.bank, host.screen
        if entry is None:
            nxt = host.banks[host.language.next()]
            return screen.wrap(f"{bank.text('ui.language')}: {bank.label} > {nxt.label}\nOK")
        if isinstance(entry, Outcome):
            return screen.wrap(f"{bank.text(f'ui.outcome_{entry}')}\nOK")
        title = screen.wrap(f"{self.index}/{len(bank.phrases)} {entry.title}")
        room = max(0, screen.rows - 1 - len(title))  # a preview: OK shows the whole phrase
        return title + screen.wrap(entry.text)[:room]

    def on_key(self, host: ViewHost, key: str) -> bool:
        count = len(self.entries(host))
        if key == Key.DOWN:
            self.index = (self.index + 1) % count
        elif key == Key.UP:
            self.index = (self.index - 1) % count
        elif key == Key.OK:
            entry = self.entries(host)[self.index]
            if entry is None:
                host.switch_language()
            elif isinstance(entry, Outcome):
                host.set_outcome(entry)
            else:
                host.show_phrase(entry)
        elif key == Key.BACK:
            host.pop_view()
        else:
            return False
        return True


class PhraseView(PagedView):
    """One phrase full-screen; long ones page with DOWN/UP; OK or BACK returns to the list."""

    def __init__(self, phrase: Phrase, extra: str = "") -> None:
        super().__init__()
        self.phrase = phrase
        self.extra = extra

    def text(self, host: ViewHost) -> str:
        return f"{self.phrase.text}\n{self.extra}" if self.extra else self.phrase.text

    def on_key(self, host: ViewHost, key: str) -> bool:
        if self.turn(host, key):
            return True
        if key == Key.OK and self.phrase.ends_call:
            host.end_for_abuse()
            return True
        if key in (Key.OK, Key.BACK):
            host.pop_view()
            return True
        return key in (Key.UP, Key.DOWN)
