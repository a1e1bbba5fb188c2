"""The call layer's settings, typed and built once from the validated config.

    >>> settings = CallSettings.from_config(load_config())
    >>> settings.hold.limit_s
    180.0
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from firmware.deadline import ForwardRule
from firmware.greeting import Boundaries
from firmware.vocabulary import Language


@dataclass(frozen=True)
class HoldSettings:
    """R18: the HOLD LED turns amber at ``warn_s`` and blinks red past ``limit_s``."""

    warn_s: float
    limit_s: float


@dataclass(frozen=True)
class LineSettings:
    """R16: seconds to reach a caller the operator cannot hear; R21: a silence that suggests a callback."""

    countdown_s: float
    silent_callback_s: float


@dataclass(frozen=True)
class AppealSettings:
    """R22 ring times, R11's same-day forwarding cut-off, and how long personal data is kept."""

    long_ring_s: float
    normal_ring_s: float
    forward: ForwardRule
    retention_days: int
    default_country: str = "380"


@dataclass(frozen=True)
class CallSettings:
    """Everything the call layer reads from the config, built by :meth:`from_config`."""

    unit_id: str
    language: Language
    rom: str
    greeting: Boundaries
    hold: HoldSettings
    line: LineSettings
    appeal: AppealSettings
    journal_keep_days: int = 365  # confirmed records are deleted from the unit after this many days
    operators: tuple[Mapping[str, Any], ...] = ()
    directories: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> CallSettings:
        appeal = cfg["appeal"]
        return cls(
            unit_id=cfg["unit"]["id"],
            language=Language(cfg["unit"]["language"]),
            rom=cfg["lcd"]["rom"],
            greeting=Boundaries.from_config(cfg["greeting"]),
            hold=HoldSettings(float(cfg["hold"]["warn_s"]), float(cfg["hold"]["limit_s"])),
            line=LineSettings(float(cfg["line"]["countdown_s"]), float(cfg["line"]["silent_callback_s"])),
            appeal=AppealSettings(appeal["long_ring_s"], appeal["normal_ring_s"], ForwardRule.from_config(appeal),
                                  appeal["retention_days"], str(appeal.get("default_country", "380"))),
            journal_keep_days=cfg["journal"]["keep_days"],
            operators=tuple(cfg.get("operators") or ()),
            directories=cfg.get("directories") or {},
        )
