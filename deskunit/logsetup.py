"""Log lines for journald: one ``key=value`` (or JSON) line per record on stdout, personal data redacted.

Under systemd, stdout goes to the journal; a ``<N>`` prefix (sd-daemon(3)) gives each line its
priority, so ``journalctl -u deskunit -p warning`` works. In a terminal the prefix is left out.

    >>> setup_logging(verbose=False)                     # key=value lines
    >>> setup_logging(fmt="json")                         # or one JSON object a line
    >>> logging.getLogger("deskunit").warning("caller +380 44 123 45 67 asked")
    level=warning logger=deskunit msg="caller [phone] asked"

The :class:`RedactFilter` is a safety net, not a licence: code must never log names, phone
numbers, e-mails or appeal contents in the first place. It cannot recognise a name.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Iterable
from typing import Any, TextIO

HIDDEN = "[hidden]"
#: E-mail addresses (pragmatic: something@something.tld).
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
#: Phone numbers: 7 to 15 digits, optionally with '+', spaces, dashes, dots or brackets between them (a
#: local number without its area code has 7). Not inside a longer token (UUIDs, ISO timestamps,
#: durations) and not an ISO date.
PHONE = re.compile(r"(?<![\w:+-])(?!\d{4}-\d\d-\d\d(?:[T ]|$))\+?\(?\d(?:[\s().-]{0,2}\d){6,14}(?![\w:-])")
#: ``name=...``-style fields of personal data, quoted or not.
FIELD = re.compile(r"""(?i)(["']?(?:full_?name|name|residence|address|phone|e-?mail|essence)["']?\s*[:=]\s*)"""
                   r"""("[^"]*"|'[^']*'|\S+)""")
#: Words with non-ASCII letters: the unit's own messages are English, so Cyrillic is a person's data.
NON_ASCII_WORDS = re.compile(r"[^\s\x00-\x7f]\S*(?:\s+\S*[^\s\x00-\x7f]\S*)*")
NAME_PAIR = re.compile(r"\b[A-Z][a-z'’]+(?:[ -][A-Z][a-z'’]+)+\b")
ADDRESS = re.compile(r"\b\d+[A-Za-z]?,?\s+[A-Z][a-z]+(?:\s+(?:[A-Z][a-z]+|St|Str|Ave|Rd)\.?)*")

SYSLOG_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}


def redact(text: str, known: Iterable[str] = ()) -> str:
    """``text`` with personal data hidden, for every log line the unit writes or shows.

    Known names and values (``known``, e.g. the roster's names) and ``name=...``-style fields become
    ``[hidden]``; e-mails ``[email]``; phone numbers ``[phone]``; then addresses, capitalised name
    pairs and any words with non-Latin letters ``[hidden]``. Ids, times and counts stay.

        >>> redact("caller +380 44 123 45 67 wrote to olena@example.com")
        'caller [phone] wrote to [email]'
    """
    for value in sorted({k for k in known if k and len(k) >= 3}, key=len, reverse=True):
        text = re.sub(re.escape(value), HIDDEN, text, flags=re.IGNORECASE)
    text = EMAIL.sub("[email]", text)
    text = FIELD.sub(lambda m: m.group(1) + HIDDEN, text)
    text = PHONE.sub("[phone]", text)
    text = NON_ASCII_WORDS.sub(HIDDEN, text)
    text = ADDRESS.sub(HIDDEN, text)
    return NAME_PAIR.sub(HIDDEN, text)


class RedactFilter(logging.Filter):
    """Redacts the formatted message (and freezes it, so handlers after this one see the same text)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what we have
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        return True


def _quote(value: str) -> str:
    if value and not any(c in value for c in ' "=\\\n'):
        return value
    return json.dumps(value, ensure_ascii=False)


class KeyValueFormatter(logging.Formatter):
    """``level=info logger=deskunit.app msg="..."`` (plus ``exc=...`` for a traceback), one line."""

    def __init__(self, prefix_priority: bool = False, json_lines: bool = False) -> None:
        super().__init__()
        self.prefix_priority = prefix_priority
        self.json_lines = json_lines

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = {
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if not self.prefix_priority:  # journald stamps its own time
            fields = {"ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), **fields}
        if record.exc_info:
            fields["exc"] = self.formatException(record.exc_info)
        fields = {k: redact(v) if isinstance(v, str) else v for k, v in fields.items()}
        if self.json_lines:
            line = json.dumps(fields, ensure_ascii=False)
        else:
            line = " ".join(f"{k}={_quote(str(v))}" for k, v in fields.items())
        if self.prefix_priority:
            line = f"<{SYSLOG_PRIORITY.get(record.levelno, 6)}>{line}"
        return line


def stdout_is_journal(stream: TextIO = sys.stdout) -> bool:
    """True when ``stream`` is the journal stream systemd connected ($JOURNAL_STREAM = dev:inode)."""
    value = os.environ.get("JOURNAL_STREAM", "")
    try:
        dev, ino = (int(x) for x in value.split(":"))
        st = os.fstat(stream.fileno())
    except (ValueError, OSError, AttributeError):
        return False
    return (st.st_dev, st.st_ino) == (dev, ino)


def setup_logging(verbose: bool = False, fmt: str | None = None, stream: TextIO | None = None) -> logging.Handler:
    """Route the root logger to one stdout handler with redaction; returns the handler.

    ``fmt``: ``"kv"`` (default) or ``"json"``; ``$DESKUNIT_LOG_FORMAT`` sets it too.
    """
    stream = stream or sys.stdout
    fmt = fmt or os.environ.get("DESKUNIT_LOG_FORMAT", "kv")
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactFilter())
    handler.setFormatter(KeyValueFormatter(prefix_priority=stdout_is_journal(stream), json_lines=fmt == "json"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    return handler
