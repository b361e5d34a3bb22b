"""A deterministic school term: lessons with topics and homework, marks with kinds, weights and
comments, absences with every attendance code. Used by the demo, the tests and the benchmark.

`generate_class_term` gives one class's term as plain data; `long_form_rows` turns it into the
rows of a long-form import file; `demo_step` imports a term for the demo school and exports
every class journal.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from diaryadmin.i18n import _, ngettext

# Subject, lessons a week, teacher.
SUBJECTS: list[tuple[str, int, str]] = [
    ("Русский язык", 5, "Соколова Елена Викторовна"),
    ("Литература", 3, "Соколова Елена Викторовна"),
    ("Математика", 5, "Кузнецов Андрей Павлович"),
    ("Английский язык", 3, "Морозова Ирина Олеговна"),
    ("История", 2, "Волков Сергей Николаевич"),
    ("Обществознание", 1, "Волков Сергей Николаевич"),
    ("География", 2, "Лебедева Анна Сергеевна"),
    ("Биология", 2, "Лебедева Анна Сергеевна"),
    ("Физика", 2, "Новиков Дмитрий Игоревич"),
    ("Химия", 2, "Павлова Ольга Юрьевна"),
    ("Информатика", 1, "Новиков Дмитрий Игоревич"),
    ("Музыка", 1, "Фёдорова Марина Алексеевна"),
    ("Изобразительное искусство", 1, "Фёдорова Марина Алексеевна"),
    ("Технология", 2, "Семёнов Игорь Васильевич"),
    ("Физическая культура", 3, "Орлов Максим Геннадьевич"),
]
TOPICS = [
    "Повторение изученного",
    "Введение в тему",
    "Основные понятия",
    "Решение задач",
    "Практикум",
    "Работа с текстом",
    "Обобщение и систематизация",
    "Контроль знаний",
    "Анализ ошибок",
    "- повторение (тема с дефисом)",
]
HOMEWORK = [
    "§{n}, вопросы 1–3",
    "Упр. {k}, с. {p}",
    "Выучить определения §{n}",
    "Задачи № {k}, {k2}",
    "+ повторить §{n}",
    "",
]
# Kind of work of a lesson, its weight, share of lessons; a few marks differ from their lesson's.
KINDS: list[tuple[str | None, float, float]] = [
    (None, 1.0, 0.78),
    ("домашняя работа", 1.0, 0.08),
    ("самостоятельная работа", 1.5, 0.08),
    ("контрольная работа", 2.0, 0.06),
]
OTHER_KIND_SHARE = 0.02
COMMENTS = ["Молодец!", "Не выполнено задание 3", "=отлично", "Исправить ошибки", "@доска"]
ABSENCE_WEIGHTS = {"Н": 0.3, "Б": 0.45, "УП": 0.15, "ОП": 0.1}
LESSONS_A_DAY = 7


@dataclass(frozen=True, slots=True)
class SampleLesson:
    subject: str
    teacher: str
    date: date
    number: int
    topic: str
    homework: str | None


@dataclass(frozen=True, slots=True)
class SampleEntry:
    """A student's record in a lesson: marks (value, weight, kind, comment) and/or a code."""

    student: Any  # whatever key the caller passed for the student
    lesson: int  # index into the term's lessons
    marks: tuple[tuple[int, float, str | None, str | None], ...]
    code: str | None


def school_days(start: date, end: date, days_a_week: int = 5) -> list[date]:
    """Working days from start to end (Monday–Friday, or to Saturday with 6)."""
    days, day = [], start
    while day <= end:
        if day.weekday() < days_a_week:
            days.append(day)
        day += timedelta(days=1)
    return days


def _rng(*parts: object) -> random.Random:
    return random.Random(zlib.crc32("|".join(map(str, parts)).encode()))


def _timetable(seed: str, subjects: Sequence[tuple[str, int, str]]) -> list[list[int]]:
    """Five days of subject indexes in lesson order, from the weekly counts."""
    rng = _rng("timetable", seed)
    slots = [i for i, (_, per_week, _) in enumerate(subjects) for _ in range(per_week)]
    rng.shuffle(slots)
    days: list[list[int]] = [[] for _ in range(5)]
    for k, subject in enumerate(slots):
        days[k % 5].append(subject)
    return days


