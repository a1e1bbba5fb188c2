"""Build a labelled corpus: plan the clips, render each from a synthetic caller, measure and label it.

A plan is a list of ``(kind, params)``; the kinds and their parameters:

  clean {}                        atypical {style}            noise {kind: white|pink, snr}
  babble {snr}                    hum {snr}                   echo {ms, gain}
  loss {loss, burst, conceal}     clip {frac}                 level {dbfs}
  codec {codec, loss?}            lowpass {hz}                dead {how: zero|hum}     silent {floor}

Writes DIR/NNNN_kind.wav (8 kHz, 16-bit mono) and DIR/manifest.csv with the columns
file, label, impairment, params, estoi, pesq, level_dbfs, lang, style, voice.
"""
from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import impair
from .audio import RATE, at_level, speech_level_dbfs, write_wav
from .labels import Label, estoi, label_for, pesq_nb
from .speech import SPEECH_DBFS, Style, caller

Plan = list[tuple[str, dict]]
FLOOR_DBFS = -64.0  # the hiss of a quiet, healthy line


def full_plan() -> Plan:
    """The project's default corpus, about 170 clips: every kind at a ladder of severities."""
    p: Plan = [("clean", {})] * 16
    p += [("atypical", {"style": s.value}) for s in Style if s is not Style.TYPICAL for _ in range(5)]
    p += [("noise", {"kind": k, "snr": snr}) for k in ("white", "pink") for snr in (25, 15, 8, 3, 0, -4, -8, -12)
          for _ in range(2)]
    p += [("babble", {"snr": snr}) for snr in (15, 5, 0, -5)]
    p += [("hum", {"snr": snr}) for snr in (5, -5, -15)]
    p += [("echo", {"ms": ms, "gain": g}) for ms, g in ((80, 0.5), (250, 0.7))]
    p += [("loss", {"loss": r, "burst": b, "conceal": c}) for r in (0.02, 0.08, 0.15, 0.25, 0.4, 0.55)
          for b, c in ((1.0, "zero"), (2.5, "zero"), (2.0, "repeat"))]
    p += [("clip", {"frac": f}) for f in (0.5, 0.2, 0.08, 0.03, 0.015) for _ in range(2)]
    p += [("level", {"dbfs": d}) for d in (-32, -39, -43, -47, -53, -60) for _ in range(2)]
    p += [("codec", {"codec": c}) for c in impair.CODECS for _ in range(2)]
    p += [("codec", {"codec": "gsm", "loss": r}) for r in (0.1, 0.3)]
    p += [("lowpass", {"hz": hz}) for hz in (2400, 1300, 800, 450) for _ in range(2)]
    p += [("dead", {"how": "zero"})] * 8 + [("dead", {"how": "hum"})] * 5
    p += [("silent", {"floor": f}) for f in (-66, -60, -56, -52, -49, -46, -58, -63, -54, -47)]
    return p


def small_plan() -> Plan:
    """Forty clips for the test suite: a few of every category, the severe ends of each ladder included."""
    p: Plan = [("clean", {})] * 6
    p += [("atypical", {"style": s}) for s in ("slow", "fast", "stutter", "long_pauses", "low_pitch", "high_pitch")]
    p += [("noise", {"kind": "white", "snr": snr}) for snr in (20, 5, -6, -12)]
    p += [("noise", {"kind": "pink", "snr": snr}) for snr in (12, 0, -10)]
    p += [("loss", {"loss": r, "burst": 2.0, "conceal": "zero"}) for r in (0.05, 0.25, 0.5, 0.65)]
    p += [("clip", {"frac": f}) for f in (0.3, 0.05, 0.015)]
    p += [("level", {"dbfs": d}) for d in (-30, -45, -58)]
    p += [("codec", {"codec": c}) for c in ("ulaw", "gsm", "g726-16k")]
    p += [("lowpass", {"hz": hz}) for hz in (1500, 400)]
    p += [("dead", {"how": "zero"})] * 2 + [("dead", {"how": "hum"})]
    p += [("silent", {"floor": f}) for f in (-62, -54, -47)]
    return p


@dataclass
class Rendered:
    """One clip before labelling: the clean reference, what the line delivered, and how it came about."""

    reference: np.ndarray
    received: np.ndarray
    voice: str
    forced: Label | None = None  # dead and silent lines are what they were made to be


