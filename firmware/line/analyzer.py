"""Streaming judgement of a telephone line from the caller's audio (numpy only).

The analyzer cuts the signal into 20 ms frames (one G.711 packet), measures every complete frame of
a chunk at once, and every `HOP_S` seconds of audio emits a `LineReport` about the last `SPAN_S`
seconds.  What it measures is the physics of a telephone line:

* band energies in 1/3-octave bands (250 Hz - 4 kHz) from a 40 ms Hann FFT with 50 % overlap;
* the noise floor of every band by minimum statistics over the last 2 s (a talker's
  pauses of digital silence, as softphones send them, heard as the hiss of a live line);
* speech activity: frames whose bands rise clearly above their floors, in windows where some of them
  are voiced (periodic at a pitch: a talker, not the clatter of a street or a kitchen) and, when the
  talker is faint, deeply modulated (a caller at the microphone, not people talking across the room);
* per band, the talker's level over the line's floor, over the valleys between words and over an
  interferer (babble) filling them; how deeply each band is modulated; how periodic the speech frames
  are; dropouts (zeroed packets), packet-loss concealment (repeated attenuated packets) and clipping;
* from those, an ESTOI-scale intelligibility estimate (`firmware.line.intelligibility`, fitted to
  real voices in real noise), capped by the talker's speech level (a caller at -55 dBFS cannot be heard);
* dead-line evidence: digital silence, or a bare mains hum with no broadband line noise under it.

Verdicts change with hysteresis so the LINE LED does not flap.  `analyze()` runs the very same
streaming analyzer over a whole signal and aggregates its reports into one verdict for a file.
"""
from __future__ import annotations

import functools
import math
import threading
from dataclasses import dataclass, field

import numpy as np

from firmware.line.intelligibility import ESTIMATOR, Estimator, inputs, unit
from firmware.vocabulary import Verdict

VERDICTS: tuple[Verdict, ...] = tuple(Verdict)
# the raw (before hysteresis) verdicts of a run of blocks are computed as indices into this
_RAW = (Verdict.GOOD, Verdict.DEGRADED, Verdict.UNINTELLIGIBLE, Verdict.SILENT, Verdict.NO_SIGNAL)
_GOOD, _DEGRADED, _UNINTELLIGIBLE, _SILENT, _NO_SIGNAL = range(len(_RAW))
_SPEECH_VERDICTS = (Verdict.GOOD, Verdict.DEGRADED, Verdict.UNINTELLIGIBLE)  # judged on the score

FRAME_S = 0.02
HOP_FRAMES = 10  # one report every 0.2 s of audio
HOP_S = HOP_FRAMES * FRAME_S
_BLOCKS_PER_S = round(1 / HOP_S)  # an integer: block k ends at k / 5 s exactly (to the nearest float)
SPAN_BLOCKS = 10  # a report speaks about the last 2 s
FLOOR_BLOCKS = 10  # noise floor: minimum over the last 2 s
DEAD_BLOCKS = 3  # 0.6 s of dead frames make a dead line
RECENT_BLOCKS = 5  # the last 1 s of a span, judged on its own to clear an alarm quickly
SILENT_AFTER_S = 4.8  # a caller's pause shorter than this is not "silent" (R19: long pauses are normal)
# Softphones and VAD codecs send exact digital silence in the talker's pauses. A lost packet is a 20-60 ms
# hole; a pause is longer. Digital silence past this many frames of a run is a pause: the listener loses
# nothing in it and hears a quiet line there, so it is neither a dropout nor excluded from the noise floor.
PAUSE_AFTER_FRAMES = 3
# Holes this long are pauses for the noise floor too (a pause of digital silence has no noise in it);
# shorter ones may be lost packets on a noisy line, whose noise must still set the floor.
PAUSE_FLOOR_FRAMES = 8
# Every live line hisses a little (the simulated line in hw-sim hisses at this level).  A listener hears
# a pause of digital silence as a quiet line, not as a line that has no floor at all: where such pauses
# set the floor, the talker is judged over this hiss (white, in-band), and the pauses count in the
# valleys, the swing of the talker's levels and the time of the call as the line's floor, as the
# pauses of a line that carries its hiss would.  The reported noise floor stays what the line carries.
LINE_FLOOR_DBFS = -62.0
# A gated line: the caller's softphone sends the talker's pauses as digital silence.  A silence on it is
# the caller's pause, or a caller who has gone quiet (R21: wait, call back), not a dead line (which
# sends the same zeros: only the call so far tells them apart).  Its pauses are holes that begin after
# the VAD's hangover of quiet packets (the one before the hole PAUSE_ONSET_DB or more under the loudest
# of the last 2 s: a VAD goes silent only after packets 30 dB under the talker's loud ones) and end as
# the talker speaks again; GATED_MIN_FRAMES of them in a report span, where holes are not thick and
# fast (LOSS_RUNS), show a gated line.  A line that carries its own sound through a pause for longer
# than a VAD's hangover (up to 0.2 s) and the start of a hole (HISS_RUN frames) is not gated, and lost
# packets, which now and then fill a short pause just so, do not make it one for HISS_FORGET_BLOCKS
# after (a talker pauses more often than that); a line that dies leaves nothing to come back from.
# While a call has shown neither lately, a silence that began as the talker's pauses do (after the
# hangover) is a dead line only after UNKNOWN_DEAD_BLOCKS: a softphone caller's first long pause, and
# callers pause for 2 s and more between sentences (a line that dies in such a pause before the call
# has shown what it is, which is rare, is shown dead that much later).
GATED_MIN_FRAMES = 4
PAUSE_ONSET_DB = 25.0
HISS_RUN = 15  # 0.3 s
HISS_FORGET_BLOCKS = 40  # 8 s
UNKNOWN_DEAD_BLOCKS = 15  # 3 s
_NEVER = 1 << 30  # blocks since something that has not happened in this call
LOSS_RUNS = 6  # holes in a report span (2 s) from which its long holes are lost packets too
LOSS_CUTS = 2  # long holes starting right after a speech frame in a span, from which those are lost packets

# 1/3-octave bands from 250 Hz up, as speech intelligibility measures weight them (log frequency).
_CENTRES = 250.0 * 2.0 ** (np.arange(13) / 3.0)
_EDGES_LO = _CENTRES * 2 ** (-1 / 6)
_EDGES_HI = np.minimum(_CENTRES * 2 ** (1 / 6), 4000.0)
HUM_HZ = (25.0, 200.0)  # mains hum and its first harmonics live below the speech bands

