"""The unit's words: every fixed set of values the firmware, the simulator and the central server share.

Each is a :class:`enum.StrEnum`, so a member *is* its string: records, JSON, the wire protocol, config
files and scenarios stay byte-identical, and a plain string read from any of them compares equal.

    >>> Verdict("silent").colour, Verdict.NO_SIGNAL.severity > Verdict.DEGRADED.severity
    (<Colour.BLUE: 'blue'>, True)
    >>> json.dumps({"outcome": Outcome.ABUSE})
    '{"outcome": "abuse"}'
"""

from __future__ import annotations

from enum import StrEnum


class Colour(StrEnum):
    """What an RGB LED can show (DESIGN.md, "The unit's hardware")."""

    OFF = "off"
    GREEN = "green"
    AMBER = "amber"
    RED = "red"
    BLUE = "blue"


class Led(StrEnum):
    """The three LEDs of the panel."""

    LINE = "line"
    HOLD = "hold"
    SYNC = "sync"


class Verdict(StrEnum):
    """The line analyzer's judgement of the caller's side (the ``linecheck`` contract's verdicts).

    Declared in the contract's order. :attr:`severity` ranks how bad the *call* was for the record's
    ``line_worst``: a silent caller on a working line is worse than a good call but better than a line
    the operator cannot follow (DESIGN.md: blue is "caller silent on a live line").
    """

    GOOD = "good"
    DEGRADED = "degraded"
    UNINTELLIGIBLE = "unintelligible"
    SILENT = "silent"
    NO_SIGNAL = "no_signal"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]

    @property
    def colour(self) -> Colour:
        """The LINE LED's colour for this verdict."""
        return _VERDICT_COLOUR[self]

    @property
    def cannot_hear(self) -> bool:
        """The operator cannot follow the caller: R16's countdown and "cannot hear" phrase apply."""
        return self in (Verdict.UNINTELLIGIBLE, Verdict.NO_SIGNAL)

    @property
    def heard(self) -> bool:
        """The caller is speaking and understood (well or with effort)."""
        return self in (Verdict.GOOD, Verdict.DEGRADED)


_SEVERITY = {Verdict.GOOD: 0, Verdict.SILENT: 1, Verdict.DEGRADED: 2, Verdict.UNINTELLIGIBLE: 3,
             Verdict.NO_SIGNAL: 4}
_VERDICT_COLOUR = {Verdict.GOOD: Colour.GREEN, Verdict.DEGRADED: Colour.AMBER, Verdict.UNINTELLIGIBLE: Colour.RED,
                   Verdict.NO_SIGNAL: Colour.RED, Verdict.SILENT: Colour.BLUE}


class Outcome(StrEnum):
    """What a call came to (the record's ``outcome``)."""

    ANSWERED = "answered"
    OUTSIDE_COMPETENCE = "outside_competence"
    FORWARDED = "forwarded"
    CALLBACK = "callback"
    TRANSFER = "transfer"
    BAD_LINE = "bad_line"
    ABUSE = "abuse"
    CALLER_SILENT = "caller_silent"


class Deliberate(StrEnum):
    """Actions that change what a call comes to: each asks the operator to confirm it first."""

    MARK_OUTCOME = "mark_outcome"  # outside competence (R7), callback, transfer; or clear the mark
    END_FOR_ABUSE = "end_for_abuse"  # R15
    DISCARD_APPEAL = "discard_appeal"  # throw away a typed appeal after the caller hung up


class AppealKind(StrEnum):
    """What kind of appeal the caller makes (the record's ``appeal.kind``)."""

    REMARK = "remark"
    PROPOSAL = "proposal"
    STATEMENT = "statement"
    COMPLAINT = "complaint"
    REQUEST = "request"


class SendVia(StrEnum):
    """R25: how the center sends the details to a caller who cannot write them down."""

    SMS = "sms"
    MESSENGER = "messenger"
    EMAIL = "email"


