"""`deskunit run` (the real-hardware path, not --sim) end to end on a machine without a Pi.

Real PortAudio through sounddevice reads ALSA: an ``.asoundrc`` made here (found through $HOME)
defines a ``file`` PCM whose ``infile`` is a FIFO this test feeds with recorded caller speech at the
real pace. The LCD is RPLCD over a fault-injecting fake SMBus with the HD44780 emulator behind it
(``DESKUNIT_I2C_BUS``, see :mod:`hwsim.bench_bus`); GPIO is gpiozero's mock pin factory
(``GPIOZERO_PIN_FACTORY=mock``); the console is a pty. Needs Debian's libportaudio2.
"""

from __future__ import annotations

import ctypes.util
import os
import re
import subprocess
import sys
import threading
import time
import wave
from importlib import resources
from pathlib import Path

import pytest
import serial

from hwsim.matching import fold
from hwsim.pty import NullModemCable
from tests.waiting import until

pytestmark = pytest.mark.skipif(ctypes.util.find_library("portaudio") is None,
                                reason="needs libportaudio2 (packages-debian.txt)")
ASOUNDRC = """
pcm.deskunit_caller {{
    type file
    slave.pcm "null"
    file "/dev/null"
    infile "{fifo}"
    format "raw"
}}
"""



class CallerLine:
    """Writes caller speech (8 kHz, 16-bit mono) into the FIFO at the real pace, 100 ms at a time."""

    def __init__(self, fifo: Path) -> None:
        os.mkfifo(fifo)
        self.fd = os.open(fifo, os.O_RDWR)  # held open: PortAudio's probes never block on it
        speech = resources.files("hwsim").joinpath("speech/uk_1.wav")
        with wave.open(str(speech), "rb") as w:
            self.pcm = w.readframes(w.getnframes())
        self.playing = threading.Event()
        self.playing.set()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._play, daemon=True)
        self.thread.start()

    def _play(self) -> None:
        pos, step = 0, 1600
        while not self.stop.wait(0.1):
            if self.playing.is_set():
                os.write(self.fd, self.pcm[pos:pos + step])
                pos = (pos + step) % (len(self.pcm) - step)

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        os.close(self.fd)


class Terminal:
    def __init__(self, path: str) -> None:
        self.port = serial.Serial(path, 115200, timeout=0.05)

    def ask(self, line: str, pattern: str, timeout: float = 10.0) -> str:
        self.port.write(line.encode() + b"\r")
        buf, deadline = "", time.monotonic() + timeout
        while time.monotonic() < deadline:
            buf += self.port.read(4096).decode("utf-8", "replace")
            if re.search(pattern, buf):
                return buf
        raise AssertionError(f"no {pattern!r} within {timeout} s; got {buf[-800:]!r}")


def start_unit(tmp_path: Path, cable: NullModemCable, *, device: str, lcd: str, faults: str = "") -> subprocess.Popen:
    site = tmp_path / "deskunit.toml"
    site.write_text(f'[unit]\nstate_dir = "{tmp_path / "state"}"\n'
                    f'[audio]\ndevice = "{device}"\n'
                    f'[console]\nport = "{cable.unit_path}"\n', encoding="utf-8")
    (tmp_path / "state").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTIFY_SOCKET", "DESKUNIT_"))}
    env.update(HOME=str(tmp_path), GPIOZERO_PIN_FACTORY="mock", DESKUNIT_I2C_BUS="hwsim.bench_bus:open_bus",
               DESKUNIT_BENCH_LCD=lcd, DESKUNIT_BENCH_LCD_FAULTS=faults,
               DESKUNIT_BENCH_LCD_DUMP=str(tmp_path / "lcd.txt"))
    return subprocess.Popen([sys.executable, "-m", "deskunit.cli", "run", "--config", str(site)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def stop_unit(unit: subprocess.Popen) -> str:
    unit.terminate()
    try:
        out, _ = unit.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        unit.kill()
        out, _ = unit.communicate()
    return out


def lcd_text(tmp_path: Path) -> str:
    path = tmp_path / "lcd.txt"
    return path.read_text(encoding="utf-8") if path.exists() else ""


def whole_idle_screen(text: str) -> bool:
    """The idle screen, every row of it: clock warning, sign-in prompt, time and queue."""
    rows = [fold(r) for r in text.splitlines()[:4]]
    want = ["Час не перевірено", "Увійдіть: №", "оператора, OK", "Черга: 0"]
    # each on a row of its own, whatever order the idle layout puts them in
    where = sorted(next((i for i, r in enumerate(rows) if fold(w) in r), -1) for w in want)
    return len(rows) == 4 and where == [0, 1, 2, 3]


def test_deskunit_run_on_portaudio_alsa_rplcd_and_gpiozero_with_lcd_faults(tmp_path):
    fifo = tmp_path / "caller.raw"
    (tmp_path / ".asoundrc").write_text(ASOUNDRC.format(fifo=fifo), encoding="utf-8")
    line = CallerLine(fifo)
    cable = NullModemCable()
    # a lost write early in the start-up screen, and a supply dip of the LCD later on
    unit = start_unit(tmp_path, cable, device="deskunit_caller", lcd="present", faults="fail@300,power@1200")
    term = Terminal(cable.technician_path)
    try:
        assert until(lambda: whole_idle_screen(lcd_text(tmp_path)), 20, interval=0.1), lcd_text(tmp_path)
        out = term.ask("status", r"hardware.*audio ok \((\d+) blocks read\)")
        first = int(re.search(r"audio ok \((\d+) blocks", out).group(1))
        time.sleep(2.0)
        out = term.ask("status", r"audio ok \((\d+) blocks read\)")
        second = int(re.search(r"audio ok \((\d+) blocks", out).group(1))
        assert second >= first + 10  # ~10 blocks a second: read at the line's pace through PortAudio
        assert "lcd ok" in out and "gpio ok" in out
        # both LCD faults happened, and the screen is whole: the idle screen with the operator
        assert until(lambda: "failed=1" in lcd_text(tmp_path) and int(
            re.search(r"writes=(\d+)", lcd_text(tmp_path)).group(1)) > 1300, 15, interval=0.1), lcd_text(tmp_path)
        assert until(lambda: whole_idle_screen(lcd_text(tmp_path)), 3, interval=0.1), lcd_text(tmp_path)
        assert unit.poll() is None
    finally:
        log = stop_unit(unit)
        term.port.close()
        cable.close()
        line.close()
    assert unit.returncode == 0, log[-2000:]
    assert "re-initialising" in log


def test_deskunit_run_without_lcd_or_audio_keeps_serving_its_console(tmp_path):
    cable = NullModemCable()
    unit = start_unit(tmp_path, cable, device="no such interface", lcd="absent")
    term = Terminal(cable.technician_path)
    try:
        time.sleep(10.0)
        assert unit.poll() is None, "the daemon exited"
        out = term.ask("status", r"hardware[^\n]*gpio")
        assert "lcd missing" in out and "audio missing" in out
        assert "records waiting" in out
    finally:
        log = stop_unit(unit)
        term.port.close()
        cable.close()
    assert "lcd: not found" in log and "audio input 'no such interface' not available" in log
