"""``deskunit run --sim``: the whole unit on simulated hardware and the real clock, in a terminal.

At start it prints, each on a line of its own and before the first LCD frame, where the browser
panel is (``front panel: http://127.0.0.1:8765/``, :data:`hwsim.PANEL_PORT`; 0 = no
panel), the pty of the technician console (``console pty: /dev/pts/N``) and the simulator's
technician PIN. Then the LCD is printed whenever it changes.

Keys come from stdin when it is a terminal or a pipe or file (not ``/dev/null``, not with
``--no-keys``): ``h`` hook (off/on), ``o`` OK, ``u`` UP, ``d`` DOWN, ``b`` BACK, ``H`` HOLD,
``a`` APPEAL, digits/``*``/``#`` the keypad, ``audio MODE`` (clean, silence, dead, noise:10,
loss:0.2, file.wav), ``q`` quit. The end of input stops the reading of keys, not the unit: it runs
on, serving its panel and console, until ``q``, Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import sys
import threading
import time
from pathlib import Path
from typing import Any

from deskunit.console_backend import attach_console
from deskunit.systemd import supervise
from firmware.call.recovery import recover
from firmware.pin_hash import hash_pin
from firmware.vocabulary import Key
from hwsim import PANEL_PORT
from hwsim.clock import SimClock
from hwsim.faults import command as fault_command
from hwsim.probe import SimProbe
from hwsim.pty import NullModemCable
from hwsim.sync_sim import attach_sync
from hwsim.unit import SIM_TECHNICIAN_PIN, SimUnit

SHORTCUTS = {"o": Key.OK, "u": Key.UP, "d": Key.DOWN, "b": Key.BACK, "H": Key.HOLD, "a": Key.APPEAL}
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


def keys_wanted(stdin: Any) -> bool:
    """Whether to read keys from ``stdin``: a terminal, a pipe or a file; not /dev/null or nothing."""
    if stdin is None:
        return False
    try:
        fd = stdin.fileno()
    except (AttributeError, OSError, ValueError):
        return True  # a stream without a descriptor (tests): read it
    if os.isatty(fd):
        return True
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISREG(mode) or stat.S_ISSOCK(mode)


def run_sim(cfg: dict[str, Any], state_dir: Path | None = None, stdin: Any = sys.stdin,
            http_port: int = PANEL_PORT, keys: bool = True) -> int:
    clock = SimClock()
    technician_pin = None
    if not cfg["console"].get("pin_hash"):  # the simulator's console can be logged into out of the box
        technician_pin = SIM_TECHNICIAN_PIN
        cfg["console"]["pin_hash"] = hash_pin(technician_pin)
    sim = SimUnit.create(cfg, clock, state_dir=state_dir)
    sim.technician_pin = technician_pin
    lock = threading.Lock()
    first = sim.unit.roster()[0]  # the config's first operator, or the simulator's own
    sim.loop.call_soon(sim.unit.sign_in, first["number"], first["name"])

    def show(rows: list[str]) -> None:
        with lock:
            print_screen(rows, {n: sim.led(n) for n in ("line", "hold", "sync")})

    # systemd and crash recovery, as on the Pi; the simulated handset may start off-hook, as a real
    # one is when the unit restarts mid-call (DESKUNIT_SIM_OFF_HOOK=1)
    off_hook = os.environ.get("DESKUNIT_SIM_OFF_HOOK") == "1"
    supervision = supervise(sim.loop, sim.unit)
    sim.loop.call_soon(recover, sim.unit, off_hook)
    if off_hook:
        sim.hook(off=True)

    stop = StopRequest()

    def on_signal(*_: Any) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one stop at a time; a second Ctrl-C is the
        signal.signal(signal.SIGINT, signal.SIG_DFL)   # way out of a stop that hangs
        supervision.stopping()
        stop.request()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    with contextlib.ExitStack() as cleanup:  # whatever got started is stopped, even on an early SIGTERM
        cleanup.callback(sim.close)
        serve(sim, cleanup, show, supervision, stdin if keys and keys_wanted(stdin) else None, http_port, stop)
    print("deskunit: stopped", flush=True)
    return 0


class StopRequest:
    """A stop asked for by a signal, or by ``q`` on the keys' thread; the main thread polls it.

    The signal handler only sets a flag.  Raising from it (a KeyboardInterrupt to leave ``serve``)
    landed wherever the main thread was: in the middle of an import during start-up, or inside the
    code a dataclass compiles with ``exec``, after which CPython ends the process by SIGINT at exit
    even though the interrupt was caught (the unit stopped cleanly, then died of a signal); and a
    flag must not be an Event, whose lock the handler could find held by the very thread it
    interrupted."""

    POLL_S = 0.1

    def __init__(self) -> None:
        self.requested = False

    def request(self) -> None:
        self.requested = True

    def wait(self) -> None:
        while not self.requested:
            time.sleep(self.POLL_S)


def serve(sim: SimUnit, cleanup: contextlib.ExitStack, show: Any, supervision: Any, stdin: Any,
          http_port: int, stop: StopRequest) -> None:
    """Console cable, central server, browser panel, their addresses, then run until a stop is
    requested: by a signal, or by 'q' among the keys read from stdin on a thread of their own."""
    cable = NullModemCable()
    cleanup.callback(cable.close)
    console = attach_console(sim.app, cable.unit_path, probe=SimProbe(sim),
                             restart=lambda: print("deskunit: console restart ignored by the simulator", flush=True))
    cleanup.callback(console.close)  # before the cable goes, so the console does not see its port vanish
    attach_sync(sim)  # the reference central server on loopback, as the unit's central server
    lines = ["deskunit: simulated unit running on the real clock"]
    if http_port:
        from hwsim.panel_server import PanelServer

        try:
            panel = PanelServer(sim, port=http_port).start()
            cleanup.callback(panel.stop)
            lines.append(f"front panel: {panel.url}")
        except OSError as e:  # port taken: the unit runs on without its browser panel
            lines.append(f"front panel: not served on port {http_port}: {e} (--http-port N picks another)")
    lines.append(f"console pty: {cable.technician_path}  (picocom -b 115200 {cable.technician_path})")
    if sim.technician_pin:
        lines.append(f"technician PIN (simulator only): {sim.technician_pin}")
    lines.append(HELP if stdin is not None else "keys: not read from stdin (use the panel or the console)")
    print("\n".join(lines), flush=True)
    sim.on_screen.append(show)
    sim.start_realtime()
    sim.loop.call_soon(supervision.ready)
    sim.loop.call_soon(lambda: show(sim.lcd_rows()))
    if stdin is not None:
        threading.Thread(target=keys_until_quit, args=(sim, stdin, stop), name="keys", daemon=True).start()
    stop.wait()


def keys_until_quit(sim: SimUnit, stdin: Any, stop: StopRequest) -> None:
    """The keys' thread: keys until 'q' (a stop) or the end of input (the unit runs on)."""
    if read_keys(sim, stdin):
        stop.request()
        return
    print("deskunit: end of input: no more keys from stdin; the unit runs on "
          f"(Ctrl-C or kill -TERM {os.getpid()} stops it)", flush=True)


def read_keys(sim: SimUnit, stdin: Any) -> bool:
    """Keys from ``stdin`` until ``q`` (True) or the end of input (False)."""
    for raw in stdin:
        line = raw.strip()
        if not line:
            continue
        if line == "q":
            return True
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
            except (ValueError, OSError) as e:  # the line stays as it was
                print(f"audio: {e}", flush=True)
        elif line in SHORTCUTS or line.upper() in SHORTCUTS.values():
            key = SHORTCUTS.get(line, line.upper())
            sim.tap(key)
        elif all(ch in "0123456789*#" for ch in line):
            for ch in line:
                sim.tap(ch)
        else:
            print(f"?? {line!r}. {HELP}", flush=True)
    return False
