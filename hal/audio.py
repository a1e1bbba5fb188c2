"""The caller's side of the headset from a USB audio interface, via sounddevice or PyAudio.

A reader thread does blocking reads of 100 ms blocks and hands them to the line monitor; PortAudio
buffers meanwhile, so analysis never stalls it. Both libraries are imported when capture starts.

    >>> capture = AudioCapture(monitor.feed, sample_rate=8000, backend="sounddevice")
    >>> capture.start()
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

log = logging.getLogger(__name__)
BLOCK_S = 0.1


class AudioCapture:
    """Mono capture at 8 or 16 kHz, blocks of 100 ms handed to ``sink`` on the reader thread."""

    def __init__(self, sink: Callable[[np.ndarray], None], sample_rate: int = 8000,
                 backend: str = "sounddevice", device: str | int | None = None) -> None:
        self.sink = sink
        self.sample_rate = sample_rate
        self.backend = backend
        self.device = device or None
        self.overruns = 0
        self._stream: Any = None
        self._pa: Any = None
        self._running = False
        self._worker: threading.Thread | None = None

    def start(self) -> None:
        """Open the input and start the reader thread (blocking reads: no driver callback, so no
        write+execute memory for a cffi callback, and the unit can run with MemoryDenyWriteExecute)."""
        frames = int(self.sample_rate * BLOCK_S)
        if self.backend == "pyaudio":
            import pyaudio

            self._pa = pyaudio.PyAudio()
            self._stream = self._pa.open(format=pyaudio.paInt16, channels=1, rate=self.sample_rate, input=True,
                                         frames_per_buffer=frames, input_device_index=self.device)

            def read() -> np.ndarray:
                data = self._stream.read(frames, exception_on_overflow=False)
                return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
        else:
            import sounddevice

            self._stream = sounddevice.RawInputStream(samplerate=self.sample_rate, channels=1, dtype="int16",
                                                      blocksize=frames, device=self.device)
            self._stream.start()

            def read() -> np.ndarray:
                data, overflowed = self._stream.read(frames)
                if overflowed:
                    self.overruns += 1
                return np.frombuffer(bytes(data), dtype="<i2").astype(np.float32) / 32768.0

        self._running = True
        self._worker = threading.Thread(target=self._run, args=(read,), name="deskunit-audio", daemon=True)
        self._worker.start()

    def _run(self, read: Callable[[], np.ndarray]) -> None:
        while self._running:
            try:
                block = read()
            except Exception:  # a USB interface unplugged: say so, and try again shortly
                log.exception("audio read failed")
                time.sleep(1.0)
                continue
            self.sink(block)

    def stop(self) -> None:
        self._running = False
        if self._worker is not None:
            self._worker.join(timeout=1.0)
        if self._stream is not None:
            if self.backend == "pyaudio":
                self._stream.stop_stream()
                self._stream.close()
                self._pa.terminate()
            else:
                self._stream.stop()
                self._stream.close()
            self._stream = None


def describe_device(backend: str = "sounddevice", device: str | int | None = None) -> str:
    """The input device that capture would use, for the console's selftest; raises if none."""
    if backend == "pyaudio":
        import pyaudio

        pa = pyaudio.PyAudio()
        info = pa.get_default_input_device_info() if device is None else pa.get_device_info_by_index(int(device))
        return str(info["name"])
    import sounddevice

    return str(sounddevice.query_devices(device or None, "input")["name"])
