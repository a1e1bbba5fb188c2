"""``deskunit run --sim``: the whole unit on simulated hardware and the real clock, in a terminal.

The LCD is printed whenever it changes; lines typed on stdin press keys and move the hook:
``h`` hook (off/on), ``o`` OK, ``u`` UP, ``d`` DOWN, ``b`` BACK, ``H`` HOLD, ``a`` APPEAL,
digits/``*``/``#`` the keypad, ``audio MODE`` (clean, silence, dead, noise:10, loss:0.2, file.wav),
``q`` quit. The technician console is served on a pty whose path is printed at start
(``picocom -b 115200 /dev/pts/N``). The front panel is served to a browser on
http://127.0.0.1:8080 (``http_port``; 0 = no panel), see :mod:`hwsim.panel_server`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from deskunit.console_backend import attach_console
from deskunit.systemd import supervise
from firmware.clock import RealClock
from firmware.recovery import recover
from hwsim.faults import command as fault_command
from hwsim.pty import NullModemCable
from hwsim.sync_sim import attach_sync
from hwsim.unit import SimUnit

SHORTCUTS = {"o": "OK", "u": "UP", "d": "DOWN", "b": "BACK", "H": "HOLD", "a": "APPEAL"}
HELP = ("keys: h hook | o OK | u UP | d DOWN | b BACK | H HOLD | a APPEAL | 0-9 * # keypad | "
        "audio clean|silence|dead|noise:DB|loss:F|FILE.wav | "
        "fault lcd_bus:N|lcd_power|audio_unplug|audio_replug | power cut|on | q quit")


def print_screen(rows: list[str], leds: dict[str, str], out: Any = sys.stdout) -> None:
    width = max(len(r) for r in rows)
    out.write("+" + "-" * width + "+  " + "  ".join(f"{k.upper()}:{v}" for k, v in leds.items()) + "\n")
    for r in rows:
        out.write("|" + r.ljust(width) + "|\n")
    out.write("+" + "-" * width + "+\n")
    out.flush()


def run_sim(cfg: dict[str, Any], state_dir: Path | None = None, stdin: Any = sys.stdin,
            http_port: int = 8080) -> int:
    clock = RealClock()
    sim = SimUnit.create(cfg, clock, state_dir=state_dir)
    lock = threading.Lock()
    roster = cfg.get("operators") or []
    if roster:
        sim.loop.call_soon(sim.unit.sign_in, roster[0]["number"], roster[0]["name"])

    def show(rows: list[str]) -> None:
        with lock:
            print_screen(rows, {n: sim.led(n) for n in ("line", "hold", "sync")})

    sim.on_screen.append(show)
    # systemd and crash recovery, as on the Pi; the simulated handset may start off-hook, as a real
    # one is when the unit restarts mid-call (DESKUNIT_SIM_OFF_HOOK=1)
    off_hook = os.environ.get("DESKUNIT_SIM_OFF_HOOK") == "1"
    supervision = supervise(sim.loop, sim.unit)
    sim.loop.call_soon(recover, sim.unit, off_hook)
    if off_hook:
        sim.hook(off=True)

    def on_sigterm(*_: Any) -> None:
        supervision.stopping()
        raise KeyboardInterrupt  # leaves serve(); the exit stack closes what was started

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_sigterm)
    with contextlib.ExitStack() as cleanup:  # whatever got started is stopped, even on an early SIGTERM
        cleanup.callback(sim.close)
        with contextlib.suppress(KeyboardInterrupt):  # SIGTERM (see on_sigterm) or Ctrl-C
            serve(sim, cleanup, show, supervision, stdin, http_port)
    return 0


def serve(sim: SimUnit, cleanup: contextlib.ExitStack, show: Any, supervision: Any, stdin: Any,
          http_port: int) -> None:
    """Console cable, central server, browser panel, then keys from stdin until 'q' or end of input."""
    cable = NullModemCable()
    cleanup.callback(cable.close)
    attach_console(sim.app, cable.unit_path, sim=sim,
                   restart=lambda: print("deskunit: console restart ignored by the simulator", flush=True))
    attach_sync(sim)  # the reference central server on loopback, as the unit's central server
    sim.start_realtime()
    sim.loop.call_soon(supervision.ready)
    print("deskunit: simulated unit running on the real clock.", HELP, sep="\n", flush=True)
    print(f"deskunit: technician console on {cable.technician_path} (picocom -b 115200 {cable.technician_path})",
          flush=True)
    if http_port:
        from hwsim.panel_server import PanelServer

        try:
            panel = PanelServer(sim, port=http_port).start()
            cleanup.callback(panel.stop)
            print(f"deskunit: front panel on {panel.url}", flush=True)
        except OSError as e:  # port taken: the unit runs on without its browser panel
            print(f"deskunit: front panel not served on port {http_port}: {e} (--http-port)", flush=True)
    show(sim.lcd_rows())
    for raw in stdin:
        line = raw.strip()
        if not line:
            continue
        if line == "q":
            break
        if line == "h":
            sim.hook(off=not sim.panel.off_hook())  # the pin's state: the browser may have moved it
        elif line.startswith(("fault ", "power ")):
            try:  # fault lcd_bus:3 | lcd_power | audio_unplug | audio_replug; power cut | on
                print("deskunit:", fault_command(sim, line.replace("power ", "power:", 1).split(None, 1)[1]),
                      flush=True)
            except ValueError as e:
                print(f"fault: {e}", flush=True)
        elif line.startswith("audio "):
            try:
                sim.line.set_mode(line.split(None, 1)[1])
            except ValueError as e:
                print(f"audio: {e}", flush=True)
        elif line in SHORTCUTS or line.upper() in SHORTCUTS.values():
            key = SHORTCUTS.get(line, line.upper())
            sim.tap(key)
        elif all(ch in "0123456789*#" for ch in line):
            for ch in line:
                sim.tap(ch)
        else:
            print(f"?? {line!r}. {HELP}", flush=True)
