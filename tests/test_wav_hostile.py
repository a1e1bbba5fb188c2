"""Hostile WAV files against `deskunit linecheck` and the simulator's `audio FILE.wav` (issue 18, point 9):
the header is checked before anything is read, one bad file gives one error line and the batch goes on,
the simulated line stays as it was."""

from __future__ import annotations

import json
import os
import struct
import threading
import wave
from pathlib import Path

import numpy as np
import pytest

from firmware.clock import VirtualClock
from firmware.config import load_config
from firmware.line.linecheck import main
from hwsim.audio import SimLine
from hwsim.unit import SimUnit


def wav_header(rate: int, channels: int = 1, width: int = 2, data_bytes: int = 0) -> bytes:
    """A RIFF/WAVE header declaring whatever it is told to (``data_bytes`` of frames follow it)."""
    fmt = struct.pack("<HHIIHH", 1, channels, rate, (rate * channels * width) & 0xFFFFFFFF, channels * width,
                      width * 8)
    riff = struct.pack("<I", (36 + data_bytes) & 0xFFFFFFFF)
    return b"RIFF" + riff + b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", data_bytes)


def write(path: Path, header: bytes, frames: bytes = b"") -> str:
    path.write_bytes(header + frames)
    return str(path)


def good(path: Path, seconds: float = 1.0) -> str:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(np.zeros(int(8000 * seconds), dtype="<i2").tobytes())
    return str(path)


def long_file(path: Path, seconds: int = 2 * 3600) -> str:
    """A real 2-hour 48 kHz stereo file (1.4 GB), sparse: it takes no disk, reading it would take 9.5 GB."""
    data = 48000 * 2 * 2 * seconds
    path.write_bytes(wav_header(48000, channels=2, data_bytes=data))
    os.truncate(path, 44 + data)
    return str(path)


def hostile(tmp_path: Path) -> dict[str, str]:
    body = bytes(400_000)
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    (tmp_path / "dir.wav").mkdir()
    return {
        "1 Hz": write(tmp_path / "one_hz.wav", wav_header(1, data_bytes=len(body)), body),
        "4294967295 Hz": write(tmp_path / "huge_rate.wav", wav_header(4294967295, data_bytes=len(body)), body),
        "6 channels": write(tmp_path / "six.wav", wav_header(8000, channels=6, data_bytes=len(body)), body),
        "zero frames": write(tmp_path / "empty.wav", wav_header(8000)),
        "2 h stereo": long_file(tmp_path / "long.wav"),
        "fifo": str(fifo),
        "directory": str(tmp_path / "dir.wav"),
        "missing": str(tmp_path / "nope.wav"),
        "not a wav": write(tmp_path / "text.wav", b"hello, not audio"),
    }


def test_each_hostile_file_gets_an_error_line_and_the_batch_goes_on(tmp_path, capsys):
    files = hostile(tmp_path)
    last = good(tmp_path / "good.wav")
    done = threading.Event()
    result: list[int] = []

    def run() -> None:
        result.append(main(["--json", *files.values(), last]))
        done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(60), "linecheck hung (a FIFO opened for reading blocks for ever)"
    cap = capsys.readouterr()
    assert result == [1]
    judged = [json.loads(line)["file"] for line in cap.out.splitlines()]
    assert judged == [last]  # the good file after all the bad ones is still judged
    errors = cap.err.splitlines()
    assert len(errors) == len(files)
    for path, line in zip(files.values(), errors, strict=True):
        assert line.startswith(f"linecheck: {path}: ")
    text = cap.err
    assert "sample rate 1 Hz" in text and "sample rate 4294967295 Hz" in text and "FIFO" in text
    assert "6 channels" in text and "no audio" in text and "longer than" in text


def test_a_claimed_length_beyond_the_file_is_not_believed(tmp_path, capsys):
    """The header claims a minute; the file holds 0.2 s: read as the 0.2 s it is."""
    frames = bytes(8000 * 2 // 5)
    path = write(tmp_path / "liar.wav", wav_header(8000, data_bytes=8000 * 2 * 60), frames)
    assert main(["--json", path]) == 0
    assert json.loads(capsys.readouterr().out)["file"] == path


@pytest.mark.parametrize("kind", ["missing", "zero frames", "not a wav", "directory", "fifo", "1 Hz"])
def test_sim_audio_with_a_bad_file_says_why_and_the_line_stays(tmp_path, kind):
    line = SimLine(8000)
    line.set_mode("noise:10")
    before = line.read(800)
    with pytest.raises(ValueError, match=r"\.wav: "):
        line.set_mode(hostile(tmp_path)[kind])
    assert line.mode == "noise:10"
    assert len(line.read(800)) == len(before)


def test_a_zero_length_wav_does_not_stop_the_simulated_line(tmp_path):
    sim = SimUnit.create(load_config(), VirtualClock(), state_dir=tmp_path / "state")
    try:
        sim.hook(off=True)
        sim.advance(1.0)
        with pytest.raises(ValueError):
            sim.line.set_mode(write(tmp_path / "empty.wav", wav_header(8000)))
        sim.line.set_mode("dead")
        sim.advance(15.0)  # audio keeps flowing: the analyzer hears the dead line
        assert sim.unit.line_verdict == "no_signal"
    finally:
        sim.close()
