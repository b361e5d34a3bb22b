"""The startup case: `--help` of the root and of every group and command, each a new process,
against `python -c "import click"`. Medians per process, both measured in this run."""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

from benchmarks.harness import run_command
from benchmarks.suite import Row, Run, judge


def commands(clock) -> dict:
    """Every command path of the CLI: [], ["roster"], ["roster", "import"], ..."""
    import click

    from diaryadmin.cli import cli

    def walk(group: click.Group, ctx: click.Context, prefix: list[str]):
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            yield [*prefix, name], command
            if isinstance(command, click.Group):
                yield from walk(command, ctx, [*prefix, name])

    return {
        "paths": [[]] + [path for path, _ in walk(cli, click.Context(cli), [])],
        "groups": [[]]
        + [path for path, c in walk(cli, click.Context(cli), []) if isinstance(c, click.Group)],
    }


def _program() -> list[str]:
    script = Path(sys.executable).with_name("diaryadmin")
    return [str(script)] if script.exists() else [sys.executable, "-m", "diaryadmin"]


def startup(run: Run, backend: str) -> Row:
    listed = run.step("startup:commands").facts
    # --quick: the root and the groups; a full run: every command too.
    paths = listed["groups"] if run.quick else listed["paths"]
    program = _program()
    helps = [run_command([*program, *path, "--help"], cwd=run.folder) for path in paths]
    clicks = [run_command([sys.executable, "-c", "import click"]) for _ in paths]
    wall = statistics.median(m.wall for m in helps)
    reference = statistics.median(m.wall for m in clicks)
    slowest = max(zip(helps, paths, strict=True), key=lambda pair: pair[0].wall)
    ratio = wall / reference
    ref_cpu = statistics.median(m.cpu for m in clicks)
    return Row(
        "startup", "—", f"{len(paths)} × --help", wall,
        statistics.median(m.cpu for m in helps), max(m.peak_mb for m in helps),
        'python -c "import click"', reference, ratio, "≤ 3×", judge(("ratio", ratio <= 3)),
        [f"median of one process each; slowest: `{' '.join(['diaryadmin', *slowest[1]])} --help` "
         f"{slowest[0].wall:.2f} s; import click alone {reference:.3f} s"],
        ref_cpu=ref_cpu,
    )  # fmt: skip
