"""The screens of the panel and what their keys do, one class per screen.

A view renders plain text lines (the LCD layer encodes them for the glass) and reacts to keys; the
:class:`firmware.unit.Unit` keeps a stack of them per call, the top one showing. Views never touch
hardware or the clock directly: they go through the unit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from firmware.phrases import LANGUAGES, Phrase

if TYPE_CHECKING:
    from firmware.unit import Unit

SCRIPT_STEPS = ("greeting", "address", "help")
#: Outcomes the operator records from the phrase list (the others follow from what happened).
OUTCOME_ENTRIES = ("callback", "transfer")


class View:
    """A screen: what it shows and what its keys do."""

    fullscreen = False  # True: uses every row (no call status line)

    def lines(self, unit: Unit) -> list[str]:
        raise NotImplementedError

    def on_key(self, unit: Unit, key: str) -> bool:
        """Handle ``key``; False lets the unit apply its defaults (HOLD, APPEAL, language)."""
        return False


class PagedView(View):
    """A long text shown a page at a time; DOWN/UP turn pages when there is more than one."""

    fullscreen = True

    def __init__(self) -> None:
        self.page = 0

    def text(self, unit: Unit) -> str:
        raise NotImplementedError

    def pages(self, unit: Unit) -> list[list[str]]:
        lines = unit.wrap(self.text(unit))
        per = unit.display.rows
        if len(lines) > per:  # keep the last row for "1/3" so the operator knows there is more
            per -= 1
            chunks = [lines[i:i + per] for i in range(0, len(lines), per)]
            return [c + [""] * (per - len(c)) + [f"{n + 1}/{len(chunks)}"] for n, c in enumerate(chunks)]
        return [lines]

    def lines(self, unit: Unit) -> list[str]:
        pages = self.pages(unit)
        self.page = min(self.page, len(pages) - 1)
        return pages[self.page]

    def turn(self, unit: Unit, key: str) -> bool:
        count = len(self.pages(unit))
        if key == "DOWN" and self.page + 1 < count:
            self.page += 1
            return True
        if key == "UP" and self.page > 0:
            self.page -= 1
            return True
        return False


class ScriptView(View):
    """The call's opening (R2-R5): greeting and introduction, then how to address, then the offer of help.

    OK goes to the next step; after the last one the call's home screen shows.
    """

    def __init__(self, step: int = 0) -> None:
        self.step = step

    def text(self, unit: Unit) -> str:
        call, bank, op = unit.call, unit.bank, unit.operator
        assert call is not None
        if self.step == 0:
            intro = bank.text("script.intro", number=op.number if op else "-", name=op.name if op else "")
            return f"{bank.greeting(call.greeting)}!\n{intro}"
        return bank.text(f"script.{SCRIPT_STEPS[self.step]}")

    def lines(self, unit: Unit) -> list[str]:
        return unit.wrap(self.text(unit))

    def on_key(self, unit: Unit, key: str) -> bool:
        if key == "OK":
            if self.step + 1 < len(SCRIPT_STEPS):
                self.step += 1
                unit.note(f"{SCRIPT_STEPS[self.step]}_shown")
            else:
                unit.replace_view(HomeView())
            return True
        if key == "BACK" and self.step > 0:
            self.step -= 1
            return True
        if key in ("UP", "DOWN"):
            unit.push_view(PhraseListView())
            return True
        return False


class HomeView(View):
    """The call's resting screen: the language and a hint; the status line shows time and line.

    While the caller is hard to follow but heard (LINE amber), the hint gives way to R19's reminder:
    unusual speech, pauses or sounds are not a bad line and not a prank.
    """

    def lines(self, unit: Unit) -> list[str]:
        call = unit.call
        hint = unit.bank.text("ui.browse")
        if call is not None and call.line == "degraded":
            hint = unit.bank.phrase("patience").text
        return unit.wrap(f"{unit.bank.text('ui.call')} [{unit.bank.label}]\n{hint}")

    def on_key(self, unit: Unit, key: str) -> bool:
        if key in ("UP", "DOWN", "OK"):
            unit.push_view(PhraseListView())
            return True
        return False


class PhraseListView(View):
    """The phrases the operator may need (R6-R26), browsed with UP/DOWN; OK shows one full-screen.

    The first entry switches the call's language (R1); the last ones record what the call came to
    when the operator will call back or has transferred the caller (R17, R21).
    """

    def __init__(self) -> None:
        self.index = 1  # start on the first phrase; entry 0 is the language switch

    def entries(self, unit: Unit) -> list[Phrase | str | None]:
        return [None, *unit.bank.phrases, *OUTCOME_ENTRIES]

    def lines(self, unit: Unit) -> list[str]:
        entries = self.entries(unit)
        self.index %= len(entries)
        entry = entries[self.index]
        if entry is None:
            nxt = LANGUAGES[(LANGUAGES.index(unit.language) + 1) % len(LANGUAGES)]
            return unit.wrap(f"{unit.bank.text('ui.language')}: {unit.bank.label} > {unit.banks[nxt].label}\nOK")
        if isinstance(entry, str):
            return unit.wrap(f"{unit.bank.text(f'ui.outcome_{entry}')}\nOK")
        title = unit.wrap(f"{self.index}/{len(unit.bank.phrases)} {entry.title}")
        room = max(0, unit.display.rows - 1 - len(title))  # a preview: OK shows the whole phrase
        return title + unit.wrap(entry.text)[:room]

    def on_key(self, unit: Unit, key: str) -> bool:
        count = len(self.entries(unit))
        if key == "DOWN":
            self.index = (self.index + 1) % count
        elif key == "UP":
            self.index = (self.index - 1) % count
        elif key == "OK":
            entry = self.entries(unit)[self.index]
            if entry is None:
                unit.switch_language()
            elif isinstance(entry, str):
                unit.set_outcome(entry)
            else:
                unit.show_phrase(entry)
        elif key == "BACK":
            unit.pop_view()
        else:
            return False
        return True


class PhraseView(PagedView):
    """One phrase full-screen; long ones page with DOWN/UP; OK or BACK returns to the list."""

    def __init__(self, phrase: Phrase, extra: str = "") -> None:
        super().__init__()
        self.phrase = phrase
        self.extra = extra

    def text(self, unit: Unit) -> str:
        return f"{self.phrase.text}\n{self.extra}" if self.extra else self.phrase.text

    def on_key(self, unit: Unit, key: str) -> bool:
        if self.turn(unit, key):
            return True
        if key == "OK" and self.phrase.id == "abuse":
            unit.end_for_abuse()
            return True
        if key in ("OK", "BACK"):
            unit.pop_view()
            return True
        return key in ("UP", "DOWN")


class MessageView(PagedView):
    """A short message (e.g. what to do now) that any key except HOLD/APPEAL dismisses."""

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def text(self, unit: Unit) -> str:
        return self.message

    def on_key(self, unit: Unit, key: str) -> bool:
        if self.turn(unit, key):
            return True
        if key in ("OK", "BACK"):
            unit.pop_view()
            return True
        return False


class HoldConfirmView(View):
    """R17: ask the caller's consent to wait; OK (consent given) starts the hold timer, BACK cancels."""

    fullscreen = True

    def lines(self, unit: Unit) -> list[str]:
        bank = unit.bank
        return unit.wrap(f"{bank.phrase('hold_consent').text}\n{bank.text('ui.hold_confirm')}")

    def on_key(self, unit: Unit, key: str) -> bool:
        if key == "OK":
            unit.pop_view()
            unit.start_hold()
            return True
        if key in ("BACK", "HOLD"):
            unit.pop_view()
            return True
        return True  # nothing else happens until the operator answers


