"""Signing in at shift start (R3 needs the operator's number and name) and out; a call that rings
while nobody is signed in opens the sign-in on top of the greeting.

The operator types their number on the keypad, OK, then their PIN (shown as asterisks), OK. The
roster comes from the configuration (and, later, the central server); PINs are kept hashed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from firmware.views import View

if TYPE_CHECKING:
    from firmware.unit import Unit

MAX_NUMBER_DIGITS = 4
MAX_PIN_DIGITS = 8


class SignInView(View):
    """Operator number, then PIN; a wrong number or PIN says so and lets the operator retry."""

    def __init__(self) -> None:
        self.stage = "number"
        self.number = ""
        self.pin = ""
        self.message = ""

    def lines(self, unit: Unit) -> list[str]:
        bank = unit.bank
        if self.stage == "number":
            text = f"{bank.text('ui.signin_number')} {self.number}_"
        else:
            text = f"№ {self.number}\n{bank.text('ui.signin_pin')} {'*' * len(self.pin)}_"
        if self.message:
            text += f"\n{self.message}"
        return unit.wrap(text)

    def on_key(self, unit: Unit, key: str) -> bool:
        field = "number" if self.stage == "number" else "pin"
        value = getattr(self, field)
        limit = MAX_NUMBER_DIGITS if field == "number" else MAX_PIN_DIGITS
        if key.isdigit():
            if len(value) < limit:
                setattr(self, field, value + key)
            self.message = ""
        elif key in ("*", "BACK"):
            if value:
                setattr(self, field, value[:-1])
            elif self.stage == "pin":
                self.stage, self.pin = "number", ""
        elif key == "OK" and value:
            self.submit(unit)
        return True

    def submit(self, unit: Unit) -> None:
        number = int(self.number)
        result = unit.check_operator(number, self.pin if self.stage == "pin" else None)
        if result == "pin":
            self.stage, self.message = "pin", ""
        elif result == "unknown":
            self.number, self.message = "", unit.bank.text("ui.signin_unknown", number=number)
        elif result == "bad_pin":
            self.pin, self.message = "", unit.bank.text("ui.signin_bad_pin")
        elif result == "ok" and unit.call is not None:
            unit.pop_view()  # signed in mid-call: back to the greeting, now with the introduction (R3)


class SignOutView(View):
    """End of shift: OK signs the operator out, BACK keeps them signed in."""

    def lines(self, unit: Unit) -> list[str]:
        return unit.wrap(unit.bank.text("ui.signout_confirm"))

    def on_key(self, unit: Unit, key: str) -> bool:
        if key == "OK":
            unit.sign_out()
        elif key == "BACK":
            unit.pop_view()
        return True