def render(kind: str, p: dict, rng: np.random.Generator, lang: str) -> Rendered:
    style = Style(p.get("style", "typical"))
    speech, voice = caller(rng, lang, style)
    speech = np.concatenate([np.zeros(int(0.25 * RATE)), speech, np.zeros(int(0.4 * RATE))])
    floor_rng = np.random.default_rng(int(rng.integers(2**31)))
    ref = impair.line_floor(speech, floor_rng, FLOOR_DBFS)
    n = len(ref)
    if kind in ("clean", "atypical"):
        return Rendered(ref, ref.copy(), voice)
    if kind == "noise":
        return Rendered(ref, impair.noise_over_the_line(ref, impair.coloured_noise(rng, n, p["kind"]), p["snr"]), voice)
    if kind == "hum":
        return Rendered(ref, impair.mix_at_snr(ref, impair.coloured_noise(rng, n, "hum"), p["snr"]), voice)
    if kind == "babble":
        crowd = sum(np.resize(caller(rng, lang, Style.TYPICAL)[0], n) for _ in range(4))
        return Rendered(ref, impair.mix_at_snr(ref, np.roll(crowd, int(rng.integers(n))), p["snr"]), voice)
    if kind == "echo":
        return Rendered(ref, impair.echo(ref, p["ms"], p["gain"]), voice)
    if kind == "loss":
        return Rendered(ref, impair.lose_packets(ref, rng, p["loss"], p["burst"], p.get("conceal", "zero")), voice)
    if kind == "clip":
        return Rendered(ref, impair.hard_clip(ref, p["frac"]), voice)
    if kind == "level":
        quiet = impair.line_floor(at_level(speech, p["dbfs"]), floor_rng, -78.0)
        return Rendered(quiet, quiet.copy(), voice)
    if kind == "codec":
        out = impair.through_codec(ref, p["codec"])
        if "loss" in p:
            out = impair.lose_packets(out, rng, p["loss"], 2.0)
        return Rendered(ref, out, voice)
    if kind == "lowpass":
        return Rendered(ref, impair.band_limit(ref, p["hz"]), voice)
    if kind == "dead":
        hum = impair.coloured_noise(rng, n, "hum") * 10 ** (-38 / 20)
        return Rendered(ref, np.zeros(n) if p["how"] == "zero" else hum, voice, Label.NO_SIGNAL)
    if kind == "silent":
        return Rendered(ref, impair.line_floor(np.zeros(n), rng, p["floor"]), voice, Label.SILENT)
    raise ValueError(f"unknown clip kind {kind!r}")


def build(out: Path, plan: Iterable[tuple[str, dict]], seed: int, langs: list[str],
          limit: int | None = None, progress: bool = True) -> int:
    """Render, write and label every clip of ``plan``; returns the number of clips written."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    plan = list(plan)
    if limit and limit < len(plan):
        plan = [plan[j] for j in sorted(rng.choice(len(plan), size=limit, replace=False))]
    rows = []
    for i, (kind, p) in enumerate(plan):
        lang = langs[i % len(langs)]
        clip = render(kind, p, rng, lang)
        name = f"{i:04d}_{kind}.wav"
        received = write_wav(out / name, clip.received)
        if clip.forced is not None:
            label, intelligibility, quality = clip.forced, 0.0, 1.0
        else:
            intelligibility, quality = estoi(clip.reference, received), pesq_nb(clip.reference, received)
            talker = speech_level_dbfs(received) if kind == "level" else SPEECH_DBFS
            label = label_for(intelligibility, talker)
        rows.append({
            "file": name, "label": label.value, "impairment": kind,
            "params": ",".join(f"{k}={v}" for k, v in p.items()),
            "estoi": f"{intelligibility:.3f}", "pesq": f"{quality:.2f}",
            "level_dbfs": f"{speech_level_dbfs(received):.1f}", "lang": lang,
            "style": p.get("style", "typical"), "voice": clip.voice,
        })
        if progress:
            print(f"\r{i + 1}/{len(plan)} {name:24s} {label.value:15s}", end="", file=sys.stderr)
    if progress:
        print(file=sys.stderr)
    return write_manifest(out, rows)


def write_manifest(out: Path, rows: list[dict]) -> int:
    """Write OUT/manifest.csv (one row per clip, the columns of the first row); return the row count."""
    with open(out / "manifest.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Build a labelled corpus of telephone-line clips.")
    ap.add_argument("--out", type=Path, required=True, help="folder for the WAV files and manifest.csv")
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--langs", default="uk,ru,en", help="comma-separated languages to cycle through (uk, ru, en)")
    ap.add_argument("--plan", choices=("full", "small"), default="full")
    ap.add_argument("--limit", type=int, help="only this many clips, drawn at random from the plan")
    a = ap.parse_args(argv)
    langs = a.langs.split(",")
    unknown = [lang for lang in langs if lang not in ("uk", "ru", "en")]
    if unknown:
        ap.error(f"--langs: unknown language {unknown[0]!r}; known: uk, ru, en")
    n = build(a.out, full_plan() if a.plan == "full" else small_plan(), a.seed, langs, a.limit)
    print(f"wrote {n} clips and manifest.csv to {a.out}")
    return 0
