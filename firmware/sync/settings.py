"""The sync's settings, typed and built once: where the server is, and how the worker behaves.

:class:`ServerSettings` comes from the validated ``[server]`` table; :class:`SyncSettings` holds the
worker's policy (batch size, periods, backoff, when the LED turns red), whose defaults suit a unit in
the field; the simulator and tests change a few with :func:`dataclasses.replace`.

    >>> ServerSettings.from_config({"server": {"url": "https://c.example/api/v1", "token": "t",
    ...                                        "ca_file": "", "timeout_s": 10.0}}).ca_file is None
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: The server's limit per /records/batch.
MAX_BATCH = 1000


@dataclass(frozen=True)
class ServerSettings:
    """The central server: API base URL, the unit's bearer token, a CA bundle (None: the system's)."""

    url: str
    token: str
    ca_file: str | None = None
    timeout_s: float = 10.0

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> ServerSettings:
        server = cfg["server"]
        return cls(str(server["url"]), str(server["token"]), server.get("ca_file") or None,
                   float(server.get("timeout_s", 10.0)))


@dataclass(frozen=True)
class SyncSettings:
    """How the sync worker schedules its work (all times in seconds of the unit's clock)."""

    #: records per POST /records/batch (1 to :data:`MAX_BATCH`)
    batch_size: int = 200
    #: config and time are pulled this often while the server answers
    pull_period_s: float = 600.0
    #: a refused token or certificate is retried this slowly
    auth_retry_s: float = 300.0
    #: R11: the SYNC LED turns red this long before an unsent same-day forward is due
    deadline_margin_s: float = 1800.0
    #: pending records turn the LED red after this many failed pushes in a row
    red_after_failures: int = 3
    #: how often the LED and the deadline watch are re-evaluated
    check_period_s: float = 30.0
    #: set the unit's clock from the server's /time while no better source set it
    set_time: bool = True
    #: capped exponential backoff between failed requests
    backoff_base_s: float = 2.0
    backoff_cap_s: float = 300.0
    #: The simulator's mode: whoever queues a job waits for it, so virtual time never moves while a
    #: request is in flight and every run of a scenario is the same. Never on a real unit.
    lockstep: bool = False
    lockstep_timeout_s: float = 60.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "batch_size", max(1, min(int(self.batch_size), MAX_BATCH)))
