"""Signing in at shift start (R3 needs the operator's number and name) and out; a call that rings
while nobody is signed in opens the sign-in on top of the greeting.

The operator types their number on the keypad, OK, then their PIN (shown as asterisks), OK. The
roster comes from the configuration (and, later, the central server); PINs are kept hashed.
"""

from __future__ import annotations

from firmware.call.views.base import View
from firmware.call.views.host import ViewHost
from firmware.vocabulary import Key, OperatorCheck, SignInStage

MAX_NUMBER_DIGITS = 4
MAX_PIN_DIGITS = 8


class SignInView(View):
    """Operator number, then PIN; a wrong number or PIN says so and lets the operator retry."""

    def __init__(self) -> None:
        self.stage = SignInStage.NUMBER
        self.number = ""
        self.pin = ""
        self.message = ""

    def lines(self, host: ViewHost) -> list[str]:
        bank = host.bank
        if self.stage == SignInStage.NUMBER:
            text = f"{bank.text('ui.signin_number')} {self.number}_"
        else:
            text = f"№ {self.number}\n{bank.text('ui.signin_pin')} {'*' * len(self.pin)}_"
        if self.message:
            text += f"\n{self.message}"
        return host.screen.wrap(text)

    def on_key(self, host: ViewHost, key: str) -> bool:
        field = "number" if self.stage == SignInStage.NUMBER else "pin"
        value = getattr(self, field)
        limit = MAX_NUMBER_DIGITS if field == "number" else MAX_PIN_DIGITS
        if key.isdigit():
            if len(value) < limit:
                setattr(self, field, value + key)
            self.message = ""
        elif key in (Key.STAR, Key.BACK):
            if value:
                setattr(self, field, value[:-1])
            elif self.stage == SignInStage.PIN:
                self.stage, self.pin = SignInStage.NUMBER, ""
        elif key == Key.OK and value:
            self.submit(host)
        return True

    def submit(self, host: ViewHost) -> None:
        number = int(self.number)
        result = host.check_operator(number, self.pin if self.stage == SignInStage.PIN else None)
        if result == OperatorCheck.PIN:
            self.stage, self.message = SignInStage.PIN, ""
        elif result == OperatorCheck.UNKNOWN:
            self.number, self.message = "", host.bank.text("ui.signin_unknown", number=number)
        elif result == OperatorCheck.BAD_PIN:
            self.pin, self.message = "", host.bank.text("ui.signin_bad_pin")
        elif result == OperatorCheck.OK and host.call is not None:
            host.pop_view()  # signed in mid-call: back to the greeting, now with the introduction (R3)


class SignOutView(View):
    """End of shift: OK signs the operator out, BACK keeps them signed in."""

    def lines(self, host: ViewHost) -> list[str]:
        return host.screen.wrap(host.bank.text("ui.signout_confirm"))

    def on_key(self, host: ViewHost, key: str) -> bool:
        if key == Key.OK:
            host.sign_out()
        elif key == Key.BACK:
            host.pop_view()
        return True
