"""Word-wrapping and paging of phrases for a character LCD, on the text as it will be displayed.

Romanisation lengthens text (``Щ`` -> ``shch``), so lines are measured on ``display_text``'s form.
Lines break at spaces; a word longer than a line is split after one of its own hyphens when it has
one, else with an added ``-``.  Things that read as one unit stay together where they fit:
``№ 7`` (bound by a no-break space in the display form), the word before ``№`` (``Оператор № 7``),
and one-letter words (``в``, ``з``, ``у``, ``і``) with the word after them.

>>> wrap(display_text("Оператор № 7 Олена Петренко", "cyrillic"), 16)
['Оператор\\xa0№\\xa07', 'Олена Петренко']
>>> paginate(["a", "b", "c"], 2)
[['a', 'b'], ['c', '']]
"""

from __future__ import annotations

from .codec import NBSP, display_text


def _groups(words: list[str]) -> list[str]:
    """Glue words that should not be separated, joined with NBSP."""
    out: list[str] = []
    glue_next = False
    for word in words:
        starts_numero = word.startswith("№") or word.startswith("No" + NBSP)
        if out and (glue_next or starts_numero):
            out[-1] += NBSP + word
        else:
            out.append(word)
        glue_next = len(word) == 1 and word.isalpha()
    return out


def _split_long(word: str, first_room: int, cols: int) -> list[str]:
    """Pieces of a word too long for a line: the first at most ``first_room`` wide, then ``cols``."""
    pieces: list[str] = []
    room = first_room
    while len(word) > room:
        cut = word.rfind("-", 1, room) + 1  # break after an existing hyphen ...
        if cut <= 1:
            cut = room - 1  # ... or add one
            pieces.append(word[:cut] + "-")
        else:
            pieces.append(word[:cut])
        word = word[cut:]
        room = cols
    pieces.append(word)
    return pieces


def _wrap_paragraph(text: str, cols: int) -> list[str]:
    lines: list[str] = []
    line = ""

    def place(word: str) -> None:
        nonlocal line
        if not line and len(word) <= cols:
            line = word
        elif line and len(line) + 1 + len(word) <= cols:
            line += " " + word
        elif len(word) <= cols:
            lines.append(line)
            line = word
        elif NBSP in word:
            for part in word.split(NBSP):  # the group does not fit any line: break it up
                place(part)
        else:
            room = cols - len(line) - 1 if line else cols
            if room < 3:  # a stub of one or two letters and a hyphen helps nobody
                lines.append(line)
                line, room = "", cols
            pieces = _split_long(word, room, cols)
            if line:
                lines.append(line + " " + pieces[0])
            else:
                lines.append(pieces[0])
            lines.extend(pieces[1:-1])
            line = pieces[-1]

    for group in _groups([word for word in text.split(" ") if word]):
        place(group)
    lines.append(line)
    return lines


def wrap(text: str, cols: int) -> list[str]:
    """Lines of at most ``cols`` characters; ``\\n`` in ``text`` forces a break.

    Expects display text (see ``display_text``); NBSP is kept in the lines and shown as a space.
    """
    if cols < 3:
        raise ValueError(f"cols must be at least 3, got {cols}")
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines.extend(_wrap_paragraph(paragraph.replace("\t", " "), cols))
    return lines


def paginate(lines: list[str], rows: int) -> list[list[str]]:
    """Pages of exactly ``rows`` lines (the last padded with empty lines); at least one page."""
    if rows < 1:
        raise ValueError(f"rows must be at least 1, got {rows}")
    pages = [lines[i : i + rows] for i in range(0, len(lines), rows)] or [[]]
    return [page + [""] * (rows - len(page)) for page in pages]


def layout(text: str, cols: int, rows: int, rom: str, lang: str | None = None) -> list[list[str]]:
    """``text`` in display form, wrapped to ``cols`` and paged into screens of ``rows`` lines."""
    return paginate(wrap(display_text(text, rom, lang), cols), rows)
