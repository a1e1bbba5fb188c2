"""Multi-tap entry as an operator types on the keypad: names in three alphabets, digits, deleting, limits."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.appeal.multitap import KEYPAD, LAYOUTS, MultiTap, layout_rows


def type_keys(tap: MultiTap, presses: list[tuple[str, float]]) -> list[bool]:
    return [tap.press(key, now) for key, now in presses]


def spell(keys: str, start: float = 0.0, gap: float = 0.15, pause: float = 1.2) -> list[tuple[str, float]]:
    """Keys as a person presses them: ``gap`` apart within a letter, a ``pause`` at each ``|``."""
    out, now = [], start
    for key in keys:
        if key == "|":
            now += pause
            continue
        out.append((key, now))
        now += gap
    return out


def test_igor_in_ukrainian_with_timeout_between_same_key_letters():
    tap = MultiTap("uk")
    # І = 4x2, г = 2x4, о = 5x3, р = 6x1
    type_keys(tap, spell("44|2222|555|6"))
    assert tap.pending == "р"
    assert tap.commit() == "Ігор"


def test_olena_petrenko_capitalises_both_names():
    tap = MultiTap("uk")
    # О л е н а _ П е т р е н к о
    keys = "555|444444|33|55|2|0|5555|33|666|6|33|55|44444|555"
    type_keys(tap, spell(keys))
    assert tap.commit() == "Олена Петренко"


def test_peter_in_english_e161():
    tap = MultiTap("en")
    type_keys(tap, spell("7|33|8|33|777"))
    assert tap.commit() == "Peter"


def test_different_key_commits_without_waiting():
    tap = MultiTap("uk")
    type_keys(tap, [("2", 0.0), ("3", 0.1), ("2", 0.2)])
    assert (tap.text, tap.pending) == ("Ад", "а")


def test_same_key_after_timeout_starts_a_new_letter():
    tap = MultiTap("uk")
    type_keys(tap, [("2", 0.0), ("2", 1.0)])  # exactly the timeout: a second letter
    assert tap.value == "Аа"
    tap2 = MultiTap("uk")
    type_keys(tap2, [("2", 0.0), ("2", 0.99)])
    assert tap2.value == "Б"


def test_timeout_on_tick_commits_the_pending_letter():
    tap = MultiTap("uk")
    tap.press("2", 0.0)
    assert tap.tick(0.5) is False and tap.pending == "А"
    assert tap.tick(1.0) is True
    assert (tap.text, tap.pending) == ("А", "")
    assert tap.display() == "А_"


def test_cycle_wraps_round():
    tap = MultiTap("en")
    type_keys(tap, [("2", i * 0.1) for i in range(4)])  # A B C A
    assert tap.pending == "A"


def test_russian_layout_letters():
    tap = MultiTap("ru")
    type_keys(tap, spell("333|8888|9999"))  # Ё Ы Я
    assert tap.commit() == "Ёыя"


def test_sentence_case_capitalises_after_full_stop_only():
    tap = MultiTap("uk", capitalize="sentence")
    type_keys(tap, spell("2|0|2|1|0|2"))
    assert tap.commit() == "А а. А"


def test_no_capitals_mode():
    tap = MultiTap("en", capitalize="none")
    type_keys(tap, spell("2|0|2"))
    assert tap.commit() == "a a"


def test_apostrophe_and_hyphen_on_nine_in_ukrainian():
    tap = MultiTap("uk")
    # С о л о в ' я н
    type_keys(tap, spell("66|555|444444|555|222|9|88888|55"))
    assert tap.commit() == "Солов'ян"


def test_hash_switches_to_digits_and_back():
    tap = MultiTap("uk")
    type_keys(tap, spell("2|#|1|0|#|2"))
    assert tap.commit() == "А10а"
    assert tap.mode == "letters"


def test_hash_commits_the_pending_letter():
    tap = MultiTap("uk")
    type_keys(tap, [("2", 0.0), ("#", 0.1), ("2", 0.2)])
    assert tap.text == "А2" and tap.mode == "digits" and tap.mode_tag == "123"


def test_zero_is_a_space_in_letters_and_zero_in_digits():
    tap = MultiTap("uk")
    type_keys(tap, [("0", 0.0), ("0", 0.1)])
    assert tap.text == "  "
    digits = MultiTap("uk", digits_only=True)
    type_keys(digits, [("0", 0.0), ("0", 0.1)])
    assert digits.text == "00"


def test_star_deletes_pending_then_committed():
    tap = MultiTap("uk")
    type_keys(tap, spell("2|3"))
    assert tap.press("*", 5.0) is True
    assert (tap.text, tap.pending) == ("А", "")
    assert tap.press("*", 5.1) is True
    assert tap.value == ""
    assert tap.press("*", 5.2) is False  # nothing left; not a refusal for length
    assert tap.full is False


def test_digits_only_ignores_hash_and_deletes_with_star():
    tap = MultiTap("uk", digits_only=True, max_len=13)
    type_keys(tap, [(k, i * 0.15) for i, k in enumerate("0671234567")])
    assert tap.press("#", 3.0) is False
    assert tap.mode == "digits"
    assert tap.press("*", 3.1) is True
    assert tap.text == "067123456"


def test_max_length_refuses_new_letters_but_allows_cycling():
    tap = MultiTap("uk", max_len=3)
    assert type_keys(tap, spell("2|3|4")) == [True, True, True]
    assert tap.value == "Ади"  # third letter still pending: it counts
    assert tap.press("4", tap._last_press + 0.1) is True  # cycling does not grow the text
    assert tap.value == "Аді"
    assert tap.press("5", 10.0) is False
    assert tap.full is True
    assert tap.value == "Аді"
    assert tap.press("*", 10.1) is True and tap.full is False


def test_max_length_in_digits():
    tap = MultiTap("uk", digits_only=True, max_len=2)
    assert type_keys(tap, [("1", 0.0), ("2", 0.1), ("3", 0.2)]) == [True, True, False]
    assert tap.full and tap.text == "12"


def test_unknown_key_changes_nothing():
    tap = MultiTap("uk")
    assert tap.press("OK", 0.0) is False
    assert tap.value == ""


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="xx"):
        MultiTap("xx")


def test_round_trip_mid_letter_keeps_cycling():
    tap = MultiTap("uk")
    type_keys(tap, [("5", 0.0), ("5", 0.1)])
    copy = MultiTap.from_dict(tap.to_dict())
    assert copy.value == "Н"
    copy.press("5", 0.2)
    assert copy.value == "О"


def test_restored_after_restart_clock_went_backwards_commits():
    tap = MultiTap("uk")
    tap.press("5", 500.0)
    copy = MultiTap.from_dict(tap.to_dict())
    copy.press("5", 1.0)  # a fresh monotonic clock: not a second press within the timeout
    assert copy.value == "Мм"


def test_layout_table_documents_every_key():
    for language in LAYOUTS:
        rows = layout_rows(language)
        assert [key for key, _ in rows] == list("1234567890")
        assert dict(rows)["0"] == "␣"
    letters = "".join(LAYOUTS["uk"][k] for k in "2345678")
    assert sorted(letters) == sorted("АБВГҐДЕЄЖЗИІЇЙКЛМНОПРСТУФХЦЧШЩЬЮЯ")
    ru = "".join(LAYOUTS["ru"][k] for k in "23456789")
    assert sorted(ru) == sorted("АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ")


@settings(max_examples=300, deadline=None)
@given(
    presses=st.lists(
        st.tuples(st.sampled_from(KEYPAD + ("OK", "x")), st.floats(min_value=0.0, max_value=2.0)), max_size=80
    ),
    language=st.sampled_from(sorted(LAYOUTS)),
    digits_only=st.booleans(),
    max_len=st.integers(min_value=1, max_value=12),
)
def test_random_keys_never_raise_nor_exceed_the_limit(presses, language, digits_only, max_len):
    tap = MultiTap(language, digits_only=digits_only, max_len=max_len)
    now = 0.0
    for key, gap in presses:
        now += gap
        tap.press(key, now)
        assert len(tap.value) <= max_len
        if digits_only:
            assert tap.value.isdigit() or tap.value == ""
    assert len(tap.commit()) <= max_len
