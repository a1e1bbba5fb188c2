"""What a telephone line does to a caller: noise, lost packets, codecs, clipping, band limits, echo.

Each function takes 8 kHz float samples and returns the impaired samples, the same length.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from .audio import PACKET, RATE, quiet_run, read_wav, speech_level_dbfs, write_wav


def coloured_noise(rng: np.random.Generator, n: int, colour: str) -> np.ndarray:
    """Unit-power noise: ``white``, ``pink`` (power falling 3 dB an octave) or ``hum`` (50 Hz mains)."""
    if colour == "hum":
        t = np.arange(n) / RATE
        z = sum(np.sin(2 * np.pi * 50 * k * t + 0.7 * k) / k for k in (1, 2, 3, 4, 5)) + rng.normal(0, 0.03, n)
    elif colour == "pink":
        spectrum = np.fft.rfft(rng.normal(0, 1, n))
        f = np.maximum(np.fft.rfftfreq(n, 1 / RATE), 20.0)
        z = np.fft.irfft(spectrum / np.sqrt(f), n)
    elif colour == "white":
        z = rng.normal(0, 1, n)
    else:
        raise ValueError(f"unknown noise colour {colour!r}")
    return z / np.sqrt(np.mean(z**2))


def mix_at_snr(speech: np.ndarray, interferer: np.ndarray, snr_db: float) -> np.ndarray:
    """``speech`` plus ``interferer`` scaled so that the speech level is ``snr_db`` above its power."""
    return speech + at_snr(speech, interferer, snr_db)


def at_snr(speech: np.ndarray, interferer: np.ndarray, snr_db: float) -> np.ndarray:
    """``interferer`` scaled so that the speech level of ``speech`` is ``snr_db`` above its power."""
    power = 10 ** ((speech_level_dbfs(speech) - snr_db) / 10)
    return interferer * np.sqrt(power / np.mean(interferer**2))


def noise_over_the_line(speech: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``speech`` (as the line delivers it) with ``noise`` that set in at the caller's end, ``snr_db`` under
    the talker: the line carries the noise in its 300-3400 Hz band as it carries the talker.  Noise outside
    that band never reaches the unit; added after the band, it masks the talker's missing low and high
    bands by ESTOI (white noise 6 dB under an espeak-ng talker: 0.60 full-band, 0.72 in the band)."""
    return speech + telephone_band(at_snr(speech, noise, snr_db))


def telephone_band(x: np.ndarray) -> np.ndarray:
    """The 300-3400 Hz voice band of a telephone channel (smooth FFT skirts)."""
    f = np.fft.rfft(x)
    fr = np.fft.rfftfreq(len(x), 1 / RATE)
    g = np.ones_like(fr)
    g[fr < 300] = np.exp(-(((300 - fr[fr < 300]) / 80.0) ** 2))
    g[fr > 3400] = np.exp(-(((fr[fr > 3400] - 3400) / 120.0) ** 2))
    return np.fft.irfft(f * g, len(x))


def line_floor(x: np.ndarray, rng: np.random.Generator, dbfs: float) -> np.ndarray:
    """The faint hiss every live line has: detectors may not count on digital silence."""
    return x + coloured_noise(rng, len(x), "pink") * 10 ** (dbfs / 20)


def lose_packets(x: np.ndarray, rng: np.random.Generator, rate: float, burst: float = 1.0,
                 conceal: str = "zero") -> np.ndarray:
    """Drop 20 ms packets: a two-state (Gilbert) chain with mean loss ``rate`` and mean burst ``burst``.

    A lost packet is played as silence (``zero``) or as the last good packet, fading (``repeat``), as
    a jitter buffer's concealment does.
    """
    leave_bad = 1.0 / burst
    enter_bad = rate * leave_bad / max(1e-9, 1.0 - rate)
    y = x.copy()
    lost = False
    held = np.zeros(PACKET)
    fade = 1.0
    for start in range(0, len(y) - PACKET + 1, PACKET):
        lost = rng.random() >= leave_bad if lost else rng.random() < enter_bad
        if not lost:
            held, fade = y[start:start + PACKET].copy(), 1.0
        elif conceal == "repeat":
            fade *= 0.6
            y[start:start + PACKET] = held * fade
        else:
            y[start:start + PACKET] = 0.0
    return y


def hard_clip(x: np.ndarray, keep: float) -> np.ndarray:
    """Clip at ``keep`` of the peak, then bring the peak back to near full scale (an overdriven AGC)."""
    limit = keep * np.max(np.abs(x))
    return np.clip(x, -limit, limit) * (0.95 / limit)


def band_limit(x: np.ndarray, top_hz: float) -> np.ndarray:
    """A muffled line: everything above ``top_hz`` removed with a steep sox low-pass."""
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp, "in.wav"), Path(tmp, "out.wav")
        write_wav(src, x)
        quiet_run(["sox", str(src), str(out), "sinc", f"-{top_hz:g}"])
        return read_wav(out)[: len(x)]


def echo(x: np.ndarray, delay_ms: float, gain: float) -> np.ndarray:
    """One talker echo ``delay_ms`` later at ``gain``."""
    d = int(delay_ms * RATE / 1000)
    y = x.copy()
    y[d:] += gain * x[: len(x) - d]
    return y


# codec name -> (ffmpeg encoder options, container for the coded stream)
FFMPEG_CODECS = {
    "g726-16k": (["-c:a", "g726", "-b:a", "16k"], "wav"),
    "g723": (["-c:a", "g723_1", "-b:a", "6.3k"], "g723_1"),
    "speex": (["-c:a", "libspeex", "-b:a", "5k"], "ogg"),
    "opus-6k": (["-c:a", "libopus", "-b:a", "6k"], "ogg"),
}
CODECS = ("ulaw", "gsm", *FFMPEG_CODECS)


def through_codec(x: np.ndarray, name: str) -> np.ndarray:
    """Encode and decode with a real codec: G.711 u-law and GSM 06.10 by sox, the rest by ffmpeg."""
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp, "in.wav"), Path(tmp, "out.wav")
        write_wav(src, x)
        if name == "ulaw":
            coded = Path(tmp, "coded.wav")
            quiet_run(["sox", str(src), "-e", "mu-law", "-b", "8", str(coded)])
            quiet_run(["sox", str(coded), "-e", "signed-integer", "-b", "16", str(out)])
        elif name == "gsm":
            coded = Path(tmp, "coded.gsm")
            quiet_run(["sox", str(src), str(coded)])
            quiet_run(["sox", str(coded), "-e", "signed-integer", "-b", "16", str(out)])
        elif name in FFMPEG_CODECS:
            options, container = FFMPEG_CODECS[name]
            coded = Path(tmp, "coded")
            quiet_run(["ffmpeg", "-nostdin", "-y", "-i", str(src), *options, "-f", container, str(coded)])
            quiet_run(["ffmpeg", "-nostdin", "-y", "-f", container, "-i", str(coded),
                       "-ar", str(RATE), "-ac", "1", "-c:a", "pcm_s16le", str(out)])
        else:
            raise ValueError(f"unknown codec {name!r}; known: {', '.join(CODECS)}")
        y = read_wav(out)
    return np.pad(y[: len(x)], (0, max(0, len(x) - len(y))))
