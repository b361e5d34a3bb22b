"""Steps of known cost that check the harness's own accounting (tests/test_benchmarks.py):
CPU burnt by a child process the step never reaps itself, CPU burnt before the clock starts,
memory held by a child process."""

from __future__ import annotations

import multiprocessing
import time


def _burn(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def _hold(megabytes: int, seconds: float) -> None:
    block = bytearray(megabytes * 2**20)
    for offset in range(0, len(block), 4096):  # touch every page, so it is resident
        block[offset] = 1
    time.sleep(seconds)


def _child(target, *args) -> multiprocessing.Process:
    process = multiprocessing.get_context("fork").Process(target=target, args=args)
    process.start()
    return process


def burn_in_child(clock, before: float, during: float) -> dict:
    """Burn `before` CPU seconds here and in a child before the clock, then `during` seconds
    in a child started inside it and left for the interpreter to reap at exit."""
    _burn(before)
    _child(_burn, before).join()
    with clock:
        worker = _child(_burn, during)
        while worker.is_alive():  # wait for it without reaping it
            time.sleep(0.01)
    return {}


def hold_in_child(clock, megabytes: int, seconds: float) -> dict:
    """A child holds `megabytes` resident for `seconds` while this process stays small."""
    with clock:
        _child(_hold, megabytes, seconds).join()
    return {}
