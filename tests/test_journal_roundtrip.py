"""export → import reproduces lessons, topics, marks (with weight, kind, comment, teacher),
absences and period grades; re-importing the export changes nothing."""

from __future__ import annotations

from datetime import date

from openpyxl import load_workbook

from diaryadmin.journal import export as journal_export
from diaryadmin.journal import importing as journal
from diaryadmin.journal.data import classes_of_year
from diaryadmin.journal.periods import resolve_range
from diaryadmin.samples.journal import generate_class_term, long_form_rows
from helpers import factories
from helpers.journal import build_journal, clear_journal, journal_content


def export_all(session, folder, period="Q1"):
    school = factories.school(session)
    dates = resolve_range(session, school, period)
    return journal_export.export_journals(
        session, school, classes_of_year(session, school, 2026), dates, folder,
        folder=True, operator="op", overwrite=True,
    )  # fmt: skip


def test_export_then_import_into_an_empty_journal_is_equal(sessions, tmp_path):
    with sessions() as session, session.begin():
        build_journal(session)
        report = export_all(session, tmp_path / "out")
        original = journal_content(session)
    assert len(original["marks"]) == 8 and len(original["grades"]) == 2
    with sessions() as session, session.begin():
        clear_journal(session)  # the same roster, no lessons, subjects, teachers or periods
        factories.school_class(session, "5А", year=2027)  # the roster has moved on a year
    with sessions() as session, session.begin():
        school = factories.school(session)
        for file in report["files"]:
            result = journal.import_journal(session, school, file["file"], "op")
            assert result["format"] == "grid+long"
    with sessions() as session:
        assert journal_content(session) == original
    # Importing the export again changes nothing.
    with sessions() as session, session.begin():
        school = factories.school(session)
        again = journal.import_journal(session, school, report["files"][0]["file"], "op")
        assert journal_content(session) == original
    assert again["marks_added"] == again["marks_removed"] == 0
    assert again["absences_added"] == again["absences_removed"] == 0
    assert again["period_grades_set"] == 0 and again["lessons_updated"] == 0


def test_generated_term_round_trips(sessions, tmp_path):
    """A larger generated term (all codes, kinds, comments, two marks in a lesson)."""
    from diaryadmin.io import write_xlsx
    from diaryadmin.samples.journal import LONG_FORM_HEADER

    with sessions() as session, session.begin():
        students = [
            factories.student(session, f"Ученик{i:02d}", "Имя", external_id=f"G{i}")
            for i in range(12)
        ]
        school = factories.school(session)
        from diaryadmin.journal.periods import add_period

        add_period(session, school, "Q1", date(2026, 9, 1), date(2026, 10, 24), "op")
    lessons, entries = generate_class_term(
        "5А", [s.id for s in students], date(2026, 9, 1), date(2026, 10, 24), seed=11
    )
    codes = {e.code for e in entries if e.code}
    assert codes == {"Н", "Б", "УП", "ОП"}
    assert any(len(e.marks) == 2 for e in entries)
    cells = {s.id: (s.external_id, f"{s.surname} {s.name}") for s in students}
    source = tmp_path / "term.xlsx"
    write_xlsx(
        source, [("Журнал", LONG_FORM_HEADER, long_form_rows("5А", lessons, entries, cells))]
    )
    with sessions() as session, session.begin():
        journal.import_journal(session, factories.school(session), source, "op")
        original = journal_content(session)
        report = export_all(session, tmp_path / "out")
    assert len(original["lessons"]) == len(lessons)
    assert len(original["marks"]) == sum(len(e.marks) for e in entries)
    with sessions() as session, session.begin():
        clear_journal(session)
    with sessions() as session, session.begin():
        journal.import_journal(session, factories.school(session), report["files"][0]["file"], "op")
    with sessions() as session:
        assert journal_content(session) == original


def test_grid_edits_are_imported_and_empty_cells_remove(sessions, tmp_path):
    with sessions() as session, session.begin():
        build_journal(session)
        report = export_all(session, tmp_path / "out")
    path = report["files"][0]["file"]
    book = load_workbook(path)
    sheet = book["Математика"]
    sheet["D8"] = 3  # Борисов's 2 becomes a 3
    sheet["G8"] = None  # his Н on 09.09 is removed
    sheet["L7"] = 5  # Алексеева's period grade
    sheet["F7"] = 7  # and a mark that cannot be
    book.save(tmp_path / "edited.xlsx")
    with sessions() as session, session.begin():
        school = factories.school(session)
        try:
            journal.import_journal(session, school, tmp_path / "edited.xlsx", "op")
        except Exception as error:  # noqa: BLE001 - checked below
            problems = error.problems
        assert [(p.sheet, p.row, p.column, p.value) for p in problems] == [
            ("Математика", 7, "F", 7)
        ]
    sheet["F7"] = None
    book.save(tmp_path / "edited.xlsx")
    with sessions() as session, session.begin():
        school = factories.school(session)
        result = journal.import_journal(session, school, tmp_path / "edited.xlsx", "op")
        content = journal_content(session)
    assert (result["marks_added"], result["marks_removed"], result["absences_removed"]) == (1, 1, 1)
    assert result["period_grades_set"] == 1
    assert ("A1", "Математика", "Q1", 5) in content["grades"]
    assert not any(a[0] == "B2" and a[4] == "Н" for a in content["absences"])


def test_lesson_kind_of_work_goes_to_the_lesson_list_and_notes_show_exceptions(sessions, tmp_path):
    from diaryadmin.models import AcademicPeriod, Subject
    from helpers.journal import enrol, lesson, mark

    with sessions() as session, session.begin():
        school = factories.school(session)
        klass = factories.school_class(session, "7В")
        ann = factories.student(session, "Ан", "Ана", None, class_name="7В", external_id="K1")
        bob = factories.student(session, "Бо", "Боб", None, class_name="7В", external_id="K2")
        for student in (ann, bob):
            enrol(session, student, "7В", date(2026, 9, 1))
        q1 = {"name": "Q1", "starts_on": date(2026, 9, 1), "ends_on": date(2026, 10, 24)}
        session.add(AcademicPeriod(school_id=school.id, school_year=2026, **q1))
        chemistry = Subject(school_id=school.id, name="Химия")
        session.add(chemistry)
        session.flush()
        test = lesson(session, klass, chemistry, date(2026, 9, 8), 4, "Контрольная работа № 1")
        mark(session, ann, test, 5, 2.0, "контрольная работа")
        mark(session, bob, test, 3, 2.0, "контрольная работа")
        mark(session, bob, test, 4)  # an oral answer in the same lesson
        session.flush()
        report = export_all(session, tmp_path / "out")
        original = journal_content(session)
    path = next(f["file"] for f in report["files"] if f["class"] == "7В")
    book = load_workbook(path)
    topics = book["Химия (темы)"]
    assert [topics.cell(1, c).value for c in (9, 10)] == ["Вид работы", "Вес"]
    assert [topics.cell(2, c).value for c in (9, 10)] == ["контрольная работа", 2]
    grid = book["Химия"]
    assert [grid["D6"].value, grid["D7"].value, grid["E7"].value] == [5, 3, 4]
    assert grid["D6"].comment is None and grid["D7"].comment is None
    assert grid["E7"].comment.text == "Вес: 1\nВид работы: —"
    assert grid["F6"].value == 5 and grid["F7"].value == 3.33  # (3×2 + 4×1) / 3
    with sessions() as session, session.begin():
        clear_journal(session)
    with sessions() as session, session.begin():
        journal.import_journal(session, factories.school(session), path, "op")
        assert journal_content(session) == original
