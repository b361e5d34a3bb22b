"""Running one benchmark step in a fresh process and measuring it honestly.

A step is a module-level function `step(clock, **params) -> dict` in a `benchmarks` module. It
runs in its own `python -m benchmarks.child` process, does its untimed preparation, wraps the
measured work in `with clock:` and returns facts to check (rows, counts). The parent measures:

- wall: the `with clock:` block, in the child (interpreter start and imports excluded);
- CPU: the child's own CPU inside the block plus every CPU second its children used after the
  block began (pool workers reaped at exit included: `os.wait4` reports them);
- peak memory: the largest sum of proportional set sizes (PSS, so pages a forked worker shares
  with its parent count once) over the child and all its descendants, polled from /proc.

Only the standard library here: a child imports this module before the code it measures.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

POLL_SECONDS = 0.05
_PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


class StepFailed(RuntimeError):
    """A benchmark step exited with an error (its stderr is in the message)."""


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


class Clock:
    """The measured part of a step: `with clock:` around it, once."""

    wall = 0.0
    cpu_self = 0.0
    children_cpu_at_start = 0.0

    def __enter__(self) -> Clock:
        self.children_cpu_at_start = _cpu(resource.RUSAGE_CHILDREN)
        self._cpu_start = _cpu(resource.RUSAGE_SELF)
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc_info) -> None:
        self.wall = time.perf_counter() - self._start
        self.cpu_self = _cpu(resource.RUSAGE_SELF) - self._cpu_start


@dataclass
class Measured:
    """What one step cost, and the facts it returned."""

    wall: float
    cpu: float
    peak_mb: float
    facts: dict = field(default_factory=dict)


def _memory_kib(pid: int) -> int:
    """PSS of one process in KiB (RSS where smaps_rollup cannot be read); 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    try:
        with open(f"/proc/{pid}/statm") as statm:
            return int(statm.read().split()[1]) * _PAGE_KIB
    except (OSError, ValueError, IndexError):
        return 0


def _parents() -> dict[int, int]:
    """pid -> parent pid for every process visible in /proc."""
    result = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                # The command name may hold spaces and parentheses: split after the last ')'.
                result[int(entry)] = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return result


def tree_memory_kib(root: int) -> int:
    """The summed PSS of `root` and all its descendants, in KiB."""
    children: dict[int, list[int]] = {}
    for pid, parent in _parents().items():
        children.setdefault(parent, []).append(pid)
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += _memory_kib(pid)
        todo.extend(children.get(pid, ()))
    return total


class TreePeak(threading.Thread):
    """Polls the memory of a process tree until stopped; `peak_kib` is the largest seen."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.peak_kib = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.peak_kib = max(self.peak_kib, tree_memory_kib(self.root))
            self._stop_event.wait(POLL_SECONDS)

    def stop(self) -> int:
        self._stop_event.set()
        self.join()
        return self.peak_kib


def run_step(step: str, env: dict[str, str] | None = None, **params) -> Measured:
    """Run `module:function` (in `benchmarks`) in a fresh process with JSON `params`."""
    command = [sys.executable, "-m", "benchmarks.child", step, json.dumps(params)]
    root = Path(__file__).resolve().parent.parent
    child_env = {**os.environ, **(env or {})}
    child_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(root), child_env.get("PYTHONPATH", "")) if p
    )
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, cwd=root, env=child_env)
        poller = TreePeak(process.pid)
        poller.start()
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        peak_kib = poller.stop()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode != 0:
        raise StepFailed(f"{step} exited with {process.returncode}:\n{stderr[-4000:]}")
    report = json.loads(stdout.strip().splitlines()[-1])
    # wait4 reports the child and every descendant it reaped, at exit too: subtract the
    # child's own CPU and what its children used before the clock started.
    children_cpu = usage.ru_utime + usage.ru_stime - report.pop("self_cpu_total")
    cpu = report.pop("cpu_self") + max(0.0, children_cpu - report.pop("children_cpu_at_start"))
    return Measured(report.pop("wall"), cpu, peak_kib / 1024, report)


def run_command(command: list[str], cwd: Path | None = None) -> Measured:
    """Run a whole command (start-up included): wall, CPU and peak memory of its process."""
    with tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, cwd=cwd)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read()
    if process.returncode != 0:
        raise StepFailed(f"{' '.join(command)} exited with {process.returncode}:\n{stderr}")
    # ru_maxrss of a waited-for child is its own peak RSS (KiB on Linux).
    return Measured(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)
