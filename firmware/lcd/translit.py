"""Romanisation of Ukrainian and Russian for LCDs whose ROM has no Cyrillic (A00, A02).

Ukrainian follows the national system of the Cabinet of Ministers resolution No. 55 of 27.01.2010:
Є Ї Й Ю Я are ``Ye Yi Y Yu Ya`` at the start of a word and ``ie i i iu ia`` elsewhere; Г is ``h``,
Ґ ``g``, И ``y``, І ``i``, Х ``kh``, Щ ``shch``; Ь and the apostrophe are dropped; ``зг`` is ``zgh``.

Russian follows ICAO Doc 9303 (the scheme of Russian passports since 2014): Г ``g``, И ``i``,
Й ``i``, Ё ``e``, Ъ ``ie``, Ы ``y``, Э ``e``, Ю ``iu``, Я ``ia``, Ь dropped.

Letters of the other language in a phrase use that language's usual reading (ukr. text with Ы: ``y``;
rus. text with І: ``i``).  Capitals follow the word: ``Щука`` -> ``Shchuka``, ``ЩУКА`` -> ``SHCHUKA``.

>>> romanize("Згорани, Їжакевич, Юрій, обов’язково", "uk")
'Zghorany, Yizhakevych, Yurii, oboviazkovo'
>>> romanize("Здравствуйте, Щёлково", "ru")
'Zdravstvuite, Shchelkovo'
"""

from __future__ import annotations

from typing import Final

APOSTROPHES: Final = frozenset("'’ʼ‘`´′")

_UK: Final = {
    "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "є": "ie", "ж": "zh",
    "з": "z", "и": "y", "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n",
    "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ь": "", "ю": "iu", "я": "ia",
    # Russian letters met in Ukrainian text
    "ё": "io", "ы": "y", "э": "e", "ъ": "",
}  # fmt: skip
_UK_INITIAL: Final = {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya", "ё": "yo"}

_RU: Final = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "ie", "ы": "y", "ь": "", "э": "e", "ю": "iu", "я": "ia",
    # Ukrainian letters met in Russian text
    "і": "i", "ї": "i", "є": "ie", "ґ": "g",
}  # fmt: skip

_UK_ONLY: Final = frozenset("ҐґЄєІіЇї")
_RU_ONLY: Final = frozenset("ЁёЫыЭэЪъ")


def guess_language(text: str) -> str:
    """``"uk"`` or ``"ru"`` from letters only one of them has; Ukrainian when nothing tells."""
    if any(ch in _UK_ONLY for ch in text):
        return "uk"
    if any(ch in _RU_ONLY for ch in text):
        return "ru"
    return "uk"


def is_cyrillic(ch: str) -> bool:
    return "\u0400" <= ch <= "\u04ff"


def _is_letter(text: str, i: int) -> bool:
    return 0 <= i < len(text) and text[i].isalpha()


def _word_initial(text: str, i: int) -> bool:
    """No letter before position i in the same word (an apostrophe inside a word does not count)."""
    if _is_letter(text, i - 1):
        return False
    return not (i >= 2 and text[i - 1] in APOSTROPHES and _is_letter(text, i - 2))


def _apply_case(text: str, i: int, latin: str) -> str:
    ch = text[i]
    if not ch.isupper() or not latin:
        return latin
    prev_upper = _is_letter(text, i - 1) and text[i - 1].isupper()
    next_upper = _is_letter(text, i + 1) and text[i + 1].isupper()
    next_lower = _is_letter(text, i + 1) and text[i + 1].islower()
    if next_upper or (prev_upper and not next_lower):
        return latin.upper()
    return latin[0].upper() + latin[1:]


def romanize(text: str, lang: str | None = None) -> str:
    """``text`` with every Ukrainian/Russian letter romanised; everything else untouched.

    ``lang`` is ``"uk"``, ``"ru"`` or None (guessed from the text, see ``guess_language``).
    """
    lang = lang or guess_language(text)
    if lang not in ("uk", "ru"):
        lang = "uk"  # English phrases carry no Cyrillic; a stray name is read the Ukrainian way
    table = _UK if lang == "uk" else _RU
    out: list[str] = []
    for i, ch in enumerate(text):
        if (
            ch in APOSTROPHES
            and _is_letter(text, i - 1)
            and _is_letter(text, i + 1)
            and (is_cyrillic(text[i - 1]) and is_cyrillic(text[i + 1]))
        ):
            continue  # the Ukrainian apostrophe (and a Russian Ъ written as one) is not transliterated
        low = ch.lower()
        if low not in table:
            out.append(ch)
            continue
        if lang == "uk" and low in _UK_INITIAL and _word_initial(text, i):
            latin = _UK_INITIAL[low]
        elif lang == "uk" and low == "г" and i > 0 and text[i - 1].lower() == "з":
            latin = "gh"
        else:
            latin = table[low]
        out.append(_apply_case(text, i, latin))
    return "".join(out)
