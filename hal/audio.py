"""The caller's side of the headset from a USB audio interface, via sounddevice or PyAudio.

A reader thread does blocking reads of 100 ms blocks and hands them to the line monitor; PortAudio
buffers meanwhile, so analysis never stalls it. Both libraries are imported when capture starts.

    >>> capture = AudioCapture(monitor.feed, sample_rate=8000, backend="sounddevice")
    >>> capture.start()
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from enum import Enum
from typing import Any

import numpy as np

log = logging.getLogger(__name__)
BLOCK_S = 0.1


#: Pauses between attempts to (re)open the input: quick at first, then a slow retry.
REOPEN_BACKOFF_S = (0.5, 1.0, 2.0, 5.0)
#: No block for this long from an open stream: it has stalled (an unplugged USB interface often
#: leaves PortAudio's stream open and silent); it is closed and opened again.
STALL_S = 1.0


class AudioState(Enum):
    """The input as the console's ``status`` shows it."""

    STARTING = "starting"
    OK = "ok"
    LOST = "lost"  # was working; being reopened
    MISSING = "missing"  # never opened since start-up


def audio_device(value: str | int | None) -> str | int | None:
    """``audio.device`` as the libraries take it: ``""`` is the system default (None), an int or a
    string of digits is a device index (0 is the first device, not the default), other text a name."""
    if value is None or value == "":
        return None
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return int(value)
    return value


class AudioCapture:
    """Mono capture at 8 or 16 kHz, blocks of 100 ms handed to ``sink`` on the reader thread.

    The reader thread opens the input, reads blocks as they become available and, when a read fails
    or no block came for :data:`STALL_S`, closes the stream and opens it again, pausing
    :data:`REOPEN_BACKOFF_S` between attempts; before each reopen PortAudio is re-initialised, since
    it lists devices only then and a USB interface plugged back may have a new index. A device that
    is missing at start-up is retried the same way: the unit runs without audio meanwhile.
    """

    def __init__(self, sink: Callable[[np.ndarray], None], sample_rate: int = 8000,
                 backend: str = "sounddevice", device: str | int | None = None) -> None:
        self.sink = sink
        self.sample_rate = sample_rate
        self.backend = backend
        self.device = audio_device(device)
        self.overruns = 0
        self.blocks = 0
        self.reopens = 0
        self.state = AudioState.STARTING
        self.reason = ""
        self._stream: Any = None
        self._pa: Any = None
        self._running = False
        self._wake = threading.Event()
        self._worker: threading.Thread | None = None

    def start(self) -> None:
        """Start the reader thread (blocking reads: no driver callback, so no write+execute memory for
        a cffi callback, and the unit can run with MemoryDenyWriteExecute); it opens the input."""
        self._running = True
        self._worker = threading.Thread(target=self._run, name="deskunit-audio", daemon=True)
        self._worker.start()

    def _run(self) -> None:
        attempt = 0
        while self._running:
            try:
                available, read = self._open(fresh=attempt > 0)
            except Exception as e:  # no such device, device busy, PortAudio missing...
                self._close()
                if self.state is not AudioState.LOST:
                    if self.state is AudioState.STARTING:
                        log.error("audio input %s not available: %s; retrying", self._name(), e)
                    self.state = AudioState.MISSING
                self.reason = str(e)
                self._pause(attempt)
                attempt += 1
                continue
            if attempt:
                self.reopens += 1
                log.info("audio input %s open again", self._name())
            self.state, self.reason, attempt = AudioState.OK, "", 0
            try:
                self._pump(available, read)
            except Exception as e:  # unplugged, stalled, a host error
                if self._running:
                    log.warning("audio input %s lost: %s; reopening", self._name(), e)
                    self.state, self.reason = AudioState.LOST, str(e)
            self._close()
            if self._running:
                self._pause(0)
                attempt = 1

    def _pump(self, available: Callable[[], int], read: Callable[[], np.ndarray]) -> None:
        frames = int(self.sample_rate * BLOCK_S)
        last = time.monotonic()
        while self._running:
            if available() >= frames:
                self.sink(read())
                self.blocks += 1
                last = time.monotonic()
            elif time.monotonic() - last > STALL_S:
                raise TimeoutError(f"no audio for {STALL_S:g} s")
            else:
                self._wake.wait(BLOCK_S / 4)

    def _pause(self, attempt: int) -> None:
        self._wake.wait(REOPEN_BACKOFF_S[min(attempt, len(REOPEN_BACKOFF_S) - 1)])

    def _name(self) -> str:
        return "(default)" if self.device is None else repr(self.device)

    def _open(self, fresh: bool) -> tuple[Callable[[], int], Callable[[], np.ndarray]]:
        frames = int(self.sample_rate * BLOCK_S)
        if self.backend == "pyaudio":
            import pyaudio

            self._pa = pyaudio.PyAudio()  # a new instance enumerates the devices again
            if isinstance(self.device, str):
                raise ValueError("the PyAudio backend takes a device index (audio.device = 2), not a name")
            stream = self._stream = self._pa.open(format=pyaudio.paInt16, channels=1, rate=self.sample_rate,
                                                  input=True, frames_per_buffer=frames,
                                                  input_device_index=self.device)

            def read() -> np.ndarray:
                data = stream.read(frames, exception_on_overflow=False)
                return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0

            return stream.get_read_available, read
        import sounddevice

        if fresh:  # PortAudio lists devices when initialised: see a replugged interface
            sounddevice._terminate()
            sounddevice._initialize()
        stream = self._stream = sounddevice.RawInputStream(samplerate=self.sample_rate, channels=1, dtype="int16",
                                                           blocksize=frames, device=self.device)
        stream.start()

        def read() -> np.ndarray:
            data, overflowed = stream.read(frames)
            if overflowed:
                self.overruns += 1
            return np.frombuffer(bytes(data), dtype="<i2").astype(np.float32) / 32768.0

        return lambda: stream.read_available, read

    def _close(self) -> None:
        stream, self._stream = self._stream, None
        try:
            if stream is not None:
                if self.backend == "pyaudio":
                    stream.stop_stream()
                stream.close()
        except Exception as e:  # closing a device that is gone
            log.debug("audio close: %s", e)
        if self._pa is not None:
            with contextlib.suppress(Exception):
                self._pa.terminate()
            self._pa = None

    def stop(self) -> None:
        self._running = False
        self._wake.set()
        if self._worker is not None:
            self._worker.join(timeout=2.0)
        self._close()


def describe_device(backend: str = "sounddevice", device: str | int | None = None) -> str:
    """The input device that capture would use, for the console's selftest; raises if none."""
    device = audio_device(device)
    if backend == "pyaudio":
        import pyaudio

        pa = pyaudio.PyAudio()
        info = pa.get_default_input_device_info() if device is None else pa.get_device_info_by_index(int(device))
        return str(info["name"])
    import sounddevice

    return str(sounddevice.query_devices(device, "input")["name"])
