"""Text -> LCD character codes: the display form of a phrase and the encoded screen (``Frame``).

``display_text`` turns a phrase into what will be on the glass, one character per cell: typographic
punctuation becomes ASCII (’ ʼ -> ', «» “” -> ", – — -> -, … -> ...), ``№ 7`` is bound with a
no-break space, and on the A00/A02 ROMs Ukrainian and Russian are romanised (``translit``), which
lengthens text; layout therefore wraps the display form.

``encode_screen`` maps the display form to codes of the chosen ROM.  On the ``cyrillic`` ROM the
Ukrainian letters Є Ї Ґ є ї ґ are drawn from CGRAM, one slot per distinct letter per screen.  When
the slots run out the extra letters fall back to what an operator still reads correctly:
Є->E, є->e, Ї->I, ї->i (the Latin I is also the Ukrainian І), Ґ->Г, ґ->г.  Nothing ever becomes a
blank: a character no ROM cell can show becomes a visible ``?`` and is counted in ``Frame.unmapped``.

>>> frame = encode_screen(["Їжак", "№ 7"], "cyrillic", cols=8)
>>> frame.codes[0][:4], frame.cgram[0] is not None, frame.unmapped
((0, 182, 97, 186), True, 0)
>>> encode_screen(["Їжак"], "A02", cols=8).text()
['Yizhak  ']
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final

from .glyphs import GLYPHS, Bitmap, letter_for
from .rom import LOOKALIKES, encoding_table, rom_table
from .translit import APOSTROPHES, romanize

CGRAM_SLOTS: Final = 8
NBSP: Final = "\u00a0"
UNMAPPED: Final = "?"

# Readable stand-ins for the CGRAM letters when a screen has no free slot left.
CGRAM_FALLBACK: Final = {"Є": "E", "є": "e", "Ї": "I", "ї": "i", "Ґ": "Г", "ґ": "г"}

_PUNCTUATION: Final = {
    **{ch: "'" for ch in APOSTROPHES},
    "«": '"', "»": '"', "„": '"', "“": '"', "”": '"', "‟": '"', "″": '"', "‹": "'", "›": "'",
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-",
    "…": "...", "\t": " ", "\u2009": NBSP, "\u202f": NBSP, "\u2007": NBSP,
    # invisible formatting characters take no cell
    "\u00ad": "", "\u200b": "", "\u200c": "", "\u200d": "", "\u2060": "", "\ufeff": "",
}  # fmt: skip
_NUMERO_BIND: Final = re.compile(r"(№|No)[ \u00a0]*(?=\d)")


@dataclass(frozen=True)
class Frame:
    """One screen encoded for a ROM: a code per cell and the CGRAM bitmaps the codes 0-7 refer to.

    ``unmapped`` counts cells that had to show ``?``; ``fallbacks`` counts CGRAM letters shown with a
    stand-in because the slots ran out; ``clipped`` counts display characters cut off at the right
    edge (layout should have wrapped them).

    >>> f = Frame.blank(16, 2)
    >>> len(f.codes), len(f.codes[0]), f.codes[0][0]
    (2, 16, 32)
    """

    codes: tuple[tuple[int, ...], ...]
    cgram: tuple[Bitmap | None, ...] = (None,) * CGRAM_SLOTS
    rom: str = "cyrillic"
    unmapped: int = 0
    fallbacks: int = 0
    clipped: int = 0

    @classmethod
    def blank(cls, cols: int, rows: int, rom: str = "cyrillic") -> Frame:
        return cls(codes=tuple((0x20,) * cols for _ in range(rows)), rom=rom)

    @property
    def cols(self) -> int:
        return len(self.codes[0]) if self.codes else 0

    @property
    def rows(self) -> int:
        return len(self.codes)

    def text(self) -> list[str]:
        """The rows as the glass shows them (CGRAM cells as the letter of their glyph)."""
        table = rom_table(self.rom)
        out = []
        for row in self.codes:
            chars = []
            for code in row:
                if code < 16:
                    bitmap = self.cgram[code & 7]
                    chars.append((letter_for(bitmap) if bitmap else None) or "\ufffd")
                else:
                    chars.append(table.get(code, "\ufffd"))
            out.append("".join(chars))
        return out


def display_text(text: str, rom: str, lang: str | None = None) -> str:
    """``text`` as it will be displayed on ``rom``: one character per cell, NBSP marking no-break.

    Idempotent, so layout can wrap the display form and ``encode_screen`` can take it again.

    >>> display_text("Оператор № 7 — «Олена»…", "cyrillic")
    'Оператор №\\xa07 - "Олена"...'
    >>> display_text("Оператор № 7", "A00")
    'Operator No\\xa07'
    """
    rom_table(rom)  # reject an unknown ROM early
    text = unicodedata.normalize("NFC", text)
    if rom != "cyrillic":
        text = romanize(text, lang).replace("№", "No")
    text = "".join(_PUNCTUATION.get(ch, ch) for ch in text)
    return _NUMERO_BIND.sub(lambda m: m.group(1) + NBSP, text)


class _Encoder:
    """Per-screen state: the ROM's reverse table and the CGRAM slots handed out so far."""

    def __init__(self, rom: str, cgram_slots: int) -> None:
        self.rom = rom
        self.table = encoding_table(rom)
        self.slots: list[str] = []
        self.max_slots = cgram_slots
        self.unmapped = 0
        self.fallbacks = 0

    def code(self, ch: str) -> int:
        if ch in (" ", NBSP):
            return 0x20
        if self.rom == "cyrillic" and ch in GLYPHS:
            if ch in self.slots:
                return self.slots.index(ch)
            if len(self.slots) < self.max_slots:
                self.slots.append(ch)
                return len(self.slots) - 1
            self.fallbacks += 1
            ch = CGRAM_FALLBACK[ch]
        if self.rom == "cyrillic":
            ch = LOOKALIKES.get(ch, ch)
        code = self.table.get(ch)
        if code is None:
            # é -> e, ў -> у: the base letter is still the right reading
            base = unicodedata.normalize("NFKD", ch)[:1]
            code = self.table.get(LOOKALIKES.get(base, base) if self.rom == "cyrillic" else base)
        if code is None or code < 0x20:
            self.unmapped += 1
            return self.table[UNMAPPED]
        return code


