"""The caller's side of the line, simulated: speech, silence, a dead line, noise, packet loss, a WAV.

Frames are produced on demand for however much time the clock advanced, so the analyzer sees
audio at the clock's pace, virtual or real. Signals are deterministic (seeded) for repeatable tests.

    >>> line = SimLine(sample_rate=8000)
    >>> line.set_mode("noise:5")        # speech with white noise 5 dB below it
    >>> line.set_mode("vad")            # a softphone's caller: pauses sent as digital silence
    >>> chunk = line.read(800)          # the next 100 ms
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np

from firmware.exc import WavError
from firmware.line.analyzer import FRAME_S, LINE_FLOOR_DBFS  # a packet; a live line's hiss (a dead one is silent)
from firmware.line.wavfile import read_mono

LINE_MODES = ("clean", "silence", "dead", "vad", "noise:SNR_DB", "loss:FRACTION")  # and a WAV path
MODES = (*LINE_MODES, "a WAV path")
# a softphone's voice activity detector sends a 20-ms packet as exact digital silence when it is this
# far under the talker's loud packets, once this many such packets have gone (its hangover: 100 ms)
VAD_BELOW_DB = 30.0
VAD_HANGOVER = 5


def softphone_pauses(x: np.ndarray, packet: int, below_db: float = VAD_BELOW_DB,
                     hangover: int = VAD_HANGOVER) -> np.ndarray:
    """The samples of `x` that a softphone with voice activity detection sends as digital silence
    (a boolean mask): packets of `packet` samples more than `below_db` under the talker's loud ones
    (the 95th percentile of packet levels), after `hangover` such packets."""
    n = len(x) // packet
    level = 10 * np.log10(np.mean(np.square(x[: n * packet], dtype=np.float64).reshape(n, packet), axis=1) + 1e-20)
    quiet = level < np.percentile(level, 95) - below_db
    silent = quiet.copy()
    for k in range(1, hangover + 1):
        silent[k:] &= quiet[:-k]
    mask = np.zeros(len(x), bool)
    mask[: n * packet] = np.repeat(silent, packet)
    return mask


def softphone_sends(x: np.ndarray, sample_rate: int) -> np.ndarray:
    """`x` as a softphone with voice activity detection sends it: the talker's pauses
    (:func:`softphone_pauses`, 20-ms packets) as exact digital silence."""
    return np.where(softphone_pauses(x, int(round(sample_rate * FRAME_S))), 0.0, x)


def read_wav(path: str | Path, sample_rate: int) -> np.ndarray:
    """Mono float samples from a PCM WAV, resampled linearly to ``sample_rate`` if needed.

    The header is checked before anything is read (:func:`firmware.line.wavfile.read_mono`): a
    missing, empty, non-WAV, FIFO or directory path, or an absurd rate, raises :class:`WavError`
    (a ValueError) naming the file, and the line keeps what it played.
    """
    try:
        x64, rate = read_mono(str(path))
    except WavError as e:
        raise WavError(f"{path}: {e}") from None
    x = x64.astype(np.float32)
    if rate != sample_rate:
        n = int(round(len(x) * sample_rate / rate))
        x = np.interp(np.linspace(0, len(x) - 1, n), np.arange(len(x)), x).astype(np.float32)
    return x


def bundled_speech(sample_rate: int) -> np.ndarray:
    """Our own short Ukrainian utterances (espeak-ng), joined into one loop."""
    folder = resources.files("hwsim").joinpath("speech")
    parts = [read_wav(str(p), sample_rate) for p in sorted(folder.iterdir(), key=lambda p: p.name)
             if p.name.endswith(".wav")]
    return np.concatenate(parts)


def parse_mode(mode: str) -> tuple[str, float | None]:
    """Split ``noise:10`` into ("noise", 10.0); raise ValueError with the reason when malformed."""
    name, _, arg = mode.partition(":")
    if name in LINE_MODES and not arg:  # the modes without an argument
        return name, None
    if name in ("noise", "loss") and arg:
        try:
            value = float(arg)
        except ValueError:
            raise ValueError(f"{mode!r}: {arg!r} is not a number") from None
        if name == "loss" and not 0.0 <= value <= 1.0:
            raise ValueError(f"{mode!r}: a loss fraction is between 0 and 1")
        return name, value
    if mode.lower().endswith(".wav"):
        return "wav", None
    raise ValueError(f"unknown audio {mode!r}: use one of {', '.join(MODES)}")


class SimLine:
    """An endless caller-side signal whose character can be switched at any moment."""

    def __init__(self, sample_rate: int = 8000, seed: int = 7, base_dir: Path | None = None) -> None:
        self.sample_rate = sample_rate
        self.base_dir = base_dir or Path.cwd()
        self._rng = np.random.default_rng(seed)
        self._speech = bundled_speech(sample_rate)
        #: the RMS a ``noise:SNR`` mode sets its noise against: the speech's while it talks (about half the time)
        self.talker_rms = np.sqrt(np.mean(self._speech ** 2) * 2)
        self._loop = self._speech
        self._pauses: np.ndarray | None = None  # the loop's samples a softphone sends as silence
        self._pos = 0
        self.mode = "clean"
        self._kind, self._arg = "clean", None

    def set_mode(self, mode: str) -> None:
        kind, arg = parse_mode(mode)
        if kind == "wav":
            path = Path(mode)
            if not path.is_absolute():
                path = self.base_dir / path
            samples = read_wav(path, self.sample_rate)  # raises before anything changes
            if not len(samples):
                raise WavError(f"{path}: holds no audio")
            self._loop, self._pos, self._pauses = samples, 0, None
        elif self._kind == "wav":
            self._loop, self._pos, self._pauses = self._speech, 0, None
        self.mode, self._kind, self._arg = mode, kind, arg

    def seek(self, sample: int) -> None:
        """Play the loop from ``sample`` on (wrapped to its length)."""
        self._pos = sample % len(self._loop)

    def _loop_index(self, n: int) -> np.ndarray:
        idx = (self._pos + np.arange(n)) % len(self._loop)
        self._pos = (self._pos + n) % len(self._loop)
        return idx

    def _floor(self, n: int, dbfs: float = LINE_FLOOR_DBFS) -> np.ndarray:
        return (self._rng.standard_normal(n) * 10 ** (dbfs / 20)).astype(np.float32)

    def read(self, n: int) -> np.ndarray:
        """The next ``n`` samples of the line, float32 in [-1, 1]."""
        kind = self._kind
        if kind == "dead":
            return np.zeros(n, dtype=np.float32)
        if kind == "silence":
            return self._floor(n)
        idx = self._loop_index(n)
        x = self._loop[idx] + self._floor(n)
        if kind == "vad":  # the softphone gates the line: its hiss goes with the talker's pauses
            if self._pauses is None:
                self._pauses = softphone_pauses(self._loop, int(self.sample_rate * FRAME_S))
            x[self._pauses[idx]] = 0.0
        elif kind == "noise":
            x = x + self._rng.standard_normal(n).astype(np.float32) * self.talker_rms * 10 ** (-self._arg / 20)
        elif kind == "loss":
            frame = int(self.sample_rate * FRAME_S)
            frames = (n + frame - 1) // frame
            lost = np.repeat(self._rng.random(frames) < self._arg, frame)[:n]
            x = np.where(lost, 0.0, x)
        return np.clip(x, -1.0, 1.0).astype(np.float32)
