#!/usr/bin/env python3
"""Build the project's labelled line corpus (tests/linecorpus): espeak-ng callers over impaired lines.

    python3 tests/bench/line_make_corpus.py --out /tmp/linecorpus                 # ~170 clips
    python3 tests/bench/line_make_corpus.py --out /tmp/lc --plan small --seed 5   # the test's 40
    python3 tests/bench/line_score.py --corpus /tmp/linecorpus -- deskunit linecheck --json
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from linecorpus.build import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
