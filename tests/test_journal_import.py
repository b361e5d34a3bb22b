"""journal import, long form: reading rules, all-or-nothing refusals with row and column,
idempotent re-import, dry run, the CLI."""

from __future__ import annotations

import json
from datetime import date

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from diaryadmin.errors import InputError
from diaryadmin.journal import importing as journal
from diaryadmin.models import Absence, AuditEvent, Lesson, Mark, Subject, Teacher
from helpers import factories
from helpers.journal import build_journal, enrol
from helpers.journal_files import counts, write_xlsx


def row(day, n, subject, student=None, mark=None, code=None, **extra):
    sid, name = student if isinstance(student, tuple) else (None, student)
    return [
        day, n, extra.get("klass", "5А"), subject, extra.get("teacher", "Кузнецов Андрей Павлович"),
        extra.get("topic"), extra.get("homework"), sid, name, mark, extra.get("weight"),
        extra.get("kind"), code, extra.get("comment"),
    ]  # fmt: skip


@pytest.fixture
def roster(sessions):
    with sessions() as session, session.begin():
        built = build_journal(session)
        return {k: getattr(v, "id", v) for k, v in built.items()}


def test_long_form_import(sessions, roster, tmp_path):
    path = write_xlsx(
        tmp_path / "marks.xlsx",
        [
            row(
                date(2026, 9, 15),
                1,
                "Физика",
                ("A1", None),
                5,
                topic="Движение",
                homework="§1",
                kind="контрольная работа",
                comment="'=отлично",
            ),  # defused text
            row("15.09.2026", 1, "Физика", "Борисов Борис", 3, weight="1,5"),
            row(date(2026, 9, 15), 1, "Физика", "алексеева анна игоревна", 4),
            row(date(2026, 9, 15), 1, "Физика", "Борисов Борис", code="н"),
            row(date(2026, 9, 16), 2, "Физика", topic="Скорость", homework="§2, № 3"),
            row(date(2026, 9, 16), 2, "Физика", ("V4", None), code="ОП"),
            row(date(2026, 9, 16), 2, "Физика", ("V4", None), 4),
        ],
        title_rows=[["Журнал 5А, сентябрь"], []],
    )
    with sessions() as session, session.begin():
        school = factories.school(session)
        before = counts(session)
        report = journal.import_journal(session, school, path, "op", now=None)
    assert report["format"] == "long" and report["rows"] == 7
    assert (report["lessons_added"], report["marks_added"], report["absences_added"]) == (2, 4, 2)
    assert report["subjects_created"] == ["Физика"] and report["teachers_created"] == []
    with sessions() as session:
        assert counts(session) == (before[0] + 2, before[1] + 4, before[2] + 2)
        physics = session.scalar(select(Subject).where(Subject.name == "Физика"))
        lessons = session.scalars(
            select(Lesson).where(Lesson.subject_id == physics.id).order_by(Lesson.date)
        ).all()
        assert [(x.date, x.number, x.topic, x.homework) for x in lessons] == [
            (date(2026, 9, 15), 1, "Движение", "§1"),
            (date(2026, 9, 16), 2, "Скорость", "§2, № 3"),
        ]
        kuz = session.scalar(select(Teacher).where(Teacher.surname == "Кузнецов"))
        assert lessons[0].teacher_id == kuz.id
        marks = session.execute(
            select(
                Mark.student_id, Mark.value, Mark.weight, Mark.kind, Mark.comment, Mark.teacher_id
            )
            .where(Mark.lesson_id == lessons[0].id)
            .order_by(Mark.value)
        ).all()
        assert [tuple(m) for m in marks] == [
            (roster["boris"], 3, 1.5, None, None, kuz.id),
            (roster["anna"], 4, 1.0, None, None, kuz.id),
            (roster["anna"], 5, 2.0, "контрольная работа", "=отлично", kuz.id),
        ]
        codes = session.execute(select(Absence.student_id, Absence.code).where(
            Absence.lesson_id.in_([x.id for x in lessons]))).all()  # fmt: skip
        assert sorted(map(tuple, codes)) == sorted(
            [(roster["boris"], "Н"), (roster["vasya"], "ОП")]
        )
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "journal.import")
        ).one()
        assert event.details["marks_added"] == 4 and event.target == "file:marks.xlsx"


