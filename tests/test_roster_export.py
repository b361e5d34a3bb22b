"""Roster export (xlsx, CSV, OneRoster) → import is a no-op; the sample school and demo step."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from diaryadmin.config import Settings
from diaryadmin.models import Guardian, Student
from diaryadmin.roster.importing import export_roster
from diaryadmin.samples.demo import Demo
from diaryadmin.samples.roster import generate_school
from diaryadmin.samples.roster_files import write_roster_csv, write_roster_xlsx
from helpers.roster import SECRET, counts, do_import, write_csv

SCHOOL = generate_school(60, seed=11, school_year=2026)


def _sample_import(sessions, tmp_path: Path) -> None:
    report = do_import(sessions, [write_roster_xlsx(tmp_path / "school.xlsx", SCHOOL)])
    assert report.created == 60 and report.errors == []


@pytest.mark.parametrize("target", ["roster.xlsx", "roster.csv", "oneroster", "oneroster.zip"])
def test_export_then_import_is_a_no_op(target, tmp_path, sessions, db_snapshot):
    _sample_import(sessions, tmp_path)
    before = db_snapshot()
    with sessions() as session:
        written = export_roster(session, Settings(secret_key=SECRET), tmp_path / target)
    assert written == 60
    report = do_import(sessions, [tmp_path / target])
    assert (report.created, report.updated, report.moved, report.unchanged) == (0, 0, 0, 60)
    assert report.warnings == []
    assert db_snapshot() == before


def test_export_keeps_formula_like_text_as_text(tmp_path, sessions, db_snapshot):
    rows = [
        ["ID", "Фамилия", "Имя", "Дата рождения", "Класс", "Родитель 1", "E-mail родителя 1",
         "Телефон родителя 1"],
        ["=1+1", "Иванов", "Пётр", "14.03.2015", "5А", "Иванова Мария", "=cmd@evil.ru",
         "+7 912 345 67 89"],
    ]  # fmt: skip
    # A CSV cell is text whatever it starts with (openpyxl would write a formula).
    do_import(sessions, [write_csv(tmp_path / "in.csv", rows, encoding="utf-8")])
    before = db_snapshot()
    settings = Settings(secret_key=SECRET)
    with sessions() as session:
        export_roster(session, settings, tmp_path / "out.csv")
        export_roster(session, settings, tmp_path / "out.xlsx")
    with open(tmp_path / "out.csv", encoding="utf-8-sig", newline="") as stream:
        header, row = list(csv.reader(stream, delimiter=";"))
    assert row[0] == "'=1+1" and row[8] == "'=cmd@evil.ru" and row[9] == "+79123456789"
    sheet = openpyxl.load_workbook(tmp_path / "out.xlsx").active
    cells = {c.value: c.data_type for c in sheet[2]}
    assert cells["=1+1"] == "s" and cells["=cmd@evil.ru"] == "s" and cells["+79123456789"] == "s"
    for name in ("out.csv", "out.xlsx"):
        assert do_import(sessions, [tmp_path / name]).unchanged == 1
    assert db_snapshot() == before


def test_export_one_class_and_refusals(tmp_path, sessions):
    _sample_import(sessions, tmp_path)
    settings = Settings(secret_key=SECRET)
    some_class = SCHOOL[0].class_name
    expected = sum(1 for s in SCHOOL if s.class_name == some_class)
    with sessions() as session:
        assert export_roster(session, settings, tmp_path / "c.xlsx", class_name=some_class) == (
            expected
        )
        with pytest.raises(Exception, match="already exists"):
            export_roster(session, settings, tmp_path / "c.xlsx")
        with pytest.raises(Exception, match="not '.pdf'"):
            export_roster(session, settings, tmp_path / "c.pdf")


def test_sample_school_is_realistic_and_deterministic():
    again = generate_school(60, seed=11, school_year=2026)
    assert [(s.external_id, s.surname, s.birth_date) for s in again] == [
        (s.external_id, s.surname, s.birth_date) for s in SCHOOL
    ]
    big = generate_school(2000, seed=3, school_year=2026)
    assert all(s.patronymic for s in big)
    families: dict[str, list] = {}
    for s in big:
        families.setdefault(s.guardians[0].email, []).append(s)
    siblings = [f for f in families.values() if len(f) > 1]
    assert siblings and any(f[0].birth_date == f[1].birth_date for f in siblings)  # twins
    assert any(s.messy_surname for s in big) and any(s.messy_class for s in big)
    assert any(s.date_as_text for s in big)


def test_sample_files_import_with_warnings_only(tmp_path, sessions):
    school = generate_school(400, seed=5, school_year=2026)
    xlsx = write_roster_xlsx(tmp_path / "s.xlsx", school, sheet_per_grade=True)
    csv_path = write_roster_csv(tmp_path / "s.csv", school)
    report = do_import(sessions, [xlsx])
    assert report.created == 400 and report.warnings
    again = do_import(sessions, [csv_path])
    assert (again.created, again.updated, again.unchanged) == (0, 0, 400)
    with sessions() as session:
        guardians = session.scalars(select(Guardian)).all()
        shared = len({g for s in school for g in map(id, s.guardians)})
        assert len(guardians) == shared  # siblings' parents are one record each
        assert session.scalar(select(Student).where(Student.surname.contains("a"))) is None


def test_demo_step(tmp_path, engine, sessions, database_url):
    from diaryadmin.samples.roster_files import demo_step

    said: list[str] = []
    settings = Settings(database_url=database_url, secret_key=SECRET)
    demo = Demo(tmp_path, settings, engine, sessions, "demo", said.append)
    demo_step(demo)
    assert demo.files["roster_xlsx"].exists() and demo.files["roster_csv"].exists()
    assert demo.files["roster_csv"].read_bytes().decode("cp1251").startswith("ID;ФИО ученика")
    assert counts(sessions)["students"] == 400
    assert any(line.startswith("Imported: 400 created") for line in said)
    assert any(line.startswith("Imported again: 0 created") and "400 unchanged" in line
               for line in said)  # fmt: skip


def test_export_cli(run_cli, workdir):
    path = write_roster_xlsx(workdir / "s.xlsx", SCHOOL)
    assert run_cli("roster", "import", str(path)).exit_code == 0
    result = run_cli("roster", "export", "out.xlsx")
    assert result.exit_code == 0 and "Wrote 60 students" in result.stderr
    refused = run_cli("roster", "export", "out.xlsx")
    assert refused.exit_code == 1 and "already exists" in refused.stderr
    assert run_cli("roster", "export", "out.xlsx", "--force").exit_code == 0
    assert run_cli("roster", "export", "--oneroster", "or").exit_code == 0
    assert (workdir / "or" / "users.csv").exists()
    again = run_cli("roster", "import", "out.xlsx", "--format", "json")
    assert json.loads(again.stdout)["unchanged"] == 60


def test_committed_fixtures_are_the_generated_sample(tmp_path):
    from helpers.roster import parse

    fixtures = Path(__file__).resolve().parent.parent / "fixtures"
    school = generate_school(40, seed=2026, school_year=2026)
    fresh = write_roster_xlsx(tmp_path / "fresh.xlsx", school, sheet_per_grade=True)

    def records(path):
        result = parse([path])
        assert result.errors == []
        return sorted((r.external_id, r.key, r.birth_date, r.class_name) for r in result.students)

    expected = records(fresh)
    assert len(expected) == 40
    assert records(fixtures / "roster-sample.xlsx") == expected
    assert records(fixtures / "roster-sample.csv") == expected
