"""Keep numerical libraries to one thread: the unit judges one 20 ms frame stream on a small CPU.

OpenBLAS (numpy's matrix products) and OpenMP start a thread per core at import and spin them on every
product of our small matrices: twice the CPU for no gain, and much slower wall time when the other
core is busy.  Their thread counts are read from the environment once, when numpy is first imported,
so :func:`pin_math_threads` must run before that; it leaves a value the user set alone.
"""
from __future__ import annotations

import os

THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def pin_math_threads() -> None:
    """Set every BLAS/OpenMP thread-count variable to 1 unless it is already set."""
    for name in THREAD_VARS:
        os.environ.setdefault(name, "1")
