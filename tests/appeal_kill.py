"""Kill the real daemon (``deskunit run --sim``) with SIGKILL while appeals are being saved.

The driver types appeals on the simulated panel through the daemon's stdin, reads the LCD the
daemon prints, and counts an appeal as acknowledged the moment «Збережено» is on the glass. At a
random instant it kills the process (-9) and starts it again on the same state directory, where
crash recovery must turn the call draft into a record. At the end the journal must hold every
acknowledged appeal exactly once, complete, and no record twice.

Used by tests/test_appeal_crash.py (a few kills) and tests/bench/bench_appeal_kill.py (200+).
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

SAVED = "Збережено"  # what the LCD says once the appeal is committed
REQUIRED = ("full_name", "residence", "essence", "kind", "phone")


def appeal_keys(n: int) -> list[str]:
    """Stdin lines that register appeal ``n`` (full name = «А» and the digits of n) and save it."""
    return ["h", "a",
            "o", "2", "#", str(n), "o", "d",     # full_name «А<n>» (then digits mode: no multi-tap waits)
            "o", "4", "#", "77", "o", "d",       # residence «И77»
            "o", "#", "55", "o", "d",            # essence
            "o", "d", "o", "d",                  # kind: the second choice
            "o", "0671234567", "o",              # phone
            "a"]                                 # save: the LCD says «Збережено» after the commit


@dataclass
class Tally:
    """What the driver saw: appeals the LCD acknowledged, kills done, restarts done, and the appeals
    being typed at a kill (the handset is down when the unit is back: the daemon starts on-hook)."""

    acked: list[str] = field(default_factory=list)
    kills: int = 0
    starts: int = 0
    drafts_at_cut: int = 0  # a call draft with typed appeal data, not saved, at the kill
    drafts_back: int = 0  # ... whose form was on the LCD again after the restart, with its data kept
    drafts_lost: int = 0  # ... gone: neither kept in the draft nor saved in a record


def pending_draft(state_dir: Path) -> dict | None:
    """The journal's call draft if it holds an appeal typed and never saved (read as the unit would)."""
    from firmware.call.draft import CALL_DRAFT, CallDraft

    path = state_dir / "journal.sqlite3"
    if not path.exists():
        return None
    db = sqlite3.connect(path)
    try:
        row = db.execute("SELECT body FROM drafts WHERE name = ?", (CALL_DRAFT,)).fetchone()
    except sqlite3.OperationalError:
        return None
    finally:
        db.close()
    if row is None:
        return None
    data = json.loads(row[0])
    return data if CallDraft.from_dict(data).appeal_pending else None


def draft_kept(state_dir: Path, before: dict) -> bool:
    """The typed appeal of ``before`` is still there: the same call's draft with the same values, or
    its record with the appeal in it."""
    now = pending_draft(state_dir)
    if now is not None and now["id"] == before["id"]:
        return now["panel"]["appeal_form"]["values"] == before["panel"]["appeal_form"]["values"]
    db = sqlite3.connect(state_dir / "journal.sqlite3")
    try:
        row = db.execute("SELECT body FROM records WHERE id = ?", (before["id"],)).fetchone()
    finally:
        db.close()
    return row is not None and json.loads(row[0]).get("appeal") is not None


def form_labels() -> list[str]:
    """What the appeal form's rows may show, folded as the LCD's look-alikes are."""
    from firmware.appeal.form import FIELDS
    from firmware.appeal.text import text
    from hwsim.matching import fold

    return [fold(text("uk", f"field.{name}")) for name in FIELDS] + [fold(text("uk", "hint.browse"))]


