"""What the journal's faults look like on the panel: a line on the LCD and the SYNC LED held.

A journal that cannot save (full disk, unwritable file) holds the SYNC LED blinking red over the
sync's own colours; a damaged file replaced at start, blinking amber. The text is the phrase bank's.
"""

from __future__ import annotations

from firmware.journal import JournalFault
from firmware.leds import Leds
from firmware.phrases import PhraseBank
from firmware.vocabulary import Colour, Led

FAULT_TEXT = {JournalFault.REPLACED: "ui.journal_replaced", JournalFault.DISK_FULL: "ui.journal_disk_full",
              JournalFault.UNWRITABLE: "ui.journal_unwritable"}
FAULT_LED = {JournalFault.REPLACED: Colour.AMBER, JournalFault.DISK_FULL: Colour.RED,
             JournalFault.UNWRITABLE: Colour.RED}


def fault_text(fault: JournalFault, bank: PhraseBank) -> str | None:
    key = FAULT_TEXT.get(fault)
    return bank.text(key) if key else None


def show_on_led(fault: JournalFault, leds: Leds) -> None:
    colour = FAULT_LED.get(fault)
    leds.hold(Led.SYNC, colour, blink=colour is not None)
