"""Browsing the phrase bank during a call (R6-R26) and showing one phrase full-screen."""

from __future__ import annotations

from firmware.call.views.base import PagedView, View
from firmware.call.views.dialogs import ConfirmView
from firmware.call.views.host import ViewHost
from firmware.phrases import Phrase
from firmware.vocabulary import Deliberate, Key, Outcome

#: Outcomes the operator can always mark from the phrase list (R17 transfer, R21 callback); a phrase
#: bank adds the ones its phrases name (``outcome``, ``ends_call``). Each asks for a confirmation:
#: reading a phrase never marks anything.
OUTCOME_ENTRIES = (Outcome.CALLBACK, Outcome.TRANSFER)


def outcome_entries(phrases: tuple[Phrase, ...]) -> list[Outcome]:
    """The list's closing entries: what the bank's phrases name (R7 outside competence), callback and
    transfer, and ending the call for abuse when a phrase says it may end the call (R15)."""
    named = [p.outcome for p in phrases if p.outcome is not None]
    out = [*dict.fromkeys([*named, *OUTCOME_ENTRIES])]
    if any(p.ends_call for p in phrases):
        out.append(Outcome.ABUSE)
    return out


class PhraseListView(View):
    """The phrases the operator may need (R6-R26), browsed with UP/DOWN; OK shows one full-screen.

    The first entry switches the call's language (R1); the last ones mark, after a confirmation, what
    the call came to (outside competence R7, callback R21, transfer R17, ended for abuse R15); on an
    outcome already marked the entry offers to clear it.
    """

    def __init__(self) -> None:
        self.index = 1  # start on the first phrase; entry 0 is the language switch

    def entries(self, host: ViewHost) -> list[Phrase | Outcome | None]:
        return [None, *host.bank.phrases, *outcome_entries(host.bank.phrases)]

    def lines(self, host: ViewHost) -> list[str]:
        entries = self.entries(host)
        self.index %= len(entries)
        entry = entries[self.index]
        bank, screen = host.bank, host.screen
        if entry is None:
            nxt = host.banks[host.language.next()]
            return screen.wrap(f"{bank.text('ui.language')}: {bank.label} > {nxt.label}\nOK")
        if isinstance(entry, Outcome):
            call = host.call
            label = bank.text(f"ui.outcome_{entry}")
            if call is not None and call.outcome == entry and entry != Outcome.ABUSE:
                label = f"{bank.text('ui.outcome_unset')}: {label}"
            return screen.wrap(f"{label}\nOK")
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
            elif entry == Outcome.ABUSE:
                host.push_view(ConfirmView(Deliberate.END_FOR_ABUSE))
            elif isinstance(entry, Outcome):
                call = host.call
                marked = call is not None and call.outcome == entry
                host.push_view(ConfirmView(Deliberate.MARK_OUTCOME, Outcome.ANSWERED if marked else entry))
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
        return self.turn_or_close(host, key) or key in (Key.UP, Key.DOWN)
