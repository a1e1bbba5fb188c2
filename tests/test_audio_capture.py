"""The audio adapter reopens a USB interface that was unplugged, or whose stream stalled, with backoff.

sounddevice is replaced by a stand-in with its API and PortAudio's habit that matters here: devices are
listed when PortAudio is initialised, so an interface plugged back is only found after re-initialising
(the real library over real PortAudio and ALSA runs in test_real_path.py).
"""

from __future__ import annotations

import sys
import time

import pytest

import hal.audio as audio_mod
from hal.audio import AudioCapture, AudioState
from tests.waiting import until


class FakeSoundDevice:
    """``sounddevice`` as far as AudioCapture uses it, with a USB interface that can be pulled out."""

    def __init__(self) -> None:
        self.plugged = True
        self.stalled = False
        self.listed: list[str] = []
        self.inits = 0
        self._initialize()

    def _initialize(self) -> None:
        self.inits += 1
        self.listed = ["USB Audio Device: - (hw:1,0)"] if self.plugged else []

    def _terminate(self) -> None:
        self.listed = []

    def RawInputStream(self, samplerate, channels, dtype, blocksize, device):  # noqa: N802 (sounddevice's name)
        if not any(device is None or str(device) in name for name in self.listed):
            raise ValueError(f"No input device matching {device!r}")
        return FakeStream(self, samplerate, blocksize)


class FakeStream:
    def __init__(self, sd: FakeSoundDevice, rate: int, blocksize: int) -> None:
        self.sd, self.rate, self.blocksize = sd, rate, blocksize
        self.t0 = time.monotonic()
        self.read_frames = 0

    def start(self) -> None:
        pass

    @property
    def read_available(self) -> int:
        if not self.sd.plugged:
            raise OSError("Error querying stream [PaErrorCode -9999]: Unanticipated host error")
        if self.sd.stalled:
            return 0
        return int((time.monotonic() - self.t0) * self.rate) - self.read_frames

    def read(self, frames: int):
        self.read_frames += frames
        return bytes(2 * frames), False

    def close(self) -> None:
        pass


@pytest.fixture
def fake_sd(monkeypatch):
    sd = FakeSoundDevice()
    monkeypatch.setitem(sys.modules, "sounddevice", sd)
    monkeypatch.setattr(audio_mod, "REOPEN_BACKOFF_S", (0.02, 0.05))
    monkeypatch.setattr(audio_mod, "STALL_S", 0.3)
    return sd


def test_an_unplugged_interface_is_reopened_when_it_comes_back(fake_sd):
    blocks = []
    capture = AudioCapture(blocks.append, 8000, device="USB Audio")
    capture.start()
    try:
        assert until(lambda: len(blocks) >= 2, 5.0)
        assert capture.state is AudioState.OK
        fake_sd.plugged = False
        assert until(lambda: capture.state is AudioState.LOST, 5.0)
        time.sleep(0.2)
        inits = fake_sd.inits
        assert inits >= 3  # it kept looking (PortAudio re-initialised for each attempt)
        n = len(blocks)
        fake_sd.plugged = True
        assert until(lambda: capture.state is AudioState.OK and len(blocks) > n + 2, 5.0)
        assert capture.reopens >= 1
    finally:
        capture.stop()


def test_a_stalled_stream_is_closed_and_opened_again(fake_sd):
    blocks = []
    capture = AudioCapture(blocks.append, 8000)
    capture.start()
    try:
        assert until(lambda: len(blocks) >= 1, 5.0)
        fake_sd.stalled = True
        assert until(lambda: capture.reopens >= 1 or capture.state is AudioState.LOST, 5.0)
        fake_sd.stalled = False
        n = len(blocks)
        assert until(lambda: len(blocks) > n + 1, 5.0)
    finally:
        capture.stop()


def test_missing_at_start_is_retried_and_the_unit_is_not_held_up(fake_sd):
    fake_sd.plugged = False
    fake_sd._initialize()
    blocks = []
    capture = AudioCapture(blocks.append, 8000, device="USB Audio")
    started = time.monotonic()
    capture.start()
    try:
        assert time.monotonic() - started < 0.5  # start() does not wait for the device
        assert until(lambda: capture.state is AudioState.MISSING, 5.0)
        fake_sd.plugged = True
        assert until(lambda: len(blocks) >= 1, 5.0)
    finally:
        capture.stop()
