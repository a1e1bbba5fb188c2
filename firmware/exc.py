"""Every exception deskunit raises on purpose, under one root.

Each class derives from :class:`DeskunitError`, so a caller can catch "anything deskunit refused",
and, where one fits, from the builtin it behaves like (a bad value is also a :class:`ValueError`),
so code that knows nothing of deskunit still catches it as it would the builtin.

    >>> issubclass(ConfigError, ValueError) and issubclass(ConfigError, DeskunitError)
    True
    >>> SyncError(SyncErrorKind.AUTH, "server refused the unit's token (401)", 401).kind
    <SyncErrorKind.AUTH: 'auth'>
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class DeskunitError(Exception):
    """Base class of every exception deskunit raises on purpose."""


# ---------------------------------------------------------------- configuration


class ConfigError(DeskunitError, ValueError):
    """A configuration value is wrong: ``key`` is the dotted key, ``reason`` says why."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key, self.reason = key, reason


class InsecureURL(DeskunitError, ValueError):
    """A plain ``http://`` server URL for a host that is not loopback."""


# ---------------------------------------------------------------- sync


class SyncErrorKind(StrEnum):
    """What the sync worker does about a request that did not succeed."""

    #: network down, timeout, 5xx, malformed or truncated answer: try again later
    RETRY = "retry"
    #: 401/403 (or a certificate the unit cannot verify): failing, retry slowly
    AUTH = "auth"
    #: the server refused a record (400; the error's ``index`` names it in the batch): park it
    INVALID = "invalid"
    #: another 4xx, a bug or a misconfigured URL: failing, normal backoff
    CLIENT = "client"


class SyncError(DeskunitError):
    """A request to the central server that did not succeed; ``kind`` decides what the worker does.

    Not an :class:`OSError`: besides network faults it carries the server's refusals (400, 401...).
    """

    def __init__(self, kind: SyncErrorKind, message: str, status: int | None = None, *,
                 index: int | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.kind = SyncErrorKind(kind)
        self.status, self.index, self.field = status, index, field


# ---------------------------------------------------------------- operator and technician input


class InvalidInput(DeskunitError, ValueError):
    """A value the appeal form refuses; ``code`` (e.g. ``phone.too_short``) names the reason and
    ``params`` fill its text, which :func:`firmware.appeal.text.explain` gives in the operator's
    language; ``str()`` is ``message``, the Ukrainian text (see :func:`firmware.appeal.validation.refuse`)."""

    def __init__(self, reason: str, message: str = "", /, **params: Any) -> None:
        self.code = reason
        self.params = params
        super().__init__(message or reason)


class CommandError(DeskunitError):
    """A console command cannot do what was asked; the message is shown to the technician as is."""


# ---------------------------------------------------------------- files and tools


class WavError(DeskunitError, ValueError):
    """A file that is not a usable PCM WAV recording."""


class ScenarioError(DeskunitError, ValueError):
    """A scenario file itself is wrong: names the step and the key."""


class WorkerFailed(DeskunitError, RuntimeError):
    """A forked worker of `linecheck` died or raised (its traceback went to stderr)."""