def test_reimport_is_idempotent_and_replaces_a_students_marks_in_a_lesson(
    sessions, roster, tmp_path
):
    rows = [
        row(date(2026, 9, 15), 1, "Физика", ("A1", None), 5),
        row(date(2026, 9, 15), 1, "Физика", ("A1", None), 4),
        row(date(2026, 9, 15), 1, "Физика", ("B2", None), code="Б"),
    ]
    path = write_xlsx(tmp_path / "a.xlsx", rows)
    with sessions() as session, session.begin():
        school = factories.school(session)
        journal.import_journal(session, school, path, "op")
        first = counts(session)
    with sessions() as session, session.begin():
        again = journal.import_journal(session, factories.school(session), path, "op")
        assert counts(session) == first
    assert (again["marks_added"], again["marks_removed"], again["marks_unchanged"]) == (0, 0, 2)
    assert (again["lessons_added"], again["lessons_unchanged"], again["absences_added"]) == (
        0,
        1,
        0,
    )
    # A corrected file: Анна's 4 becomes a 3, Борисов was late, not ill.
    rows[1][9] = 3
    rows[2][12] = "ОП"
    with sessions() as session, session.begin():
        fixed = journal.import_journal(
            session, factories.school(session), write_xlsx(tmp_path / "b.xlsx", rows), "op"
        )
        assert counts(session) == first
        on_15th = select(Lesson.id).where(Lesson.date == date(2026, 9, 15))
        annas = select(Mark.value).where(
            Mark.student_id == roster["anna"], Mark.lesson_id.in_(on_15th)
        )
        assert sorted(session.scalars(annas)) == [3, 5]
    assert (fixed["marks_added"], fixed["marks_removed"], fixed["absences_changed"]) == (2, 2, 1)


def test_problems_are_all_reported_and_nothing_changes(sessions, roster, tmp_path, db_snapshot):
    path = write_xlsx(
        tmp_path / "bad.xlsx",
        [
            row(date(2026, 9, 15), 1, "Физика", ("A1", None), 6),  # 2: mark out of range
            row(date(2026, 9, 15), 1, "Физика", ("A1", None), code="X"),  # 3: unknown code
            row(date(2026, 10, 6), 1, "Физика", ("V4", None), 5),  # 4: moved to 5Б on 01.10
            row(date(2027, 9, 6), 1, "Физика", ("A1", None), 5),  # 5: next school year
            row(date(2026, 9, 15), 1, "Физика", "Петров Пётр", 5),  # 6: not in the class
            row(date(2026, 9, 15), 0, "Физика", ("A1", None), 5),  # 7: lesson 0
            row("31.02.2026", 1, "Физика", ("A1", None), 5),  # 8: no such date
            row(date(2026, 9, 15), 1, "Физика", ("ZZ", None), 5),  # 9: unknown ID
            row(date(2026, 9, 15), 1, "Физика", ("A1", None), 5, klass="9Я"),  # 10: no class
            row(date(2026, 9, 15), 1, "Физика", ("A1", None), 5, weight="тяжёлый"),  # 11
            row(date(2026, 9, 17), 1, "Физика", ("A1", None), 5),  # fine
        ],
    )
    before = db_snapshot()
    with sessions() as session, session.begin(), pytest.raises(InputError) as caught:
        journal.import_journal(session, factories.school(session), path, "op")
    assert db_snapshot() == before
    found = {(p.row, p.column, p.message) for p in caught.value.problems}
    assert found >= {
        (2, "Отметка", "a mark is a whole number from 1 to 5"),
        (3, "Пропуск", "unknown attendance code; use Н, Б, УП or ОП"),
        (4, "ID ученика", "Волков Василий is not in class 5А on 06.10.2026"),
        (5, "Дата", "the date is outside the school year 2026/27 (01.09.2026 – 31.08.2027)"),
        (6, "ФИО ученика", "no such student in the class"),
        (7, "№ урока", "a lesson number is 1–12"),
        (8, "Дата", "not a real date"),
        (9, "ID ученика", "no student with ID 'ZZ'"),
        (11, "Вес", "expected a number"),
    }
    assert any(p.row == 10 and "the grade 9" not in p.message for p in caught.value.problems)
    assert all(p.file == str(path) and p.sheet == "Оценки" for p in caught.value.problems)
    marks_problem = next(p for p in caught.value.problems if p.row == 2)
    assert marks_problem.value == 6
    assert caught.value.result["errors"]


