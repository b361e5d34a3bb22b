"""Control characters, bidirectional overrides and overlong text are listed problems of the row
and column on every import (roster, applications, journal), never stored, never a database
error (a 10,000-character name used to end in StringDataRightTruncation on PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from diaryadmin.applications.read import read_applications
from diaryadmin.config import Settings
from diaryadmin.errors import InputError
from diaryadmin.journal import importing as journal
from diaryadmin.models import Lesson
from helpers import factories
from helpers.applications import SMIRNOV, application
from helpers.journal import build_journal
from helpers.journal_files import HEADER as JOURNAL_HEADER
from helpers.roster import HEADER, SECRET, counts, do_import, parse, write_csv

LONG = "Я" * 10_000


def _csv(path, rows):
    """UTF-8 CSV (xlsx cannot even hold most control characters: CSV is how they arrive)."""
    shown = [[f"{v:%d.%m.%Y}" if isinstance(v, date) else v for v in row] for row in rows]
    return write_csv(path, shown, encoding="utf-8")


def _roster_row(**cells):
    row = {"ID": "S1", "Фамилия": "Иванов", "Имя": "Пётр", "Отчество": "Ильич"}
    row |= {"Дата рождения": date(2015, 3, 1), "Класс": "5А"} | cells
    return [row.get(column) for column in [*HEADER, "E-mail матери", "ФИО матери"]]


def _roster(tmp_path, **cells):
    header = [*HEADER, "E-mail матери", "ФИО матери"]
    mother = {"ФИО матери": "Иванова Мария Петровна", "E-mail матери": "maria@example.org"}
    return _csv(tmp_path / "roster.csv", [header, _roster_row(**(mother | cells))])


@pytest.mark.parametrize(
    ("cells", "column", "message"),
    [
        ({"Фамилия": "Ива\u202eнов"}, "Фамилия", "bidirectional override (U+202E)"),
        ({"Имя": "Пётр\x07"}, "Имя", "control character (U+0007)"),
        ({"Отчество": LONG}, "Отчество", "too long (10000 characters; at most 100)"),
        ({"ID": "S1\u2066"}, "ID", "bidirectional override (U+2066)"),
        ({"ID": "S" * 65}, "ID", "too long (65 characters; at most 64)"),
        ({"E-mail матери": "ma\x1bria@example.org"}, "E-mail матери", "control character"),
        ({"E-mail матери": "m" * 250 + "@example.org"}, "E-mail матери", "too long"),
        ({"ФИО матери": "Иванова Мария\u202d Петровна"}, "ФИО матери", "bidirectional"),
        ({"ФИО матери": f"Иванова Мария {LONG}"}, "ФИО матери", "too long"),
    ],
)
def test_roster_lists_hidden_and_overlong_text_as_problems(tmp_path, cells, column, message):
    result = parse([_roster(tmp_path, **cells)])
    assert result.students == []
    [problem] = result.errors
    assert problem.row == 2 and problem.column == column, problem
    assert message in problem.message, problem.message
    assert len(str(problem)) < 300  # the value is shown shortened, not 10,000 letters


def test_roster_tidies_what_is_invisible_and_keeps_the_name(tmp_path):
    result = parse([_roster(tmp_path, Фамилия="Ива\u200bнов", ID="S1\ufeff")])
    assert result.errors == []
    [record] = result.students
    assert (record.surname, record.external_id) == ("Иванов", "S1")


def test_an_overlong_name_is_refused_on_any_database(sessions, tmp_path):
    path = _roster(tmp_path, Фамилия=LONG)
    with pytest.raises(InputError) as caught:
        do_import(sessions, [path])
    assert any("too long" in p.message for p in caught.value.problems)
    assert counts(sessions)["students"] == 0


# --- applications --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cells", "column", "message"),
    [
        ({"Номер заявления": "A-1\x07"}, "Номер заявления", "control character (U+0007)"),
        ({"Номер заявления": "A" * 65}, "Номер заявления", "too long (65 characters"),
        ({"Фамилия заявителя": "Смир\u202eнов"}, "Фамилия заявителя", "bidirectional"),
        ({"Имя ребёнка": "Артём\x01"}, "Имя ребёнка", "control character (U+0001)"),
        ({"Отчество заявителя": LONG}, "Отчество заявителя", "too long (10000 characters"),
        ({"E-mail": "ivan\u202e@example.ru"}, "E-mail", "bidirectional override"),
    ],
)
def test_applications_list_hidden_and_overlong_text(tmp_path, cells, column, message):
    row = application(1, SMIRNOV) | cells
    path = _csv(tmp_path / "portal.csv", [list(row), list(row.values())])
    parsed, report = read_applications([path], Settings(secret_key=SECRET), today=date(2026, 10, 1))
    assert parsed == []
    [problem] = report.errors
    assert problem.column == column and message in problem.message, problem
    assert len(str(problem)) < 300


# --- journal -------------------------------------------------------------------------------


def _lesson(**extra):
    cells = {"topic": "Движение", "comment": "устно", "kind": "ответ на уроке"} | extra
    teacher = extra.get("teacher", "Кузнецов Андрей Павлович")
    return [
        date(2026, 9, 15), 1, "5А", extra.get("subject", "Физика"), teacher, cells["topic"],
        extra.get("homework"), "A1", None, 5, None, cells["kind"], None, cells["comment"],
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("extra", "column", "message"),
    [
        ({"topic": "Дви\x02жение"}, "Тема", "control character (U+0002)"),
        ({"homework": "§1\u202e"}, "ДЗ", "bidirectional override (U+202E)"),
        ({"comment": "ус\x1bтно"}, "Комментарий", "control character (U+001B)"),
        ({"kind": "ответ\u2067"}, "Вид работы", "bidirectional override (U+2067)"),
        ({"subject": "Физ\x01ика"}, "Предмет", "control character (U+0001)"),
        ({"subject": "Ф" * 101}, "Предмет", "too long (101 characters; at most 100)"),
        ({"teacher": "Кузнецов\u202e Андрей"}, "Учитель", "bidirectional override"),
        ({"topic": LONG}, "Тема", "too long (10000 characters; at most 2000)"),
    ],
)
def test_journal_lists_hidden_and_overlong_text(sessions, tmp_path, extra, column, message):
    with sessions() as session, session.begin():
        build_journal(session)
    path = _csv(tmp_path / "marks.csv", [JOURNAL_HEADER, _lesson(**extra)])
    with sessions() as session, pytest.raises(InputError) as caught:
        journal.import_journal(session, factories.school(session), path, "op")
    found = [p for p in caught.value.problems if p.column == column]
    assert found and message in found[0].message, caught.value.problems
    assert len(str(found[0])) < 300


def test_journal_keeps_line_breaks_of_a_topic_and_drops_invisible_characters(sessions, tmp_path):
    with sessions() as session, session.begin():
        build_journal(session)
    topic = '"Движение\r\n\u200bСкорость"'  # quoted: the line break is inside the cell
    path = _csv(tmp_path / "marks.csv", [JOURNAL_HEADER, _lesson(topic=topic)])
    with sessions() as session, session.begin():
        journal.import_journal(session, factories.school(session), path, "op")
    with sessions() as session:
        topics = session.scalars(select(Lesson.topic).where(Lesson.topic.like("Движение%"))).all()
    assert topics == ["Движение\nСкорость"]
