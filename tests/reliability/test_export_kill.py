"""SIGKILL at 20 random points of `journal export` (one class, a term of 15 subjects) and
SIGINT/SIGTERM at a few, then a few SIGKILLs of `journal export --all` with a worker process:
after each, the database is exactly as before or exactly as after a complete run (the export's
audit events), a file at --out is a complete workbook of a committed export, no process of the
command is left, and what the kill left beside the target (a pending or half-written file) is
removed or completed by the next export, which says so (helpers.kill has the harness).
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from benchmarks.journal import make_school
from openpyxl import load_workbook
from sqlalchemy import create_engine, func, select

from diaryadmin.models import AuditEvent
from helpers import kill

KILLS = 20
ALL_KILLS = 6
TERM = ["--from", "01.09.2026", "--to", "31.05.2027"]
# audit_events.target: the token of each staged file, new in every run
VOLATILE = frozenset({"*", "audit_events.target"})


def _exports(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            query = select(func.count()).where(AuditEvent.action == "journal.export")
            return conn.scalar(query.select_from(AuditEvent))
    finally:
        engine.dispose()


def _complete_workbook(url: str, path: Path) -> None:
    """A whole workbook of the class, and the export that wrote it is committed."""
    book = load_workbook(path, read_only=True)
    try:
        assert len(book.sheetnames) == 1 + 2 * 15, book.sheetnames
        assert next(book["Сводка"].iter_rows(max_row=1, values_only=True))[1] == path.stem
    finally:
        book.close()
    assert _exports(url) >= 1


@pytest.fixture
def trials(database_url, tmp_path):
    """KillTrials of `journal export ARGS` on copies of a database with a term of 4 classes."""
    made = []

    def start(args: list[str]) -> kill.KillTrials:
        make_school(None, database_url, students=60, classes=4, subjects=15, lessons=170)
        databases = kill.Databases(database_url, tmp_path)
        made.append(databases)
        folder = tmp_path / "work"
        folder.mkdir(exist_ok=True)
        args = ["journal", "export", *args, *TERM, "--force"]
        scenario = kill.Scenario(args, folder, folder / "1А.xlsx", _complete_workbook, VOLATILE)
        return kill.KillTrials(databases, scenario)

    yield start
    for databases in made:
        databases.close()


def test_export_of_a_class_killed_anywhere(trials):
    found = trials(["--class", "1А", "--out", "1А.xlsx"])
    outcomes = [found.trial(d) for d in kill.delays(501, KILLS, found.seconds)]
    signals = [signal.SIGINT, signal.SIGTERM]
    points = kill.delays(502, len(signals), found.seconds, kill.interpreter_start())
    outcomes += [found.trial(d, sig) for sig, d in zip(signals, points, strict=True)]
    print(
        f"complete run {found.seconds:.2f}s:",
        *(f"{o.delay:.2f}:{o.ended}{'+' if o.rerun else ''}" for o in outcomes),
    )
    # The kills reach past the program's start-up, into the writing of the workbook.
    assert any(o.ended != "finished" for o in outcomes)


def test_export_of_every_class_with_a_worker_killed_anywhere(trials):
    # Into the working folder itself, where the harness looks for what a kill left.
    found = trials(["--all", "--jobs", "2", "--out", "."])
    outcomes = [found.trial(d) for d in kill.delays(503, ALL_KILLS, found.seconds)]
    print(f"complete run {found.seconds:.2f}s:", *(f"{o.delay:.2f}:{o.ended}" for o in outcomes))
    assert any(o.ended != "finished" for o in outcomes)