def encode_screen(
    rows: list[str],
    rom: str,
    cols: int,
    *,
    height: int | None = None,
    lang: str | None = None,
    cgram_slots: int = CGRAM_SLOTS,
) -> Frame:
    """Encode one screen: ``rows`` of text (any form; ``display_text`` is applied) -> ``Frame``.

    Rows are padded with spaces to ``cols`` and the screen to ``height`` rows (default: as many as
    given).  ``cgram_slots`` is how many CGRAM slots letters may use (fewer when a caller keeps some
    for icons).  ``lang`` picks the romanisation on A00/A02 (None: guessed per row).
    """
    if not 0 <= cgram_slots <= CGRAM_SLOTS:
        raise ValueError(f"cgram_slots must be 0..{CGRAM_SLOTS}, got {cgram_slots}")
    height = len(rows) if height is None else height
    if len(rows) > height:
        raise ValueError(f"{len(rows)} rows do not fit a screen of {height}")
    enc = _Encoder(rom, cgram_slots)
    clipped = 0
    codes = []
    for row in [*rows, *[""] * (height - len(rows))]:
        shown = display_text(row, rom, lang)
        clipped += max(0, len(shown) - cols)
        shown = shown[:cols].ljust(cols)
        codes.append(tuple(enc.code(ch) for ch in shown))
    cgram = tuple(GLYPHS[enc.slots[i]] if i < len(enc.slots) else None for i in range(CGRAM_SLOTS))
    return Frame(
        codes=tuple(codes),
        cgram=cgram,
        rom=rom,
        unmapped=enc.unmapped,
        fallbacks=enc.fallbacks,
        clipped=clipped,
    )
