"""5x8 custom-character bitmaps for the Ukrainian letters the Cyrillic ROM lacks, and the reverse lookup.

A bitmap is a tuple of 8 row values, bit 4 the leftmost pixel; the 8th row stays empty because the
HD44780 draws the underline cursor there.  ``letter_for`` turns a bitmap read back from CGRAM into
the letter it stands for (the emulator uses it to decode what the glass shows).

>>> from firmware.lcd.glyphs import GLYPHS, letter_for
>>> letter_for(GLYPHS["Ї"])
'Ї'
>>> print(render(GLYPHS["Є"]))
.###.
#...#
#....
####.
#....
#...#
.###.
.....
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

Bitmap = tuple[int, int, int, int, int, int, int, int]


def _bitmap(*rows: str) -> Bitmap:
    """Rows drawn with '#' (pixel on) and '.' (off), 5 columns each, 8 rows."""
    assert len(rows) == 8 and all(len(r) == 5 for r in rows), rows
    return tuple(int(r.replace("#", "1").replace(".", "0"), 2) for r in rows)  # type: ignore[return-value]


GLYPHS: Final = MappingProxyType(
    {
        "Є": _bitmap(".###.", "#...#", "#....", "####.", "#....", "#...#", ".###.", "....."),
        "Ї": _bitmap(".#.#.", ".....", ".###.", "..#..", "..#..", "..#..", ".###.", "....."),
        "Ґ": _bitmap("....#", "#####", "#....", "#....", "#....", "#....", "#....", "....."),
        "є": _bitmap(".....", ".....", ".####", "#....", "###..", "#....", ".####", "....."),
        "ї": _bitmap(".#.#.", ".....", ".##..", "..#..", "..#..", "..#..", ".###.", "....."),
        "ґ": _bitmap(".....", ".....", "....#", "#####", "#....", "#....", "#....", "....."),
    }
)

BLANK: Final[Bitmap] = (0, 0, 0, 0, 0, 0, 0, 0)

_LETTERS: Final = MappingProxyType({bitmap: letter for letter, bitmap in GLYPHS.items()})


def letter_for(bitmap: tuple[int, ...]) -> str | None:
    """The letter a 5x8 bitmap stands for, ``" "`` for an empty cell, None when unknown.

    Only the low 5 bits of each row are drawn, so the upper bits (spare CGRAM) are ignored.
    """
    key = tuple(row & 0x1F for row in bitmap)
    if key == BLANK:
        return " "
    return _LETTERS.get(key)  # type: ignore[call-overload]


def render(bitmap: tuple[int, ...]) -> str:
    """The bitmap as 8 lines of '#' and '.', for tests and for eyeballing a design."""
    return "\n".join(format(row & 0x1F, "05b").replace("1", "#").replace("0", ".") for row in bitmap)
