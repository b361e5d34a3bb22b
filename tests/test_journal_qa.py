"""journal import on files as teachers type them: header variants, absence codes in the mark
column, and the other things exploratory testing found."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from diaryadmin.errors import InputError
from diaryadmin.journal import importing as journal
from diaryadmin.models import Absence, Mark
from helpers import factories
from helpers.journal_files import counts, write_xlsx


@pytest.fixture
def roster(sessions):
    from helpers.journal import build_journal

    with sessions() as session, session.begin():
        built = build_journal(session)
        return {k: getattr(v, "id", v) for k, v in built.items()}


def _import(sessions, path, **options):
    with sessions() as session, session.begin():
        return journal.import_journal(session, factories.school(session), path, "op", **options)


def test_header_variants_teachers_type(sessions, roster, tmp_path):
    header = [
        "Дата урока", "Урок №", "Класс", "Предмет", "Тема урока", "Домашнее задание",
        "Ученик (ФИО)", "Отметка", "Вид работы",
    ]  # fmt: skip
    path = write_xlsx(
        tmp_path / "v.xlsx",
        [
            [date(2026, 9, 15), 1, "5А", "Физика", "Движение", "§1", "Алексеева Анна", 5, None],
            [date(2026, 9, 15), 1, "5А", "Физика", None, None, "Борисов Борис", 4, "К/р"],
        ],
        header=header,
    )
    report = _import(sessions, path)
    assert report["marks_added"] == 2
    with sessions() as session:
        weights = session.scalars(select(Mark.weight).order_by(Mark.id.desc()).limit(2)).all()
    assert sorted(weights) == [1.0, 2.0]  # К/р is a контрольная работа


def test_attendance_codes_typed_in_the_mark_column(sessions, roster, tmp_path):
    header = ["Дата", "Урок", "Класс", "Предмет", "ФИО", "Оценка", "Пропуск"]
    path = write_xlsx(
        tmp_path / "codes.xlsx",
        [
            [date(2026, 9, 15), 1, "5А", "Физика", "Алексеева Анна", "н", None],
            [date(2026, 9, 15), 1, "5А", "Физика", "Борисов Борис", "H", None],  # Latin H
            [date(2026, 9, 16), 1, "5А", "Физика", "Алексеева Анна", "уп", "УП"],  # both agree
            [date(2026, 9, 16), 1, "5А", "Физика", "Борисов Борис", " 4 ", None],
        ],
        header=header,
    )
    before = None
    with sessions() as session:
        before = counts(session)
    report = _import(sessions, path)
    assert (report["marks_added"], report["absences_added"]) == (1, 3)
    with sessions() as session:
        assert counts(session)[2] == before[2] + 3
        codes = session.scalars(select(Absence.code).order_by(Absence.id.desc()).limit(3)).all()
    assert sorted(codes) == ["Н", "Н", "УП"]


def test_a_code_in_the_mark_column_that_disagrees_is_an_error(sessions, roster, tmp_path):
    header = ["Дата", "Урок", "Класс", "Предмет", "ФИО", "Оценка", "Пропуск"]
    path = write_xlsx(
        tmp_path / "codes.xlsx",
        [
            [date(2026, 9, 15), 1, "5А", "Физика", "Алексеева Анна", "н", "Б"],
            [date(2026, 9, 15), 1, "5А", "Физика", "Борисов Борис", "отл", None],
        ],
        header=header,
    )
    with pytest.raises(InputError) as caught:
        _import(sessions, path)
    found = {(p.row, p.column) for p in caught.value.problems}
    assert found == {(2, "Оценка"), (3, "Оценка")}


@pytest.mark.parametrize(
    "kind, weight",
    [("К/р", 2.0), ("к. р.", 2.0), ("Контрольная", 2.0), ("самостоятельная", 1.5),
     ("С/р", 1.5), ("Самостоятельная работа", 1.5), ("дикт.", 2.0), ("беседа", 1.0)],
)  # fmt: skip
def test_short_forms_of_kinds_of_work(kind, weight):
    from diaryadmin.journal.grading import weight_for_kind

    assert weight_for_kind(kind) == weight


def test_a_formula_without_a_value_is_refused_not_dropped(sessions, roster, tmp_path, db_snapshot):
    # openpyxl (like Excel) stores "=молодец" as a formula; its value is lost, so refuse it.
    path = write_xlsx(
        tmp_path / "f.xlsx",
        [[date(2026, 9, 15), 1, "5А", "Физика", "Алексеева Анна", 5, "=молодец"]],
        header=["Дата", "Урок", "Класс", "Предмет", "ФИО", "Оценка", "Комментарий"],
    )
    before = db_snapshot()
    with pytest.raises(InputError) as caught:
        _import(sessions, path)
    assert db_snapshot() == before
    [problem] = caught.value.problems
    assert (problem.row, problem.column) == (2, "Комментарий")
    assert "formula" in problem.message


def test_unknown_columns_are_listed_in_the_report(sessions, roster, tmp_path):
    path = write_xlsx(
        tmp_path / "u.xlsx",
        [[date(2026, 9, 15), 1, "5А", "Физика", "Алексеева Анна", 5, "x"]],
        header=["Дата", "Урок", "Класс", "Предмет", "ФИО", "Оценка", "Настроение"],
    )
    report = _import(sessions, path, dry_run=True)
    assert report["ignored_columns"] == ["Оценки: Настроение"]


def test_export_head_reads_on_paper_and_older_layout_still_imports(sessions, tmp_path):
    from datetime import datetime

    from openpyxl import load_workbook

    from diaryadmin.journal import export as journal_export
    from diaryadmin.journal.periods import resolve_range
    from diaryadmin.journal.read import read_journal_file
    from helpers.journal import build_journal

    with sessions() as session, session.begin():
        built = build_journal(session)
        dates = resolve_range(session, built["school"], "Q1")
        out = tmp_path / "5А.xlsx"
        journal_export.export_journals(
            session, built["school"], [built["a"]], dates, out, folder=False, operator="op"
        )
    book = load_workbook(out)
    maths = book["Математика"]
    # 02.09 has two maths lessons: their `dd.mm/n` labels need a taller rotated header.
    assert maths["D4"].value == "02.09/1" and maths.row_dimensions[4].height >= 54
    assert maths.column_dimensions["A"].width >= len("Период") + 1
    plan = read_journal_file(out)
    assert plan.file_years == {2026}
    assert {k: v[:2] for k, v in plan.periods.items()} == {
        "Q1": (date(2026, 9, 1), date(2026, 10, 24))
    }
    # The layout before the period became text: the year in D1, dates in C3 and D3.
    for sheet in book.worksheets:
        if sheet["A1"].value == "Класс":
            sheet["C1"], sheet["D1"] = "Учебный год", "2026/27"
            sheet["C3"], sheet["D3"] = datetime(2026, 9, 1), datetime(2026, 10, 24)
    book.save(tmp_path / "old.xlsx")
    plan = read_journal_file(tmp_path / "old.xlsx")
    assert not plan.problems and plan.file_years == {2026}
    assert plan.periods["Q1"][:2] == (date(2026, 9, 1), date(2026, 10, 24))


def test_summary_keeps_its_title_row(exported_5a):
    from openpyxl import load_workbook

    sheet = load_workbook(exported_5a)["Сводка"]
    # Written out of row order in constant-memory mode, row 2 used to vanish.
    assert (sheet["A2"].value, sheet["B2"].value) == (
        "Сводка",
        "Средние баллы, оценки за период и пропуски",
    )
    assert sheet.column_dimensions["C"].width >= len("Средний") + 1


@pytest.fixture
def exported_5a(sessions, tmp_path):
    from diaryadmin.journal import export as journal_export
    from diaryadmin.journal.periods import resolve_range
    from helpers.journal import build_journal

    with sessions() as session, session.begin():
        built = build_journal(session)
        dates = resolve_range(session, built["school"], "Q1")
        out = tmp_path / "5А.xlsx"
        journal_export.export_journals(
            session, built["school"], [built["a"]], dates, out, folder=False, operator="op"
        )
    return out


def test_students_by_surname_and_initials_and_namesakes(sessions, roster, tmp_path):
    from helpers.journal import enrol

    with sessions() as session, session.begin():
        other = factories.student(session, "Борисов", "Глеб", None, external_id="B9")
        enrol(session, other, "5А", date(2026, 9, 1))
    header = ["Дата", "Урок", "Класс", "Предмет", "Ученик", "Отметка"]
    good = write_xlsx(
        tmp_path / "initials.xlsx",
        [
            [date(2026, 9, 15), 1, "5А", "Физика", "Алексеева А.И.", 5],
            [date(2026, 9, 15), 1, "5А", "Физика", "Борисов Г.", 4],
            [date(2026, 9, 15), 1, "5А", "Физика", "БОРИСОВ Б", 3],
        ],
        header=header,
    )
    assert _import(sessions, good)["marks_added"] == 3
    bad = write_xlsx(
        tmp_path / "surname.xlsx",
        [
            [date(2026, 9, 16), 1, "5А", "Физика", "Борисов", 5],
            [date(2026, 9, 16), 1, "5А", "Физика", "Алексеева", 5],
            [date(2026, 9, 16), 1, "5А", "Физика", "Борисов Б.Б.", 5],  # no patronymic
        ],
        header=header,
    )
    with pytest.raises(InputError) as caught:
        _import(sessions, bad)
    messages = {p.row: p.message for p in caught.value.problems}
    assert messages[2].startswith("only a surname (2 students of the class have it)")
    assert messages[3].startswith("only a surname (1 student of the class has it)")
    assert messages[4] == "no such student in the class"


def test_a_lesson_in_the_summer_holidays_is_an_error(sessions, roster, tmp_path, db_snapshot):
    header = ["Дата", "Урок", "Класс", "Предмет", "ФИО", "Оценка"]
    path = write_xlsx(
        tmp_path / "summer.xlsx",
        [
            [date(2027, 7, 15), 1, "5А", "Физика", "Алексеева Анна", 5],  # in 2026/27, July
            ["31.08.2027", 1, "5А", "Физика", "Алексеева Анна", 5],
            ["29.05.2027", 1, "5А", "Физика", "Алексеева Анна", 5],  # fine
        ],
        header=header,
    )
    before = db_snapshot()
    with pytest.raises(InputError) as caught:
        _import(sessions, path)
    assert db_snapshot() == before
    found = {(p.row, p.column, p.message) for p in caught.value.problems}
    assert found == {
        (n, "Дата", "the date is in the summer holidays (July and August)") for n in (2, 3)
    }


def test_a_student_of_another_class_is_named_as_such(sessions, roster, tmp_path):
    from helpers.journal import enrol

    with sessions() as session, session.begin():
        gleb = factories.student(session, "Гусев", "Глеб", None, class_name="5Б")
        enrol(session, gleb, "5Б", date(2026, 9, 1))
    path = write_xlsx(
        tmp_path / "other.xlsx",
        [[date(2026, 10, 7), 1, "5А", "Физика", "Гусев Глеб", 5]],
        header=["Дата", "Урок", "Класс", "Предмет", "ФИО", "Оценка"],
    )
    with pytest.raises(InputError) as caught:
        _import(sessions, path)
    [problem] = caught.value.problems
    assert problem.message == "no such student in the class (one is in 5Б)"


def test_a_teacher_written_with_initials_is_one_teacher(sessions, roster, tmp_path):
    from diaryadmin.models import Lesson, Teacher

    header = ["Дата", "Урок", "Класс", "Предмет", "Учитель", "ФИО", "Оценка"]
    path = write_xlsx(
        tmp_path / "t.xlsx",
        [
            # Кузнецов Андрей Павлович is in the database already.
            [date(2026, 9, 15), 1, "5А", "Физика", "Кузнецов А.П.", "Алексеева Анна", 5],
            [date(2026, 9, 16), 1, "5А", "Физика", "А. П. Кузнецов", "Алексеева Анна", 5],
            # New: written in full once, with initials elsewhere in the same file.
            [date(2026, 9, 17), 1, "5А", "Химия", "Орлова Е.В.", "Алексеева Анна", 5],
            [date(2026, 9, 18), 1, "5А", "Химия", "Орлова Елена Витальевна", "Алексеева Анна", 4],
            [date(2026, 9, 19), 1, "5А", "Химия", "Орлова Е. В.", "Алексеева Анна", 4],
        ],
        header=header,
    )
    report = _import(sessions, path)
    assert report["teachers_created"] == ["Орлова Елена Витальевна"]
    with sessions() as session:
        names = {
            (t.surname, t.name, t.patronymic)
            for t in session.scalars(
                select(Teacher)
                .join(Lesson, Lesson.teacher_id == Teacher.id)
                .where(Lesson.date >= date(2026, 9, 15), Lesson.date <= date(2026, 9, 19))
            )
        }
    assert names == {("Кузнецов", "Андрей", "Павлович"), ("Орлова", "Елена", "Витальевна")}


def test_a_teacher_stored_with_unspaced_initials_is_found_again(sessions, roster, tmp_path):
    from diaryadmin.models import Teacher

    with sessions() as session, session.begin():
        school = factories.school(session)
        # As an earlier import stored "Смирнова Е.В.": the initials as one given name.
        session.add(
            Teacher(school_id=school.id, surname="Смирнова", name="Е.В.", name_key="смирнова е.в.")
        )
    header = ["Дата", "Урок", "Класс", "Предмет", "Учитель", "ФИО", "Оценка"]
    path = write_xlsx(
        tmp_path / "t.xlsx",
        [[date(2026, 9, 15), 1, "5А", "Физика", "Смирнова Е. В.", "Алексеева Анна", 5]],
        header=header,
    )
    assert _import(sessions, path)["teachers_created"] == []


def test_a_note_typed_by_hand_on_a_mark_is_its_comment():
    from diaryadmin.journal.read import parse_note

    assert parse_note("молодец") == {"comment": "молодец"}
    # LibreOffice and Excel put the author on the first line.
    assert parse_note("Смирнова Е.В.:\nне сдал тетрадь\nво время") == {
        "comment": "не сдал тетрадь\nво время"
    }
    assert parse_note("Вес: 2\nсписал: половину") == {"weight": 2.0, "comment": "списал: половину"}
    assert parse_note("Вес: 2\nКомментарий: да") == {"weight": 2.0, "comment": "да"}


def test_a_wrong_whole_number_is_shown_as_typed(sessions, roster, tmp_path):
    path = write_xlsx(
        tmp_path / "six.xlsx",
        [[date(2026, 9, 15), 1, "5А", "Физика", "Алексеева Анна", 6]],
        header=["Дата", "Урок", "Класс", "Предмет", "ФИО", "Оценка"],
    )
    with pytest.raises(InputError) as caught:
        _import(sessions, path)
    [problem] = caught.value.problems
    assert repr(problem.value) == "6"  # the cell reads as 6.0; the teacher typed 6


def test_the_weekly_chart_has_one_label_a_week(exported_5a):
    import zipfile

    with zipfile.ZipFile(exported_5a) as archive:
        charts = [archive.read(n).decode() for n in archive.namelist() if "charts/chart" in n]
    line = next(c for c in charts if "<c:lineChart>" in c)
    assert '<c:majorUnit val="7"/>' in line and "<c:dateAx>" in line


def test_dates_without_a_year_as_in_the_paper_journal(sessions, roster, tmp_path):
    from diaryadmin.models import Lesson

    text = (
        "Дата;Урок;Класс;Предмет;ФИО;Оценка\n"
        "03.09;1;5А;Физика;Алексеева Анна;5\n"
        "15.01;1;5А;Физика;Алексеева Анна;4\n"
        "30.02;1;5А;Физика;Алексеева Анна;4\n"
    )
    path = tmp_path / "no-year.csv"
    path.write_bytes(text.encode("cp1251"))
    with pytest.raises(InputError) as caught:
        _import(sessions, path)
    assert [(p.row, p.column) for p in caught.value.problems] == [(4, "Дата")]
    path.write_bytes(text.rsplit("30.02", 1)[0].encode("cp1251"))
    assert _import(sessions, path)["lessons_added"] == 2
    with sessions() as session:
        days = set(session.scalars(select(Lesson.date).where(Lesson.topic.is_(None))))
    assert {date(2026, 9, 3), date(2027, 1, 15)} <= days


def test_a_numbered_long_form_file_reports_a_bad_weight_once(sessions, roster, tmp_path):
    path = tmp_path / "numbered.csv"
    path.write_bytes(
        "№;Дата;Урок;Класс;Предмет;ФИО;Оценка;Вес\n"
        "1;15.09.2026;1;5А;Физика;Алексеева Анна;5;тяжёлый\n".encode("cp1251")
    )
    with pytest.raises(InputError) as caught:
        _import(sessions, path)
    assert [(p.row, p.column) for p in caught.value.problems] == [(2, "Вес")]
