"""Shared builders for the journal tests (no tests here): a small class journal whose
averages and counts are computed by hand in the tests."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from diaryadmin.models import (
    Absence,
    AcademicPeriod,
    Enrolment,
    Lesson,
    Mark,
    PeriodGrade,
    Student,
    Subject,
    Teacher,
)
from diaryadmin.people.names import name_key
from helpers import factories

INJECTED_SURNAME = '=HYPERLINK("http://evil.example","x")'
INJECTED_NAME = "+Ян"


def enrol(session, student: Student, class_name: str, start: date, end: date | None = None):
    klass = factories.school_class(session, class_name)
    session.add(Enrolment(student_id=student.id, class_id=klass.id, started_on=start, ended_on=end))
    session.flush()


def teacher(session, school_id: int, surname: str, name: str, patronymic: str) -> Teacher:
    found = Teacher(
        school_id=school_id,
        surname=surname,
        name=name,
        patronymic=patronymic,
        name_key=name_key(surname, name, patronymic),
    )
    session.add(found)
    session.flush()
    return found


def lesson(session, klass, subject, day, number, topic=None, homework=None, by=None) -> Lesson:
    found = Lesson(
        class_id=klass.id,
        subject_id=subject.id,
        teacher_id=by.id if by else None,
        date=day,
        number=number,
        topic=topic,
        homework=homework,
    )
    session.add(found)
    session.flush()
    return found


def mark(session, student, lesson_, value, weight=1.0, kind=None, comment=None, by=None):
    session.add(
        Mark(
            student_id=student.id,
            lesson_id=lesson_.id,
            value=value,
            weight=weight,
            kind=kind,
            comment=comment,
            teacher_id=by.id if by else lesson_.teacher_id,
        )
    )


def absence(session, student, lesson_, code):
    session.add(Absence(student_id=student.id, lesson_id=lesson_.id, code=code))


def build_journal(session) -> dict:
    """Class 5А in 2026/27 with Q1, two subjects, a student who moved to 5Б on 01.10.2026.

    Математика, 5А: Алексеева: 5 (02.09/1), 4 weight 2 (02.09/1), 4 (09.09) → 17/4 = 4.25;
    Борисов: 2 (02.09/1), Н (09.09), ОП + 4 (05.10) → (2 + 4) / 2 = 3.00, 1 missed lesson.
    Волков: 4 (02.09/1) in 5А; 5 (06.10) in 5Б.
    """
    school = factories.school(session)
    a = factories.school_class(session, "5А")
    b = factories.school_class(session, "5Б")
    anna = factories.student(session, "Алексеева", "Анна", "Игоревна", external_id="A1")
    boris = factories.student(session, "Борисов", "Борис", None, external_id="B2")
    evil = factories.student(session, INJECTED_SURNAME, INJECTED_NAME, None, external_id="E3")
    vasya = factories.student(session, "Волков", "Василий", None, class_name="5Б", external_id="V4")
    for student in (anna, boris, evil):
        enrol(session, student, "5А", date(2026, 9, 1))
    enrol(session, vasya, "5А", date(2026, 9, 1), date(2026, 9, 30))
    enrol(session, vasya, "5Б", date(2026, 10, 1))
    maths = Subject(school_id=school.id, name="Математика")
    russian = Subject(school_id=school.id, name="Русский язык")
    session.add_all([maths, russian])
    session.flush()
    kuz = teacher(session, school.id, "Кузнецов", "Андрей", "Павлович")
    sok = teacher(session, school.id, "Соколова", "Елена", "Викторовна")
    q1 = AcademicPeriod(
        school_id=school.id,
        school_year=2026,
        name="Q1",
        starts_on=date(2026, 9, 1),
        ends_on=date(2026, 10, 24),
    )
    session.add(q1)
    session.flush()
    m1 = lesson(session, a, maths, date(2026, 9, 2), 1, "Натуральные числа", "§1, № 5", kuz)
    m2 = lesson(session, a, maths, date(2026, 9, 2), 3, "Сложение", None, kuz)
    m3 = lesson(session, a, maths, date(2026, 9, 9), 2, "Вычитание", "№ 12, 14", kuz)
    m4 = lesson(session, a, maths, date(2026, 10, 5), 1, "Контрольная работа", None, kuz)
    r1 = lesson(session, a, russian, date(2026, 9, 3), 2, "=cmd|' /C calc'!A0", "@SUM(1)", sok)
    lesson(session, a, russian, date(2026, 9, 10), 2, "Орфограммы", "- повторить правила", sok)
    b1 = lesson(session, b, maths, date(2026, 10, 6), 1, "Дроби", None, kuz)
    mark(session, anna, m1, 5)
    mark(session, anna, m1, 4, 2.0, "контрольная работа", "=молодец\nвторая строка")
    mark(session, anna, m3, 4)
    mark(session, boris, m1, 2)
    absence(session, boris, m3, "Н")
    absence(session, boris, m4, "ОП")
    mark(session, boris, m4, 4, comment="опоздал, но ответил")
    mark(session, evil, r1, 3, by=kuz)
    absence(session, evil, m2, "Б")
    absence(session, anna, r1, "УП")
    mark(session, vasya, m1, 4)
    mark(session, vasya, b1, 5)
    session.add(PeriodGrade(student_id=anna.id, subject_id=maths.id, period_id=q1.id, value=4))
    session.add(PeriodGrade(student_id=boris.id, subject_id=maths.id, period_id=q1.id, value=2))
    session.flush()
    return {
        "school": school,
        "a": a,
        "b": b,
        "anna": anna,
        "boris": boris,
        "evil": evil,
        "vasya": vasya,
        "maths": maths,
        "russian": russian,
        "q1": q1,
    }


def journal_content(session) -> dict[str, list[tuple]]:
    """Lessons, marks, absences and period grades by natural keys, to compare databases."""
    from diaryadmin.models import SchoolClass

    def clean(row):
        return tuple("" if v is None else v for v in row)

    lessons = session.execute(
        select(
            SchoolClass.name,
            Subject.name,
            Lesson.date,
            Lesson.number,
            Lesson.topic,
            Lesson.homework,
            Teacher.surname,
        )
        .join(SchoolClass, SchoolClass.id == Lesson.class_id)
        .join(Subject, Subject.id == Lesson.subject_id)
        .outerjoin(Teacher, Teacher.id == Lesson.teacher_id)
    )
    mark_teacher = Teacher.__table__.alias("mark_teacher")
    marks = session.execute(
        select(
            Student.external_id,
            SchoolClass.name,
            Subject.name,
            Lesson.date,
            Lesson.number,
            Mark.value,
            Mark.weight,
            Mark.kind,
            Mark.comment,
            mark_teacher.c.surname,
        )
        .join(Lesson, Lesson.id == Mark.lesson_id)
        .join(SchoolClass, SchoolClass.id == Lesson.class_id)
        .join(Subject, Subject.id == Lesson.subject_id)
        .join(Student, Student.id == Mark.student_id)
        .outerjoin(mark_teacher, mark_teacher.c.id == Mark.teacher_id)
    )
    absences = session.execute(
        select(Student.external_id, Subject.name, Lesson.date, Lesson.number, Absence.code)
        .join(Lesson, Lesson.id == Absence.lesson_id)
        .join(Subject, Subject.id == Lesson.subject_id)
        .join(Student, Student.id == Absence.student_id)
    )
    grades = session.execute(
        select(Student.external_id, Subject.name, AcademicPeriod.name, PeriodGrade.value)
        .join(Subject, Subject.id == PeriodGrade.subject_id)
        .join(AcademicPeriod, AcademicPeriod.id == PeriodGrade.period_id)
        .join(Student, Student.id == PeriodGrade.student_id)
    )
    return {
        "lessons": sorted(map(clean, lessons)),
        "marks": sorted(map(clean, marks)),
        "absences": sorted(map(clean, absences)),
        "grades": sorted(map(clean, grades)),
    }


def clear_journal(session) -> None:
    """Remove every journal row, keeping schools, classes, students and enrolments."""
    from sqlalchemy import delete

    for model in (Mark, Absence, PeriodGrade, Lesson, AcademicPeriod, Subject, Teacher):
        session.execute(delete(model))
