"""Run one benchmark step in this fresh process: `python -m benchmarks.child MODULE:FUNCTION JSON`.

Prints one JSON line: the step's facts, the clock's wall and CPU, and this process's CPU total
(the parent subtracts it from what `os.wait4` reports to find the children's share).
"""

from __future__ import annotations

import importlib
import json
import resource
import sys

from benchmarks.harness import Clock


def main(argv: list[str]) -> None:
    step, params = argv[0], json.loads(argv[1])
    module, function = step.split(":")
    run = getattr(importlib.import_module(f"benchmarks.{module}"), function)
    clock = Clock()
    facts = run(clock, **params) or {}
    usage = resource.getrusage(resource.RUSAGE_SELF)
    report = {
        **facts,
        "wall": clock.wall,
        "cpu_self": clock.cpu_self,
        "children_cpu_at_start": clock.children_cpu_at_start,
        "self_cpu_total": usage.ru_utime + usage.ru_stime,
    }
    sys.stdout.write(json.dumps(report, default=str) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
