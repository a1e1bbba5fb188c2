"""Checks of what the operator types into the appeal form: Ukrainian phone numbers, e-mail, lengths.

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

#: Most characters each appeal field may hold (phone: the E.164 form, ``+380`` and 9 digits).
FIELD_LIMITS: dict[str, int] = {
    "full_name": 100,
    "residence": 150,
    "essence": 500,
    "phone": 13,
    "email": 254,
}

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


def normalize_phone(raw: str) -> str:
    """A Ukrainian number in any usual spelling, as E.164 ``+380XXXXXXXXX``.

    Accepted: ``0671234567``, ``067 123 45 67``, ``(067) 123-45-67``, ``80671234567``, ``8 067 ...``,
    ``380671234567``, ``+380671234567``, ``+38 067 ...``, ``00380671234567``.
    """
    compact = _PHONE_SEPARATORS.sub("", raw)
    if not compact:
        raise refuse("phone.empty")
    plus = compact.startswith("+")
    digits = compact[1:] if plus else compact
    if not digits.isascii() or not digits.isdigit():
        raise refuse("phone.chars")
    if plus or digits.startswith("00380"):
        digits = digits if plus else digits[2:]
        if not digits.startswith("380"):
            raise refuse("phone.country")
        nsn = digits[3:]
    elif digits.startswith("380"):
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
    if len(nsn) < UA_NSN_DIGITS:
        raise refuse("phone.too_short")
    if len(nsn) > UA_NSN_DIGITS:
        raise refuse("phone.too_long")
    if nsn[0] not in UA_CODE_FIRST_DIGITS:
        raise refuse("phone.code", code="0" + nsn[:2])
    return "+380" + nsn


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
