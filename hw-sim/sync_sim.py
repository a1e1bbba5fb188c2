"""Sync in the simulator: a real central server on loopback and the real :class:`SyncWorker`.

:func:`attach_sync` gives a :class:`hwsim.unit.SimUnit` what a unit in the field has: a central
server it syncs to over HTTP (the reference server from ``central/``, with fault injection), the
SYNC LED driven by the worker, and a push after each saved record. Under a virtual clock the worker
runs in lockstep (virtual time never moves while a request is in flight), so a scenario's retries
and LED changes are the same on every run.

    >>> sim = SimUnit.create(cfg, VirtualClock(wall_start=...))
    >>> worker = attach_sync(sim)
    >>> sim.set_server(False)            # the server goes down: records wait in the journal
    >>> sim.hook(off=True); sim.advance(5); sim.hook(off=False); sim.advance(1)
    >>> sim.led("sync"), sim.synced_count()
    ('amber', 0)
    >>> sim.set_server(True); sim.advance(120)
    >>> sim.led("sync"), sim.synced_count()
    ('green', 1)
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from dataclasses import replace
from typing import Any

from central.faults import Faults
from central.server import CentralServer
from firmware.clock import VirtualClock
from firmware.sync import ServerSettings, SyncClient, SyncSettings, SyncWorker

log = logging.getLogger(__name__)

SIM_CENTRAL_DB = "sim-central.db"  # the simulated center's database, in the unit's state directory


def sim_token(server: CentralServer, unit_id: str) -> str:
    """The simulated unit's bearer token: stable per server and unit, so re-attaching keeps it valid."""
    return hashlib.sha256(f"{server.admin_token}:{unit_id}".encode()).hexdigest()


def attach_sync(sim: Any, server: CentralServer | None = None, *, seed: int = 0,
                **settings: Any) -> SyncWorker:
    """Start (unless given) a central server on loopback, register ``sim``'s unit, and wire a worker.

    Wires: ``sim.attach_server(server)``, so ``sim.set_server(up)`` takes the server down or up; a push after each
    saved record (a subscriber of ``sim.app.records``); the SYNC LED, set on the loop's
    thread; pushed config applied to the unit; ``sim.before_advance`` waits for the worker; and
    ``sim.close()`` stops the worker (and the server, when this function started it).
    ``settings`` change fields of the worker's :class:`SyncSettings` (e.g. ``deadline_margin_s``,
    ``set_time``).
    """
    virtual = isinstance(sim.clock, VirtualClock)
    own = server is None
    if server is None:
        # Under a virtual clock the server keeps the scenario's time too, so its received_at and
        # forward deadlines are as reproducible as the unit's.
        clock = (lambda: sim.clock.now().timestamp()) if virtual else time.time
        # its database lives in the unit's state directory: a unit killed as a power cut would otherwise
        # leave a server directory in /tmp behind at every kill, and restarted on the same state it
        # finds what the server had received, as a real center keeps it
        server = CentralServer(sim.state_dir / SIM_CENTRAL_DB, faults=Faults(), clock=clock).start()
    unit_id = sim.cfg["unit"]["id"]
    token = sim_token(server, unit_id)
    server.add_unit(unit_id, token)
    client = SyncClient(server.url + "/api/v1", token, timeout_s=ServerSettings.from_config(sim.cfg).timeout_s)
    # A scenario that omits `clock` means an untrusted clock for the whole run, so under a virtual
    # clock the worker does not set it from /time unless asked (set_time=True).
    chosen = replace(SyncSettings(lockstep=virtual, set_time=not virtual), **settings)
    worker = sim.app.attach_sync(client, chosen, rng=random.Random(seed))
    sim.attach_server(server)

    sim.before_advance.append(lambda: worker.wait_idle(60.0))

    if own:
        sim.app.closers.append(server.stop)
    return worker