class Daemon:
    """One ``deskunit run --sim`` process with its LCD output read on a thread."""

    def __init__(self, state_dir: Path) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen([sys.executable, "-m", "deskunit.cli", "run", "--sim", "--state-dir",
                                      str(state_dir)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, encoding="utf-8", env=env)
        self.saved = threading.Event()
        self.started = threading.Event()
        self.screens: list[str] = []  # every LCD line printed
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if "simulated unit running" in line:
                self.started.set()
            self.screens.append(line)
            if SAVED in line or "Збepeжeнo" in line:  # the glass shows look-alikes as Latin letters
                self.saved.set()

    def send(self, line: str) -> bool:
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()
            return True
        except (BrokenPipeError, OSError, ValueError):
            return False

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def run(state_dir: Path, kills: int, seed: int = 1, max_kill_s: float = 1.5) -> Tally:
    rng = random.Random(seed)
    tally = Tally()
    n = 0
    for _ in range(kills + 1):
        typed = pending_draft(state_dir)  # the handset was put down while the unit was off
        daemon = Daemon(state_dir)
        tally.starts += 1
        if not daemon.started.wait(30):
            daemon.kill()
            raise RuntimeError("the daemon did not start")
        if typed is not None:
            tally.drafts_at_cut += 1
            if form_back(daemon) and draft_kept(state_dir, typed):
                tally.drafts_back += 1
            elif not draft_kept(state_dir, typed):
                tally.drafts_lost += 1
            discard(daemon)
        last_cycle = tally.kills == kills
        deadline = time.monotonic() + (rng.uniform(0.05, max_kill_s) if not last_cycle else 1e9)
        while time.monotonic() < deadline:
            n += 1
            daemon.saved.clear()
            alive = True
            for line in appeal_keys(n):
                alive = daemon.send(line) and daemon.proc.poll() is None
                if not alive or time.monotonic() >= deadline:
                    break
            if alive and time.monotonic() < deadline and daemon.saved.wait(max(0.0, deadline - time.monotonic())):
                tally.acked.append(str(n))
                daemon.send("h")  # on-hook: the call's record is saved
            if last_cycle:
                time.sleep(0.5)
                daemon.send("q")
                daemon.proc.wait(30)
                break
        if not last_cycle:
            daemon.kill()
            tally.kills += 1
    return tally


def form_back(daemon: Daemon, timeout: float = 5.0) -> bool:
    """Whether the appeal form shows on the LCD after the restart."""
    from hwsim.matching import fold

    labels = form_labels()
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        shown = fold(" ".join(daemon.screens[-8:]))
        if any(label in shown for label in labels):
            return True
        time.sleep(0.05)
    return False


def discard(daemon: Daemon) -> None:
    """The operator throws the half-typed appeal away: BACK (twice if a field was being edited), OK."""
    from hwsim.matching import fold

    question = fold("Видалити звернення?")
    for _ in range(3):
        daemon.send("b")
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            if question in fold(" ".join(daemon.screens[-6:])):
                daemon.send("o")
                time.sleep(0.2)
                return
            time.sleep(0.05)


def check(state_dir: Path, tally: Tally) -> dict[str, int]:
    """Counts from the journal: acknowledged appeals found once, missing, doubled, partial."""
    db = sqlite3.connect(state_dir / "journal.sqlite3")
    rows = [json.loads(body) for (body,) in db.execute("SELECT body FROM records")]
    db.close()
    ids = [r["id"] for r in rows]
    names: dict[str, int] = {}
    partial = 0
    for r in rows:
        appeal = r.get("appeal")
        if appeal:
            names[appeal["full_name"]] = names.get(appeal["full_name"], 0) + 1
            if any(not appeal.get(k) for k in REQUIRED):
                partial += 1
    return {
        "kills": tally.kills,
        "acknowledged": len(tally.acked),
        "records": len(rows),
        "appeals": sum(names.values()),
        "missing": sum(1 for a in tally.acked if f"А{a}" not in names),
        "doubled": sum(1 for c in names.values() if c > 1) + (len(ids) - len(set(ids))),
        "partial": partial,
        "drafts_at_cut": tally.drafts_at_cut,
        "drafts_back_on_screen": tally.drafts_back,
        "drafts_lost": tally.drafts_lost,
    }