class AppealView(View):
    """The appeal form (R9) on the panel; see :mod:`firmware.appeal` for the form itself.

    Every confirmed field is committed as part of the call's draft, so a crash loses at most the
    field being typed; APPEAL saves the appeal into the call and says «Збережено» after the commit.
    """

    def __init__(self, form) -> None:
        self.form = form

    @property
    def fullscreen(self) -> bool:  # type: ignore[override]
        """A message (what is missing, why a number is wrong) gets the status row too, to be read whole."""
        return bool(self.form.message)

    def lines(self, unit: Unit) -> list[str]:
        rows = unit.display.rows if self.fullscreen or unit.display.rows <= 2 else unit.display.rows - 1
        return [unit.display_line(row) for row in self.form.lines(unit.display.cols, rows)]

    def on_key(self, unit: Unit, key: str) -> bool:
        call = unit.call
        assert call is not None
        now = unit.clock.monotonic()
        self.form.language = call.language
        self.form.needs_forward_to = call.outcome == "outside_competence"
        result = self.form.press(key, now)
        if result.action == "typed":
            unit.loop.call_later(MULTITAP_SETTLE_S, lambda: unit.tick_form(self.form))
        elif result.action == "confirmed":
            unit.persist_call()
        elif result.action == "saved":
            unit.save_appeal(result.appeal)
        elif result.action == "closed":
            unit.persist_call()
            unit.pop_view()
        return result.handled


#: A little over the multi-tap timeout, so the pending letter is committed on screen without a key.
MULTITAP_SETTLE_S = 1.05
