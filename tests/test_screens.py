"""Every screen of every view, on 20x4 and 16x2 and every ROM, in every language: no text is cut off.

What does not fit a screen must be paged (by itself, or with DOWN/UP), never cut: the call layer's
screen notes any text it had to cut (``Screen.lost``), and this test walks the operator through every
view and asserts that nothing was. Questions keep their answer keys (OK/BACK) on every page.
"""

from __future__ import annotations

import pytest
from desk_bench import DeskBench

from firmware.call.views import PagedView, QuestionView
from firmware.vocabulary import Language

LONG_NAME = "Олександра-Марія Костянтинівна Васильківська-Шевченко"
SIZES = ["20x4", "16x2"]
ROMS = ["cyrillic", "A02", "A00"]


def check(bench: DeskBench, where: str) -> None:
    screen = bench.unit.desk.screen
    assert not screen.lost, f"{where}: cut off {screen.lost} (screen {bench.rows})"
    view = bench.unit.views[-1] if bench.unit.views else None
    if isinstance(view, PagedView):
        pages = view.pages(bench.unit.desk)
        for page in pages:
            assert len(page) <= screen.rows and all(len(row) <= screen.cols for row in page), (where, page)
        shown = "".join(" ".join(" ".join(p) for p in pages).split())
        for word in screen.wrap(view.text(bench.unit.desk)):
            assert "".join(word.split()) in shown, (where, word)
    if isinstance(view, QuestionView):  # the answer keys on every page of the question
        bank = bench.unit.desk.bank
        keys = (screen.line(bank.text("ui.yes_no")), screen.line(bank.text("ui.yes_no_short")))
        assert bench.rows[-1].strip() in keys
        assert "OK" in bench.rows[-1] and "BACK" in bench.rows[-1], (where, bench.rows)


def walk(bench: DeskBench, where: str, *keys: str, wait: float = 0.0) -> None:
    for key in keys:
        bench.key(key)
        check(bench, f"{where} {key}")
    if wait:
        for _ in range(int(wait / 3.0) + 1):  # auto-paged screens: every page
            bench.advance(3.0)
            check(bench, f"{where} +3s")


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("rom", ROMS)
@pytest.mark.parametrize("size", SIZES)
def test_every_view_fits_or_pages(tmp_path, size, rom, language):
    bench = DeskBench(tmp_path, size=size, rom=rom, language=language, operator=(7, LONG_NAME))
    check(bench, "idle")
    walk(bench, "idle", wait=9)
    walk(bench, "sign out", "BACK", "BACK")
    bench.hook(True)
    check(bench, "greeting")
    walk(bench, "greeting", wait=12)
    walk(bench, "script", "OK", "OK", "OK")
    # the phrase list, every entry, every phrase read page by page
    bench.key("DOWN")
    check(bench, "list")
    entries = len(bench.unit.views[-1].entries(bench.unit.desk))
    for n in range(entries):
        check(bench, f"entry {n}")
        bench.key("OK")
        check(bench, f"entry {n} opened")
        for _ in range(12):
            bench.key("DOWN")
            check(bench, f"entry {n} page")
        bench.key("BACK")
        if bench.unit.views and isinstance(bench.unit.views[-1], PagedView):
            bench.key("BACK")  # a message after a switch or a mark
        bench.key("DOWN")
    walk(bench, "list back", "BACK")
    # the hold: consent, on hold with the list open, past the limit
    walk(bench, "hold consent", "HOLD")
    walk(bench, "hold", "OK", "DOWN", wait=3)
    bench.advance(181)
    check(bench, "hold over")
    walk(bench, "hold over list", "BACK", wait=6)
    walk(bench, "hold end", "HOLD")
    # the line: countdown, «call again», a silent caller, over the list and over the home screen
    bench.line("no_signal")
    walk(bench, "countdown", wait=3)
    walk(bench, "countdown list", "DOWN", "BACK")
    bench.advance(11)
    check(bench, "cannot hear")
    bench.line("good")
    bench.line("silent")
    bench.advance(40)
    check(bench, "silent")
    walk(bench, "silent list", "DOWN", "BACK")
    bench.line("good")
    # the appeal form: every field browsed, edited, refused
    walk(bench, "appeal", "APPEAL", "APPEAL", wait=6)  # what is missing
    for field in range(10):
        walk(bench, f"field {field}", "OK", "2", "DOWN", "OK", "DOWN")
    walk(bench, "phone", "UP", "UP", "UP", "UP", "UP", "UP", "OK", "1", "OK", wait=9)  # a wrong number, said whole
    walk(bench, "phone fixed", "BACK", "BACK")
    bench.hook(False)
    check(bench, "wrap-up")
    walk(bench, "wrap-up", "BACK", wait=6)  # discard? question
    walk(bench, "discarded", "OK", wait=3)
    walk(bench, "idle after", "OK", wait=9)
    bench.close()


@pytest.mark.parametrize("size", SIZES)
def test_an_untrusted_clock_says_why_the_greeting_is_neutral(tmp_path, size):
    bench = DeskBench(tmp_path, size=size, clock=None)
    walk(bench, "idle", wait=6)
    bench.hook(True)
    seen = set()
    for _ in range(6):
        seen.add(bench.text())
        check(bench, "greeting")
        bench.advance(3.0)
    assert any("Вітаю" in s for s in seen)
    assert any("перевірено" in s.lower() for s in seen), seen  # on 16x2 the reason pages by
    bench.close()
