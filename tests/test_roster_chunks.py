"""The import streams records in chunks: the same results when rows fall in different chunks."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from diaryadmin.errors import InputError
from diaryadmin.models import Guardian
from diaryadmin.roster import write as roster_write
from diaryadmin.samples.roster import generate_school
from diaryadmin.samples.roster_files import write_roster_csv, write_roster_xlsx
from helpers.roster import HEADER, counts, do_import, write_xlsx

SCHOOL = generate_school(80, seed=21, school_year=2026)


@pytest.fixture(autouse=True)
def tiny_chunks(monkeypatch):
    monkeypatch.setattr(roster_write, "CHUNK_RECORDS", 3)


def test_siblings_in_different_chunks_share_guardians_and_reimport_is_a_no_op(
    tmp_path, sessions, db_snapshot
):
    xlsx = write_roster_xlsx(tmp_path / "s.xlsx", SCHOOL, sheet_per_grade=True)
    report = do_import(sessions, [xlsx])
    assert report.created == 80
    distinct = len({id(g) for s in SCHOOL for g in s.guardians})
    assert counts(sessions)["guardians"] == distinct == report.guardians_created
    assert counts(sessions)["guardianships"] == sum(len(s.guardians) for s in SCHOOL)
    before = db_snapshot()
    csv_path = write_roster_csv(tmp_path / "s.csv", SCHOOL)
    for path in (xlsx, csv_path):
        again = do_import(sessions, [path], now=datetime(2026, 10, 5))
        assert (again.created, again.updated, again.moved, again.unchanged) == (0, 0, 0, 80)
    assert db_snapshot() == before


def test_an_error_in_a_late_chunk_rolls_back_the_written_ones(tmp_path, sessions, db_snapshot):
    rows = [HEADER] + [
        [f"S{i}", "Иванов", f"Пётр{chr(0x430 + i)}", None, date(2015, 3, 14), "5А"]
        for i in range(10)
    ]
    rows.append(["S99", "Петров", "Иван", None, "30.02.2015", "5А"])
    rows.append(["S3", "Сидоров", "Иван", None, date(2015, 1, 1), "5А"])  # S3 again
    before = db_snapshot()
    with pytest.raises(InputError) as caught:
        do_import(sessions, [write_xlsx(tmp_path / "a.xlsx", rows)])
    assert [(p.row, p.column) for p in caught.value.problems] == [
        (12, "Дата рождения"),
        (13, "ID"),
    ]
    assert "the same ID as" in caught.value.problems[1].message
    assert "row 5" in caught.value.problems[1].message
    assert caught.value.result["created"] == 0
    assert db_snapshot() == before


def test_sync_and_moves_across_chunks(tmp_path, sessions):
    do_import(sessions, [write_roster_xlsx(tmp_path / "s.xlsx", SCHOOL)])
    kept = SCHOOL[:50]
    kept[7].class_name = "11Д" if kept[7].class_name != "11Д" else "10Д"
    report = do_import(
        sessions,
        [write_roster_xlsx(tmp_path / "t.xlsx", kept)],
        sync=True,
        confirm=lambda students: len(students) == 30,
    )
    assert (report.moved, report.unchanged, report.deactivated) == (1, 49, 30)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Guardian)) > 0


def test_dry_run_over_chunks_counts_like_the_real_run(tmp_path, sessions, db_snapshot):
    path = write_roster_xlsx(tmp_path / "s.xlsx", SCHOOL)
    before = db_snapshot()
    plan = do_import(sessions, [path], dry_run=True)
    assert db_snapshot() == before
    assert do_import(sessions, [path]).created == plan.created == 80


def test_bulk_statements_follow_the_models_tables(sessions):
    """The import's statements are built from the models: a column added with a default
    that a statement does not give, or a column that is gone, fails here."""
    from sqlalchemy.exc import CompileError

    from diaryadmin.roster.bulk import Bulk
    from diaryadmin.roster.guardianships import GUARDIANS

    with sessions() as session, session.begin():
        bulk = Bulk(session)
        guardian = ("id", "surname", "name", "patronymic", "name_key", "email", "phone")
        with pytest.raises(ValueError, match="created_at"):
            bulk.insert(GUARDIANS, guardian, [])
        with pytest.raises(CompileError, match="no_such_column"):
            bulk.insert(roster_write.STUDENTS, ("id", "no_such_column"), [])
        with pytest.raises(KeyError):
            bulk.update(roster_write.STUDENTS, ("gone",), [], keep=("gone",))
