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
from typing import Any, TextIO

#: E-mail addresses (pragmatic: something@something.tld).
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
#: Phone numbers: 9 to 15 digits, optionally with '+', spaces, dashes, dots or brackets between them.
#: Not inside a longer token, so UUIDs, ISO timestamps and durations are left alone.
PHONE = re.compile(r"(?<![\w:+-])\+?\(?\d(?:[ ().-]{0,2}\d){8,14}(?![\w:-])")

SYSLOG_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}


def redact(text: str) -> str:
    """Replace e-mails and phone numbers with ``[email]`` / ``[phone]``."""
    return PHONE.sub("[phone]", EMAIL.sub("[email]", text))


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
