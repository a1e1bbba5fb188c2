"""One assembly of the unit over the hardware interfaces, for a Pi and for the simulator alike.

:class:`App` wires the event loop, the core, the LEDs, the LCD screen, the journal and the line
monitor around whatever hardware it is given: gpiozero's default pin factory and RPLCD on a Pi
(:mod:`deskunit.hardware`), or MockFactory pins and the HD44780 emulator in the simulator
(:mod:`hwsim.unit`). It lives in ``hal`` because both of those build on it and the simulator must
not depend on the daemon.

    >>> app = App.build(cfg, RealClock(), frame_display=RplcdDisplay(), state_dir=Path("/var/lib/deskunit"))
    >>> app.loop.run_forever()
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from firmware.audio_watch import AudioWatch
from firmware.call.unit import Unit
from firmware.clock import Clock
from firmware.display import FrameDisplay, LcdScreen, parse_size
from firmware.events import HookChanged, Subscribers
from firmware.journal import Journal
from firmware.leds import Leds
from firmware.line_monitor import LineMonitor
from firmware.loop import EventLoop
from firmware.vocabulary import Led
from hal.gpio import PanelInputs, RgbLed, panel_leds

log = logging.getLogger("deskunit")


def sync_shown(unit: Unit, state: Any) -> None:
    """What the sync knows, on the panel (loop thread): the SYNC LED, blinking red while an R11 forward
    is at risk (steady red is "server down"), and the idle screen's queue count and deadline line."""
    unit.leds.set(Led.SYNC, state.led, blink=state.deadline_at_risk)
    unit.refresh()


@dataclass
class App:
    """The unit's parts, wired; ``closers`` run in reverse order on :meth:`close`.

    ``records`` tells its subscribers of each record the unit saved (the sync worker pushes at once).
    """

    cfg: dict[str, Any]
    clock: Clock
    loop: EventLoop
    unit: Unit
    panel: PanelInputs
    hw_leds: dict[str, RgbLed]
    screen: LcdScreen
    journal: Journal
    monitor: LineMonitor
    state_dir: Path
    records: Subscribers[dict[str, Any]]
    closers: list[Callable[[], None]] = field(default_factory=list)
    sync: Any = None
    audio: AudioWatch | None = None  # audio blocks go through it to the line monitor
    #: the hardware parts and how each is doing ("ok", "missing (reason)"...), for the console's status
    parts: dict[str, Callable[[], str]] = field(default_factory=dict)

    @classmethod
    def build(cls, cfg: dict[str, Any], clock: Clock, *, frame_display: FrameDisplay, state_dir: Path,
              pin_factory: Any = None, journal: Journal | None = None) -> App:
        cols, rows = parse_size(cfg["lcd"]["size"])
        screen = LcdScreen(frame_display, cols, rows, cfg["lcd"]["rom"])
        holder: dict[str, Unit] = {}
        loop = EventLoop(clock, handler=lambda e: holder["unit"].handle(e))
        panel = PanelInputs(cfg["pins"], loop.post, clock, pin_factory=pin_factory, call_later=loop.call_later)
        hw_leds = panel_leds(cfg["pins"], pin_factory=pin_factory)
        leds = Leds({name: led.set_rgb for name, led in hw_leds.items()}, loop.call_later)
        if journal is None:
            journal = Journal(Path(state_dir) / "journal.sqlite3", clock=clock)
        monitor = LineMonitor(cfg["audio"]["sample_rate"], loop.post)
        records: Subscribers[dict[str, Any]] = Subscribers()
        unit = Unit(cfg, clock, loop, display=screen, leds=leds, journal=journal, on_call=monitor.set_active,
                    on_record=records.publish)
        holder["unit"] = unit
        start_display = getattr(frame_display, "start", None)
        if start_display is not None:  # an hal.lcd_keeper.LcdKeeper: opens, probes and heals the LCD
            start_display(loop.call_later)
        app = cls(cfg, clock, loop, unit, panel, hw_leds, screen, journal, monitor, Path(state_dir), records)
        watch = app.audio = AudioWatch(clock, monitor, loop.post)

        def on_call(active: bool) -> None:
            monitor.set_active(active)
            watch.call_active(active, loop.call_later)

        unit.on_call = on_call
        app.closers += [journal.close, *(led.close for led in hw_leds.values()), panel.close, loop.stop]
        return app

    def attach_sync(self, client: Any, settings: Any = None, *, rng: Any = None) -> Any:
        """Start a :class:`firmware.sync.SyncWorker` over ``client`` wired to this unit: a push after
        each saved record, the SYNC LED and pushed config applied on the loop's thread."""
        from firmware.sync import SyncWorker

        unit = self.unit
        from firmware.sync import SyncSettings

        # R11's warning comes from the one rule (appeal.forward_warn_min), whoever built the settings
        settings = replace(settings or SyncSettings(), deadline_margin_s=unit.desk.settings.appeal.forward.warn_s)
        worker = SyncWorker(self.journal, client, self.loop, self.clock, settings,
                            on_change=lambda state: sync_shown(unit, state),
                            on_config=unit.apply_config, rng=rng)
        self.records.subscribe(lambda record: worker.kick())
        self.sync = worker
        self.closers.append(worker.stop)  # closers run last-in first-out: before the journal closes
        worker.start()
        return worker

    def sync_hook_state(self) -> None:
        """Tell the core where the handset is now (after a restart it may already be off-hook)."""
        if self.panel.off_hook():
            self.loop.post(HookChanged(off_hook=True))

    def close(self) -> None:
        while self.closers:
            try:
                self.closers.pop()()
            except Exception:
                log.exception("closing")
