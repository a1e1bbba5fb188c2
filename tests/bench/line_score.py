#!/usr/bin/env python3
"""Score any detector with the `deskunit linecheck --json` contract on a corpus (tests/linecorpus/score.py).

    python3 tests/bench/line_score.py --corpus /tmp/linecorpus -- deskunit linecheck --json
    python3 tests/bench/line_score.py --corpus /tmp/linecorpus --json -- deskunit linecheck --json
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from linecorpus.score import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
