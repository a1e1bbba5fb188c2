"""How the simulator decides that the LCD shows a text: the matcher scenarios and tests share.

    >>> shows("Доброго ранку", "Дoбpoгo paнкy        ", "cyrillic")
    True
"""

from __future__ import annotations

import re

from firmware.lcd import display_text
from firmware.lcd.rom import fold_lookalikes


def shows(expected: str, screen: str, rom: str) -> bool:
    """Whether ``screen`` shows ``expected``, as written or as the ROM can show it (romanised on
    A00/A02, typographic quotes and dashes made plain), look-alikes and case folded."""
    glass = fold(screen)
    return any(fold(form) in glass for form in {expected, display_text(expected, rom)})


def fold(text: str) -> str:
    """The matcher's normal form: look-alikes folded, case folded, runs of spaces collapsed."""
    return re.sub(r"\s+", " ", fold_lookalikes(text.casefold())).strip()
