"""The roster import's bulk writes: what the driver refuses is SQLAlchemy's error, the values
round-trip, and on PostgreSQL the planner's statistics follow the rows written."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from diaryadmin.config import Settings
from diaryadmin.models import School, Student
from diaryadmin.roster import bulk as roster_bulk
from diaryadmin.roster import write as roster_write
from diaryadmin.roster.bulk import Bulk
from diaryadmin.roster.importing import import_roster
from diaryadmin.samples.roster import generate_school
from diaryadmin.samples.roster_files import write_roster_csv

STUDENT = ("id", "school_id", "external_id", "surname", "name", "patronymic", "name_key",
           "birth_date", "class_id", "active", "certificate_fp", "snils_fp", "created_at",
           "updated_at")  # fmt: skip
NOW = datetime(2026, 10, 1, 9, 30, 15, 123456)


def _student(bulk: Bulk, school_id: int, student_id: int, surname: str) -> tuple:
    stamp = bulk.moment(NOW)
    return (student_id, school_id, f"S{student_id}", surname, "Анна", None,
            f"{surname.lower()} анна", bulk.day(date(2015, 3, 14)), None, True, None, None,
            stamp, stamp)  # fmt: skip


def test_insert_values_round_trip(sessions):
    with sessions() as session, session.begin():
        school = School(code="T1", name="Школа")
        session.add(school)
        session.flush()
        bulk = Bulk(session)
        rows = [
            _student(bulk, school.id, 900001, "О'Нил\tТаб"),
            _student(bulk, school.id, 900002, "Ёж\\"),
        ]
        bulk.insert(roster_write.STUDENTS, STUDENT, iter(rows))
        stored = session.execute(
            select(Student.surname, Student.patronymic, Student.birth_date, Student.active,
                   Student.created_at).where(Student.school_id == school.id).order_by(Student.id)
        ).all()  # fmt: skip
        session.rollback()
    assert stored == [
        ("О'Нил\tТаб", None, date(2015, 3, 14), True, NOW),
        ("Ёж\\", None, date(2015, 3, 14), True, NOW),
    ]


def test_a_refused_insert_is_sqlalchemys_integrity_error(sessions):
    with sessions() as session, session.begin():
        school = School(code="T2", name="Школа")
        session.add(school)
        session.flush()
        bulk = Bulk(session)
        twice = [_student(bulk, school.id, 900003, "Иванова")] * 2
        with pytest.raises(IntegrityError):
            bulk.insert(roster_write.STUDENTS, STUDENT, twice)
        session.rollback()


def test_statistics_follow_an_import_in_its_own_transaction(sessions, tmp_path, monkeypatch):
    """PostgreSQL only: without ANALYZE inside the import's transaction the planner keeps
    the tables' "empty" statistics, and every chunk's lookups scan all rows written so far."""
    with sessions() as session:
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("PostgreSQL's planner statistics")
    monkeypatch.setattr(roster_write, "CHUNK_RECORDS", 10)
    monkeypatch.setattr(roster_bulk, "STATISTICS_MIN_ROWS", 20)
    path = write_roster_csv(tmp_path / "s.csv", generate_school(120, seed=5, school_year=2026))
    with sessions() as session, session.begin():
        report = import_roster(
            session, [Path(path)], settings=Settings(secret_key="x" * 32), operator="test",
            now=datetime(2026, 10, 1),
        )  # fmt: skip
        assert report.created == 120
        known = session.execute(
            text("SELECT reltuples FROM pg_class WHERE oid = 'students'::regclass")
        ).scalar()
        session.rollback()
    assert known >= 60  # analysed at least once after half of the rows
