"""The benchmark harness works: its accounting adds up, and `--quick` runs end to end.

Targets are never asserted here (a shared CI machine is noisy); what is asserted is that
the harness measures what it says it measures.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchmarks.harness import run_step

ROOT = Path(__file__).resolve().parent.parent


def test_cpu_counts_children_reaped_after_the_clock_and_nothing_before_it():
    measured = run_step("calibrate:burn_in_child", before=0.6, during=0.4)
    assert 0.35 <= measured.cpu < 0.9


def test_peak_memory_is_of_the_whole_process_tree():
    measured = run_step("calibrate:hold_in_child", megabytes=120, seconds=0.6)
    assert measured.peak_mb >= 120


def test_quick_startup_runs_and_reports_its_reference(tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "startup", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "startup" in done.stdout and "import click" in done.stdout
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["quick"] is True
    (row,) = report["rows"]
    assert row["case"] == "startup"
    assert row["wall"] > 0 and row["ref_wall"] > 0 and row["peak_mb"] > 0
    assert abs(row["ratio"] - row["wall"] / row["ref_wall"]) < 1e-9
    assert row["verdict"] in ("ok", "MISSED ratio")
