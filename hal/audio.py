"""The caller's side of the headset from a USB audio interface, via sounddevice or PyAudio.

The driver's callback only copies blocks into a queue; a worker thread feeds them to the line
monitor, so analysis never stalls PortAudio. Both libraries are imported when capture starts.

    >>> capture = AudioCapture(monitor.feed, sample_rate=8000, backend="sounddevice")
    >>> capture.start()
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

import numpy as np

log = logging.getLogger(__name__)
BLOCK_S = 0.1


class AudioCapture:
    """Mono capture at 8 or 16 kHz, blocks of 100 ms handed to ``sink`` on a worker thread."""

    def __init__(self, sink: Callable[[np.ndarray], None], sample_rate: int = 8000,
                 backend: str = "sounddevice", device: str | int | None = None) -> None:
        self.sink = sink
        self.sample_rate = sample_rate
        self.backend = backend
        self.device = device or None
        self.blocks: queue.Queue[np.ndarray | None] = queue.Queue(maxsize=50)
        self.overruns = 0
        self._stream = None
        self._worker: threading.Thread | None = None

    def _push(self, block: np.ndarray) -> None:
        try:
            self.blocks.put_nowait(block)
        except queue.Full:
            self.overruns += 1  # drop rather than block the audio driver

    def start(self) -> None:
        frames = int(self.sample_rate * BLOCK_S)
        if self.backend == "pyaudio":
            import pyaudio

            pa = pyaudio.PyAudio()

            def on_block(data, _count, _info, _status):
                self._push(np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0)
                return (None, pyaudio.paContinue)

            self._stream = pa.open(format=pyaudio.paInt16, channels=1, rate=self.sample_rate, input=True,
                                   frames_per_buffer=frames, stream_callback=on_block,
                                   input_device_index=self.device)
            self._stream.start_stream()
        else:
            import sounddevice

            def callback(indata, _frames, _time, status):
                if status:
                    log.debug("audio status %s", status)
                self._push(indata[:, 0].copy())

            self._stream = sounddevice.InputStream(samplerate=self.sample_rate, channels=1, dtype="float32",
                                                   blocksize=frames, device=self.device, callback=callback)
            self._stream.start()
        self._worker = threading.Thread(target=self._run, name="deskunit-audio", daemon=True)
        self._worker.start()

    def _run(self) -> None:
        while (block := self.blocks.get()) is not None:
            self.sink(block)

    def stop(self) -> None:
        if self._stream is not None:
            if self.backend == "pyaudio":
                self._stream.stop_stream()
            else:
                self._stream.stop()
            self._stream.close()
            self._stream = None
        self.blocks.put(None)


def describe_device(backend: str = "sounddevice", device: str | int | None = None) -> str:
    """The input device that capture would use, for the console's selftest; raises if none."""
    if backend == "pyaudio":
        import pyaudio

        pa = pyaudio.PyAudio()
        info = pa.get_default_input_device_info() if device is None else pa.get_device_info_by_index(int(device))
        return str(info["name"])
    import sounddevice

    return str(sounddevice.query_devices(device or None, "input")["name"])
