"""Multi-tap text entry on the unit's 4x3 keypad, for uk, ru and en letters and digits-only fields.

Repeated presses of one key within :data:`DEFAULT_TIMEOUT_S` cycle its letters; another key, or the
timeout, commits the letter being cycled (``pending``). ``0`` types a space (``0`` in digits mode),
``#`` switches letters/digits, ``*`` deletes the last character. Time is whatever the caller passes as
``now`` (the unit's monotonic clock), so the simulator and tests drive it without waiting.

    >>> tap = MultiTap("uk")
    >>> for key, now in [("4", 0.0), ("4", 0.2), ("5", 0.4), ("5", 0.6), ("5", 0.8)]:
    ...     _ = tap.press(key, now)
    >>> tap.text, tap.pending
    ('І', 'о')
    >>> tap.commit()
    'Іо'

The letter tables are data (:data:`LAYOUTS`); :func:`layout_rows` lays one out for documentation.
"""

from __future__ import annotations

from typing import Any, Literal

#: Seconds within which pressing the same key again cycles to its next letter.
DEFAULT_TIMEOUT_S = 1.0

KEYPAD = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#")

#: Key 1 for text fields: the punctuation names, addresses and short notes need.
PUNCTUATION = ".,-'?!:;()\"/№"
#: Key 1 for e-mail fields.
EMAIL_SYMBOLS = "@.-_+"

#: Letters per key and language, upper case (lower case is derived). Key 0 is the space.
#: uk puts the apostrophe and hyphen of names (Солов'яненко, Івано-Франківськ) on 9, next to the letters.
LAYOUTS: dict[str, dict[str, str]] = {
    "uk": {
        "1": PUNCTUATION,
        "2": "АБВГҐ",
        "3": "ДЕЄЖЗ",
        "4": "ИІЇЙКЛ",
        "5": "МНОП",
        "6": "РСТУ",
        "7": "ФХЦЧ",
        "8": "ШЩЬЮЯ",
        "9": "'-.,",
        "0": " ",
    },
    "ru": {
        "1": PUNCTUATION,
        "2": "АБВГ",
        "3": "ДЕЁЖЗ",
        "4": "ИЙКЛ",
        "5": "МНОП",
        "6": "РСТУ",
        "7": "ФХЦЧ",
        "8": "ШЩЪЫ",
        "9": "ЬЭЮЯ",
        "0": " ",
    },
    "en": {  # ITU-T E.161
        "1": PUNCTUATION.replace("№", ""),
        "2": "ABC",
        "3": "DEF",
        "4": "GHI",
        "5": "JKL",
        "6": "MNO",
        "7": "PQRS",
        "8": "TUV",
        "9": "WXYZ",
        "0": " ",
    },
}

#: Apostrophes the keypad types (ASCII and the Ukrainian typographic one).
APOSTROPHES = "'’ʼ"
Capitalize = Literal["words", "sentence", "none"]
Mode = Literal["letters", "digits"]


def layout_rows(language: str) -> list[tuple[str, str]]:
    """``(key, characters)`` pairs of a language's layout in keypad order, spaces shown as ``␣``."""
    table = LAYOUTS[language]
    return [(key, "␣" if table[key] == " " else " ".join(table[key])) for key in "1234567890"]