class CallEvent(StrEnum):
    """The ``type`` of an event in a call record's ``events`` (DESIGN.md, "The call record").

    A phrase bank may name further events of its own (a phrase's ``event``).
    """

    GREETING_SHOWN = "greeting_shown"  # R2-R5: the opening script's steps
    ADDRESS_SHOWN = "address_shown"
    HELP_SHOWN = "help_shown"
    CLOCK_UNTRUSTED = "clock_untrusted"  # the greeting is neutral: the clock is not verified
    LANGUAGE = "language"  # R1: the call's language switched
    OUTCOME = "outcome"  # the operator marked (confirmed) what the call came to, or cleared the mark
    PHRASE_SHOWN = "phrase_shown"
    APOLOGY_SHOWN = "apology_shown"  # R14
    ABUSE_ENDED = "abuse_ended"  # R15: the operator ended the call
    HOLD_START = "hold_start"
    HOLD_END = "hold_end"
    HOLD_LIMIT = "hold_limit"  # R18: past the recommended maximum
    COUNTDOWN_START = "countdown_start"  # R16
    COUNTDOWN_CANCELLED = "countdown_cancelled"
    CANNOT_HEAR_SHOWN = "cannot_hear_shown"  # R16: the countdown ran out
    LINE_RECOVERED = "line_recovered"  # R16: the caller is heard again; a new bad spell gets a new countdown
    CALLER_SILENT = "caller_silent"  # R21
    CALLER_RESUMED = "caller_resumed"
    CALLBACK_SUGGESTED = "callback_suggested"  # R21: silent long enough to call back
    APPEAL_OPENED = "appeal_opened"
    APPEAL_SAVED = "appeal_saved"
    APPEAL_PENDING = "appeal_pending"  # the handset went down with an appeal typed: the form stays open
    APPEAL_DISCARDED = "appeal_discarded"  # the operator threw the typed appeal away (confirmed)
    UNIT_RESTARTED = "unit_restarted"  # the unit restarted during the call (crash recovery)
    AUDIO_INPUT_LOST = "audio_input_lost"  # the unit's own audio input delivers nothing: no verdict
    AUDIO_INPUT_BACK = "audio_input_back"
    CALL_END = "call_end"


class Greeting(StrEnum):
    """R2's greeting by the time of day; neutral when the clock cannot be believed."""

    MORNING = "morning"
    DAY = "day"
    EVENING = "evening"
    NEUTRAL = "neutral"


class Language(StrEnum):
    """The call's language (R1), in the order the operator switches through them."""

    UK = "uk"
    RU = "ru"
    EN = "en"

    def next(self) -> Language:
        """The language ``#`` (or the list's first entry) switches to."""
        members = list(Language)
        return members[(members.index(self) + 1) % len(members)]


class Key(StrEnum):
    """The panel's keys and the 4x3 keypad's, as named in scenarios and on the console."""

    HOLD = "HOLD"
    APPEAL = "APPEAL"
    UP = "UP"
    DOWN = "DOWN"
    OK = "OK"
    BACK = "BACK"
    D1 = "1"
    D2 = "2"
    D3 = "3"
    D4 = "4"
    D5 = "5"
    D6 = "6"
    D7 = "7"
    D8 = "8"
    D9 = "9"
    STAR = "*"
    D0 = "0"
    HASH = "#"


PANEL_KEYS: tuple[Key, ...] = (Key.HOLD, Key.APPEAL, Key.UP, Key.DOWN, Key.OK, Key.BACK)
KEYPAD_KEYS: tuple[Key, ...] = tuple(k for k in Key if k not in PANEL_KEYS)


class ClockSource(StrEnum):
    """Who set the wall clock; ``none``: nobody trusted has."""

    NTP = "ntp"
    SERVER = "server"
    TECHNICIAN = "technician"
    SCENARIO = "scenario"
    PANEL = "panel"  # the simulator's browser panel (hwsim.clock.SimClock)
    NONE = "none"


class OperatorCheck(StrEnum):
    """What a sign-in attempt (operator number, maybe a PIN) came to."""

    OK = "ok"  # signed in
    PIN = "pin"  # this operator has a PIN: ask for it
    UNKNOWN = "unknown"  # no such operator in the roster
    BAD_PIN = "bad_pin"
    LOCKED = "locked"  # too many wrong PINs for this number: sign-in waits


class SignInStage(StrEnum):
    """Which field the sign-in screen is asking for."""

    NUMBER = "number"
    PIN = "pin"


class FormAction(StrEnum):
    """What one key did to the appeal form (see :class:`firmware.appeal.FormResult`)."""

    IGNORED = "ignored"  # not the form's key: the unit handles it (e.g. HOLD)
    MOVED = "moved"
    EDITING = "editing"
    TYPED = "typed"
    REFUSED = "refused"  # the field is full
    HINT = "hint"  # a key that needs OK first
    CHANGED = "changed"  # a choice cycled
    CANCELLED = "cancelled"
    CONFIRMED = "confirmed"  # a field's value changed: save the draft
    INVALID = "invalid"  # the value stays in edit; the message says why
    CLOSED = "closed"  # BACK while browsing: hide the form, keep the draft
    MISSING = "missing"  # APPEAL refused: the field and the message name what is missing
    SAVED = "saved"  # APPEAL accepted
