#!/usr/bin/env python3
"""Compare every field of the line analyzer's reports with those of an older commit (a check, not a test).

The older `firmware/line/analyzer.py` is taken from git and loaded beside the working one; both
stream every WAV of the given corpora (whole-file chunks as `analyze` feeds them, and 0.1 s chunks
as the unit does) and every field of every report is compared for exact equality.

    python3 tests/bench/line_compare_reports.py --base HEAD /tmp/linecorpus /tmp/linegen
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from firmware.line import analyzer as new  # noqa: E402
from firmware.line.linecheck import read_wav  # noqa: E402


def load_base(rev: str, tmp: Path):  # noqa: ANN201 - a module
    """The analyzer module as it was at `rev`."""
    src = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:firmware/line/analyzer.py"],
                         check=True, capture_output=True, text=True).stdout
    path = tmp / "base_analyzer.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("base_analyzer", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["base_analyzer"] = mod
    spec.loader.exec_module(mod)
    return mod


def stream(mod, x: np.ndarray, rate: int, chunk: int) -> list[tuple]:  # noqa: ANN001 - a module
    an = mod.LineAnalyzer(rate)
    out = []
    for i in range(0, max(len(x), 1), chunk):
        out.extend(dataclasses.astuple(r) for r in an.feed(x[i : i + chunk]))
    return out


def main() -> int:
    """Return 1 if any report differs in any field."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default="HEAD", help="git revision to compare with")
    ap.add_argument("--stream-files", type=int, default=20, help="files per corpus also fed in 0.1 s chunks")
    ap.add_argument("corpora", nargs="+", type=Path)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as td:
        base = load_base(a.base, Path(td))
    bad = reports = 0
    for corpus in a.corpora:
        for i, wav in enumerate(sorted(corpus.glob("*.wav"))):
            x, rate = read_wav(str(wav))
            chunks = [1 << 16] + ([rate // 10] if i < a.stream_files else [])
            for chunk in chunks:
                old, cur = stream(base, x, rate, chunk), stream(new, x, rate, chunk)
                reports += len(cur)
                if old != cur:
                    bad += 1
                    diff = next((o, c) for o, c in zip(old, cur, strict=False) if o != c) if old and cur else None
                    print(f"{wav} chunk {chunk}: differs, first {diff}")
    print(f"{reports} reports compared, {bad} streams differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
