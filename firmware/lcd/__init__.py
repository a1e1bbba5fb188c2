r"""The character LCD as pure logic: ROM tables, custom glyphs, encoding, romanisation and layout.

>>> from firmware.lcd import encode_screen, layout
>>> from firmware.lcd.rom import fold_lookalikes
>>> pages = layout("Доброго ранку, Оператор № 7 Олена Петренко", cols=16, rows=2, rom="cyrillic")
>>> pages
[['Доброго ранку,', 'Оператор\xa0№\xa07'], ['Олена Петренко', '']]
>>> shown = encode_screen(pages[0], "cyrillic", cols=16).text()
>>> fold_lookalikes(shown[0]) == fold_lookalikes("Доброго ранку,  ")
True
"""

from .codec import Frame, display_text, encode_screen
from .layout import layout, paginate, wrap

__all__ = ["Frame", "display_text", "encode_screen", "layout", "paginate", "wrap"]
