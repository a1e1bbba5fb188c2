"""Reading a PCM WAV recording without trusting it: the header is checked before any sample is read.

A hostile or broken file must cost a clear :class:`~firmware.exc.WavError`, never gigabytes or a
hung process: the path must be a regular file (a FIFO would block the reader for ever, a directory
or a device is no recording), the rate 8-48 kHz, one or two channels, 8-32-bit samples, at least one
frame and at most ``max_seconds`` of audio (counted from what the file really holds, not only from
what its header claims). ``deskunit linecheck`` and the simulator's ``audio FILE.wav`` both read
through here.

    >>> x, rate = read_mono("call.wav")       # float64 samples in [-1, 1], at the file's own rate
"""

from __future__ import annotations

import os
import stat
import wave
from dataclasses import dataclass

import numpy as np

from firmware.exc import WavError

MIN_RATE = 8000
MAX_RATE = 48000
MAX_CHANNELS = 2
#: Longest recording read at all (a 10-minute 48 kHz stereo file is ~110 MB of samples).
MAX_SECONDS = 600.0
_CHUNK_FRAMES = 1 << 16


@dataclass(frozen=True)
class WavHeader:
    """What a WAV file's header says, limited to the frames the file really holds."""

    channels: int
    width: int  # bytes per sample
    rate: int
    frames: int

    @property
    def seconds(self) -> float:
        return self.frames / self.rate


def _open_regular(path: str) -> int:
    """A read-only descriptor on ``path`` when it is a regular file; never blocks on a FIFO."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise WavError("no such file") from None
    except IsADirectoryError:
        raise WavError("is a directory, not a WAV file") from None
    except PermissionError:
        raise WavError("permission denied") from None
    except OSError as e:
        raise WavError(f"cannot open ({e.strerror or e})") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = ("a directory" if stat.S_ISDIR(mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(mode)
                else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file")
        raise WavError(f"is {kind}, not a WAV file")
    os.set_blocking(fd, True)
    return fd


def check_header(w: wave.Wave_read, size: int, max_seconds: float = MAX_SECONDS) -> WavHeader:
    """The header of an open file of ``size`` bytes, or :class:`WavError` saying what is wrong with it."""
    channels, width, rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
    if not MIN_RATE <= rate <= MAX_RATE:
        raise WavError(f"sample rate {rate} Hz is outside {MIN_RATE}-{MAX_RATE} Hz")
    if not 1 <= channels <= MAX_CHANNELS:
        raise WavError(f"{channels} channels (1 or {MAX_CHANNELS} are read)")
    if not 1 <= width <= 4:
        raise WavError(f"unsupported sample width {width * 8} bits")
    frames = min(w.getnframes(), size // (channels * width))
    if frames <= 0:
        raise WavError("holds no audio (0 frames)")
    header = WavHeader(channels, width, rate, frames)
    if header.seconds > max_seconds:
        raise WavError(f"{header.seconds:.0f} s of audio is longer than the {max_seconds:.0f} s read at most")
    return header


def _to_float(raw: bytes, width: int) -> np.ndarray:
    if width == 1:
        return (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128.0) / 128.0
    if width == 2:
        return np.frombuffer(raw, dtype="<i2") * (1.0 / 32768.0)  # one pass; a power of two: exact
    if width == 3:
        b = np.frombuffer(raw[: len(raw) // 3 * 3], dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        return np.where(v >= 1 << 23, v - (1 << 24), v).astype(np.float64) / float(1 << 23)
    return np.frombuffer(raw, dtype="<i4").astype(np.float64) / float(1 << 31)


def read_mono(path: str, max_seconds: float = MAX_SECONDS) -> tuple[np.ndarray, int]:
    """(mono float64 samples in [-1, 1], sample rate) of a checked PCM WAV file; see the module."""
    fd = _open_regular(str(path))
    with os.fdopen(fd, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        try:
            with wave.open(fh, "rb") as w:
                h = check_header(w, size, max_seconds)
                parts = []
                left = h.frames
                while left > 0:
                    try:
                        raw = w.readframes(min(left, _CHUNK_FRAMES))
                    except EOFError:  # the file ends before its header says: keep what it holds
                        break
                    if not raw:
                        break
                    x = _to_float(raw, h.width)
                    if h.channels > 1:
                        x = x[: len(x) // h.channels * h.channels].reshape(-1, h.channels).mean(axis=1)
                    parts.append(x)
                    left -= len(raw) // (h.channels * h.width)
        except (wave.Error, EOFError) as e:
            raise WavError(f"not a PCM WAV file ({e})") from None
        except OSError as e:
            raise WavError(f"cannot read ({e.strerror or e})") from None
    x = np.concatenate(parts) if parts else np.zeros(0)
    if not len(x):
        raise WavError("holds no audio (0 frames)")
    return x, h.rate
