"""Text to codes: ROM tables, romanisation, CGRAM letters and their fallback, wrapping and paging."""

from __future__ import annotations

import pytest

from firmware.lcd import display_text, encode_screen, layout, wrap
from firmware.lcd.codec import CGRAM_FALLBACK
from firmware.lcd.glyphs import GLYPHS, letter_for
from firmware.lcd.rom import ROMS, encoding_table, fold_lookalikes
from firmware.lcd.translit import romanize

APOLOGY = (
    "Просимо вибачення за неякісне обслуговування, надалі ці недоліки ми обов’язково "
    "врахуємо в роботі та терміново їх усунемо"
)


def shown(rows: list[str], rom: str, cols: int = 20) -> list[str]:
    return encode_screen(rows, rom, cols).text()


def words(text: str) -> list[str]:
    return fold_lookalikes(text.replace("\xa0", " ")).split()


@pytest.mark.parametrize(
    ("code", "char"),
    [(0xA0, "Б"), (0xA3, "Ж"), (0xB1, "Я"), (0xB2, "б"), (0xC7, "я"), (0xE0, "Д"), (0xE2, "Щ"),
     (0xE6, "щ"), (0xA2, "Ё"), (0xB5, "ё"), (0x41, "A"), (0x7E, "~")],
)  # fmt: skip
def test_cyrillic_rom_table(code: int, char: str) -> None:
    assert ROMS["cyrillic"][code] == char


def test_datasheet_roms_differ_where_the_datasheet_says() -> None:
    assert ROMS["A00"][0x5C] == "¥" and ROMS["A02"][0x5C] == "\\"
    assert ROMS["A00"][0xB1] == "ｱ" and ROMS["A02"][0x80] == "Б"
    assert ROMS["A02"][0xE9] == "é" and 0xE9 in ROMS["A00"]


def test_no_letter_of_russian_or_ukrainian_is_lost_on_the_cyrillic_rom() -> None:
    alphabet = "АБВГҐДЕЄЁЖЗИІЇЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ"
    text = alphabet + alphabet.lower()
    frame = encode_screen([text[:40], text[40:]], "cyrillic", cols=40)
    assert frame.unmapped == 0 and frame.fallbacks == 0
    assert fold_lookalikes("".join(frame.text()).rstrip()) == fold_lookalikes(text)


def test_lookalikes_use_latin_codes() -> None:
    codes = encode_screen(["АВЕКМНОРСТХ аеорсух Іі"], "cyrillic", cols=22).codes[0]
    assert bytes(codes).decode("ascii") == "ABEKMHOPCTX aeopcyx Ii"


def test_ukrainian_letters_become_cgram_slots_reused_per_letter() -> None:
    frame = encode_screen(["Їжак їсть", "Єва, ґанок, ґудзик"], "cyrillic", cols=20)
    assert frame.codes[0][0] == 0 and frame.codes[0][5] == 1  # Ї, ї
    ґ_cells = [c for c in frame.codes[1] if c == frame.codes[1][6]]
    assert len(ґ_cells) == 2  # both ґ share one slot
    assert [letter_for(b) for b in frame.cgram if b] == ["Ї", "ї", "Є", "ґ"]
    assert frame.text() == ["Їжaк їcть           ", "Євa, ґaнoк, ґyдзик  "]


def test_fallback_when_cgram_slots_run_out_is_readable_and_counted() -> None:
    # All six letters with only three slots free (the rest kept for icons by the caller).
    frame = encode_screen(["Є Ї Ґ є ї ґ"], "cyrillic", cols=12, cgram_slots=3)
    assert frame.fallbacks == 3 and frame.unmapped == 0
    assert fold_lookalikes(frame.text()[0]) == fold_lookalikes("Є Ї Ґ e i г ")
    assert set(CGRAM_FALLBACK.values()) <= set(ROMS["cyrillic"].values())


def test_many_special_letters_never_need_more_than_8_slots() -> None:
    line = "ЄЇҐєїґ" * 3
    frame = encode_screen([line, line[::-1]], "cyrillic", cols=18)
    assert sum(b is not None for b in frame.cgram) == 6 and frame.fallbacks == 0
    assert frame.text() == [line, line[::-1]]


def test_ukrainian_national_transliteration_on_a00_and_a02() -> None:
    assert romanize("Єнакієве Їжакевич Йосипівка Юрій Яготин", "uk") == (
        "Yenakiieve Yizhakevych Yosypivka Yurii Yahotyn"
    )
    assert romanize("Згорани Щербухи Розгон Ґалаґан", "uk") == "Zghorany Shcherbukhy Rozghon Galagan"
    assert romanize("Знам’янка Марʼїне", "uk") == "Znamianka Marine"
    assert romanize("ЖИТОМИР Жмеринка", "uk") == "ZHYTOMYR Zhmerynka"


