"""Sync: the journal's outbox drained to the central server, config and time pulled from it.

Nothing the operator was told is saved may be lost, and nothing may arrive twice. The journal is the
outbox: a record is marked synced only after the server confirmed it (``created`` or ``duplicate``),
so a crash between the server storing and the unit marking just means one re-send that the server
answers ``duplicate`` (records are idempotent by id).

The rooms:

- :mod:`~firmware.sync.client`: :class:`SyncClient` speaks the central server's API over HTTPS with
  certificate verification; every failure is a :class:`firmware.exc.SyncError` with a kind.
- :mod:`~firmware.sync.settings`: :class:`ServerSettings` and :class:`SyncSettings`, typed, built once.
- :mod:`~firmware.sync.policy`: backoff, the R11 forward deadline, the SYNC LED's colour.
- :mod:`~firmware.sync.pushed_config`: checking a config the server pushes.
- :mod:`~firmware.sync.jobs`: the push and pull jobs the worker's thread runs.
- :mod:`~firmware.sync.worker`: :class:`SyncWorker`, one thread for HTTP and the journal (the one
  store shared under a lock), all scheduling on the unit's clock through the loop.

    >>> client = SyncClient("https://central.example.org/api/v1", token="...", ca_file="/etc/ca.pem")
    >>> worker = SyncWorker(journal, client, loop, clock, SyncSettings(), on_led=leds_sync)
    >>> worker.start()
    >>> app.records.subscribe(lambda record: worker.kick())    # push at once after each saved record
    >>> worker.state()["led"]
    'green'

Personal data (an appeal's name, residence, phone, e-mail, essence) never reaches the log: only
record ids, statuses and field names do.
"""

from firmware.exc import InsecureURL, SyncError, SyncErrorKind
from firmware.sync.client import DEFAULT_API_PATH, BatchOutcome, SyncClient, TimeReading, is_loopback
from firmware.sync.jobs import PARKED_DRAFT, PullResult, PushResult
from firmware.sync.policy import Backoff, SyncState, sync_led
from firmware.sync.pushed_config import PUSHED_CONFIG_DRAFT, validate_pushed_config
from firmware.sync.settings import MAX_BATCH, ServerSettings, SyncSettings
from firmware.sync.worker import SyncWorker

__all__ = [
    "DEFAULT_API_PATH", "MAX_BATCH", "PARKED_DRAFT", "PUSHED_CONFIG_DRAFT", "Backoff", "BatchOutcome",
    "InsecureURL", "PullResult", "PushResult", "ServerSettings", "SyncClient", "SyncError", "SyncErrorKind",
    "SyncSettings", "SyncState", "SyncWorker", "TimeReading", "is_loopback", "sync_led",
    "validate_pushed_config",
]
