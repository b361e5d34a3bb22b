"""Roster files as school offices really have them: found by exploratory QA, kept as tests."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from diaryadmin import documents
from diaryadmin.io import match_alias
from diaryadmin.models import Guardian, Guardianship, Student
from test_roster_support import HEADER, SECRET, do_import, parse, parsed_one, write_xlsx

IVANOV = ["S1", "Иванов", "Пётр", "Сергеевич", date(2015, 3, 14), "5А"]


def relations(sessions) -> list[tuple[str, str, str]]:
    with sessions() as session:
        rows = session.execute(
            select(Student.external_id, Guardian.surname, Guardianship.relation)
            .join(Guardianship, Guardianship.student_id == Student.id)
            .join(Guardian, Guardian.id == Guardianship.guardian_id)
        ).all()
    return sorted(tuple(row) for row in rows)


def test_relation_in_brackets_after_the_guardians_name(tmp_path, sessions):
    path = write_xlsx(
        tmp_path / "r.xlsx",
        [[*HEADER, "Родитель 2"], [*IVANOV, "Иванов Сергей Олегович, папа"]],
        sheet="Ученики",
        more={
            "Родители": [
                ["ID ученика", "ФИО", "Телефон"],
                ["S1", "Иванова Мария Петровна (мать)", 89001112233],
                ["S1", "Сидорова Анна Ивановна (бабушка)", None],
            ]
        },
    )
    report = do_import(sessions, [path])
    assert report.warnings == []
    assert relations(sessions) == [
        ("S1", "Иванов", "father"),
        ("S1", "Иванова", "mother"),
        ("S1", "Сидорова", "guardian"),
    ]
    with sessions() as session:
        assert session.scalar(select(Guardian.patronymic).where(Guardian.surname == "Иванова")) == (
            "Петровна"
        )


def test_brackets_that_are_no_relation_are_still_an_error(tmp_path):
    path = write_xlsx(
        tmp_path / "r.xlsx", [[*HEADER, "Родитель"], [*IVANOV, "Иванова Мария (тётя Маша)"]]
    )
    [problem] = parse([path]).errors
    assert (problem.row, problem.column) == (2, "Родитель")


def test_running_number_column_is_no_unknown_column(tmp_path):
    for label in ("№", "#", "№ п/п"):
        path = write_xlsx(tmp_path / "r.xlsx", [[label, *HEADER], [1, *IVANOV]])
        result = parse([path])
        assert (result.errors, result.warnings) == ([], []), label
    assert match_alias("№", {"row_number": ["№"]}) == "row_number"


def test_certificate_number_cell_that_lost_its_leading_zero(tmp_path):
    header = [*HEADER, "Серия свидетельства", "Номер свидетельства"]
    path = write_xlsx(tmp_path / "r.xlsx", [header, [*IVANOV, "IV-МЮ", 12345]])
    record = parsed_one([path])
    expected = documents.fingerprint("certificate", "IV-МЮ 012345", SECRET.encode())
    assert record.certificate_fp == expected


def test_certificate_number_typed_as_text_must_still_have_six_digits(tmp_path):
    header = [*HEADER, "Серия свидетельства", "Номер свидетельства"]
    path = write_xlsx(tmp_path / "r.xlsx", [header, [*IVANOV, "IV-МЮ", "12345"]])
    [problem] = parse([path]).errors
    assert (problem.row, problem.column) == (2, "Серия свидетельства")
