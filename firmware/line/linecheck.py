"""`deskunit linecheck [--json] FILE.wav...`: judge recorded lines with the daemon's own analyzer.

Each file is read with the standard `wave` module (PCM WAV; 8 or 16 kHz are used as they are, other
rates are resampled to 8 kHz, several channels are mixed down) and streamed through
`firmware.line.analyzer`.  With --json one object a line: {"file": ..., "verdict": ..., "score": ...}.
A file that cannot be read gets one clear line on stderr; the others are still judged and the exit
status is 1.
"""
from __future__ import annotations

import argparse
import json
import sys
import wave

import numpy as np

from firmware.exc import WavError
from firmware.line.analyzer import analyze


def read_wav(path: str) -> tuple[np.ndarray, int]:
    """Return (mono float samples in [-1, 1], sample rate) for an 8/16/24/32-bit PCM WAV file."""
    try:
        with wave.open(path, "rb") as w:
            ch, width, rate, nfr = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
            raw = w.readframes(nfr)
    except FileNotFoundError:
        raise WavError("no such file") from None
    except IsADirectoryError:
        raise WavError("is a directory, not a WAV file") from None
    except PermissionError:
        raise WavError("permission denied") from None
    except (wave.Error, EOFError) as e:
        raise WavError(f"not a PCM WAV file ({e})") from None
    except OSError as e:
        raise WavError(f"cannot read ({e.strerror or e})") from None
    if rate <= 0:
        raise WavError(f"invalid sample rate {rate}")
    if width == 1:
        x = (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128.0) / 128.0
    elif width == 2:
        x = np.frombuffer(raw, dtype="<i2") * (1.0 / 32768.0)  # one pass; a power of two: exact as a division
    elif width == 3:
        b = np.frombuffer(raw[: len(raw) // 3 * 3], dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        x = np.where(v >= 1 << 23, v - (1 << 24), v).astype(np.float64) / float(1 << 23)
    elif width == 4:
        x = np.frombuffer(raw, dtype="<i4").astype(np.float64) / float(1 << 31)
    else:
        raise WavError(f"unsupported sample width {width * 8} bits")
    if ch > 1:
        x = x[: len(x) // ch * ch].reshape(-1, ch).mean(axis=1)
    if rate not in (8000, 16000):
        x = resample(x, rate, 8000)
        rate = 8000
    return x, rate


def resample(x: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Band-limited resampling by FFT (whole signal at once; fine for recordings)."""
    if len(x) == 0:
        return x
    m = int(round(len(x) * target / rate))
    spec = np.fft.rfft(x)
    keep = m // 2 + 1
    out = np.zeros(keep, dtype=complex)
    k = min(keep, len(spec))
    out[:k] = spec[:k]
    return np.fft.irfft(out, m) * (m / len(x))


def main(argv: list[str] | None = None) -> int:
    """Judge each file; print a table or JSON lines; return 0, or 1 if any file failed."""
    ap = argparse.ArgumentParser(
        prog="deskunit linecheck",
        description="Judge telephone-line recordings: good, degraded, unintelligible, silent, no_signal.",
    )
    ap.add_argument("--json", action="store_true", help="one JSON object per file, one a line")
    ap.add_argument("files", nargs="+", metavar="FILE.wav")
    a = ap.parse_args(argv)
    status = 0
    if not a.json:
        print(f"{'verdict':15s} {'score':>6s}  file")
    for path in a.files:
        try:
            x, rate = read_wav(path)
        except WavError as e:
            print(f"linecheck: {path}: {e}", file=sys.stderr)
            status = 1
            continue
        res = analyze(x, rate)
        if a.json:
            print(json.dumps({"file": path, "verdict": res.verdict, "score": round(res.score, 4)}))
        else:
            print(f"{res.verdict:15s} {res.score:6.3f}  {path}")
    sys.stdout.flush()
    return status


if __name__ == "__main__":
    sys.exit(main())
