"""Run one function over many items on every CPU: forked workers, the calling process among them.

`linecheck` judges a few milliseconds of work per file, so what a pool costs decides its speed: this
runner forks its workers once (they inherit the loaded analyzer), hands out chunks of items through
one pipe of chunk numbers, and works through chunks itself while the others do.  Answers come back
in the order of the items, each chunk's as soon as every chunk before it is in.  A `multiprocessing`
pool left the calling process idle and added its handler threads and per-chunk messages: about a
tenth of `linecheck`'s wall time on a corpus (see tests/bench/bench_linecheck_vs_peer.py).

Linux semantics are relied on: a read of 4 bytes from a pipe that holds whole 4-byte records takes
one record, whichever process reads it.
"""
from __future__ import annotations

import os
import pickle
import select
import signal
import struct
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from firmware.exc import WorkerFailed

T = TypeVar("T")
R = TypeVar("R")

_TASK = struct.Struct("<i")  # a chunk number on the task pipe
_FRAME = struct.Struct("<I")  # the length of a pickled (chunk number, answers) frame from a worker
# Every chunk number is written before any worker starts, so they must fit in the pipe's buffer: one
# page is the least Linux gives a pipe (once a user holds too many pipe pages, a new pipe gets just that)
_TASK_BYTES = 4096
_READ_BYTES = 65536


def fanout(func: Callable[[T], R], items: Sequence[T], workers: int, chunk: int) -> Iterator[R]:
    """`map(func, items)` on `workers` processes (this one and `workers - 1` forked ones), in order."""
    chunk = max(chunk, -(-len(items) // (_TASK_BYTES // _TASK.size)))
    chunks = [range(i, min(i + chunk, len(items))) for i in range(0, len(items), chunk)]
    task_r, task_w = os.pipe()
    os.write(task_w, b"".join(_TASK.pack(k) for k in range(len(chunks))))
    os.close(task_w)  # readers see the end once the last chunk number is taken
    sys.stdout.flush()  # a forked worker must not write out this process's buffered output
    sys.stderr.flush()
    children: dict[int, int] = {}  # result pipe -> pid
    finished = False
    try:
        for _ in range(workers - 1):
            res_r, res_w = os.pipe()
            pid = os.fork()
            if pid == 0:  # pragma: no cover - runs in the forked worker (coverage does not follow it)
                os.close(res_r)
                _work(func, items, chunks, task_r, res_w)
            os.close(res_w)
            children[res_r] = pid
        yield from _collect(func, items, chunks, task_r, children)
        finished = True
    finally:
        os.close(task_r)
        for fd, pid in children.items():
            os.close(fd)
            if not finished:  # the caller stopped early (interrupted, or it failed): so do the workers
                os.kill(pid, signal.SIGTERM)
            os.waitpid(pid, 0)


def _work(func: Callable, items: Sequence, chunks: list[range], task_r: int, res_w: int) -> None:
    """A forked worker: take chunk after chunk, send each one's answers; never return."""
    status = 0
    try:
        with os.fdopen(res_w, "wb") as out:
            while (k := _take(task_r)) is not None:
                frame = pickle.dumps((k, [func(items[i]) for i in chunks[k]]), pickle.HIGHEST_PROTOCOL)
                out.write(_FRAME.pack(len(frame)) + frame)
                out.flush()
    except (BrokenPipeError, KeyboardInterrupt):  # the caller stopped listening, or Ctrl-C: it says so
        status = 1
    except BaseException:  # noqa: BLE001 - whatever it was, the parent must hear that this worker failed
        traceback.print_exc()
        status = 1
    finally:
        sys.stderr.flush()
        os._exit(status)  # not the parent's atexit handlers, buffers or pytest's teardown


def _take(task_r: int) -> int | None:
    raw = os.read(task_r, _TASK.size)
    return _TASK.unpack(raw)[0] if raw else None


def _collect(func: Callable, items: Sequence, chunks: list[range], task_r: int,
             children: dict[int, int]) -> Iterator:
    """Work through chunks here too, and yield every chunk's answers in order as they complete."""
    done: dict[int, list] = {}
    pending = {fd: bytearray() for fd in children}
    following = 0

    def ready() -> Iterator:
        nonlocal following
        while following in done:
            yield from done.pop(following)
            following += 1

    while (k := _take(task_r)) is not None:
        done[k] = [func(items[i]) for i in chunks[k]]
        _drain(pending, done, wait=False)
        yield from ready()
    while following < len(chunks):
        if not pending:
            raise WorkerFailed(f"a worker stopped before chunk {following} of {len(chunks)}")
        _drain(pending, done, wait=True)
        yield from ready()


def _drain(pending: dict[int, bytearray], done: dict[int, list], wait: bool) -> None:
    """Read what the workers have sent (waiting for some if `wait`); a worker's pipe leaves `pending`
    at its end."""
    readable, _, _ = select.select(list(pending), [], [], None if wait else 0)
    for fd in readable:
        data = os.read(fd, _READ_BYTES)
        if not data:
            del pending[fd]
            continue
        buf = pending[fd]
        buf += data
        while len(buf) >= _FRAME.size:
            size = _FRAME.unpack_from(buf)[0]
            if len(buf) < _FRAME.size + size:
                break
            k, answers = pickle.loads(bytes(buf[_FRAME.size : _FRAME.size + size]))
            done[k] = answers
            del buf[: _FRAME.size + size]
