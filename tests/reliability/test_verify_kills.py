"""SIGKILL at 20 or more random points of `applications verify --issue --out --report` (and a
SIGINT and a SIGTERM), and at its named points before and after COMMIT: the database exactly as
before or exactly as after a complete run (every table), no credential committed whose password
is in no file, neither the slips nor the report describing a state the database does not hold,
no temporary file left (or the next run cleans it up and says so), no worker left, and a re-run
completes the work (helpers.kill has the harness).

The corpus is a generated school with a batch of portal applications of every kind
(`samples.applications.make_batch`), imported before the trials start.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import create_engine, select
from sqlalchemy.orm import sessionmaker

from diaryadmin.applications.store import import_applications
from diaryadmin.models import Application
from diaryadmin.samples.application_files import roster_children, write_batch
from diaryadmin.samples.applications import make_batch
from diaryadmin.samples.roster import generate_school
from diaryadmin.samples.roster_files import write_roster_xlsx
from helpers import kill

FAST = kill.FAST_SETTINGS
# Logins, hashes, the staged files' tokens and the run's time differ between two complete runs.
VOLATILE = frozenset(
    {"*", "credentials.password_hash", "audit_events.details", "audit_events.target"}
)
STATUS_COLUMN = 8  # the report's status code (report.report_rows)


def _sessions(url: str):
    engine = create_engine(url)
    return engine, sessionmaker(engine)


def prepare(url: str, folder: Path, students: int = 80, applications: int = 60) -> None:
    """A school of `students` with `applications` pending (every kind of decision)."""
    roster = write_roster_xlsx(folder / "roster.xlsx", generate_school(students, seed=17))
    kill.import_roster_file(url, roster)
    engine, sessions = _sessions(url)
    try:
        with sessions() as session:
            children = roster_children(session, FAST, [roster])
        portal = write_batch(folder / "portal.xlsx", make_batch(children, applications, seed=23))
        with sessions() as session, session.begin():
            import_applications(session, FAST, [portal], operator="test")
    finally:
        engine.dispose()


def report_matches(url: str, path: Path) -> None:
    """The report has one row per application, each with the status the database holds."""
    rows = list(load_workbook(path, read_only=True).worksheets[0].iter_rows(values_only=True))
    shown = {row[0]: row[STATUS_COLUMN] for row in rows[1:]}
    engine, sessions = _sessions(url)
    try:
        with sessions() as session:
            stored = dict(session.execute(select(Application.id, Application.status)).all())
    finally:
        engine.dispose()
    assert shown == stored
    assert "pending" not in shown.values()


def scenario(folder: Path) -> kill.Scenario:
    slips, report = folder / "slips.html", folder / "decisions.xlsx"
    args = ["applications", "verify", "--issue", "--out", str(slips), "--report", str(report)]
    return kill.Scenario(
        args, folder, slips, kill.slips_match, VOLATILE, more_out=[(report, report_matches)]
    )


@pytest.fixture
def trials(database_url, tmp_path):
    """KillTrials of verify --issue on copies of the prepared database."""
    prepare(database_url, tmp_path)
    databases = kill.Databases(database_url, tmp_path)
    folder = tmp_path / "work"
    folder.mkdir()
    yield kill.KillTrials(databases, scenario(folder))
    databases.close()


def run_trials(trials: kill.KillTrials, seed: int, kills: int) -> list[kill.Outcome]:
    outcomes = [trials.trial(d) for d in kill.delays(seed, kills, trials.seconds)]
    signals = [signal.SIGINT, signal.SIGTERM]
    points = kill.delays(seed + 1, len(signals), trials.seconds, kill.interpreter_start())
    for sig, delay in zip(signals, points, strict=True):
        outcomes.append(trials.trial(delay, sig))
    print(
        f"complete run {trials.seconds:.2f}s:",
        *(f"{o.delay:.2f}:{o.ended}{'+' if o.rerun else ''}" for o in outcomes),
    )
    # The delays reach past the import of the command's modules: some kills find work to undo.
    assert any(o.ended == "before" for o in outcomes)
    return outcomes


@pytest.mark.parametrize("kills", [20, pytest.param(kill.SLOW_KILLS, marks=pytest.mark.slow)])
def test_verify_issue_killed_anywhere(trials, kills):
    run_trials(trials, seed=501, kills=kills)


@pytest.mark.parametrize(
    ("point", "said"),
    [
        ("before-commit", ["committed nothing"] * 2),
        ("after-commit", ["whose changes were committed"] * 2),
        # the report put in place, the slips not yet: what a kill between the two renames leaves
        ("between-renames", ["whose changes were committed"]),
    ],
    ids=["before-commit", "after-commit", "between-renames"],
)
def test_verify_issue_killed_at_commit_the_rerun_completes_both_files(
    database_url, tmp_path, point, said
):
    prepare(database_url, tmp_path)
    folder = tmp_path / "work"
    folder.mkdir()
    found = scenario(folder)
    report = found.more_out[0][0]
    command = kill.cli(database_url, *found.args)
    before = kill.state(database_url)
    pause = "before-commit" if point == "before-commit" else "after-commit"
    workers = kill.kill_at(pause, command, kill.cli_env(), folder)
    assert kill.gone(workers), "hash workers outlived the killed command"
    assert not found.out.exists() and not report.exists()
    assert len(kill.hidden(folder)) == 2  # the slips and the report, both still pending
    assert (kill.state(database_url) == before) is (point == "before-commit")
    if point == "between-renames":
        (folder / next(n for n in kill.hidden(folder) if report.name in n)).rename(report)

    again = kill.run(command, kill.cli_env(), folder)
    assert again.returncode == 0, again.stderr
    assert [s for s in said if s in again.stderr] == said, again.stderr
    assert again.stderr.count(said[0]) == len(said), again.stderr
    assert kill.hidden(folder) == []
    for out, check in found.outputs():
        check(database_url, out)
