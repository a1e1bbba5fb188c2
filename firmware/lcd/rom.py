"""Character ROM tables of HD44780-compatible controllers: character code -> Unicode.

Three ROMs are known to the unit (``config``: ``lcd.rom``):

``A00``
    Hitachi HD44780U ROM code A00 (Japanese): ASCII with ``¥`` at 0x5C and arrows at 0x7E/0x7F,
    half-width katakana at 0xA1-0xDF, Greek and maths signs at 0xE0-0xFF.
``A02``
    Hitachi HD44780U ROM code A02 (European): symbols at 0x10-0x1F, ASCII, some Cyrillic capitals
    and Greek at 0x80-0x9F, Latin-1-like 0xA0-0xFF.
``cyrillic``
    The Winstar-style "English/Russian" ROM (WH1602/WH2004 and most HD44780-compatible modules sold
    with Cyrillic): ASCII at 0x20-0x7E and the Russian letters that have no Latin look-alike at
    0xA0-0xC7 and 0xE0-0xE6.  Russian letters that look like Latin ones are shown with the Latin code.
    Only codes checked against published tables are listed; the others decode to nothing (the
    emulator shows them as U+FFFD) and are never produced by the encoder.

Codes 0x00-0x0F are CGRAM (custom characters) on every ROM and are not part of the tables.

>>> from firmware.lcd.rom import ROMS
>>> ROMS["cyrillic"][0xA0], ROMS["A00"][0x5C], ROMS["A02"][0xE9]
('Б', '¥', 'é')
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

ROM_NAMES: Final = ("cyrillic", "A02", "A00")

_ASCII: dict[int, str] = {code: chr(code) for code in range(0x20, 0x7F)}


def _run(start: int, chars: str | tuple[str, ...]) -> dict[int, str]:
    """Consecutive codes from ``start``, one per item of ``chars`` (one cell each)."""
    return {start + i: ch for i, ch in enumerate(chars)}


_A00: dict[int, str] = {
    **_ASCII,
    0x5C: "¥",
    0x7E: "→",
    0x7F: "←",
    0xA0: " ",
    **_run(0xA1, "｡｢｣､･ｦｧｨｩｪｫｬｭｮｯｰ"),
    **_run(0xB1, "ｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿ"),
    **_run(0xC0, "ﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏ"),
    **_run(0xD0, "ﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜﾝﾞﾟ"),
    # 0xE7 g, 0xEA j, 0xF0 p, 0xF1 q, 0xF9 y are the descender forms of those small letters;
    # 0xE9 is "⁻¹" in one cell (decoded to the superscript minus) and 0xF8 is x-bar.
    **_run(0xE0, ("α", "ä", "β", "ε", "μ", "σ", "ρ", "g", "√", "\u207b", "j", "ˣ", "¢", "£", "ñ", "ö")),
    **_run(0xF0, ("p", "q", "θ", "∞", "Ω", "ü", "∑", "π", "x\u0304", "y", "千", "万", "円", "÷", " ", "█")),
}

_A02: dict[int, str] = {
    **_run(0x10, "▶◀“”⏫⏬●↲↑↓→←≤≥▲▼"),
    **_ASCII,
    0x7F: "⌂",
    **_run(0x80, "БДЖЗИЙЛПУЦЧШЩЪЫЭ"),
    **_run(0x90, "α♪Γπ∑σ♬τ🔔ΘΩδ∞♥ε∩"),
    **_run(0xA0, "‖¡¢£¤¥¦§ƒ©ª«ЮЯ®‘"),
    **_run(0xB0, "°±²³₧µ¶·ω¹º»¼½¾¿"),
    # 0xC0-0xFF follow ISO 8859-1.
    **{code: chr(code) for code in range(0xC0, 0x100)},
}

_CYRILLIC: dict[int, str] = {
    **_ASCII,
    **_run(0xA0, "БГЁЖЗИЙЛПУФЧШЪЫЭЮЯбвгёжзийклмнптчшъыьэюя"),
    **_run(0xE0, "ДЦЩдфцщ"),
    # Quotes and the numero sign of the Winstar table; used for «№ 7» so the sign is not spelled out.
    0xC8: "«",
    0xC9: "»",
    0xCC: "№",
}

# Russian/Ukrainian letters the Cyrillic ROM shows with the Latin look-alike's code.
LOOKALIKES: Final = MappingProxyType(
    {
        "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C",
        "Т": "T", "Х": "X", "І": "I", "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y",
        "х": "x", "і": "i",
        # The ROM has only the small soft sign; in capitals it reads the same.
        "Ь": "ь",
    }
)  # fmt: skip

ROMS: Final = MappingProxyType(
    {
        "A00": MappingProxyType(_A00),
        "A02": MappingProxyType(_A02),
        "cyrillic": MappingProxyType(_CYRILLIC),
    }
)


def rom_table(rom: str) -> MappingProxyType[int, str]:
    """The code -> Unicode table of ``rom``; a clear ValueError for an unknown name."""
    try:
        return ROMS[rom]
    except KeyError:
        raise ValueError(f"unknown LCD ROM {rom!r}: expected one of {', '.join(ROM_NAMES)}") from None


def encoding_table(rom: str) -> dict[str, int]:
    """The reverse table, Unicode -> code, the lowest code winning for duplicates (e.g. blanks)."""
    table: dict[str, int] = {}
    for code, char in sorted(rom_table(rom).items()):
        table.setdefault(char, code)
    return table


# Case-insensitive: a Cyrillic letter whose capital or small form shares a cell with a Latin letter
# folds to that Latin letter in both cases (В and в -> b), since «Вас» and «вас» must match «Bac».
_FOLD: Final = str.maketrans({cyr.casefold(): lat.casefold() for cyr, lat in LOOKALIKES.items() if lat.isascii()})


def fold_lookalikes(text: str) -> str:
    """Case-folded text with Cyrillic letters that share a ROM cell with Latin ones made Latin.

    Compare what a Cyrillic ROM shows with what was meant (the scenario matcher's rule):

    >>> fold_lookalikes("Вас не чути") == fold_lookalikes("Bac нe чyти") == fold_lookalikes("вас НЕ ЧУТИ")
    True
    """
    return text.casefold().translate(_FOLD)