class MultiTap:
    """The text of one field being typed on the keypad.

    ``text`` holds committed characters, ``pending`` the letter still cycling (or ``""``), ``value``
    both. ``press`` returns False when the key changed nothing; ``full`` then says whether the field's
    ``max_len`` refused it, so the screen can say so.

        >>> phone = MultiTap("uk", digits_only=True, max_len=3)
        >>> [phone.press(k, 0.0) for k in "0671"], phone.text, phone.full
        ([True, True, True, False], '067', True)
    """

    def __init__(
        self,
        language: str = "uk",
        *,
        digits_only: bool = False,
        max_len: int = 100,
        capitalize: Capitalize = "words",
        symbols: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        text: str = "",
    ) -> None:
        if language not in LAYOUTS:
            raise ValueError(f"no keypad layout for language {language!r} (have {', '.join(LAYOUTS)})")
        if max_len < 1:
            raise ValueError("max_len must be at least 1")
        self.language = language
        self.digits_only = digits_only
        self.max_len = max_len
        self.capitalize: Capitalize = capitalize
        self.symbols = symbols
        self.timeout_s = timeout_s
        self.mode: Mode = "digits" if digits_only else "letters"
        self.text = text[:max_len]
        self.full = False
        self._pending_key: str | None = None
        self._pending_index = 0
        self._last_press = 0.0

    # ------------------------------------------------------------------ reading
    def _keys(self, key: str) -> str:
        if key == "1" and self.symbols is not None:
            return self.symbols
        return LAYOUTS[self.language][key]

    def _cased(self, char: str) -> str:
        return char.upper() if self.upper_next else char.lower()

    @property
    def upper_next(self) -> bool:
        """Whether the next letter will be a capital (see ``capitalize``): for words, at the start, after
        a space or a hyphen (Івано-Франківськ, Анна-Марія), and after an apostrophe that follows a
        word's single first letter (O'Brien, д'Артаньян; not Мар'яна, П'ятихатки)."""
        text = self.text
        if self.capitalize == "words":
            if not text or text[-1] in " -":
                return True
            return text[-1] in APOSTROPHES and len(text) >= 2 and text[-2].isalpha() and (
                len(text) == 2 or not text[-3].isalpha())
        if self.capitalize == "sentence":
            stripped = text.rstrip()
            return not stripped or (text[-1] == " " and stripped[-1] in ".!?")
        return False

    @property
    def pending(self) -> str:
        """The letter being cycled, not yet part of ``text`` (``""`` when none)."""
        if self._pending_key is None:
            return ""
        return self._cased(self._keys(self._pending_key)[self._pending_index])

    @property
    def value(self) -> str:
        return self.text + self.pending

    @property
    def mode_tag(self) -> str:
        """A short tag for the screen: ``123``, or the case the next letter will have (``Абв``/``абв``)."""
        if self.mode == "digits":
            return "123"
        sample = LAYOUTS[self.language]["2"][:3]
        return sample[0] + sample[1:].lower() if self.upper_next else sample.lower()

    def display(self, cursor: str = "_") -> str:
        """The text as shown while typing: a cycling letter is shown bare, otherwise the cursor follows."""
        return self.value if self._pending_key is not None else self.text + cursor

    # ------------------------------------------------------------------ typing
    def commit(self) -> str:
        """Make the pending letter part of the text; returns the text."""
        if self._pending_key is not None:
            self.text += self.pending
            self._pending_key = None
        return self.text

    def tick(self, now: float) -> bool:
        """Commit a pending letter whose timeout has passed; True when that changed the screen."""
        if self._pending_key is not None and not self._within_timeout(now):
            self.commit()
            return True
        return False

    def _within_timeout(self, now: float) -> bool:
        # A clock that went backwards (restored after a restart) counts as timed out.
        return 0.0 <= now - self._last_press < self.timeout_s

    def press(self, key: str, now: float) -> bool:
        """One keypad key at time ``now`` (seconds). False when it changed nothing (see ``full``)."""
        self.full = False
        if key not in KEYPAD:
            return False
        if key == "*":
            if self._pending_key is not None:
                self._pending_key = None
                return True
            if self.text:
                self.text = self.text[:-1]
                return True
            return False
        if key == "#":
            if self.digits_only:
                return False
            self.commit()
            self.mode = "letters" if self.mode == "digits" else "digits"
            return True
        if self.mode == "letters":
            cycle = self._keys(key)
            if key == self._pending_key and self._within_timeout(now):
                self._pending_index = (self._pending_index + 1) % len(cycle)
                self._last_press = now
                return True
        self.commit()
        if len(self.text) >= self.max_len:
            self.full = True
            return False
        if self.mode == "digits":
            self.text += key
        elif len(cycle) == 1:
            self.text += cycle  # nothing to cycle through (the space): typed at once
        else:
            self._pending_key, self._pending_index, self._last_press = key, 0, now
        return True

    # ------------------------------------------------------------------ crash safety
    def to_dict(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "digits_only": self.digits_only,
            "max_len": self.max_len,
            "capitalize": self.capitalize,
            "symbols": self.symbols,
            "timeout_s": self.timeout_s,
            "mode": self.mode,
            "text": self.text,
            "pending_key": self._pending_key,
            "pending_index": self._pending_index,
            "last_press": self._last_press,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MultiTap:
        tap = cls(
            data["language"],
            digits_only=data["digits_only"],
            max_len=data["max_len"],
            capitalize=data["capitalize"],
            symbols=data["symbols"],
            timeout_s=data["timeout_s"],
            text=data["text"],
        )
        tap.mode = data["mode"]
        tap._pending_key = data["pending_key"]
        tap._pending_index = data["pending_index"]
        tap._last_press = data["last_press"]
        return tap