def generate_class_term(
    class_name: str,
    students: Sequence[Any],
    start: date,
    end: date,
    *,
    seed: int = 7,
    subjects: Sequence[tuple[str, int, str]] = SUBJECTS,
    lessons_per_subject: int | None = None,
    mark_rate: float = 0.3,
    absence_rate: float = 0.04,
) -> tuple[list[SampleLesson], list[SampleEntry]]:
    """One class's term. With `lessons_per_subject`, every subject gets that many lessons spread
    over the days (Monday–Saturday); otherwise a weekly timetable from the subjects' counts."""
    lessons: list[SampleLesson] = []
    if lessons_per_subject:
        days = school_days(start, end, 6)
        if lessons_per_subject > len(days):
            raise ValueError(f"only {len(days)} school days for {lessons_per_subject} lessons")
        for s, (subject, _, teacher) in enumerate(subjects):
            for k in range(lessons_per_subject):
                day = days[k * len(days) // lessons_per_subject]
                lessons.append(_lesson(subject, teacher, day, (s + k) % 8 + 1, k, seed))
    else:
        table = _timetable(f"{seed}{class_name}", subjects)
        counters: dict[str, int] = {}
        for day in school_days(start, end):
            for position, s in enumerate(table[day.weekday()][:LESSONS_A_DAY]):
                subject, _, teacher = subjects[s]
                k = counters[subject] = counters.get(subject, 0) + 1
                lessons.append(_lesson(subject, teacher, day, position + 1, k, seed))
    kinds = []
    for index in range(len(lessons)):
        rng = _rng("kind", seed, class_name, index)
        kinds.append(rng.choices(KINDS, weights=[k[2] for k in KINDS])[0][:2])
    entries: list[SampleEntry] = []
    for student in students:
        rng = _rng(seed, class_name, student)
        ability = rng.choice((-1.2, -0.6, 0.0, 0.0, 0.4, 0.8))
        for index in range(len(lessons)):
            r = rng.random()
            code = None
            marks: list[tuple[int, float, str | None, str | None]] = []
            if r < absence_rate:
                code = _choose(rng, ABSENCE_WEIGHTS)
                if code != "ОП":
                    entries.append(SampleEntry(student, index, (), code))
                    continue
            if r < absence_rate + mark_rate:
                marks.append(_mark(rng, ability, kinds[index]))
                if rng.random() < 0.05:
                    marks.append(_mark(rng, ability, kinds[index]))
            if marks or code:
                entries.append(SampleEntry(student, index, tuple(marks), code))
    return lessons, entries


def _lesson(subject: str, teacher: str, day: date, number: int, k: int, seed: int):
    rng = _rng("lesson", seed, subject, day, number)
    topic = f"{TOPICS[k % len(TOPICS)]} ({k})"
    homework = rng.choice(HOMEWORK).format(
        n=k, k=rng.randint(1, 400), k2=rng.randint(1, 400), p=rng.randint(5, 250)
    )
    return SampleLesson(subject, teacher, day, number, topic, homework or None)


def _choose(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _mark(
    rng: random.Random, ability: float, work: tuple[str | None, float]
) -> tuple[int, float, str | None, str | None]:
    value = round(rng.gauss(3.9 + ability, 0.8))
    value = max(1 if rng.random() < 0.02 else 2, min(5, value))
    kind, weight = work
    if rng.random() < OTHER_KIND_SHARE:
        kind, weight, _ = rng.choice(KINDS)
    comment = rng.choice(COMMENTS) if rng.random() < 0.03 else None
    return value, weight, kind, comment


LONG_FORM_HEADER = [
    "Дата",
    "Урок",
    "Класс",
    "Предмет",
    "Учитель",
    "Тема",
    "Домашнее задание",
    "ID ученика",
    "Ученик",
    "Оценка",
    "Вес",
    "Вид работы",
    "Пропуск",
    "Комментарий",
]


def long_form_rows(
    class_name: str,
    lessons: list[SampleLesson],
    entries: list[SampleEntry],
    student_cells: dict[Any, tuple[str | None, str]],
) -> Iterator[list[Any]]:
    """Rows of a long-form file: one per mark or absence; a lesson without any gets one row
    with only its topic and homework. `student_cells` maps a student key to (ID, full name)."""
    by_lesson: dict[int, list[SampleEntry]] = {}
    for entry in entries:
        by_lesson.setdefault(entry.lesson, []).append(entry)
    for index, lesson in enumerate(lessons):
        head = [
            lesson.date,
            lesson.number,
            class_name,
            lesson.subject,
            lesson.teacher,
            lesson.topic,
            lesson.homework,
        ]
        found = by_lesson.get(index)
        if not found:
            yield [*head, None, None, None, None, None, None, None]
            continue
        for entry in found:
            sid, full_name = student_cells[entry.student]
            if not entry.marks:
                yield [*head, sid, full_name, None, None, None, entry.code, None]
            for k, (value, weight, kind, comment) in enumerate(entry.marks):
                code = entry.code if k == 0 else None
                yield [*head, sid, full_name, value, weight, kind, code, comment]


def quarters(year: int) -> list[tuple[str, date, date]]:
    """The usual quarters and half-years of a school year (named by its first year)."""
    return [
        ("Q1", date(year, 9, 1), date(year, 10, 24)),
        ("Q2", date(year, 11, 3), date(year, 12, 28)),
        ("Q3", date(year + 1, 1, 12), date(year + 1, 3, 21)),
        ("Q4", date(year + 1, 3, 30), date(year + 1, 5, 26)),
        ("H1", date(year, 9, 1), date(year, 12, 28)),
        ("H2", date(year + 1, 1, 12), date(year + 1, 5, 26)),
    ]


def demo_step(demo) -> None:
    """Generate Q1 for every demo class, import it as a long-form file, export every journal."""
    from sqlalchemy import select

    from diaryadmin.io import write_xlsx
    from diaryadmin.journal import export as journal_export
    from diaryadmin.journal import importing as journal
    from diaryadmin.journal import periods
    from diaryadmin.journal.data import classes_of_year
    from diaryadmin.models import School, SchoolClass, Student

    with demo.sessions() as session, session.begin():
        school = session.scalars(select(School).order_by(School.id)).first()
        year = session.scalar(
            select(SchoolClass.school_year).order_by(SchoolClass.school_year.desc()).limit(1)
        )
        if school is None or year is None:
            demo.say(_("Journal: the demo has no classes (the roster step made none); skipped."))
            return
        classes = classes_of_year(session, school, year)
        members: dict[int, list[tuple]] = {}
        for row in session.execute(
            select(
                Student.id,
                Student.external_id,
                Student.surname,
                Student.name,
                Student.patronymic,
                Student.class_id,
            )
            .where(Student.school_id == school.id, Student.active.is_(True))
            .order_by(Student.id)
        ):
            if row[5] is not None:
                members.setdefault(row[5], []).append(row)
        if not any(members.get(c.id) for c in classes):
            demo.say(_("Journal: the demo classes have no students; skipped."))
            return
        for name, start, end in quarters(year):
            periods.add_period(session, school, name, start, end, demo.operator)

    q1_name, q1_start, q1_end = quarters(year)[0]
    rows: list[list[Any]] = []
    for school_class in classes:
        students = members.get(school_class.id, [])
        lessons, entries = generate_class_term(
            school_class.name, [s[0] for s in students], q1_start, q1_end, seed=year
        )
        cells = {s[0]: (s[1], " ".join(p for p in (s[2], s[3], s[4]) if p)) for s in students}
        rows.extend(long_form_rows(school_class.name, lessons, entries, cells))
    path = demo.folder / "journal-q1.xlsx"
    write_xlsx(path, [("Журнал", LONG_FORM_HEADER, rows)], overwrite=True)
    demo.files["journal_import"] = path
    with demo.sessions() as session, session.begin():
        school = session.get(School, school.id)
        report = journal.import_journal(session, school, path, demo.operator)
    demo.say(
        _(
            "Imported {file}: {lessons} lessons, {marks} marks, {absences} absences "
            "for {classes} classes."
        ).format(
            file=path.name,
            lessons=report["lessons_added"],
            marks=report["marks_added"],
            absences=report["absences_added"],
            classes=len(classes),
        )
    )
    with demo.sessions() as session, session.begin():
        school = session.get(School, school.id)
        dates = periods.resolve_range(session, school, q1_name, year=year)
        count = set_period_grades(session, classes_of_year(session, school, year), dates)
    demo.say(
        ngettext(
            "Set {count} {period} grade from the weighted averages (x.5 rounds up).",
            "Set {count} {period} grades from the weighted averages (x.5 rounds up).",
            count,
        ).format(count=count, period=q1_name)
    )
    out = demo.folder / "journals"
    with demo.sessions() as session, session.begin():
        school = session.get(School, school.id)
        dates = periods.resolve_range(session, school, q1_name, year=year)
        result = journal_export.export_journals(
            session,
            school,
            classes_of_year(session, school, year),
            dates,
            out,
            folder=True,
            operator=demo.operator,
            overwrite=True,
        )
    demo.files["journals"] = out
    demo.say(
        ngettext(
            "Exported {count} class journal for {period} into {folder}.",
            "Exported {count} class journals for {period} into {folder}.",
            result["classes"],
        ).format(count=result["classes"], period=dates.label, folder=out)
    )


def set_period_grades(session, classes, dates) -> int:
    """Sample period grades: what each average suggests, as a teacher usually sets them."""
    from sqlalchemy import insert

    from diaryadmin.journal import grading
    from diaryadmin.journal.data import load_class_journal
    from diaryadmin.models import PeriodGrade

    rows = []
    for school_class in classes:
        journal = load_class_journal(session, school_class, dates)
        for subject_id, _name in journal.subjects:
            teacher = journal.lessons[subject_id][0].teacher_id
            for student_id, (average, _count, _weight) in journal.subject_stats(subject_id).items():
                grade = grading.suggested_grade(average)
                if grade is not None:
                    rows.append(
                        {"student_id": student_id, "subject_id": subject_id,
                         "period_id": dates.period_id, "value": grade, "teacher_id": teacher}
                    )  # fmt: skip
    if rows:
        session.execute(insert(PeriodGrade), rows)
    return len(rows)
