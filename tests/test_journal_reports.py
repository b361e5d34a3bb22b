"""journal report grades / attendance: figures computed by hand from tests/helpers/journal.py."""

from __future__ import annotations

import csv
import io
import json

from diaryadmin.journal import reports as journal_reports
from diaryadmin.journal.periods import resolve_range
from helpers.journal import INJECTED_NAME, INJECTED_SURNAME, build_journal

EVIL = f"{INJECTED_SURNAME} {INJECTED_NAME}"


def test_grades_report(sessions):
    with sessions() as session, session.begin():
        built = build_journal(session)
        dates = resolve_range(session, built["school"], "Q1")
        report = journal_reports.grades_report(session, built["a"], dates)
    rows = {(r["student"], r["subject"]): r for r in report["rows"]}
    assert len(rows) == 8  # 4 students × 2 subjects
    anna = rows[("Алексеева Анна", "Математика")]
    assert (anna["marks"], anna["average"], anna["suggested"], anna["period_grade"]) == (
        3,
        4.25,
        4,
        4,
    )
    boris = rows[("Борисов Борис", "Математика")]
    assert (boris["average"], boris["suggested"], boris["period_grade"], boris["at_risk"]) == (
        3.0,
        3,
        2,
        True,
    )
    evil = rows[(EVIL, "Русский язык")]
    assert (evil["marks"], evil["average"], evil["at_risk"]) == (1, 3.0, False)
    assert rows[("Алексеева Анна", "Русский язык")]["average"] is None
    assert report["at_risk"] == ["Борисов Борис"]
    assert report["class_averages"] == {"Математика": 3.86, "Русский язык": 3.0}


def test_attendance_report(sessions):
    with sessions() as session, session.begin():
        built = build_journal(session)
        dates = resolve_range(session, built["school"], "Q1")
        report = journal_reports.attendance_report(session, built["a"], dates, threshold=0)
    rows = {r["student"]: r for r in report["rows"]}
    assert rows["Борисов Борис"] == {
        "student": "Борисов Борис", "student_id": "B2",
        "Н": 1, "Б": 0, "УП": 0, "ОП": 1, "missed": 1, "first_lesson": 1, "last_lesson": 1,
        "by_subject": {"Математика": 1}, "above_threshold": True,
    }  # fmt: skip
    assert (rows[EVIL]["Б"], rows[EVIL]["first_lesson"], rows[EVIL]["last_lesson"]) == (1, 0, 1)
    assert rows["Алексеева Анна"]["by_subject"] == {"Русский язык": 1}
    assert rows["Волков Василий"]["missed"] == 0
    assert report["totals"] == {"Н": 1, "Б": 1, "УП": 1, "ОП": 1}
    assert report["above_threshold"] == [EVIL, "Алексеева Анна", "Борисов Борис"]


def test_report_cli_formats(run_cli, sessions):
    with sessions() as session, session.begin():
        build_journal(session)
    grades = run_cli("journal", "report", "grades", "--class", "5А", "--period", "Q1",
                     "--format", "csv")  # fmt: skip
    assert grades.exit_code == 0, grades.output
    rows = list(csv.DictReader(io.StringIO(grades.stdout)))
    assert list(rows[0]) == journal_reports.GRADE_COLUMNS
    assert {"student": "Борисов Борис", "subject": "Математика", "average": "3.00",
            "period_grade": "2", "at_risk": "yes"}.items() <= next(
        r for r in rows if r["student"] == "Борисов Борис" and r["subject"] == "Математика"
    ).items()  # fmt: skip
    assert "At risk: Борисов Борис." in grades.stderr
    attendance = run_cli(
        "journal", "report", "attendance", "--class", "5А", "--from", "01.09.2026",
        "--to", "30.09.2026", "--threshold", "1", "--format", "json",
    )  # fmt: skip
    assert attendance.exit_code == 0, attendance.output
    data = json.loads(attendance.stdout)
    assert data["period"] == "01.09.2026 – 30.09.2026"
    assert data["totals"] == {"Н": 1, "Б": 1, "УП": 1, "ОП": 0}  # ОП on 05.10 is outside
    assert data["above_threshold"] == []
    table = run_cli("journal", "report", "attendance", "--class", "5А", "--period", "Q1",
                    "--threshold", "0")  # fmt: skip
    assert table.exit_code == 0, table.output
    assert "Борисов Борис" in table.stdout and "Математика=1" in table.stdout
    assert "Above 0 missed lessons:" in table.stderr
