"""What the appeal form shows on 20x4 and 16x2 LCDs, and that a draft survives a restart mid-edit."""

from __future__ import annotations

import json

import pytest

from firmware.appeal import FIELDS, AppealForm, load_directories

SIZES = [(20, 4), (20, 3), (16, 2), (16, 1)]


@pytest.fixture
def dirs():
    return load_directories()


def fits(screen: list[str], cols: int, rows: int) -> bool:
    return len(screen) == rows and all(len(row) <= cols for row in screen)


def test_browsing_screen_20x4(dirs):
    form = AppealForm("uk", dirs)
    assert form.lines(20, 4) == ["ПІБ             1/10", "—", "", "OK - змінити"]


def test_typing_shows_pending_letter_then_cursor(dirs):
    form = AppealForm("uk", dirs)
    form.press("OK", 0.0)
    assert form.lines(20, 4)[0] == "ПІБ              Абв"
    form.press("5", 0.1)
    form.press("5", 0.2)
    assert form.lines(20, 4)[1] == "Н"  # still cycling: no cursor after it
    form.tick(1.3)
    assert form.lines(20, 4)[1] == "Н_"
    assert form.lines(20, 4)[0].endswith("абв")  # the next letter will be small


def test_long_text_keeps_the_cursor_in_sight(dirs):
    form = AppealForm("en", dirs)
    form.index = FIELDS.index("essence")
    form.press("OK", 0.0)
    now = 0.0
    for _ in range(45):
        now += 1.5
        form.press("2", now)
    form.tick(now + 2)
    screen = form.lines(16, 2)
    assert screen[1].endswith("_")
    assert fits(screen, 16, 2)


@pytest.mark.parametrize(("cols", "rows"), SIZES)
def test_every_field_fits_every_screen_browsing_and_editing(dirs, cols, rows):
    for language in ("uk", "ru", "en"):
        form = AppealForm(language, dirs)
        for _ in FIELDS:
            assert fits(form.lines(cols, rows), cols, rows), (language, form.field)
            form.press("OK", 0.0)
            form.press("DOWN", 0.0)
            form.press("2", 0.0)
            assert fits(form.lines(cols, rows), cols, rows), (language, form.field)
            form.press("BACK", 0.0)
            form.press("DOWN", 0.0)


def test_16x2_shows_label_and_value(dirs):
    form = AppealForm("uk", dirs)
    form.index = FIELDS.index("kind")
    form.press("OK", 0.0)
    screen = form.lines(16, 2)
    assert screen[0].startswith("Вид звернення") and screen[1] == "зауваження"
    assert fits(screen, 16, 2)


def test_16x2_message_takes_the_screen_until_the_next_key(dirs):
    form = AppealForm("uk", dirs)
    form.press("APPEAL", 0.0)
    assert form.lines(16, 2) == ["Не заповнено:", "ПІБ"]
    form.press("DOWN", 0.1)
    assert form.lines(16, 2)[0].startswith("Місце")


def test_round_trip_mid_edit_resumes_typing(dirs):
    form = AppealForm("uk", dirs, long_ring_s=90)
    form.press("OK", 0.0)
    for key, now in (("5", 0.1), ("5", 0.2), ("5", 0.3), ("4", 0.5), ("4", 0.6)):
        form.press(key, now)  # О, then І pending
    form.values["kind"] = "complaint"
    saved = json.loads(json.dumps(form.to_dict(), ensure_ascii=False))
    back = AppealForm.from_dict(saved, dirs)
    assert back.to_dict() == form.to_dict()
    assert back.lines(20, 4) == form.lines(20, 4)
    assert back.editing and back.editor.value == "Оі"
    back.press("4", 0.7)  # the same key within the timeout keeps cycling: і -> ї
    assert back.editor.value == "Ої"
    back.press("OK", 1.0)
    back.press("DOWN", 1.1)
    assert back.values["full_name"] == "Ої"
    assert back.values["kind"] == "complaint"
    assert back.long_ring_s == 90


def test_round_trip_mid_choice_and_with_a_message(dirs):
    form = AppealForm("ru", dirs)
    form.index = FIELDS.index("forward_to")
    form.press("OK", 0.0)
    form.press("DOWN", 0.1)
    back = AppealForm.from_dict(form.to_dict(), dirs)
    assert back.choice == 1 and back.field == "forward_to"
    back.press("OK", 0.2)
    assert back.values["forward_to"] == dirs["court_bodies"][0]["id"]
    form2 = AppealForm("uk", dirs)
    form2.press("APPEAL", 0.0)
    assert AppealForm.from_dict(form2.to_dict(), dirs).lines(20, 4) == form2.lines(20, 4)


def test_a_draft_of_another_format_is_refused(dirs):
    data = AppealForm("uk", dirs).to_dict()
    data["version"] = 99
    with pytest.raises(ValueError, match="format"):
        AppealForm.from_dict(data, dirs)


def test_draft_with_a_court_body_no_longer_in_the_directory(dirs):
    form = AppealForm("uk", dirs)
    form.values["forward_to"] = "gone-court"
    back = AppealForm.from_dict(form.to_dict(), {"court_bodies": [], "offices": []})
    back.index = FIELDS.index("forward_to")
    assert back.lines(20, 4)[1] == "gone-court"
    assert back.appeal()["forward_to"] == "gone-court"