def test_russian_uses_icao_scheme() -> None:
    assert romanize("Здравствуйте! Объявление, Щёлково, Юлия", None) == (
        "Zdravstvuite! Obieiavlenie, Shchelkovo, Iuliia"
    )


def test_a00_screen_with_special_letters_is_transliterated_not_blank() -> None:
    frame = encode_screen(["Їжак, Єва, Ґанок"], "A00", cols=20)
    assert frame.text()[0] == "Yizhak, Yeva, Ganok  "[:20]
    assert frame.unmapped == 0 and all(c >= 0x20 for c in frame.codes[0])


@pytest.mark.parametrize("rom", ["cyrillic", "A02", "A00"])
def test_nothing_becomes_a_blank(rom: str) -> None:
    text = "Ω☎ 漢 Grüße «тест» — №5 …"
    frame = encode_screen([text], rom, cols=40)
    out = frame.text()[0].rstrip()
    assert frame.unmapped >= 2  # ☎ and 漢 have no cell on any of these ROMs
    assert out.count(" ") == display_text(text, rom).rstrip().replace("\xa0", " ").count(" ")
    assert "?" in out


def test_rplcd_codec_would_have_blanked_what_we_show_as_question_mark() -> None:
    from RPLCD.codecs import A02Codec

    assert A02Codec().encode("☎") == [0x20]  # the behaviour we do not want
    assert encode_screen(["☎"], "A02", cols=1).codes == ((0x3F,),)


def test_punctuation_maps_to_ascii() -> None:
    assert display_text("обов’язково «так» – так — ні…", "cyrillic") == 'обов\'язково "так" - так - ні...'
    assert encoding_table("cyrillic")["'"] == 0x27


def test_numero_stays_with_its_number_and_is_spelled_out_without_a_cyrillic_rom() -> None:
    assert encode_screen(["№ 7"], "cyrillic", cols=4).text()[0] == "№ 7 "
    assert display_text("Оператор № 7", "A02") == "Operator No\xa07"


def test_overlong_row_is_clipped_and_counted() -> None:
    frame = encode_screen(["x" * 25], "A02", cols=20)
    assert frame.clipped == 5 and frame.text()[0] == "x" * 20


@pytest.mark.parametrize("rom", ["cyrillic", "A00"])
@pytest.mark.parametrize(("cols", "rows"), [(16, 2), (20, 4)])
def test_long_apology_wraps_and_pages_without_losing_a_word(rom: str, cols: int, rows: int) -> None:
    pages = layout(APOLOGY, cols, rows, rom)
    assert all(len(page) == rows for page in pages)
    lines = [line for page in pages for line in page]
    assert all(len(line) <= cols for line in lines)
    assert words(" ".join(lines)) == words(display_text(APOLOGY, rom))
    assert len(pages) == (6 if rows == 2 else 2)
    # the one-letter preposition stays with its word
    assert any(("в\xa0роботі" in line) or ("v\xa0roboti" in line) for line in lines)


def test_romanised_text_is_wrapped_on_its_own_length() -> None:
    # "Щ" is four Latin letters: a line that fits in Cyrillic must still fit once romanised.
    for line in wrap(display_text("Щущ Щущ Щущ Щущ", "A02"), 16):
        assert len(line) <= 16


def test_operator_introduction_stays_together() -> None:
    pages = layout("Доброго ранку! Оператор № 7 Олена Петренко", 16, 2, "cyrillic")
    lines = [line.replace("\xa0", " ") for page in pages for line in page]
    assert "Оператор № 7" in lines


def test_long_word_is_hyphenated_and_existing_hyphen_preferred() -> None:
    assert wrap("Найвисокоповажніший", 8) == ["Найвисо-", "коповаж-", "ніший"]
    assert wrap("будь-який будь-який", 12) == ["будь-який", "будь-який"]
    assert wrap("абв будь-якісінький", 12) == ["абв будь-", "якісінький"]


def test_glyphs_are_drawn_in_five_columns_and_leave_the_cursor_row_free() -> None:
    for letter, bitmap in GLYPHS.items():
        assert len(bitmap) == 8 and bitmap[7] == 0, letter
        assert all(0 <= row < 32 for row in bitmap), letter
        assert letter_for(bitmap) == letter
    assert len(set(GLYPHS.values())) == len(GLYPHS)


def test_lookalike_folding_is_case_insensitive_like_the_scenario_matcher() -> None:
    # The glass shows В, Н, М, Т, К only as Latin capitals; the small letters are Cyrillic cells.
    glass = encode_screen(["Bac нe чyти", "Cвiтлaнa Meльник"], "cyrillic", 20).text()
    assert fold_lookalikes(glass[0]).rstrip() == fold_lookalikes("ВАС НЕ ЧУТИ") == fold_lookalikes("вас не чути")
    assert fold_lookalikes(glass[1]).rstrip() == fold_lookalikes("Світлана Мельник")
