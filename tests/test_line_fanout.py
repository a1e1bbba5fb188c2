"""The runner that spreads `linecheck`'s files over the CPUs: order, uneven work, dying workers, early stops."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from firmware.exc import WorkerFailed
from firmware.line.fanout import fanout
from tests.waiting import until


def _slow_on_odd_chunks(i: int) -> tuple[int, int]:
    if (i // 3) % 2:
        time.sleep(0.002)  # the other process gets ahead: answers arrive out of order
    return i, i * i


def test_answers_come_in_the_order_of_the_items_from_every_process() -> None:
    parent = os.getpid()

    def square(i: int) -> tuple[int, int, bool]:
        i, sq = _slow_on_odd_chunks(i)
        return i, sq, os.getpid() == parent

    got = list(fanout(square, range(200), workers=2, chunk=3))
    assert [(i, sq) for i, sq, _ in got] == [(i, i * i) for i in range(200)]
    assert {here for _, _, here in got} == {True, False}  # both processes did some of the work


def test_a_worker_that_dies_is_reported_not_waited_for(capfd: pytest.CaptureFixture[str]) -> None:
    parent = os.getpid()

    def dies_in_a_worker(i: int) -> int:
        if os.getpid() != parent:
            raise MemoryError("worker ran out")
        time.sleep(0.001)
        return i

    with pytest.raises(WorkerFailed, match="worker stopped"):
        list(fanout(dies_in_a_worker, range(64), workers=2, chunk=4))
    assert "MemoryError: worker ran out" in capfd.readouterr().err


def test_more_chunks_than_a_pipe_holds_are_merged_into_bigger_ones() -> None:
    assert list(fanout(abs, range(-20000, 20000), workers=2, chunk=1)) == [abs(i) for i in range(-20000, 20000)]


def test_a_caller_that_fails_stops_the_workers_mid_item(tmp_path: Path) -> None:
    # a chunk of long recordings takes a worker many seconds: when the caller stops (an error, or
    # Ctrl-C) the workers must not go on judging what nobody will read
    parent = os.getpid()
    log = tmp_path / "worker"

    def item(i: int) -> int:
        if os.getpid() != parent:
            with open(log, "a") as fh:
                fh.write("started\n")
            time.sleep(3)
            with open(log, "a") as fh:
                fh.write("finished\n")
            return i
        until(log.exists, timeout=10)  # the worker is busy with an item
        raise RuntimeError("the caller fails")

    with pytest.raises(RuntimeError, match="the caller fails"):
        list(fanout(item, range(100), workers=2, chunk=1))
    assert log.read_text().splitlines() == ["started"]
