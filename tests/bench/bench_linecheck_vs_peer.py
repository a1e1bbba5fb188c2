#!/usr/bin/env python3
"""Speed of `deskunit linecheck` against the naive peer over the same corpus, interleaved.

Both detectors are run as the line benchmark's `score.py` runs them: one process judging every WAV
of the corpus.  Each round runs both, the order alternating, so that a busy neighbour on the shared
machine slows both alike.  Prints, per round and in total, audio seconds per wall second and per CPU
second (user + system of the child process) of each, and linecheck / peer for both.

The unit runs installed, with its modules' bytecode cached, as the peer's libraries have theirs.  A
shell that forbids writing bytecode (PYTHONDONTWRITEBYTECODE, as some sandboxes set) would have
linecheck compile its own modules in every run: about 12 ms, 3-5 % of a corpus's run.  So this
compiles them first (`compileall`, which writes regardless).

    python3 tests/bench/bench_linecheck_vs_peer.py --corpus /tmp/r14/public [--rounds 3]
        [--peer ../shared/linebench/naive_peer.py]

The peer needs numpy, soundfile and webrtcvad (webrtcvad-wheels) in the interpreter that runs this.
"""
from __future__ import annotations

import argparse
import compileall
import os
import resource
import shutil
import subprocess
import sys
import sysconfig
import time
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PEER = ROOT / ".." / "shared" / "linebench" / "naive_peer.py"


def audio_seconds(files: list[Path]) -> float:
    total = 0.0
    for f in files:
        with wave.open(str(f), "rb") as w:
            total += w.getnframes() / w.getframerate()
    return total


def run(cmd: list[str], files: list[Path]) -> tuple[float, float]:
    """(wall s, CPU s) of one process judging all `files`; exits if it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd + [str(f) for f in files], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0 or p.stdout.count("\n") != len(files):
        sys.exit(f"{cmd[0]} failed ({p.returncode}): {p.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, action="append", required=True, help="a directory of WAVs (repeatable)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--peer", type=Path, default=DEFAULT_PEER, help="the naive peer script")
    a = ap.parse_args(argv)
    # the console script beside this interpreter, as the peer runs on it: a launcher on PATH (a pyenv
    # shim is a bash script that starts pyenv) would add its own start-up to one side only
    deskunit = shutil.which("deskunit", path=sysconfig.get_path("scripts")) or sys.exit(
        f"deskunit is not installed for {sys.executable} (pip install -e .)")
    if not a.peer.is_file():
        sys.exit(f"peer script {a.peer} not found (--peer)")
    detectors = {"linecheck": [deskunit, "linecheck", "--json"], "peer": [sys.executable, str(a.peer)]}
    for package in ("deskunit", "firmware"):
        compileall.compile_dir(ROOT / package, quiet=1)
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    for corpus in a.corpus:
        files = sorted(corpus.glob("*.wav"))
        if not files:
            sys.exit(f"no WAV files in {corpus}")
        audio = audio_seconds(files)
        tot = {name: [0.0, 0.0] for name in detectors}
        print(f"{corpus.name}: {len(files)} files, {audio:.0f} s of audio")
        for r in range(a.rounds):
            order = list(detectors) if r % 2 == 0 else list(reversed(detectors))
            line = []
            for name in order:
                wall, cpu = run(detectors[name], files)
                tot[name][0] += wall
                tot[name][1] += cpu
                line.append(f"{name} {audio / wall:6.0f} audio-s/wall-s {cpu:5.2f} CPU-s")
            print(f"  round {r + 1}: " + " | ".join(line))
        (lw, lc), (pw, pc) = tot["linecheck"], tot["peer"]
        print(f"  total  : linecheck {a.rounds * audio / lw:6.0f} audio-s/wall-s {lc:5.2f} CPU-s | "
              f"peer {a.rounds * audio / pw:6.0f} audio-s/wall-s {pc:5.2f} CPU-s")
        print(f"  ratio linecheck/peer: wall speed {pw / lw:.2f}, CPU speed {pc / lc:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
