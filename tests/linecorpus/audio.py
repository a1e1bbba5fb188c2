"""Sample-level helpers shared by the corpus: the telephone rate, levels, band limits, WAV files."""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import soundfile as sf

RATE = 8000
PACKET = 160  # one 20 ms RTP packet at 8 kHz: the unit of loss, and of level measurement


def quiet_run(cmd: list[str]) -> None:
    """Run an external tool (espeak-ng, sox, ffmpeg); its chatter is of no interest, its failure is."""
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def packet_energies_db(x: np.ndarray) -> np.ndarray:
    n = len(x) // PACKET
    if n == 0:
        return np.array([-150.0])
    return 10 * np.log10(np.mean(x[: n * PACKET].reshape(n, PACKET) ** 2, axis=1) + 1e-15)


def speech_level_dbfs(x: np.ndarray) -> float:
    """Mean power of the packets that carry speech: those within 35 dB of the loudest ones.

    A stand-in for ITU-T P.56's active speech level, good enough to set and label levels: pauses do not
    pull the figure down, so a slow talker and a fast one at the same loudness measure alike.
    """
    e = packet_energies_db(x)
    top = np.percentile(e, 99)
    active = e[e > top - 35]
    return float(10 * np.log10(np.mean(10 ** (active / 10))))


def at_level(x: np.ndarray, dbfs: float) -> np.ndarray:
    """``x`` scaled so that its speech level is ``dbfs``."""
    return x * 10 ** ((dbfs - speech_level_dbfs(x)) / 20)


def read_wav(path: Path) -> np.ndarray:
    x, rate = sf.read(path, dtype="float64", always_2d=True)
    assert rate == RATE, (path, rate)
    return x.mean(axis=1)


def write_wav(path: Path, x: np.ndarray) -> np.ndarray:
    """Write 16-bit PCM and return what was written (after quantisation): labels describe the file."""
    sf.write(path, np.clip(x, -1.0, 1.0), RATE, subtype="PCM_16")
    return read_wav(path)
