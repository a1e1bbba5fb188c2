"""The labelled corpora add noise as a telephone line delivers it: only inside its 300-3400 Hz band."""

from __future__ import annotations

import numpy as np
from linecorpus import impair
from linecorpus.audio import RATE


def band_powers(x: np.ndarray) -> tuple[float, float]:
    """(power inside 300-3400 Hz, power under 150 Hz and over 3800 Hz: past the band's skirts) of `x`."""
    spectrum = np.abs(np.fft.rfft(x)) ** 2
    freq = np.fft.rfftfreq(len(x), 1 / RATE)
    inside = spectrum[(freq >= 300) & (freq <= 3400)].sum()
    outside = spectrum[(freq < 150) | (freq > 3800)].sum()
    return float(inside), float(outside)


def test_noise_at_the_callers_end_reaches_the_unit_only_in_the_lines_band():
    # a caller band-limited by the line, in white and pink noise: noise the unit hears outside the band
    # would have had to pass the line too, and it took the ESTOI labels of such clips 0.1-0.2 too low
    rng = np.random.default_rng(3)
    talker = impair.telephone_band(rng.normal(0, 0.1, 4 * RATE))
    for colour in ("white", "pink"):
        noise = impair.coloured_noise(rng, len(talker), colour)
        heard = impair.noise_over_the_line(talker, noise, 6.0) - talker
        inside, outside = band_powers(heard)
        assert outside < 0.01 * inside, (colour, outside / inside)
        # the noise was set at the caller's end: inside the band it is what mix_at_snr puts there
        full_inside, full_outside = band_powers(impair.mix_at_snr(talker, noise, 6.0) - talker)
        assert abs(10 * np.log10(inside / full_inside)) < 0.5 and full_outside > 0.05 * full_inside, colour
