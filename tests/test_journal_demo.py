"""The journal's demo step and its deterministic sample term."""

from __future__ import annotations

from datetime import date

from openpyxl import load_workbook
from sqlalchemy import func, select

from diaryadmin.models import AcademicPeriod, Lesson, Mark, PeriodGrade
from diaryadmin.samples import journal as samples
from diaryadmin.samples.demo import Demo
from helpers import factories


def make_demo(tmp_path, settings, engine, sessions, said):
    return Demo(tmp_path, settings, engine, sessions, "demo", said.append)


def test_demo_step_without_classes_says_so(tmp_path, settings, engine, sessions):
    said: list[str] = []
    demo = make_demo(tmp_path, settings, engine, sessions, said)
    samples.demo_step(demo)
    assert said == ["Journal: the demo has no classes (the roster step made none); skipped."]
    assert demo.files == {}


def test_demo_step_imports_a_term_and_exports_every_class(tmp_path, settings, engine, sessions):
    with sessions() as session, session.begin():
        for k in range(3):
            factories.student(session, f"Ученик{k}", "Аня", class_name="5А", external_id=f"D{k}")
        factories.student(session, "Ученик", "Боря", class_name="10Б", external_id="D9")
    said: list[str] = []
    demo = make_demo(tmp_path, settings, engine, sessions, said)
    samples.demo_step(demo)
    assert sorted(p.name for p in (tmp_path / "journals").iterdir()) == ["10Б.xlsx", "5А.xlsx"]
    assert demo.files["journal_import"] == tmp_path / "journal-q1.xlsx"
    assert said[-1].startswith("Exported 2 class journals for Q1, 01.09.2026 – 24.10.2026")
    with sessions() as session:
        assert session.scalar(select(func.count(AcademicPeriod.id))) == 6
        lessons = session.scalar(select(func.count(Lesson.id)))
        assert lessons > 2 * 8 * 25  # two classes, eight weeks, ~5 lessons a day
        assert session.scalar(select(func.count(Mark.id))) > 0
        assert session.scalar(select(func.count(PeriodGrade.id))) > 0
    assert any(line.startswith("Set ") and "Q1 grades" in line for line in said)
    book = load_workbook(tmp_path / "journals" / "5А.xlsx")
    assert book.sheetnames[0] == "Сводка" and "Математика" in book.sheetnames


def test_generator_is_deterministic_and_realistic():
    args = ("5А", [1, 2, 3], date(2026, 9, 1), date(2026, 10, 24))
    first = samples.generate_class_term(*args, seed=5)
    assert first == samples.generate_class_term(*args, seed=5)
    assert first != samples.generate_class_term(*args, seed=6)
    lessons, entries = first
    keys = [(x.subject, x.date, x.number) for x in lessons]
    assert len(keys) == len(set(keys))
    assert all(x.date.weekday() < 5 and 1 <= x.number <= 7 for x in lessons)
    assert all(x.topic for x in lessons)
    values = [m[0] for e in entries for m in e.marks]
    assert set(values) <= {1, 2, 3, 4, 5} and {2, 3, 4, 5} <= set(values)
    kinds = {m[2] for e in entries for m in e.marks}
    assert {"контрольная работа", "самостоятельная работа", None} <= kinds


def test_benchmark_shape():
    lessons, entries = samples.generate_class_term(
        "5А", list(range(30)), date(2026, 9, 1), date(2027, 5, 31), lessons_per_subject=170
    )
    assert len(lessons) == 15 * 170
    keys = [(x.subject, x.date, x.number) for x in lessons]
    assert len(keys) == len(set(keys))
