"""Checks of what the operator types into the appeal form: phone numbers (E.164), e-mail, names, lengths.

A good value comes back normalised (phones in E.164); a bad one raises :class:`InvalidInput`, which
:func:`firmware.appeal.text.explain` puts in words an operator can act on.

    >>> normalize_phone("8 (067) 123-45-67")
    '+380671234567'
    >>> try:
    ...     normalize_phone("067 123 45")
    ... except InvalidInput as e:
    ...     print(e.code, "|", explain(e, "uk"))
    phone.too_short | Закороткий номер: потрібно 10 цифр, напр. 0671234567
    >>> normalize_email(" Olena.Petrenko@UKR.NET ")
    'Olena.Petrenko@ukr.net'
"""

from __future__ import annotations

import re
from typing import Any

from firmware.appeal.text import text
from firmware.exc import InvalidInput

#: Most characters each appeal field may hold (phone: the E.164 form, ``+`` and 15 digits).
FIELD_LIMITS: dict[str, int] = {
    "full_name": 60,
    "residence": 100,
    "essence": 500,
    "phone": 16,
    "email": 254,
}
#: The phone as typed: ``00``, then E.164's 15 digits.
PHONE_TYPED_MAX = 17
E164_MAX_DIGITS = 15
#: The shortest international number taken (country code and subscriber number).
E164_MIN_DIGITS = 8
UA_COUNTRY = "380"

#: A Ukrainian number after +380 (the national significant number) has this many digits.
UA_NSN_DIGITS = 9
#: First digits of an operator or area code: 3-6 are areas (44 Kyiv, 32 Lviv, ...), 7-9 mobile
#: and service ranges; no code starts with 0, 1 or 2.
UA_CODE_FIRST_DIGITS = "3456789"

_PHONE_SEPARATORS = re.compile(r"[\s\-().]")
_EMAIL_LOCAL_ALLOWED = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")
EMAIL_LOCAL_MAX = 64
EMAIL_LABEL_MAX = 63


def refuse(reason: str, /, **params: Any) -> InvalidInput:
    """The error for a refused value: ``reason`` names it, its Ukrainian text is the message."""
    return InvalidInput(reason, text("uk", reason, **params), **params)


def normalize_phone(raw: str, default_country: str = UA_COUNTRY) -> str:
    """A phone number in any usual spelling, as E.164 (``+``, country code, at most 15 digits).

    International: ``+`` or ``00`` and the country code (``+48 601 234 567``, ``0049 151 ...``).
    National, in ``default_country`` (Ukraine: ``0671234567``, ``067 123 45 67``, ``(067) 123-45-67``,
    ``80671234567``, ``380671234567``). Ukrainian numbers are checked digit by digit (9 digits after
    +380, a real operator or area code); others by length only.
    """
    compact = _PHONE_SEPARATORS.sub("", raw)
    if not compact:
        raise refuse("phone.empty")
    plus = compact.startswith("+")
    digits = compact[1:] if plus else compact
    if not digits.isascii() or not digits.isdigit():
        raise refuse("phone.chars")
    if plus or digits.startswith("00"):
        return _international(digits if plus else digits[2:])
    if default_country != UA_COUNTRY:
        if not digits.startswith("0"):
            raise refuse("phone.country")
        return _international(default_country + digits[1:])
    if digits.startswith("380"):
        nsn = digits[3:]
    elif digits.startswith("80"):
        nsn = digits[2:]
    elif digits.startswith("0"):
        nsn = digits[1:]
    elif len(digits) < UA_NSN_DIGITS + 1:
        # "671234567": the leading 0 was left out (or a digit lost); do not guess which
        raise refuse("phone.trunk" if len(digits) == UA_NSN_DIGITS else "phone.too_short")
    else:
        raise refuse("phone.country")
    return _ukrainian(nsn)


def _international(digits: str) -> str:
    """``digits`` after ``+`` / ``00``: country code and number, E.164's 15 digits at most."""
    if digits.startswith("0"):
        raise refuse("phone.intl_code")
    if digits.startswith(UA_COUNTRY):
        return _ukrainian(digits[len(UA_COUNTRY):])
    if len(digits) < E164_MIN_DIGITS:
        raise refuse("phone.intl_short", min=E164_MIN_DIGITS)
    if len(digits) > E164_MAX_DIGITS:
        raise refuse("phone.intl_long", max=E164_MAX_DIGITS)
    return "+" + digits


def _ukrainian(nsn: str) -> str:
    if len(nsn) < UA_NSN_DIGITS:
        raise refuse("phone.too_short")
    if len(nsn) > UA_NSN_DIGITS:
        raise refuse("phone.too_long")
    if nsn[0] not in UA_CODE_FIRST_DIGITS:
        raise refuse("phone.code", code="0" + nsn[:2])
    return "+" + UA_COUNTRY + nsn


def check_name(field: str, value: str) -> None:
    """A person's name or a place has letters: a value of digits and signs only is a slip of the keys."""
    if not any(ch.isalpha() for ch in value):
        raise refuse("letters", field=field)


def normalize_email(raw: str) -> str:
    """An e-mail address checked against a pragmatic subset of RFC 5322; the domain is lower-cased.

    ``local@domain.tld``: one ``@``, no spaces, a dot-atom mailbox name of at most 64 characters, a
    domain of dot-separated labels (letters, digits, inner hyphens; Cyrillic domains such as ``.укр``
    allowed), a top-level domain of letters, at most 254 characters in all.
    """
    address = raw.strip()
    if not address:
        raise refuse("email.empty")
    if any(ch.isspace() for ch in address):
        raise refuse("email.spaces")
    if len(address) > FIELD_LIMITS["email"]:
        raise refuse("email.too_long", max=FIELD_LIMITS["email"])
    if address.count("@") != 1:
        raise refuse("email.at")
    local, domain = address.split("@")
    if not local or len(local) > EMAIL_LOCAL_MAX:
        raise refuse("email.local")
    if not _EMAIL_LOCAL_ALLOWED.fullmatch(local) or local.startswith(".") or local.endswith(".") or ".." in local:
        raise refuse("email.local_chars", part=local)
    domain = domain.lower()
    labels = domain.split(".")
    if len(labels) < 2:
        raise refuse("email.domain_dot")
    for label in labels:
        if (
            not label
            or len(label) > EMAIL_LABEL_MAX
            or label[0] == "-"
            or label[-1] == "-"
            or not all(ch.isalnum() or ch == "-" for ch in label)
        ):
            raise refuse("email.domain", part=domain)
    tld = labels[-1]
    if len(tld) < 2 or not (tld.isalpha() or tld.startswith("xn--")):
        raise refuse("email.tld", part=tld)
    return f"{local}@{domain}"


def check_length(field: str, value: str) -> None:
    """Refuse a value longer than the field's limit in :data:`FIELD_LIMITS`."""
    limit = FIELD_LIMITS.get(field)
    if limit is not None and len(value) > limit:
        raise refuse("full", max=limit)