ACT_DB = 4.0  # mean band rise over the floor (dB) that marks a speech frame
# The talker's level is measured on the frames that rise this far over the line's floor, the floor's
# own power taken out: the weak sounds of a faint caller on a hissy line too, not only the loud syllables
# that clear ACT_DB (on those alone a caller at -56 dBFS over a -62 dBFS hiss measured 3-5 dB loud, on
# these 1-2 dB; tests/bench/bench_line_level.py), while the floor's own frames, which rise a fraction of
# a dB on average over 13 bands, stay out.
TALK_DB = 1.0
SNR_LO, SNR_HI = -12.0, 18.0  # band SNR mapped linearly to 0..1 between these (the reported index)
#: A clipped talker sits on a plateau at the clipping level: counted as the samples within 0.1 % of a
#: frame's peak when the audio is carried digitally, but any noise added after the clipping (the unit's
#: own analog input) scatters the plateau by its own amplitude: the latency benchmark's clipped caller
#: (ESTOI 0.60) read a share of 0.39 as made and 0.005 with hiss at -80 dBFS after it, heard 0.68 -> 0.82
#: (good).  So samples within PLATEAU_TOL of the peak count too where they run on for PLATEAU_RUN samples
#: or more: the slowest rounded top a line carries, 50 Hz mains hum, spends 7 at a time within 1 % of its
#: peak, a voice's far fewer.  A hiss 40 dB under the plateau (-70 dBFS there) still hides it.
PLATEAU_TOL = 0.01
PLATEAU_RUN = 8
CLIP_MIN_PEAK = 0.03  # a speech frame whose peak stays under this (-30 dBFS) is not looked at for clipping
# score thresholds; the score estimates ESTOI, whose labels put "cannot understand" under 0.50 and
# "with effort" under 0.75: the lower border sits a little above 0.50 because a caller who cannot be
# understood must not be missed (the estimate's spread on real voices in real noise is about 0.05)
UNINTELLIGIBLE_BELOW = 0.53
DEGRADED_BELOW = 0.75
HYST = 0.03
CLEAR_ABOVE = 0.81  # the last second alone clears an alarm only when clearly good: the border + HYST + 0.03
VOICING_LAGS_S = (0.0025, 0.016)  # pitch periods of voices (400 Hz down to 62 Hz)
VOICED = (0.5, 0.75)  # periodicity above which a speech frame counts as voiced, and as clearly voiced
# a window is a talker's only when at least this share of its active frames is voiced (street and
# kitchen transients rise above the floor too, but seldom at a pitch).  Noise breaks the periodicity
# up as well: the share stays above 0.45 down to 3 dB SNR; a talker drowned deeper than that loses it,
# and the line is then judged by its noise level (LOUD_NOISE_DBFS: cannot hear)
MIN_VOICED = 0.1
MIN_VOICING_FRAMES = 8  # frames a window's periodicity is measured on, fewest that say anything
# a recording is judged on its talker when one is heard in at least this share of its windows;
# otherwise it is a live or dead line with a few noises on it
MIN_TALK = 0.35
MIN_MOD_DB = 1.8  # band-energy spread of a steady noise is about 1.2 dB; speech gives 3 dB and more
# under this level (dBFS) a talker must swing this far (dB, `modulation`) to be the caller: a voice
# close to the microphone rises and falls by 9 dB and more however faint the line makes it (5 % of
# such windows under 5 dB); voices across a street or a cafe, a few dB over its noise, by 2-3.5 dB
FAINT = (-40.0, 4.0)
VALLEY_RANK = 15  # the 15th of a report span's 100 frame levels, per band
VALLEY2_RANK = 30  # and the 30th: how far apart they are tells a fluctuating interferer (babble)
FILL_GAIN = 0.5  # dB of noise-mean correction per dB of valley spread (half: the 30th rank is partly the talker)
FILL_SPREAD = (4.0, 7.0)  # spread where both ranks lie in the interferer .. where the 30th is speech
BAND_AUDIBLE = 1e-9  # band energy (mean square, about -90 dBFS) under which a listener hears nothing: a band
# emptied by a narrow filter carries no speech however far its remains sit above the quantisation noise
HUM_HSR = (-10.0, 10.0)  # mains hum floor re the speech level (dB) over which the low bands go
GAP_VAR_ROUNDING = 1e-6  # dB^2: a gap's level variance under this is the sums' rounding, not a swing
HUM_LOSS = 0.3  # how much of the low (voicing) bands hum takes once it buries them
LOUD_NOISE_DBFS = -33.0  # a line this noisy masks a caller at normal level: cannot hear
# the talker's speech level caps the score: below -40 dBFS degraded, below -50 dBFS cannot hear
_LEVEL_DB = (-70.0, -50.0, -40.0, -30.0)
_LEVEL_CAP = (0.0, UNINTELLIGIBLE_BELOW, DEGRADED_BELOW + 0.01, 1.0)
# the score range of each speech verdict, for hysteresis at its borders
_SCORE_LIMITS = {
    Verdict.GOOD: (DEGRADED_BELOW, 2.0),
    Verdict.DEGRADED: (UNINTELLIGIBLE_BELOW, DEGRADED_BELOW),
    Verdict.UNINTELLIGIBLE: (-1.0, UNINTELLIGIBLE_BELOW),
}


@dataclass(frozen=True)
class LineReport:
    """What the analyzer says about the line at the end of one decision window."""

    t: float  # seconds of audio since start/reset, at the end of the window
    verdict: Verdict  # after hysteresis
    score: float  # 0..1 ESTOI-like intelligibility of the caller's signal (0 when nobody speaks);
    # the verdict also weighs the speech level (a clean but -55 dBFS caller cannot be heard)
    speech: bool  # speech present in the window
    raw: Verdict  # instantaneous verdict before hysteresis
    speech_dbfs: float  # the talker's speech level (full band, the line's floor taken out; `_talker_dbfs`)
    noise_dbfs: float  # in-band noise floor
    snr_db: float  # speech-to-noise ratio in the speech bands
    intelligibility: float  # band-SNR index before dropout/clipping/level corrections
    dropout: float  # fraction of zeroed 20 ms frames
    concealed: float  # share of the talker's packets that are concealment (the one before again, fading)
    clipping: float  # fraction of speech samples sitting on a clipping plateau
    modulation_db: float  # spread (std) of band energies over time: speech is deeply modulated
    bandwidth_hz: float  # highest band centre still carrying speech above the noise
    heard: float = 0.0  # the score the raw verdict was judged on: level-capped, cleared by a clean last second
    # packets of the last second lost or concealed (a talker's stray "copy" not counted, `STRAY_COPIES`):
    # whether loss goes on now, which the 2-s shares above tell only once it has long stopped
    lost_lately: int = 0


@dataclass(frozen=True)
class FileVerdict:
    """The verdict for a whole signal, aggregated from the streaming reports (`aggregate` keeps them;
    `analyze` judges a file without making them)."""

    verdict: Verdict
    score: float
    reports: list[LineReport] = field(default_factory=list, repr=False, compare=False)


# What `analyze` keeps of a run of blocks: speech (bool), score, speech level (dBFS, -120 without
# speech) and the raw verdict as an index into _RAW
_Blocks = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
_NO_BLOCKS: _Blocks = (np.zeros(0, bool), np.zeros(0), np.zeros(0), np.zeros(0, int))

# Minimum-statistics bias per band, as `LineAnalyzer._calibrate_bias` measures it (a test checks that
# they agree); kept here so that a process does not pay for numpy.random and a calibration run.
_BIAS_CACHE: dict[int, np.ndarray] = {
    8000: np.array([
        2.852905270408141, 8.2840689992743, 4.287866839269737, 4.310613046212058, 2.5588099393478583,
        2.5769144556228665, 1.67696665741574, 1.5514613538351294, 1.6927897626760247, 1.6909246477658342,
        1.6168710405781082, 1.3193882088807567, 1.377884954108748,
    ]),
    16000: np.array([
        2.656710464705081, 4.966788606751141, 3.251571202755278, 2.381511641170526, 3.1652429979834142,
        1.9352327625627614, 1.6646536734577904, 2.2639020955686866, 2.115138538447657, 1.8879638180933265,
        1.5277483734229786, 1.4286807727409607, 1.598199896871959,
    ]),
}
# per-block aggregate columns (then band energies of speech frames, and sums of band log-energy and its square)
(_A_NACT, _A_LVL, _A_NZERO, _A_NCONC, _A_CLIP, _A_NDEAD, _A_NFR, _A_ZRUNS, _A_NLIVE, _A_NPAUSE,
 _A_VOICING, _A_VOICED, _A_CLEARLY_VOICED, _A_NVOICING, _A_NGAP, _A_GAP_DB, _A_GAP_DB2, _A_NCUT, _A_CUTS,
 _A_HISS_RUNS, _A_HOLES_DONE, _A_NPAUSE_HOLE, _A_NTALK, _A_TALK, _A_NCOPY, _A_COPY_RUNS, _A_NCOPYABLE) = range(27)
_NAGG = 27
# the loss statistics a block of dead line keeps out of (its frames are the line, not lost packets)
_LOSS_COLUMNS = [_A_NZERO, _A_NCONC, _A_NFR, _A_ZRUNS, _A_NPAUSE, _A_NCUT, _A_CUTS,
                 _A_NCOPY, _A_COPY_RUNS, _A_NCOPYABLE]
_WORK = threading.local()  # per-thread work arrays, see LineAnalyzer._scratch


def _on_plateau(absx: np.ndarray, peak: np.ndarray) -> np.ndarray:
    """Per frame (a row of sample magnitudes, and its peak), how many samples sit on a clipping plateau:
    beyond two at the peak itself (within 0.1 %: carried digitally), or in runs of PLATEAU_RUN within
    PLATEAU_TOL of it (behind noise)."""
    top = absx >= (peak * (1.0 - PLATEAU_TOL))[:, None]
    ntop = top.sum(axis=1, dtype=np.int16)
    out = np.zeros(len(absx), dtype=np.int16)
    some = np.flatnonzero(ntop >= 3)  # the rounded top of speech seldom has even that many
    if not len(some):
        return out
    out[some] = np.maximum((absx[some] >= (peak[some] * 0.999)[:, None]).sum(axis=1, dtype=np.int16) - 2, 0)
    rows = some[ntop[some] >= PLATEAU_RUN]
    if len(rows):
        out[rows] = np.maximum(out[rows], _in_runs(top[rows], PLATEAU_RUN))
    return out


def _in_runs(mask: np.ndarray, run: int) -> np.ndarray:
    """Per row of `mask`, how many of its True samples lie in a run of at least `run` consecutive ones."""
    rows, n = mask.shape
    ones = np.zeros((rows, n + 1), dtype=np.int16)
    np.cumsum(mask, axis=1, dtype=np.int16, out=ones[:, 1:])
    full = np.zeros((rows, n + 1), dtype=np.int16)  # full[:, j + 1]: runs all True starting at j or before
    np.cumsum(ones[:, run:] - ones[:, :-run] == run, axis=1, dtype=np.int16, out=full[:, 1 : n - run + 2])
    full[:, n - run + 2 :] = full[:, n - run + 1 : n - run + 2]
    # sample i is in such a run when one of the runs starting at i - run + 1 .. i is all True
    i = np.arange(n)
    return ((full[:, np.minimum(i, n - run) + 1] - full[:, np.maximum(i - run + 1, 0)]) > 0).sum(
        axis=1, dtype=np.int16)