def test_no_class_and_wrong_class_for_class_option(sessions, roster, tmp_path):
    path = write_xlsx(
        tmp_path / "c.xlsx",
        [row(date(2026, 9, 15), 1, "Физика", ("A1", None), 5, klass="9Я")],
    )
    with sessions() as session:
        with pytest.raises(InputError) as caught:
            journal.import_journal(session, factories.school(session), path, "op")
        assert [p.message for p in caught.value.problems] == ["there is no class 9Я in 2026/27"]
        with pytest.raises(InputError) as caught:
            journal.import_journal(
                session, factories.school(session), path, "op", default_class="5а"
            )
        assert "the grade 9" not in caught.value.problems[0].message
        assert caught.value.problems[0].message == "the row is for 9Я, not 5А"


def test_class_option_fills_a_missing_class_column_and_csv_cp1251(sessions, roster, tmp_path):
    text = (
        "Дата;Урок;Предмет;Ученик;Оценка;Вид работы;Пропуск\r\n"
        "15.09.2026;2;История;Алексеева Анна;4;самостоятельная работа;\r\n"
        "15.09.2026;2;История;Борисов Борис;;;УП\r\n"
    )
    path = tmp_path / "history.csv"
    path.write_bytes(text.encode("cp1251"))
    with sessions() as session, session.begin():
        school = factories.school(session)
        with pytest.raises(InputError, match="1 problem"):
            journal.import_journal(session, school, path, "op")
        report = journal.import_journal(session, school, path, "op", default_class="5 А")
        assert (report["marks_added"], report["absences_added"]) == (1, 1)
        weight = session.scalar(select(Mark.weight).where(Mark.kind == "самостоятельная работа"))
        assert weight == 1.5  # from the kind of work


def test_ambiguous_names_need_an_id(sessions, tmp_path):
    with sessions() as session, session.begin():
        twins = [
            factories.student(session, "Смирнов", "Иван", "Петрович", external_id="T1"),
            factories.student(session, "Смирнов", "Иван", "Олегович", external_id="T2"),
        ]
        for student in twins:
            enrol(session, student, "5А", date(2026, 9, 1))
    path = write_xlsx(
        tmp_path / "t.xlsx",
        [
            row(date(2026, 9, 15), 1, "Физика", "Смирнов Иван", 5),
            row(date(2026, 9, 15), 1, "Физика", "Смирнов Иван Олегович", 4),
        ],
    )
    with sessions() as session, pytest.raises(InputError) as caught:
        journal.import_journal(session, factories.school(session), path, "op")
    assert [(p.row, p.message) for p in caught.value.problems] == [
        (2, "2 students of the class have this name; give their ID")
    ]


def test_conflicting_topics_in_one_file(sessions, roster, tmp_path):
    path = write_xlsx(
        tmp_path / "t.xlsx",
        [
            row(date(2026, 9, 15), 1, "Физика", topic="Движение"),
            row(date(2026, 9, 15), 1, "Физика", ("A1", None), 5),
            row(date(2026, 9, 15), 1, "Физика", topic="Скорость"),
        ],
    )
    with sessions() as session, pytest.raises(InputError) as caught:
        journal.import_journal(session, factories.school(session), path, "op")
    assert [(p.row, p.column) for p in caught.value.problems] == [(4, "Тема")]
    assert "already has topic 'Движение'" in caught.value.problems[0].message


