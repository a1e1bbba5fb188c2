"""Registering an appeal on the panel (R9, R11, R22, R24, R25): the form, multi-tap typing on the
keypad, checking what was typed, and the form's words in each language.

- :mod:`.form`: the form as a state machine driven by key names (:class:`AppealForm`);
- :mod:`.multitap`: letters from the 4x3 keypad;
- :mod:`.validation`: phone numbers, e-mail addresses and field lengths;
- :mod:`.text`: the form's labels, hints and messages.
"""

from firmware.appeal.form import FIELDS, KINDS, AppealForm, FormResult, load_directories

__all__ = ["FIELDS", "KINDS", "AppealForm", "FormResult", "load_directories"]
