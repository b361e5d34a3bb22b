"""SIGKILL between writing the applications report and COMMIT: the report never describes
decisions the database does not hold, and the next run cleans up or completes it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from diaryadmin.models import Application
from helpers import kill
from helpers.applications import CORPUS, build_roster, write_xlsx

SECRET = "test-secret-key-0123456789abcdef"


@pytest.fixture
def imported(run_cli, workdir, sessions, settings):
    with sessions() as session, session.begin():
        build_roster(session, settings.require_secret_key())
    path = write_xlsx(workdir / "portal.xlsx", [row for row, *_ in CORPUS])
    assert run_cli("applications", "import", str(path)).exit_code == 0


def _verify(database_url: str, report: Path, pause: str | None = None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIARYADMIN_")}
    env["DIARYADMIN_SECRET_KEY"] = SECRET
    if pause:
        env["DIARYADMIN_TEST_PAUSE_AT"] = pause
    return subprocess.Popen(
        [sys.executable, "-m", "diaryadmin", "--database-url", database_url,
         "applications", "verify", "--report", str(report)],
        env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=report.parent,
    )  # fmt: skip


def _kill_at(point: str, database_url: str, report: Path) -> None:
    process = _verify(database_url, report, point)
    assert f"paused at {point}" in process.stderr.readline()
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    process.stderr.close()


def _pending(sessions) -> int:
    with sessions() as session:
        return session.scalar(
            select(func.count()).select_from(Application).where(Application.status == "pending")
        )


def test_killed_before_commit_no_report_of_decisions_never_stored(
    database_url, sessions, imported, workdir, db_snapshot
):
    report = workdir / "decisions.xlsx"
    before = db_snapshot()
    _kill_at("before-commit", database_url, report)
    assert not report.exists() and db_snapshot() == before
    rerun = _verify(database_url, report)
    assert rerun.wait(120) == 0
    err = rerun.stderr.read()
    rerun.stderr.close()
    assert "committed nothing" in err and kill.hidden(workdir) == []
    assert report.exists() and _pending(sessions) == 0


def test_killed_after_commit_the_next_run_completes_the_report(
    database_url, sessions, imported, workdir
):
    report = workdir / "decisions.xlsx"
    _kill_at("after-commit", database_url, report)
    assert _pending(sessions) == 0 and not report.exists()  # decided, report still pending
    rerun = _verify(database_url, report)
    rerun.wait(120)
    err = rerun.stderr.read()
    rerun.stderr.close()
    assert "Completed" in err and kill.hidden(workdir) == []
    rows = list(load_workbook(report).active.iter_rows(values_only=True))
    assert len(rows) - 1 == len(CORPUS)  # every application, as decided and committed
