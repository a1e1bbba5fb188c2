"""Synthetic callers: espeak-ng sentences in Ukrainian, Russian and English, typical and atypical."""
from __future__ import annotations

import tempfile
from enum import Enum
from pathlib import Path

import numpy as np

from .audio import RATE, at_level, quiet_run, read_wav
from .impair import telephone_band

SENTENCES = {
    "uk": (
        "Добрий день, я хотіла б дізнатися, на якій стадії моя позовна заява.",
        "Скажіть, будь ласка, до якого кабінету мені прийти з паспортом.",
        "Мене звуть Богдан Шевчук, я з Полтави, вулиця Соборності, дванадцять.",
        "Засідання перенесли вже втретє, і ніхто не пояснив мені причину.",
        "Запишіть мій номер: нуль дев'яносто три, чотириста п'ятдесят, двадцять, одинадцять.",
        "Чи можна надіслати документи поштою, бо я не можу приїхати особисто.",
    ),
    "ru": (
        "Добрый день, я хочу узнать, рассмотрели ли моё заявление о разводе.",
        "Подскажите, пожалуйста, где находится канцелярия и до скольки она работает.",
        "Меня зовут Андрей Лебедев, я живу в Одессе, на улице Пушкинской, восемь.",
        "Мне так и не прислали решение суда, хотя прошло уже два месяца.",
    ),
    "en": (
        "Hello, I would like to know whether my claim has been registered yet.",
        "Which entrance of the court building can I use with a pushchair?",
        "My name is Laura Whitfield and I live at seven Station Road, Leeds.",
        "Nobody has told me why my hearing was moved to next month.",
    ),
}

VOICES = {
    "uk": ("uk", "uk+f3", "uk+m1"),
    "ru": ("ru", "ru+f4", "ru+m4"),
    "en": ("en-gb", "en-us+f3", "en-gb-x-rp"),
}

SPEECH_DBFS = -24.0  # a typical active level of a telephone talker


class Style(Enum):
    """How a caller speaks. Every style but TYPICAL is clean speech a detector must still call good."""

    TYPICAL = "typical"
    SLOW = "slow"
    FAST = "fast"
    STUTTER = "stutter"
    LONG_PAUSES = "long_pauses"
    LOW_PITCH = "low_pitch"
    HIGH_PITCH = "high_pitch"


def recorded(path: Path) -> np.ndarray:
    """A talker's recording (a WAV file at any rate) as a telephone line carries it: 8 kHz, 300-3400 Hz."""
    # the unit's own reader and resampler, loaded only here: linecheck loads the analyzer
    from firmware.line.linecheck import read_wav as read_any_wav
    from firmware.line.linecheck import resample

    x, rate = read_any_wav(str(path))
    return telephone_band(x if rate == RATE else resample(x, rate, RATE))


def synthesise(text: str, voice: str, words_per_minute: int = 160, pitch: int = 50) -> np.ndarray:
    """One espeak-ng utterance, resampled to 8 kHz and band-limited to the 300-3400 Hz telephone band."""
    with tempfile.TemporaryDirectory() as tmp:
        wide, narrow = Path(tmp, "wide.wav"), Path(tmp, "narrow.wav")
        quiet_run(["espeak-ng", "-v", voice, "-s", str(words_per_minute), "-p", str(pitch), "-w", str(wide), text])
        quiet_run(["sox", str(wide), "-r", str(RATE), "-c", "1", "-b", "16", str(narrow),
                   "highpass", "300", "lowpass", "3400"])
        x = read_wav(narrow)
    return at_level(x - x.mean(), SPEECH_DBFS)


def stammered(text: str, rng: np.random.Generator) -> str:
    """Some words started two or three times over, the way a stammering caller says them."""
    out = []
    for word in text.split():
        if len(word) > 4 and rng.random() < 0.35:
            start = word[: 1 + int(rng.integers(1, 3))]
            out.append(" ".join([start] * int(rng.integers(1, 3))) + " " + word)
        else:
            out.append(word)
    return " ".join(out)


def caller(rng: np.random.Generator, lang: str, style: Style) -> tuple[np.ndarray, str]:
    """A sentence spoken in ``style`` by one of ``lang``'s voices; returns the samples and the voice."""
    text = SENTENCES[lang][int(rng.integers(len(SENTENCES[lang])))]
    voice = VOICES[lang][int(rng.integers(len(VOICES[lang])))]
    wpm = int(rng.integers(145, 185))
    if style is Style.SLOW:
        return synthesise(text, voice, int(rng.integers(75, 100))), voice
    if style is Style.FAST:
        return synthesise(text, voice, int(rng.integers(250, 310))), voice
    if style is Style.LOW_PITCH:
        return synthesise(text, voice, wpm, pitch=3), voice
    if style is Style.HIGH_PITCH:
        return synthesise(text, voice, wpm, pitch=97), voice
    if style is Style.STUTTER:
        return synthesise(stammered(text, rng), voice, int(rng.integers(110, 150))), voice
    if style is Style.LONG_PAUSES:  # two halves with a 2.5-4 s thinking pause between them
        words = text.split()
        half = len(words) // 2
        gap = np.zeros(int(rng.uniform(2.5, 4.0) * RATE))
        first = synthesise(" ".join(words[:half]), voice, 130)
        second = synthesise(" ".join(words[half:]), voice, 130)
        return np.concatenate([first, gap, second]), voice
    return synthesise(text, voice, wpm), voice
