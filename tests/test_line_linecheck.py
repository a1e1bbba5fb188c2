"""`deskunit linecheck`: output formats, error messages, and loose figures on a small labelled corpus of our own
(tests/linecorpus), also on the shared line benchmark's when ../shared is beside the repository."""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from firmware.line.linecheck import main

LINEBENCH = Path(__file__).resolve().parents[2] / "shared" / "linebench"


def write_wav(path: Path, x: np.ndarray, rate: int = 8000, channels: int = 1) -> Path:
    data = np.round(np.clip(x, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(data.tobytes())
    return path


def noise(n: int, dbfs: float) -> np.ndarray:
    return np.random.default_rng(0).normal(0, 10 ** (dbfs / 20), n)


def test_json_lines_one_per_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dead = write_wav(tmp_path / "dead.wav", np.zeros(24000))
    live = write_wav(tmp_path / "live.wav", noise(40000, -55.0))
    assert main(["--json", str(dead), str(live)]) == 0
    lines = capsys.readouterr().out.splitlines()
    objs = [json.loads(line) for line in lines]
    assert [o["file"] for o in objs] == [str(dead), str(live)]
    assert [o["verdict"] for o in objs] == ["no_signal", "silent"]
    assert all(isinstance(o["score"], float) for o in objs)


def test_table_is_readable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = write_wav(tmp_path / "dead.wav", np.zeros(16000))
    assert main([str(f)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["verdict", "score", "file"]
    assert out[1].split()[0] == "no_signal" and out[1].endswith(str(f))


def test_bad_files_get_a_message_and_the_rest_are_still_judged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write_wav(tmp_path / "ok.wav", np.zeros(16000))
    text = tmp_path / "notes.wav"
    text.write_text("not audio")
    rc = main(["--json", str(tmp_path / "missing.wav"), str(text), str(good)])
    cap = capsys.readouterr()
    assert rc == 1
    assert "missing.wav: no such file" in cap.err
    assert "notes.wav: not a PCM WAV file" in cap.err
    assert "Traceback" not in cap.err
    assert [json.loads(line)["file"] for line in cap.out.splitlines()] == [str(good)]


def test_many_files_are_judged_by_workers_in_the_order_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = [write_wav(tmp_path / f"{i:02d}.wav", np.zeros(16000) if i % 2 else noise(16000, -55.0))
             for i in range(40)]
    bad = tmp_path / "notes.wav"
    bad.write_text("not audio")
    args = [str(f) for f in files[:20]] + [str(bad)] + [str(f) for f in files[20:]]
    rc = main(["--json", *args])
    cap = capsys.readouterr()
    assert rc == 1
    assert cap.err.count("notes.wav: not a PCM WAV file") == 1 and "Traceback" not in cap.err
    got = [json.loads(line) for line in cap.out.splitlines()]
    assert [o["file"] for o in got] == [str(f) for f in files]
    assert [o["verdict"] for o in got] == ["no_signal" if i % 2 else "silent" for i in range(40)]


def test_other_rates_and_stereo_are_converted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    x = noise(2 * 44100 * 3, -55.0)
    f = write_wav(tmp_path / "cd.wav", x, rate=44100, channels=2)
    assert main(["--json", str(f)]) == 0
    assert json.loads(capsys.readouterr().out)["verdict"] == "silent"


def test_runs_as_a_module(tmp_path: Path) -> None:
    f = write_wav(tmp_path / "dead.wav", np.zeros(16000))
    p = subprocess.run([sys.executable, "-m", "firmware.line.linecheck", "--json", str(f)],
                       capture_output=True, text=True, check=False)
    assert p.returncode == 0 and json.loads(p.stdout)["verdict"] == "no_signal"
    p = subprocess.run([sys.executable, "-m", "firmware.line.linecheck"], capture_output=True, text=True,
                       check=False)
    assert p.returncode == 2 and "usage" in p.stderr and "Traceback" not in p.stderr


def test_the_console_script_prints_every_answer_before_it_exits_without_teardown(tmp_path: Path) -> None:
    # its output sits in a block buffer when it goes to a pipe: the quick exit must write it out first
    good = write_wav(tmp_path / "dead.wav", np.zeros(16000))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    code = "import sys; from deskunit.cli import entry; sys.argv[0] = 'deskunit'; entry()"
    p = subprocess.run([sys.executable, "-c", code, "linecheck", "--json", *[str(good)] * 20,
                        str(tmp_path / "missing.wav")], capture_output=True, text=True, check=False, env=env)
    assert p.returncode == 1
    assert [json.loads(line)["verdict"] for line in p.stdout.splitlines()] == ["no_signal"] * 20
    assert p.stderr.strip() == f"linecheck: {tmp_path / 'missing.wav'}: no such file"


def test_a_reader_that_stops_early_stops_it_without_a_traceback(tmp_path: Path) -> None:
    f = write_wav(tmp_path / "dead.wav", np.zeros(16000))
    p = subprocess.Popen([sys.executable, "-m", "firmware.line.linecheck", "--json", *[str(f)] * 2000],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout is not None and json.loads(p.stdout.readline())["verdict"] == "no_signal"
    p.stdout.close()  # as `| head -1` does
    assert p.wait(timeout=60) == 1
    assert p.stderr is not None and p.stderr.read() == ""


def test_ctrl_c_stops_every_worker_with_one_line_not_tracebacks(tmp_path: Path) -> None:
    f = write_wav(tmp_path / "long.wav", noise(8000 * 30, -55.0))
    # linecheck started from a terminal: Ctrl-C raises KeyboardInterrupt.  A test run started in the
    # background (`cmd &`, nohup, some CI runners) ignores SIGINT, and a child inherits that, so the
    # child sets Python's own handler back before it runs linecheck as `-m` would.
    start = ("import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
             "runpy.run_module('firmware.line.linecheck', run_name='__main__', alter_sys=True)")
    p = subprocess.Popen([sys.executable, "-c", start, "--json", *[str(f)] * 2000],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    assert p.stdout is not None and json.loads(p.stdout.readline())["verdict"] == "silent"
    os.killpg(p.pid, signal.SIGINT)  # as a terminal does: to the process and its workers
    out, err = p.communicate(timeout=60)
    assert p.returncode == 130
    assert err.strip() == "linecheck: interrupted; the files above were judged"
    assert len(out.splitlines()) < 1999


def _corpus_tools_missing() -> str | None:
    for tool in ("espeak-ng", "sox", "ffmpeg"):
        if shutil.which(tool) is None:
            return f"{tool} not installed (packages-debian.txt)"
    for mod in ("soundfile", "pesq", "pystoi", "scipy"):
        if importlib.util.find_spec(mod) is None:
            return f"python package {mod} not installed (pip install -e '.[dev]')"
    return None


needs_corpus_tools = pytest.mark.skipif(_corpus_tools_missing() is not None, reason=str(_corpus_tools_missing()))
LINECHECK = [sys.executable, "-m", "firmware.line.linecheck", "--json"]
# A detector that answers the same verdict for every file: the figures must tell it from a real one.
CONSTANT = [sys.executable, "-c", "import json, sys\n"
            "for f in sys.argv[2:]: print(json.dumps({'file': f, 'verdict': sys.argv[1], 'score': 1.0}))"]


def shortfalls(s: dict) -> list[str]:
    """What keeps a detector's figures on a corpus from being acceptable (empty: acceptable)."""
    bad = [f"{k} = {s[k]}" for k in ("missing", "invalid_verdicts") if s[k]]
    bad += [f"{k} = {s[k]:.3f} < {least}" for k, least in
            (("cannot_hear_recall", 0.85), ("silence_split", 0.85), ("spearman_estoi", 0.7))
            if not s[k] >= least]  # NaN (no clip to judge, or scores that do not rank) fails too
    bad += [f"{k} = {s[k]:.3f} > {most}" for k, most in (("false_alarm", 0.06), ("atypical_flagged", 0.1))
            if not s[k] <= most]
    return bad


def test_the_bar_names_the_figures_a_corpus_misses_and_counts_none_it_cannot_judge() -> None:
    from linecorpus.score import BAR_AT_LEAST, BAR_AT_MOST, off_bar

    on_the_bar = {**BAR_AT_LEAST, **BAR_AT_MOST}
    assert off_bar(on_the_bar) == []
    assert off_bar({**on_the_bar, "overcall": 0.11, "spearman_estoi": 0.87}) == ["spearman_estoi", "overcall"]
    assert off_bar({**on_the_bar, "atypical_flagged": float("nan")}) == []  # no atypical clip in the corpus


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from linecorpus.build import build, small_plan

    out = tmp_path_factory.mktemp("linecorpus")
    build(out, small_plan(), seed=5, langs=["uk", "ru", "en"], progress=False)
    return out


@pytest.mark.slow
@needs_corpus_tools
def test_small_corpus_figures(small_corpus: Path) -> None:
    from linecorpus.score import figures, judge

    labels = figures(small_corpus, {}, 1.0)["labels"]
    # every figure below is taken over enough clips to mean something
    assert labels.get("unintelligible", 0) >= 4 and labels.get("good", 0) >= 10, labels
    assert labels.get("silent", 0) >= 2 and labels.get("no_signal", 0) >= 2, labels
    s = figures(small_corpus, *judge(LINECHECK, sorted(small_corpus.glob("*.wav"))))
    assert s["clips"] == 40 and shortfalls(s) == [], s


@pytest.mark.slow
@needs_corpus_tools
@pytest.mark.parametrize("verdict", ["good", "degraded", "unintelligible", "silent", "no_signal"])
def test_a_detector_with_one_answer_for_everything_fails_the_figures(small_corpus: Path, verdict: str) -> None:
    from linecorpus.score import figures, judge

    s = figures(small_corpus, *judge([*CONSTANT, verdict], sorted(small_corpus.glob("*.wav"))))
    assert s["missing"] == 0 and shortfalls(s) != []


@needs_corpus_tools
def test_the_scorer_command_reports_a_failing_detector(small_corpus: Path) -> None:
    score = Path(__file__).resolve().parent / "bench" / "line_score.py"
    p = subprocess.run([sys.executable, str(score), "--corpus", str(small_corpus), "--", sys.executable, "-c",
                        "import sys; sys.exit('cannot read')"], capture_output=True, text=True, check=False)
    assert p.returncode == 1 and "cannot read" in p.stderr and "Traceback" not in p.stderr
    p = subprocess.run([sys.executable, str(score), "--corpus", str(small_corpus)], capture_output=True,
                       text=True, check=False)
    assert p.returncode == 2 and "usage" in p.stderr


if (LINEBENCH / "make_corpus.py").exists():  # only beside the project's shared folder: an extra check, no skip

    @pytest.mark.slow
    @needs_corpus_tools
    def test_small_shared_linebench_corpus_figures(tmp_path: Path) -> None:
        out = tmp_path / "corpus"
        subprocess.run([sys.executable, str(LINEBENCH / "make_corpus.py"), "--out", str(out), "--limit", "40",
                        "--seed", "11"], check=True, capture_output=True)
        p = subprocess.run([sys.executable, str(LINEBENCH / "score.py"), "--corpus", str(out), "--json", "--",
                            *LINECHECK], check=True, capture_output=True, text=True)
        s = json.loads(p.stdout)
        assert s["missing"] == 0 and s["invalid_verdicts"] == 0
        for key, worst in (("cannot_hear_recall", 0.85), ("silence_split", 0.85)):
            assert np.isnan(s[key]) or s[key] >= worst, (key, s)
        for key, worst in (("false_alarm", 0.06), ("atypical_flagged", 0.1)):
            assert np.isnan(s[key]) or s[key] <= worst, (key, s)
        assert s["spearman_estoi"] >= 0.7, s


def test_bundled_clean_speech_with_digital_silence_in_its_pauses_is_good(capsys: pytest.CaptureFixture[str]) -> None:
    # softphones and VAD codecs send exact zeros between phrases: that is not a bad line
    speech = sorted((Path(__file__).resolve().parents[1] / "hw-sim" / "speech").glob("*.wav"))
    assert speech and main(["--json", *map(str, speech)]) == 0
    verdicts = [json.loads(line)["verdict"] for line in capsys.readouterr().out.splitlines()]
    assert verdicts == ["good"] * len(speech)


@pytest.mark.parametrize("preset", [None, "3"])
def test_the_command_line_pins_math_libraries_to_one_thread_unless_told(preset: str | None) -> None:
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    if preset:
        env["OPENBLAS_NUM_THREADS"] = preset
    code = "import deskunit.cli, os; print(os.environ['OPENBLAS_NUM_THREADS'], os.environ['OMP_NUM_THREADS'])"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == [preset or "1", "1"]