def test_cli_import_dry_run_then_real(run_cli, sessions, roster, tmp_path, db_snapshot):
    path = write_xlsx(tmp_path / "m.xlsx", [row(date(2026, 9, 15), 1, "Физика", ("A1", None), 5)])
    before = db_snapshot()
    dry = run_cli("journal", "import", str(path), "--dry-run", "--format", "json")
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout)["dry_run"] is True
    assert "Dry run: nothing was changed." in dry.stderr
    assert "import lesson 5А Физика 15.09.2026 №1 (marks: 1, absences: 0)" in dry.stderr
    assert db_snapshot() == before
    done = run_cli("journal", "import", str(path))
    assert done.exit_code == 0, done.output
    assert "marks_added" in done.stdout


def test_cli_import_refused(run_cli, roster, tmp_path):
    path = write_xlsx(tmp_path / "m.xlsx", [row(date(2026, 9, 15), 1, "Физика", ("A1", None), 7)])
    result = run_cli("journal", "import", str(path), "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["errors"] == [
        {
            "file": str(path),
            "sheet": "Оценки",
            "row": 2,
            "column": "Отметка",
            "value": 7,
            "message": "a mark is a whole number from 1 to 5",
        }
    ]
    assert "row 2, column 'Отметка'" in result.stderr


def test_missing_columns_and_files(sessions, roster, tmp_path):
    path = write_xlsx(tmp_path / "x.xlsx", [["a", "b"]], header=["Ученик", "Оценка"])
    with sessions() as session:
        school = factories.school(session)
        with pytest.raises(InputError) as caught:
            journal.import_journal(session, school, path, "op")
        assert "no sheet has a journal table" in str(caught.value.problems)
        with pytest.raises(InputError, match="file not found"):
            journal.import_journal(session, school, tmp_path / "nope.xlsx", "op")


def test_first_enrolment_counts_from_before_the_roster_import(sessions, roster, tmp_path):
    """The roster import records a class from the day it ran; the term began before that."""
    with sessions() as session, session.begin():
        late = factories.student(session, "Новикова", "Нина", None, external_id="N5")
        enrol(session, late, "5А", date(2026, 11, 28))
    path = write_xlsx(tmp_path / "n.xlsx", [row(date(2026, 9, 15), 1, "Физика", ("N5", None), 5)])
    with sessions() as session, session.begin():
        school = factories.school(session)
        assert journal.import_journal(session, school, path, "op")["marks_added"] == 1
        from diaryadmin.journal.data import load_class_journal
        from diaryadmin.journal.periods import DateRange

        sept = DateRange(date(2026, 9, 1), date(2026, 9, 10))  # before any mark of hers
        labels = [
            s.label
            for s in load_class_journal(session, factories.school_class(session), sept).students
        ]
        assert "Новикова Нина" in labels


def test_parse_note_reads_what_the_export_writes_and_ignores_an_author_line():
    assert journal.parse_note("Вес: 1,5\nВид работы: тест\nКомментарий: =да\nи ещё") == {
        "weight": 1.5,
        "kind": "тест",
        "comment": "=да\nи ещё",
    }
    assert journal.parse_note("Завуч Иванова:\nВид работы: —\nУчитель: Петров  П. П.") == {
        "kind": None,
        "teacher": "Петров П. П.",
    }
    with pytest.raises(ValueError):
        journal.parse_note("Вес: много")


def test_cell_notes_with_xml_entities_are_refused(tmp_path):
    import zipfile

    from openpyxl.comments import Comment

    book = Workbook()
    book.active["A1"] = 5
    book.active["A1"].comment = Comment("Вес: 2", "teacher")
    plain = tmp_path / "plain.xlsx"
    book.save(plain)
    assert journal.read_cell_notes(plain)["Sheet"][(1, 0)] == "Вес: 2"
    hostile = tmp_path / "hostile.xlsx"
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(hostile, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if "comment" in item.filename and item.filename.endswith(".xml"):
                body = data.split(b"?>", 1)[1] if data.startswith(b"<?xml") else data
                data = (
                    b'<?xml version="1.0"?><!DOCTYPE c [<!ENTITY a "aaaaaaaaaa">'
                    b'<!ENTITY b "&a;&a;&a;&a;&a;">]>' + body
                )
            target.writestr(item, data)
    with pytest.raises(InputError, match="the cell notes cannot be read"):
        journal.read_cell_notes(hostile)