class LineAnalyzer:
    """Streaming line analyzer; feed it chunks of any length, read `LineReport`s and `verdict`.

    Longer than 300 lines on purpose: its 13 methods are the stages of one per-block pipeline
    (frame features, block statistics, raw verdict, hysteresis) that share the rolling buffers and
    counters of the last 2 s; split apart they would pass all of that state between them.
    """

    def __init__(self, sample_rate: int = 8000, keep_inputs: bool = False, estimator: Estimator | None = None) -> None:
        if sample_rate not in (8000, 16000):
            raise ValueError(f"sample rate {sample_rate} Hz not supported (8000 or 16000)")
        self.sample_rate = sample_rate
        self.n = int(round(sample_rate * FRAME_S))
        self._win, self._proj, self._win_ac, self._hiss = _spectral_tables(sample_rate, self.n)
        self._lags = slice(*(int(round(t * sample_rate)) for t in VOICING_LAGS_S))
        self._voicing_from = math.ceil(HUM_HZ[1] * 2 * self.n / sample_rate)  # first FFT bin above the hum
        self.nb = len(_CENTRES)
        # with keep_inputs, every window's intelligibility inputs and speech flag (for fitting the estimator)
        self.kept: list[tuple[np.ndarray, np.ndarray]] | None = [] if keep_inputs else None
        self._estimator = ESTIMATOR if estimator is None else estimator
        self._bias = _BIAS_CACHE.get(sample_rate)
        if self._bias is None:
            self._bias = np.ones(self.nb)
            self._bias = _BIAS_CACHE[sample_rate] = self._calibrate_bias()
        self.reset()

    # ------------------------------------------------------------------ state

    def reset(self) -> None:
        """Forget everything: a new call starts."""
        self._pending = np.zeros(0)
        self._tail = np.zeros(self.n)  # previous frame, for the 50 % overlap and repeat detection
        self._tail_energy = 0.0
        self._smooth_tail = np.full((2, self.nb + 1), np.nan)  # last two frames' band energies
        self._zero_tail = False
        self._copy_tail = False
        self._act_tail = False  # the last frame was a speech frame
        self._cut_tail = False  # the last frame lies in a hole that cut into the talker
        self._pause_hole_tail = False  # the last frame lies in a hole that began in the talker's pause
        self._quiet_tail = 0  # live frames without the talker ending the previous chunk
        self._peak_hist = np.zeros(SPAN_BLOCKS - 1)  # per-block loudest packet (mean square)
        self._dead_tail = 0  # digital-silence frames ending the previous chunk
        self._span_hist = np.zeros((SPAN_BLOCKS - 1, _NAGG + 3 * self.nb))  # per-block aggregates
        # per-block band (and hum) minima, and a last column that is 0 where a pause of digital silence set them
        self._floor_hist = np.full((FLOOR_BLOCKS - 1, self.nb + 2), np.inf)
        self._lg_hist = np.full((self.nb, (SPAN_BLOCKS - 1) * HOP_FRAMES), np.inf)  # frame band levels (dB)
        self._blocks_done = 0
        self._last_speech_t: float | None = None
        self._verdict = Verdict.SILENT
        self._pending_verdict: Verdict | None = None
        self._pending_count = 0
        self._dead_run = 0
        self._prev_bsp = False
        # blocks since a span last showed a gated line, and since one last showed a line with its own
        # sound in the talker's pauses (see GATED_MIN_FRAMES); counted from the start of the call
        self._since_gated = self._since_hiss = _NEVER

    @property
    def verdict(self) -> Verdict:
        """The current verdict after hysteresis."""
        return self._verdict

    # ------------------------------------------------------------------ feeding

    def feed(self, samples: np.ndarray) -> list[LineReport]:
        """Add audio (mono floats in [-1, 1]); return a report for every window completed by it."""
        return self._feed(samples, True)

    def _feed(self, samples: np.ndarray, reports: bool) -> list[LineReport] | _Blocks:
        """`feed`, returning with `reports` False only what `analyze` aggregates (no report objects
        and no hysteresis, which a file's verdict does not use: a third less work on a 5-s clip)."""
        x = np.asarray(samples, dtype=np.float64).ravel()
        if self._pending.size:
            x = np.concatenate([self._pending, x])
        blk = self.n * HOP_FRAMES
        nblk = x.size // blk
        self._pending = x[nblk * blk :].copy()
        if nblk == 0:
            return [] if reports else _NO_BLOCKS
        return self._process(x[: nblk * blk], nblk, reports)

    def _scratch(self, name: str, shape: tuple[int, ...], dtype: type = np.float64) -> np.ndarray:
        """A work array kept from call to call under `name` (contents undefined).

        A fresh array of a few hundred kB is mapped anew from the system and page-faulted in on every
        call, which costs more than the arithmetic done in it.  The arrays are per thread (analyzers
        of one thread never run at once) and shared by its analyzers, so that `analyze` of file after
        file reuses them too.
        """
        work: dict[str, np.ndarray] = _WORK.__dict__
        size = math.prod(shape)
        buf = work.get(name)
        if buf is None or buf.size < size:
            buf = work[name] = np.empty(size, dtype)
        return buf[:size].reshape(shape)

    def _frame_features(self, x: np.ndarray, nfr: int) -> dict[str, np.ndarray]:
        n = self.n
        xx = self._scratch("xx", (n + x.size,))
        xx[:n] = self._tail
        xx[n:] = x
        self._tail = x[-n:].copy()
        cur = xx[n:].reshape(nfr, n)
        prev = xx[:-n].reshape(nfr, n)
        # 40 ms frames with 50 % overlap: a strided view of the signal, windowed in one product
        frames = _view(xx, (nfr, 2 * n), (n, 1))
        fw = np.multiply(frames, self._win, out=self._scratch("fw", (nfr, 2 * n)))
        spec = np.fft.rfft(fw, axis=1, out=self._scratch("spec", (nfr, n + 1), np.complex128))
        pw = np.square(spec.real, out=self._scratch("pw", (nfr, n + 1)))
        pw += np.square(spec.imag, out=self._scratch("pwi", (nfr, n + 1)))
        e = pw @ self._proj
        ecur = np.einsum("ij,ij->i", cur, cur)
        eprev = _prev(ecur, self._tail_energy)
        self._tail_energy = float(ecur[-1])
        absx = np.abs(cur, out=self._scratch("absx", (nfr, n)))
        peak = absx.max(axis=1)
        return {
            "band": e[:, : self.nb], "bandh": e[:, : self.nb + 1], "hum": e[:, self.nb],
            "inband": e[:, self.nb + 1], "etot": ecur / n,
            # counts as int16 sums (a frame has at most 320 samples): count_nonzero along an axis
            # converts to bool and sums as intp, twice the time
            "zeros": (cur == 0.0).sum(axis=1, dtype=np.int16),
            "rho": np.einsum("ij,ij->i", cur, prev) / np.sqrt(ecur * eprev + 1e-30),
            "ecur": ecur, "eprev": eprev, "peak": peak,
            "absx": absx,
            "power": pw,
        }

    def _process(self, x: np.ndarray, nblk: int, reports: bool = True) -> list[LineReport] | _Blocks:
        n, nb, hop = self.n, self.nb, HOP_FRAMES
        nfr = nblk * hop
        f = self._frame_features(x, nfr)
        band = f["band"]
        zero_fr = f["zeros"] >= n // 2
        quiet = f["inband"] < 10 ** (-8.5)  # below about -85 dBFS in the speech band: nothing there
        # 3-frame moving average of band energies (carried across chunks) for floor and modulation
        bandh = f["bandh"]
        ext = np.concatenate([self._smooth_tail, bandh], axis=0)
        self._smooth_tail = ext[-2:].copy()
        smh = (ext[2:] + ext[1:-1] + ext[:-2]) / 3.0
        nan = np.isnan(smh)  # only in the first two frames after a reset
        if nan.any():
            smh[nan] = bandh[nan]
        sm = smh[:, :nb]
        dead_fr = zero_fr | quiet
        run = _run_lengths(dead_fr, self._dead_tail)
        run_prev = _prev(run, self._dead_tail)
        pause_fr = run > PAUSE_AFTER_FRAMES
        quiet_pause = run > PAUSE_FLOOR_FRAMES
        self._dead_tail = int(run[-1])
        smf = np.empty((nfr, nb + 2))
        smf[:, : nb + 1] = smh
        smf[:, nb + 1] = np.where(quiet_pause, 0.0, 1.0)
        smf[dead_fr & ~quiet_pause] = np.inf
        # a long pause of digital silence: the hiss, as minimum statistics read it (a level with no
        # spread: once corrected for their bias, it is the hiss itself)
        smf[quiet_pause, :nb] = self._hiss[:nb] / self._bias
        smf[quiet_pause, nb] = self._hiss[nb]

        # noise floor: minimum statistics over the last FLOOR_BLOCKS blocks, bias-corrected; the hum
        # column's floor is the steady mains hum under the talker (a tone has no minimum-statistics bias)
        hist, self._floor_hist = _with_history(self._floor_hist, smf.reshape(nblk, hop, nb + 2).min(axis=1))
        fl = _sliding(np.minimum, hist, nblk)
        hum_floor = np.where(np.isfinite(fl[:, nb]), fl[:, nb], 0.0)
        silence_set = fl[:, nb + 1] == 0.0  # the line fell digitally silent in the floor's window
        fl = fl[:, :nb]
        floor = np.maximum(np.where(np.isfinite(fl), fl * self._bias, 1e-11), 1e-11)  # (nblk, nb)
        # what the line carries, as reported: nothing where digital silence set the floor
        noise_dbfs = 10.0 * np.log10(np.where(silence_set[:, None], 1e-11, floor).sum(axis=1))

        # concealment: the estimator was fitted on the copies the corpora carry digitally (no hiss after
        # them), and its inputs leave those frames out; what reaches the listener, and the report, count
        # every copy the line's hiss lets us see (`_copies`) among the frames loud enough to show one
        sounding = ~zero_fr & (f["ecur"] > 1e-9 * n)
        conc = _copies(f, 0.0) & sounding
        noise_share = np.repeat(floor.sum(axis=1), hop) / np.maximum(band.sum(axis=1), 1e-30)
        copyable = sounding & (noise_share < COPY_NOISE_MAX)
        like_copies = _copies(f, noise_share, FADED_COPY_NOISE_MAX) & sounding  # one test for both
        faded = like_copies & (f["ecur"] <= f["eprev"] * FADED_COPY_FALL)
        copies = _chained(like_copies & copyable, faded, self._copy_tail)
        copyable |= copies
        rise = 10.0 * np.log10(np.maximum(band.reshape(nblk, hop, nb) / floor[:, None, :], 1.0))
        mean_rise = rise.reshape(nfr, nb).sum(axis=1) / nb
        act = (mean_rise > ACT_DB) & ~dead_fr & ~conc
        talk = (mean_rise > TALK_DB) & ~dead_fr & ~conc
        hum_dom = f["hum"] > 30.0 * f["inband"]  # mains tones 15 dB above all broadband energy
        dead = dead_fr | (hum_dom & ~act)
        live = ~dead
        zprev = _prev(zero_fr, self._zero_tail)
        self._zero_tail = bool(zero_fr[-1])
        cut = self._cut_holes(zero_fr, zprev, act)
        pause_hole_tail = self._pause_hole_tail
        # (of any digital silence: an A-law softphone's is its smallest code, a steady -72 dBFS, not zeros)
        pause_hole = self._pause_holes(dead_fr, run > 1, f["eprev"] / n, nblk, f["etot"])
        lsm = 10.0 * np.log10(sm + 1e-13)
        # the talker's pauses of digital silence (not holes cut into the talker: packets lost in a burst)
        # are heard at the line's floor: in the valleys once a hole outlasts a burst of lost packets,
        # in the swing of the talker's levels and the time of the call once it sets the floor
        hole_heard = pause_fr & ~cut
        pause_heard = quiet_pause & ~cut
        floor_db = np.repeat(10.0 * np.log10(floor), hop, axis=0) if hole_heard.any() else None  # (nfr, nb)
        if floor_db is not None:
            lsm[pause_heard] = floor_db[pause_heard]
        heard = live | pause_heard

        # per-frame columns, summed per block: the aggregates, band energies of speech frames, and the
        # band log-energies of live frames with their squares
        k = _NAGG
        per_frame = self._scratch("per_frame", (nfr, k + 3 * nb))
        per_frame[:, _A_NACT] = act
        per_frame[:, _A_LVL] = np.where(act, f["etot"], 0.0)
        per_frame[:, _A_NTALK] = talk
        per_frame[:, _A_TALK] = np.where(talk, f["etot"], 0.0)
        per_frame[:, _A_NZERO] = zero_fr & ~pause_fr
        per_frame[:, _A_NCONC] = conc
        # only a talker's loud frames can be clipped: the others' plateaus (a pause's digital silence is
        # all plateau) are not looked for
        clip_fr = np.flatnonzero(act & (f["peak"] >= CLIP_MIN_PEAK))
        per_frame[:, _A_CLIP] = 0.0
        if len(clip_fr):
            per_frame[clip_fr, _A_CLIP] = _on_plateau(f["absx"][clip_fr], f["peak"][clip_fr])
        per_frame[:, _A_NDEAD] = dead
        per_frame[:, _A_NFR] = 1.0
        per_frame[:, _A_ZRUNS] = zero_fr & ~zprev
        per_frame[:, _A_NCOPY] = copies
        per_frame[:, _A_NCOPYABLE] = copyable
        per_frame[:, _A_COPY_RUNS] = copies & ~_prev(copies, self._copy_tail)
        self._copy_tail = bool(copies[-1])
        per_frame[:, _A_NPAUSE] = zero_fr & pause_fr
        per_frame[:, _A_NCUT] = zero_fr & pause_fr & cut
        per_frame[:, _A_CUTS] = cut & (run == PAUSE_AFTER_FRAMES + 1)  # each long hole once, as it gets long
        per_frame[:, _A_NLIVE] = heard
        # the line's own sound held between the talker's (through lost packets: a hole is not known to be
        # a pause before it outlasts them)
        quiet_run = _run_lengths((live & ~act) | (dead_fr & ~pause_fr), self._quiet_tail)
        self._quiet_tail = int(quiet_run[-1])
        per_frame[:, _A_HISS_RUNS] = quiet_run == HISS_RUN
        if pause_hole_tail or pause_hole.any():
            # a pause's hole, counted with its length as the line comes back
            per_frame[:, _A_HOLES_DONE] = np.where(act & _prev(pause_hole, pause_hole_tail), run_prev, 0)
            per_frame[:, _A_NPAUSE_HOLE] = pause_hole
        else:
            per_frame[:, _A_HOLES_DONE] = 0.0
            per_frame[:, _A_NPAUSE_HOLE] = 0.0
        # periodicity needs the whole 40-ms frame: not across a lost packet
        measured = act & ~zprev
        voicing = self._voicing(f["power"], measured)
        per_frame[:, _A_NVOICING] = measured
        per_frame[:, _A_VOICING] = voicing
        per_frame[:, _A_VOICED] = voicing > VOICED[0]
        per_frame[:, _A_CLEARLY_VOICED] = voicing > VOICED[1]
        # the line between the talker's sounds: how much its level swings (a steady hiss hardly; a
        # street, a kitchen or other talkers by many dB) says how the noise masks the talker
        gap = heard & ~act
        gap_db = np.where(gap, lsm.sum(axis=1) / nb, 0.0)
        per_frame[:, _A_NGAP] = gap
        per_frame[:, _A_GAP_DB] = gap_db
        per_frame[:, _A_GAP_DB2] = gap_db * gap_db
        np.multiply(band, act[:, None], out=per_frame[:, k : k + nb])
        lg = per_frame[:, k + nb : k + 2 * nb]
        lg[...] = lsm
        lg[dead & ~pause_heard] = 0.0
        np.multiply(lg, lg, out=per_frame[:, k + 2 * nb :])
        blocks = per_frame.reshape(nblk, hop, -1).sum(axis=1)
        # a block of dead line is the line, not packet loss: keep it out of the dropout statistics
        deadblk = blocks[:, _A_NDEAD] >= hop - 1
        if deadblk.any():
            blocks[np.ix_(deadblk, _LOSS_COLUMNS)] = 0.0
            # but the talker's pauses are time of the call (of which the talker fills a share)
            blocks[deadblk, _A_NFR] = pause_heard.reshape(nblk, hop).sum(axis=1)[deadblk]
        allb = np.concatenate([self._span_hist, blocks], axis=0)
        self._span_hist = allb[-(SPAN_BLOCKS - 1) :].copy()
        cs = np.empty((allb.shape[0] + 1, allb.shape[1]))
        cs[0] = 0.0
        np.cumsum(allb, axis=0, out=cs[1:])
        span = cs[SPAN_BLOCKS:] - cs[:-SPAN_BLOCKS]  # (nblk, K): sums over each report's span
        recent = cs[SPAN_BLOCKS:] - cs[SPAN_BLOCKS - RECENT_BLOCKS : -RECENT_BLOCKS]  # its last second
        # valleys: a low percentile of every band's level over the report span.  Between the words of
        # one talker they fall to the line noise; babble or a continuous interferer keeps them filled.
        # The history is kept band-major, so that every span is a contiguous run of a band's levels.
        lgv = lsm.T.copy()
        lgv[:, dead_fr | conc] = np.inf
        if floor_db is not None:
            lgv[:, hole_heard] = floor_db[hole_heard].T
        lgh = np.concatenate([self._lg_hist, lgv], axis=1)  # (nb, frames)
        self._lg_hist = lgh[:, -(SPAN_BLOCKS - 1) * hop :].copy()
        w = SPAN_BLOCKS * hop
        spans = _view(lgh, (nb, nblk, w), (lgh.shape[1], hop, 1))
        # one sort of the 100 levels (vectorised, cheaper than two selections) gives both ranks
        srt = self._scratch("spans", spans.shape)
        srt[...] = spans
        srt.sort(axis=2)
        v1 = np.ascontiguousarray(srt[:, :, VALLEY_RANK].T)  # (nblk, nb), C order as the sums below expect
        v2 = np.ascontiguousarray(srt[:, :, VALLEY2_RANK].T)
        # A steady noise puts both ranks at one level; one talker's pauses put the 15th on the line
        # noise and the 30th on speech, far above.  Babble's own level swings between the two: its mean
        # power, which masks the talker, lies above its valley by about the spread of those swings.
        spread = np.zeros_like(v1)  # 0 where a span has too few live frames for the 30th level
        np.subtract(v2, v1, out=spread, where=np.isfinite(v2))
        taper = unit(spread, FILL_SPREAD[1], FILL_SPREAD[0])
        fill = 10.0 ** ((v1 + FILL_GAIN * spread * taper) / 10.0)
        return self._reports(span, recent, blocks, floor, noise_dbfs, 10.0 ** (v1 / 10.0), fill, hum_floor, reports)

    def _voicing(self, power: np.ndarray, frames: np.ndarray) -> np.ndarray:
        """How periodic each of the chosen frames is (0 for the others): its circular autocorrelation
        (the inverse transform of its power spectrum) at pitch lags, relative to lag 0 and to the
        window's own.  White noise gives about 0.2, a steady vowel 0.99."""
        out = np.zeros(len(frames))
        if not frames.any():
            return out
        # handed to the inverse transform as complex: given real input, numpy's irfft first converts it
        # on a slow path (a quarter of this step's time here; the result is the same to the bit)
        chosen = self._scratch("voicing", (int(frames.sum()), self.n + 1), np.complex128)
        chosen.real = power[frames]
        chosen.imag = 0.0
        chosen[:, : self._voicing_from] = 0.0  # mains hum and rumble are periodic too, but not a talker
        ac = np.fft.irfft(chosen, 2 * self.n, axis=1)
        lags = self._lags
        peak = (ac[:, lags] / self._win_ac[lags]).max(axis=1)
        energy = ac[:, 0]
        out[frames] = np.where(energy > 1e-12, np.minimum(peak / np.maximum(energy, 1e-12), 1.0), 0.0)
        return out

    def _cut_holes(self, zero_fr: np.ndarray, zprev: np.ndarray, act: np.ndarray) -> np.ndarray:
        """The frames of holes that cut into the talker: a run of zeroed packets right after a speech
        frame.  A talker's pause fades out first (and a VAD sends its hangover of quiet frames before
        it goes silent), so a long hole that starts in the middle of speech is packets lost in a
        burst, however long.  Carries the last frame's speech and the open hole's cut over."""
        cut = _holes_whose_start(zero_fr, zprev, _prev(act, self._act_tail), self._cut_tail)
        self._act_tail = bool(act[-1])
        self._cut_tail = bool(cut[-1])
        return cut

    def _pause_holes(self, hole: np.ndarray, held: np.ndarray, before: np.ndarray, nblk: int,
                     energy: np.ndarray) -> np.ndarray:
        """The frames of holes (`hole`; `held` where the frame before was one too) that began in the
        talker's pause: the packet `before` them (mean square) PAUSE_ONSET_DB or more under the
        loudest packet of the last 2 s (of each block's span).  Carries the blocks' loudest packets
        and the open hole's mark over."""
        hist, self._peak_hist = _with_history(self._peak_hist, energy.reshape(nblk, HOP_FRAMES).max(axis=1))
        if not (hole.any() or self._pause_hole_tail):  # no hole (most chunks of most lines): nothing to mark
            return np.zeros(len(hole), bool)
        peak = _sliding(np.maximum, hist, nblk)
        quiet_before = before < np.repeat(peak, HOP_FRAMES) * 10.0 ** (-PAUSE_ONSET_DB / 10.0)
        marked = _holes_whose_start(hole, held, quiet_before, self._pause_hole_tail)
        self._pause_hole_tail = bool(marked[-1])
        return marked

    # ------------------------------------------------------------------ judging

    def _reports(
        self, span: np.ndarray, recent: np.ndarray, blocks: np.ndarray, floor: np.ndarray, noise_dbfs: np.ndarray,
        valley: np.ndarray, fill: np.ndarray, hum_floor: np.ndarray, reports: bool = True,
    ) -> list[LineReport] | _Blocks:
        nb, k = self.nb, _NAGG
        nact = span[:, _A_NACT]
        nfr = np.maximum(span[:, _A_NFR], 1.0)
        l1, l2 = span[:, k + nb : k + 2 * nb], span[:, k + 2 * nb :]
        nlive = np.maximum(span[:, _A_NLIVE], 1.0)[:, None]
        band_mod = np.sqrt(np.maximum(l2 / nlive - (l1 / nlive) ** 2, 0.0))
        modulation = band_mod.sum(axis=1) / nb
        # speech needs enough active frames and a modulated envelope (a steady noise that has just
        # risen above the old floor is not a talker)
        na = np.maximum(nact, 1.0)
        voicing = _voicing_shares(span)
        level = 10.0 * np.log10(np.maximum(span[:, _A_LVL] / na, 1e-12))  # of the speech frames (an input)
        talker = _talker_dbfs(span, floor)
        # periodicity is measured only on frames whose previous packet arrived: where lost packets
        # left too few of those (every other packet lost), a window is judged without it
        voiced = (voicing[:, 1] >= MIN_VOICED) | (span[:, _A_NVOICING] < MIN_VOICING_FRAMES)
        speech = (nact >= 8) & (modulation >= MIN_MOD_DB) & voiced
        speech &= (level >= FAINT[0]) | (modulation >= FAINT[1])
        eact = span[:, k : k + nb] / na[:, None]
        # the noise under the talker: the line's floor, or the interferer filling the talker's pauses
        noise_b = np.maximum(np.where(np.isfinite(fill), np.maximum(floor, fill), floor), BAND_AUDIBLE)
        noise_v = np.maximum(np.where(np.isfinite(valley), np.maximum(floor, valley), floor), BAND_AUDIBLE)
        snr_b = _snr_db(eact, noise_b)
        # long holes count as lost packets only where holes come thick and fast (a talker pauses a few
        # times a second at most; packet loss of 10 % or more makes several holes a second)
        # and long holes that cut into the talker's sounds when several do (a talker, or a VAD without
        # hangover, may stop dead at the end of a phrase now and then; lost packets do it again and again)
        cut_holes = np.where(span[:, _A_CUTS] >= LOSS_CUTS, span[:, _A_NCUT], 0.0)
        nzero = span[:, _A_NZERO] + np.where(span[:, _A_ZRUNS] >= LOSS_RUNS, span[:, _A_NPAUSE], cut_holes)
        dropout = nzero / nfr
        concealed = span[:, _A_NCONC] / nfr  # as the estimator was fitted
        # as the line carries it: of the packets a copy could be told in (the talker's, not the hiss of
        # the pauses), the share copied; where the noise leaves too few of those to say, a copy the
        # test mistook in them is not most of the talker's packets (pink noise at the talker's level
        # had two of them in a window, a share of 1: red for a caller heard with effort)
        copied = span[:, _A_NCOPY] / np.maximum(span[:, _A_NCOPYABLE], COPYABLE_MIN_FRAMES)
        burst = nzero / np.maximum(span[:, _A_ZRUNS], 1.0)
        copy_run = span[:, _A_NCOPY] / np.maximum(span[:, _A_COPY_RUNS], 1.0)
        clipping = span[:, _A_CLIP] / (na * self.n)
        hum = _hum_factor(hum_floor, eact.sum(axis=1))
        x = inputs(
            snr_b, _snr_db(eact, noise_v), _snr_db(eact, np.maximum(floor, BAND_AUDIBLE)), band_mod,
            dropout, burst, concealed, clipping, hum, nact / nfr, level, voicing, _tilt_db(eact),
            _gap_swing_db(span),
        )
        if self.kept is not None:
            self.kept.append((x, speech))
        score = np.zeros(len(speech))  # only windows with a talker are estimated
        bound = _reaches_listener(dropout[speech], burst[speech], copied[speech], copy_run[speech])
        score[speech] = np.minimum(self._estimator.estimate(x[speech]), bound)
        heard = _audible(score, talker)
        # The fill correction is a statistic of the whole span: while lost packets thin the span out,
        # its ranks climb into the talker.  The clean last second is judged against the plain valley.
        # Only a live verdict clears alarms: a file's verdict is judged on the whole span's scores.
        judged = heard
        if reports:
            lately = _lost_lately(recent)
            judged = np.maximum(heard, self._recent_score(recent, lately, noise_v, floor, band_mod, speech, hum))
        blk_speech = blocks[:, _A_NACT] >= 2
        # what each span shows of the line: +1 gated, -1 its own sound between the talker's, 0 nothing
        gated = (span[:, _A_HOLES_DONE] >= GATED_MIN_FRAMES) & (span[:, _A_ZRUNS] < LOSS_RUNS)
        shows = np.where(span[:, _A_HISS_RUNS] > 0, -1, np.where(gated, 1, 0))
        raw_code = self._raw_verdicts(speech, judged, noise_dbfs, blk_speech, blocks[:, _A_NDEAD] >= HOP_FRAMES - 1,
                                      shows, blocks[:, _A_NPAUSE_HOLE] >= HOP_FRAMES - 1)
        k = self._blocks_done
        self._blocks_done = k + len(raw_code)
        if not reports:
            if blk_speech.any():
                self._last_speech_t = (k + 1 + int(np.flatnonzero(blk_speech)[-1])) / _BLOCKS_PER_S
            return speech, score, np.where(speech, talker, -120.0), raw_code

        intel = unit(snr_b, SNR_LO, SNR_HI).sum(axis=1) / nb
        carrying = snr_b > 3.0
        top = nb - 1 - np.argmax(carrying[:, ::-1], axis=1)
        bw = np.where(carrying.any(axis=1), _CENTRES[top], 0.0)
        nsum = noise_b.sum(axis=1)
        snr = 10.0 * np.log10(np.maximum(eact.sum(axis=1) - nsum, 1e-14) / nsum)
        out: list[LineReport] = []
        cols = zip(
            speech.tolist(), score.tolist(), talker.tolist(), noise_dbfs.tolist(), snr.tolist(),
            intel.tolist(), dropout.tolist(), copied.tolist(), clipping.tolist(), modulation.tolist(),
            bw.tolist(), blk_speech.tolist(), [_RAW[c] for c in raw_code.tolist()], judged.tolist(),
            lately.astype(int).tolist(), strict=True,
        )
        new_report = object.__new__
        for sp, sc, lv, nz, sn, it, dr, cc, cl, md, bwi, bsp, raw, hd, lost in cols:
            k += 1
            t = k / _BLOCKS_PER_S  # the nearest float to k * HOP_S seconds, as round(k * HOP_S, 6) gives
            if bsp:
                self._last_speech_t = t
            if raw == self._verdict:
                self._pending_verdict = None  # all that _update_verdict does when the verdict stands
            else:
                self._update_verdict(raw, hd, t)
            if not sp:
                lv, sn, it, cl, bwi = -120.0, 0.0, 0.0, 0.0, 0.0
            # the frozen dataclass's own __init__ sets its fields one object.__setattr__ at a time;
            # filling the instance dict at once gives the same object at half the cost
            rep = new_report(LineReport)
            rep.__dict__.update(
                t=t, verdict=self._verdict, score=sc, speech=sp, raw=raw, speech_dbfs=lv, noise_dbfs=nz,
                snr_db=sn, intelligibility=it, dropout=dr, concealed=cc, clipping=cl, modulation_db=md,
                bandwidth_hz=bwi, heard=hd if sp else 0.0, lost_lately=lost,
            )
            out.append(rep)
        return out

    def _raw_verdicts(
        self, speech: np.ndarray, judged: np.ndarray, noise_dbfs: np.ndarray, blk_speech: np.ndarray,
        blk_dead: np.ndarray, shows: np.ndarray, blk_pause: np.ndarray,
    ) -> np.ndarray:
        """Every block's verdict before hysteresis, as an index into `_RAW`: a dead line after
        DEAD_BLOCKS dead blocks in a row unless the line is gated (as `shows` last said on a live
        block: +1 gated, -1 not, 0 nothing; UNKNOWN_DEAD_BLOCKS while neither was said lately for
        blocks of a silence that began as a pause does, `blk_pause`), the heard score's band while the
        talker was heard within the last 0.4 s, cannot hear on a loud line, else silent.  Carries the
        run of dead blocks, the last block's speech and what the line showed of itself over to the
        next chunk."""
        idx = np.arange(len(blk_dead))
        dead_run = _run_lengths(blk_dead, self._dead_run)
        # speech frames within the last 0.4 s: this block or the one before
        recent = blk_speech | _prev(blk_speech, self._prev_bsp)
        self._dead_run, self._prev_bsp = int(dead_run[-1]), bool(blk_speech[-1])
        live_blk = ~blk_dead
        last_gated = np.maximum.accumulate(np.where(live_blk & (shows > 0), idx, -1 - self._since_gated))
        last_hiss = np.maximum.accumulate(np.where(live_blk & (shows < 0), idx, -1 - self._since_hiss))
        no_hiss = idx - last_hiss > HISS_FORGET_BLOCKS
        was_gated = (last_gated > last_hiss) & no_hiss
        dead_after = np.where(no_hiss & blk_pause, UNKNOWN_DEAD_BLOCKS, DEAD_BLOCKS)
        n = len(idx)
        self._since_gated = min(n - 1 - int(last_gated[-1]), _NEVER)
        self._since_hiss = min(n - 1 - int(last_hiss[-1]), _NEVER)
        band = np.where(judged < DEGRADED_BELOW, _DEGRADED, _GOOD)
        band[judged < UNINTELLIGIBLE_BELOW] = _UNINTELLIGIBLE
        live = np.where(speech & recent, band, np.where(noise_dbfs > LOUD_NOISE_DBFS, _UNINTELLIGIBLE, _SILENT))
        return np.where((dead_run >= dead_after) & ~was_gated, _NO_SIGNAL, live)

    def _recent_score(
        self, recent: np.ndarray, lately: np.ndarray, noise_v: np.ndarray, floor: np.ndarray,
        band_mod: np.ndarray, speech: np.ndarray, hum: np.ndarray,
    ) -> np.ndarray:
        """The heard score of the last second alone where it is clearly clean, else 0.

        A span reaches back 2 s, so after a burst of packet loss or noise ends it would keep the
        alarm for up to 2 s more.  When the last second carries speech, no lost packet, no concealed
        one but the odd packet of a talker that the test for copies takes for one (`STRAY_COPIES`),
        and scores clearly good on its own, the impairment is over and it may clear the alarm.  It
        never raises an alarm (the verdict is judged on the larger of the two scores), and a steady
        impairment near a border does not flap with it (a borderline second does not count).
        `lately` is `_lost_lately(recent)`, which the reports carry as well.
        """
        nb, k = self.nb, _NAGG
        nact = recent[:, _A_NACT]
        clean = speech & (nact >= 8) & (lately == 0)
        out = np.zeros(len(nact))
        if not clean.any():
            return out
        r, nact = recent[clean], nact[clean]  # only a clean last second can clear anything
        na = np.maximum(nact, 1.0)
        eact = r[:, k : k + nb] / na[:, None]
        snr_v = _snr_db(eact, noise_v[clean])
        zero = np.zeros(len(nact))
        level = 10.0 * np.log10(np.maximum(r[:, _A_LVL] / na, 1e-12))
        x = inputs(
            snr_v, snr_v, _snr_db(eact, np.maximum(floor[clean], BAND_AUDIBLE)), band_mod[clean], zero, zero, zero,
            r[:, _A_CLIP] / (na * self.n), hum[clean], nact / np.maximum(r[:, _A_NFR], 1.0), level,
            _voicing_shares(r), _tilt_db(eact), _gap_swing_db(r),
        )
        heard = _audible(self._estimator.estimate(x), _talker_dbfs(r, floor[clean]))
        out[clean] = np.where(heard >= CLEAR_ABOVE, heard, 0.0)
        return out

    def _update_verdict(self, raw: Verdict, score: float, t: float) -> None:
        cur = self._verdict
        if raw == Verdict.NO_SIGNAL:
            self._verdict = raw  # the evidence (0.6 s of nothing) is already conclusive
            self._pending_verdict = None
            return
        if raw in (Verdict.DEGRADED, Verdict.UNINTELLIGIBLE) and t < SPAN_BLOCKS * HOP_S - 1e-9:
            # the window is not full yet: the floor under the first words is the words themselves
            return
        if raw in _SPEECH_VERDICTS and (raw != Verdict.UNINTELLIGIBLE or self._speech_recent(t)):
            target = raw
            # hysteresis: keep the current speech verdict while the score is near its border
            if cur in _SPEECH_VERDICTS and raw != cur:
                lo, hi = _limits(cur)
                if lo - HYST <= score < hi + HYST:
                    target = cur
        elif cur == Verdict.NO_SIGNAL or self._silent_long(t):
            target = raw  # nobody has spoken for a while (or the line just came alive)
        else:
            target = cur  # a pause in speech (R19: long pauses are normal): keep the last verdict
        if target == cur:
            self._pending_verdict = None
            return
        if cur in (Verdict.NO_SIGNAL, Verdict.SILENT) and target in (Verdict.GOOD, Verdict.DEGRADED):
            self._verdict = target  # the caller is back: say so at once
            self._pending_verdict = None
            return
        if self._pending_verdict == target:
            self._pending_count += 1
        else:
            self._pending_verdict, self._pending_count = target, 1
        if self._pending_count >= 2:
            self._verdict = target
            self._pending_verdict = None

    def _speech_recent(self, t: float) -> bool:
        return self._last_speech_t is not None and t - self._last_speech_t < SPAN_BLOCKS * HOP_S

    def _silent_long(self, t: float) -> bool:
        return self._last_speech_t is None or t - self._last_speech_t >= SILENT_AFTER_S

    # ------------------------------------------------------------------ calibration

    def _calibrate_bias(self) -> np.ndarray:
        """Minimum statistics under-read a stationary noise: measure by how much, per band, once."""
        rng = np.random.default_rng(1)
        x = rng.normal(0.0, 0.01, self.n * HOP_FRAMES * FLOOR_BLOCKS * 3)
        self.reset()
        self._process(x, len(x) // (self.n * HOP_FRAMES))
        fl = np.min(self._floor_hist[:, : self.nb], axis=0)
        self.reset()
        truth = np.mean(self._frame_features(x[-self.n * 200 :], 200)["band"], axis=0)
        return truth / fl


@functools.cache
def _spectral_tables(sample_rate: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The 40 ms Hann window, the matrix that turns its power spectrum into [bands..., hum, in-band]
    energies (mean-square units), the window's own (circular) autocorrelation relative to lag 0,
    which divides a frame's to leave the signal's periodicity, and the energies a live line's hiss
    (white, LINE_FLOOR_DBFS) puts in [bands..., hum, in-band]; built once per rate, as `linecheck`
    makes an analyzer per file."""
    nfft = 2 * n
    win = np.hanning(nfft + 2)[1:-1]
    freqs = np.fft.rfftfreq(nfft, 1.0 / sample_rate)
    scale = np.full(len(freqs), 2.0)
    scale[0] = 1.0
    scale[-1] = 1.0
    scale /= nfft * float(np.sum(win**2))
    bands = ((freqs[:, None] >= _EDGES_LO[None, :]) & (freqs[:, None] < _EDGES_HI[None, :])).astype(float)
    hum = ((freqs >= HUM_HZ[0]) & (freqs < HUM_HZ[1])).astype(float)
    inband = ((freqs >= 300.0) & (freqs < 4000.0)).astype(float)
    proj = np.column_stack([bands, hum, inband]) * scale[:, None]
    win_ac = np.fft.irfft(np.abs(np.fft.rfft(win)) ** 2, nfft)
    win_ac = win_ac / win_ac[0]
    # white noise of variance s^2 gives every bin s^2 * sum(w^2) of power on average
    hiss = 10.0 ** (LINE_FLOOR_DBFS / 10.0) * float(np.sum(win**2)) * proj.sum(axis=0)
    for a in (win, proj, win_ac, hiss):
        a.flags.writeable = False
    return win, proj, win_ac, hiss


def _view(a: np.ndarray, shape: tuple[int, ...], steps: tuple[int, ...]) -> np.ndarray:
    """A view of the contiguous array `a` with `shape`, whose axes step over `steps` elements of it
    (what as_strided makes, at a tenth of its cost: this is made on every chunk).  Only read from it:
    its rows overlap."""
    size = a.itemsize
    return np.ndarray(shape, a.dtype, buffer=a, strides=tuple(s * size for s in steps))


def _prev(values: np.ndarray, before: object) -> np.ndarray:
    """`values` one place later: each position holds the one before it, the first `before`."""
    out = np.empty_like(values)
    out[0] = before
    out[1:] = values[:-1]
    return out


def _with_history(history: np.ndarray, new: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The blocks carried over in `history` followed by the `new` ones, and the history to carry on
    (the last len(history) blocks)."""
    hist = np.concatenate([history, new], axis=0)
    return hist, hist[len(new) :].copy()


def _sliding(extreme: np.ufunc, hist: np.ndarray, n: int) -> np.ndarray:
    """The extreme (np.minimum or np.maximum) of each of the last `n` blocks of `hist` and the
    len(hist) - n blocks before it."""
    out = hist[:n].copy()
    for i in range(1, len(hist) - n + 1):  # pairwise, over the window of len(hist) - n + 1 blocks
        extreme(out, hist[i : i + n], out=out)
    return out


def _run_lengths(flags: np.ndarray, carried: int) -> np.ndarray:
    """How many set flags in a row end at each position (0 where unset), `carried` of them before the first."""
    idx = np.arange(len(flags))
    last_unset = np.maximum.accumulate(np.where(flags, -1, idx))
    run = idx - last_unset
    run[last_unset < 0] += carried
    return run


def _holes_whose_start(hole: np.ndarray, held: np.ndarray, at_start: np.ndarray, open_hole: bool) -> np.ndarray:
    """The frames of holes (runs of `hole`; `held` where the frame before was one too) whose first
    frame has `at_start` set (a hole open at the chunk's start has it if `open_hole`)."""
    starts = hole & ~held
    idx = np.arange(len(hole))
    start = np.maximum.accumulate(np.where(starts, idx, -1))
    return np.where(start >= 0, (starts & at_start)[np.maximum(start, 0)], open_hole) & hole


def _snr_db(speech: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Per band, the talker's level over the noise under it (dB): speech frames carry both."""
    return 10.0 * np.log10(np.maximum(speech - noise, 1e-14) / noise)


COPY_TOLERANCE = 0.0005  # a digital copy: rounding only
COPY_NOISE_FACTOR = 1.5  # a copy's own decorrelation by the hiss (under 0.9 of N/E), with room for the floor's estimate
COPY_NOISE_MAX = 0.1  # under a hiss 10 dB under the frame a copy can no longer be told from a talker
# but one that carries on a run of copies can, down to 5 dB over the hiss, if it is quieter than the packet
# before by 1 dB or more, as a concealment fades: a talker's packets after a stray copy need not (`_chained`)
FADED_COPY_NOISE_MAX = 0.3
FADED_COPY_FALL = 0.8


def _copies(f: dict[str, np.ndarray], noise_share: np.ndarray | float, most: float = COPY_NOISE_MAX) -> np.ndarray:
    """The frames that are packet-loss concealment: the previous packet again, scaled down, under a
    hiss carrying the share `noise_share` (N/E) of the frame's energy.

    Sent digitally, such a copy correlates exactly with the packet before it.  But the line adds hiss
    after the jitter buffer has concealed the loss (the unit's own input, the simulated line), and a
    copy under it correlates only to about 1 - N/E: 1 - rho was 0.67-0.89 of N/E (median to the 99th
    percentile) for copies of 40 real talkers under hiss at -62 to -48 dBFS, and 3.6 times N/E or more
    for 99 in 100 of their next packets where N/E was 0.03-0.1 (far more where it was smaller).  Held
    to the exact copy, 60-70 % of the packets concealed in runs of 3-4 (ESTOI 0.36-0.53) under the
    simulated line's hiss was heard as a clean talker: green from every start of its speech.
    Frames whose noise share is `most` or more are not copies."""
    tolerance = COPY_TOLERANCE + COPY_NOISE_FACTOR * noise_share
    copy = (1.0 - f["rho"] <= tolerance) & (f["ecur"] <= f["eprev"] * (1.001 + 2.0 * noise_share))
    return copy & (noise_share < most)


def _chained(copies: np.ndarray, faded: np.ndarray, carried: bool) -> np.ndarray:
    """`copies`, and the frames of `faded` (copies as far as the hiss lets them be told, fading) that
    carry on a run of copies begun by one of `copies` (or by the last frame before the chunk, if
    `carried`).

    A jitter buffer's concealment fades packet by packet (to 0.6 of the one before, say), so the later
    copies of a run sink into the line's hiss, where a frame alone could not be told from a talker
    (COPY_NOISE_MAX); right after a copy it is far more likely the next one.  Counted alone, 70 % of
    the packets concealed in runs of 4 read as 60 % in runs of 3 (62 % in runs of 3.4 with these), and
    the latency benchmark's such lines, which nobody can follow (ESTOI 0.30-0.47), were shown amber."""
    idx = np.arange(len(copies))
    last_copy = np.maximum.accumulate(np.where(copies, idx, -1 if carried else -3))
    last_break = np.maximum.accumulate(np.where(faded | copies, -2, idx))
    return copies | (faded & (last_copy > last_break))


COPYABLE_MIN_FRAMES = 25  # a share of copies is read over at least 0.5 s of such frames
# Two of the held-out talkers' clean packets passed for copies about once in 80-100 (none exact): one in
# a second, where concealment makes dozens, held their return to good after lost packets by up to 1 s
STRAY_COPIES = 1


def _lost_lately(recent: np.ndarray) -> np.ndarray:
    """The packets of each report's last second (`recent` sums) lost or concealed, but for
    `STRAY_COPIES` of the talker's own that the copy test takes for concealment."""
    return recent[:, _A_NZERO] + np.maximum(recent[:, _A_NCOPY] - STRAY_COPIES, 0.0)


def _reaches_listener(dropout: np.ndarray, burst: np.ndarray, copied: np.ndarray,
                      copy_run: np.ndarray) -> np.ndarray:
    """How much of the talker a listener can follow through lost packets: long bursts take whole
    phonemes away, isolated holes are bridged by the ear, concealed packets carry a little, and less
    the longer the copies run (`CONCEALED_PER_RUN`).

    The estimator learned packet loss up to about half the packets, and concealment only as the
    corpora carry it, digitally; past that it has nothing to go on, and this keeps the physics (zeroed
    packets measured against ESTOI on synthetic speech, concealed ones on real talkers)."""
    return np.maximum(0.0, 1.0 - dropout * (0.7 + 0.1 * np.minimum(burst, 4.0))
                      - copied * (CONCEALED_LOSS + CONCEALED_PER_RUN * np.minimum(copy_run, 4.0)))


# The talker's packets concealed (the last packet again, fading) at a share c, in runs of r packets on
# average, leave a listener about 1 - c * (CONCEALED_LOSS + CONCEALED_PER_RUN * r) of the talker.  How
# much survives a given share varies with what the lost packets carried, by more than the border's
# width (60 % in runs of 3: ESTOI 0.36-0.59; 70 % in runs of 4: 0.29-0.46), so no line through the clips
# both keeps every line followed with effort over the cannot-understand border and catches every one
# nobody can follow.  The charge per packet of run is the steepest that keeps the over-calling
# bar (0.10) on 660 clips of 194 real talkers (20-70 % concealed in runs of 1-4, with and without hiss
# after the concealment): 0.085 of those followed with effort fall under the border, and 76 % of those
# nobody can follow; on 440 clips of 50 other talkers 0.073 and 80 %.  Charged 0.1 a packet of run, the
# bound 98 % of the clips stayed under, it caught 34 % and 41 % of them, and 70 % concealed in runs of 4
# was shown red past 3 s for 15 of 40 real talkers (bench_line_latency.py --voices).
CONCEALED_LOSS = 0.5
CONCEALED_PER_RUN = 0.15


def _tilt_db(eact: np.ndarray) -> np.ndarray:
    """The shape of the heard spectrum: every band's level (dB) relative to the mean over bands."""
    db = 10.0 * np.log10(eact + 1e-14)
    return db - (db.sum(axis=1) / db.shape[1])[:, None]


def _voicing_shares(sums: np.ndarray) -> np.ndarray:
    """(n, 3): the measured speech frames' mean periodicity and the shares of them voiced and clearly voiced."""
    return sums[:, [_A_VOICING, _A_VOICED, _A_CLEARLY_VOICED]] / np.maximum(sums[:, _A_NVOICING], 1.0)[:, None]


def _gap_swing_db(sums: np.ndarray) -> np.ndarray:
    """How far the line's level swings (std, dB) in the frames between the talker's sounds."""
    n = np.maximum(sums[:, _A_NGAP], 1.0)
    mean = sums[:, _A_GAP_DB] / n
    var = sums[:, _A_GAP_DB2] / n - mean * mean
    # a steady gap (digital silence) leaves ~1e-12 dB^2 of rounding in these sums, which depends on how
    # the audio came in chunks: no swing, and the trees must not split on it
    return np.sqrt(np.where(var > GAP_VAR_ROUNDING, var, 0.0))


def _limits(verdict: Verdict) -> tuple[float, float]:
    return _SCORE_LIMITS[verdict]


def _band(score: float) -> Verdict:
    if score < UNINTELLIGIBLE_BELOW:
        return Verdict.UNINTELLIGIBLE
    if score < DEGRADED_BELOW:
        return Verdict.DEGRADED
    return Verdict.GOOD


def _hum_factor(hum_floor: np.ndarray, speech_power: np.ndarray) -> np.ndarray:
    """How much of the low bands that carry voicing mains hum leaves: 1 without hum, 1 - HUM_LOSS once
    it is as loud as the talker (one of the estimator's inputs).

    The hum and its harmonics (50-200 Hz) sit below the analyzer's bands, but a listener (and ESTOI's
    lowest bands) lose the voicing cues there once the hum is as loud as the talker.
    """
    hsr = 10.0 * np.log10(np.maximum(hum_floor, 1e-14) / np.maximum(speech_power, 1e-14))
    return 1.0 - HUM_LOSS * unit(hsr, *HUM_HSR)


def _talker_dbfs(sums: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """The talker's speech level (dBFS) of each row of per-frame `sums`: the mean power of the frames
    that carry the talker (TALK_DB) less the line's floor (`floor`, per band) under them."""
    mean = sums[:, _A_TALK] / np.maximum(sums[:, _A_NTALK], 1.0)
    return 10.0 * np.log10(np.maximum(mean - floor.sum(axis=1), 1e-12))


def _audible(score: np.ndarray | float, level_dbfs: np.ndarray | float) -> np.ndarray:
    """The score the verdict is judged on: a faint caller is hard to hear however clean the line."""
    return np.minimum(score, np.interp(level_dbfs, _LEVEL_DB, _LEVEL_CAP))


def analyze(samples: np.ndarray, sample_rate: int = 8000, chunk: int = 1 << 20) -> FileVerdict:
    """Judge a whole signal by streaming it through `LineAnalyzer` and aggregating the reports.

    The chunk (131 s at 8 kHz) takes a recording of a few seconds in one pass: each call of the
    pipeline has a fixed cost of about a third of a 5-s clip's work."""
    an = LineAnalyzer(sample_rate)
    x = np.asarray(samples, dtype=np.float64).ravel()
    parts = [an._feed(x[i : i + chunk], False) for i in range(0, max(len(x), 1), chunk)]
    cols = parts[0] if len(parts) == 1 else tuple(np.concatenate(c) for c in zip(*parts, strict=True))
    return _aggregate(*cols)


def aggregate(reports: list[LineReport]) -> FileVerdict:
    """One verdict for a stretch of reports: speech windows decide; otherwise dead vs live."""
    res = _aggregate(
        np.array([r.speech for r in reports], dtype=bool), np.array([r.score for r in reports], dtype=float),
        np.array([r.speech_dbfs for r in reports], dtype=float),
        np.array([_RAW.index(r.raw) for r in reports], dtype=int),
    )
    return FileVerdict(res.verdict, res.score, reports)


def _aggregate(speech: np.ndarray, score: np.ndarray, level: np.ndarray, raw: np.ndarray) -> FileVerdict:
    """`aggregate` over per-report columns: speech (bool), score, speech level (dBFS), raw verdict index."""
    if len(raw) == 0:
        return FileVerdict(Verdict.NO_SIGNAL, 0.0)
    if np.count_nonzero(speech) >= max(2.0, MIN_TALK * len(speech)):
        sc = score[speech]
        heard = float(np.mean(_audible(sc, level[speech])))
        return FileVerdict(_band(heard), float(np.mean(sc)))
    if np.count_nonzero(raw == _NO_SIGNAL) >= len(raw) / 2:
        return FileVerdict(Verdict.NO_SIGNAL, 0.0)
    if np.count_nonzero(raw == _UNINTELLIGIBLE) >= len(raw) / 2:
        return FileVerdict(Verdict.UNINTELLIGIBLE, 0.0)
    return FileVerdict(Verdict.SILENT, 0.0)
