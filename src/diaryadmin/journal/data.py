"""One class's journal for a date range, loaded in a handful of set-based queries.

Export and reports share it. Students are those enrolled in the class at any time in the range
(a first enrolment counts from before its start date: see `ClassList.in_class`),
those without any enrolment history whose current class it is, and anyone with a mark or an
absence in the class's lessons (a student who moved keeps their marks with the class they had).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session, aliased

from diaryadmin.errors import NotFound
from diaryadmin.i18n import _
from diaryadmin.journal import grading
from diaryadmin.journal.periods import DateRange, year_label
from diaryadmin.models import (
    Absence,
    Enrolment,
    Lesson,
    Mark,
    PeriodGrade,
    School,
    SchoolClass,
    Student,
    Subject,
    Teacher,
)
from diaryadmin.people.names import full_name
from diaryadmin.schools import class_option


@dataclass(frozen=True, slots=True)
class JournalStudent:
    id: int
    external_id: str | None
    surname: str
    name: str
    patronymic: str | None

    @property
    def label(self) -> str:
        """Surname and name, as a paper journal writes them."""
        return f"{self.surname} {self.name}"

    @property
    def full_name(self) -> str:
        return full_name(self.surname, self.name, self.patronymic)


@dataclass(frozen=True, slots=True)
class JournalLesson:
    id: int
    subject_id: int
    date: date
    number: int
    topic: str | None
    homework: str | None
    teacher_id: int | None


# A mark as the loader gives it: a plain row (student id, lesson id, value, weight, kind,
# comment, teacher id), read by index, because an export of a school reads a million of them.
JournalMark = tuple
VALUE, WEIGHT, KIND, COMMENT, TEACHER = 2, 3, 4, 5, 6


@dataclass
class ClassJournal:
    """Everything recorded for one class in a date range."""

    school_class: SchoolClass
    range: DateRange
    students: list[JournalStudent]
    subjects: list[tuple[int, str]]  # (id, name) of subjects with lessons, by name
    lessons: dict[int, list[JournalLesson]]  # subject id -> lessons by date and number
    marks: dict[tuple[int, int], list[JournalMark]]  # (student, lesson) -> marks in order
    absences: dict[tuple[int, int], str]  # (student, lesson) -> code
    period_grades: dict[tuple[int, int], int]  # (student, subject) -> grade
    teachers: dict[int, str]
    _day_bounds: dict[date, tuple[int, int]] | None = field(default=None, repr=False)

    @property
    def lesson_count(self) -> int:
        return sum(len(v) for v in self.lessons.values())

    def day_bounds(self) -> dict[date, tuple[int, int]]:
        """Day -> (first, last) lesson number of the class that day, over every subject."""
        if self._day_bounds is None:
            bounds: dict[date, tuple[int, int]] = {}
            for lessons in self.lessons.values():
                for lesson in lessons:
                    low, high = bounds.get(lesson.date, (lesson.number, lesson.number))
                    bounds[lesson.date] = (min(low, lesson.number), max(high, lesson.number))
            self._day_bounds = bounds
        return self._day_bounds

    def subject_stats(self, subject_id: int) -> dict[int, tuple[float | None, int, list[str]]]:
        """Student id -> (weighted average, missed lessons, absence codes) in one subject."""
        lessons = self.lessons.get(subject_id, [])
        result = {}
        for student in self.students:
            pairs: list[tuple[float, float]] = []
            codes: list[str] = []
            for lesson in lessons:
                key = (student.id, lesson.id)
                for mark in self.marks.get(key, ()):
                    pairs.append((mark[VALUE], mark[WEIGHT]))
                code = self.absences.get(key)
                if code:
                    codes.append(code)
            result[student.id] = (grading.weighted_average(pairs), grading.missed(codes), codes)
        return result

    def class_average(self, subject_id: int) -> float | None:
        """The weighted average of every mark given in the class in one subject."""
        ids = {lesson.id for lesson in self.lessons.get(subject_id, [])}
        pairs = [
            (m[VALUE], m[WEIGHT])
            for (_, lesson_id), marks in self.marks.items()
            if lesson_id in ids
            for m in marks
        ]
        return grading.weighted_average(pairs)

    def weekly_averages(self) -> list[tuple[date, float]]:
        """(Monday, weighted average of every mark that week), for weeks with marks."""
        day_of = {lesson.id: lesson.date for lessons in self.lessons.values() for lesson in lessons}
        weeks: dict[date, list[tuple[float, float]]] = defaultdict(list)
        for (_student, lesson_id), marks in self.marks.items():
            day = day_of[lesson_id]
            monday = day - timedelta(days=day.weekday())
            weeks[monday].extend((m[VALUE], m[WEIGHT]) for m in marks)
        return [
            (monday, grading.weighted_average(pairs))
            for monday, pairs in sorted(weeks.items())
            if pairs
        ]

    def edge_absences(self) -> dict[int, tuple[int, int]]:
        """Student id -> (missed first lessons of the day, missed last lessons of the day)."""
        bounds = self.day_bounds()
        lesson_at = {
            lesson.id: (lesson.date, lesson.number)
            for lessons in self.lessons.values()
            for lesson in lessons
        }
        result: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        for (student_id, lesson_id), code in self.absences.items():
            if code not in grading.MISSED_CODES:
                continue
            day, number = lesson_at[lesson_id]
            first, last = bounds[day]
            if number == first:
                result[student_id][0] += 1
            if number == last:
                result[student_id][1] += 1
        return {k: (v[0], v[1]) for k, v in result.items()}


def find_class(session: Session, school: School, name: str, year: int) -> SchoolClass:
    """The class `name` (any spelling: `5 А`, `5a`) of the school in school year `year`."""
    canonical = class_option(name)
    found = session.scalar(
        select(SchoolClass).where(
            SchoolClass.school_id == school.id,
            SchoolClass.school_year == year,
            SchoolClass.name == canonical,
        )
    )
    if found is None:
        raise NotFound(
            _("There is no class {name} in {year}.").format(name=canonical, year=year_label(year))
        )
    return found


def classes_of_year(session: Session, school: School, year: int) -> list[SchoolClass]:
    """Every class of the school in a school year, by grade and letter."""
    return list(
        session.scalars(
            select(SchoolClass)
            .where(SchoolClass.school_id == school.id, SchoolClass.school_year == year)
            .order_by(SchoolClass.grade, SchoolClass.name)
        )
    )


def teacher_label(surname: str, name: str | None, patronymic: str | None) -> str:
    return full_name(surname, name, patronymic)


def _plain_rows(connection, statement) -> list[tuple]:
    """The rows of a select whose columns need no type conversion (numbers, text).

    On SQLite straight from the driver's cursor: this is the biggest query of an export, and
    skipping SQLAlchemy's row objects saves a third of its time. Dates among the parameters
    become ISO text, as SQLite stores them.
    """
    if connection.dialect.name != "sqlite":
        return connection.execute(statement).all()
    compiled = statement.compile(dialect=connection.dialect)
    values = compiled.construct_params()
    parameters = tuple(
        value.isoformat() if isinstance(value, date) else value
        for value in (values[name] for name in compiled.positiontup)
    )
    cursor = connection.connection.cursor()
    try:
        cursor.execute(str(compiled), parameters)
        return cursor.fetchall()
    finally:
        cursor.close()


def load_class_journal(
    session: Session, school_class: SchoolClass, dates: DateRange
) -> ClassJournal:
    """Load one class's lessons, marks, absences and period grades within `dates`."""
    in_range = and_(
        Lesson.class_id == school_class.id,
        Lesson.date >= dates.starts_on,
        Lesson.date <= dates.ends_on,
    )
    lessons: dict[int, list[JournalLesson]] = defaultdict(list)
    connection = session.connection()
    for row in connection.execute(
        select(
            Lesson.id,
            Lesson.subject_id,
            Lesson.date,
            Lesson.number,
            Lesson.topic,
            Lesson.homework,
            Lesson.teacher_id,
        )
        .where(in_range)
        .order_by(Lesson.subject_id, Lesson.date, Lesson.number)
    ):
        lessons[row[1]].append(JournalLesson(*row))

    # The biggest query of an export: plain rows, no object per mark.
    marks: dict[tuple[int, int], list[JournalMark]] = defaultdict(list)
    statement = (
        select(
            Mark.student_id,
            Mark.lesson_id,
            Mark.value,
            Mark.weight,
            Mark.kind,
            Mark.comment,
            Mark.teacher_id,
        )
        .join(Lesson, Lesson.id == Mark.lesson_id)
        .where(in_range)
        .order_by(Mark.id)
    )
    for row in _plain_rows(connection, statement):
        marks[(row[0], row[1])].append(row)
    absences = {
        (student_id, lesson_id): code
        for student_id, lesson_id, code in session.execute(
            select(Absence.student_id, Absence.lesson_id, Absence.code)
            .join(Lesson, Lesson.id == Absence.lesson_id)
            .where(in_range)
        )
    }

    # A student's first enrolment counts from any earlier day (the roster records when the
    # office learned of the class, not when the child joined it); later ones are class moves.
    earlier = aliased(Enrolment)
    first = ~exists().where(
        earlier.student_id == Enrolment.student_id, earlier.started_on < Enrolment.started_on
    )
    enrolled = select(Enrolment.student_id).where(
        Enrolment.class_id == school_class.id,
        or_(Enrolment.started_on <= dates.ends_on, first),
        or_(Enrolment.ended_on.is_(None), Enrolment.ended_on >= dates.starts_on),
    )
    no_history = select(Student.id).where(
        Student.class_id == school_class.id,
        ~exists().where(Enrolment.student_id == Student.id),
    )
    ids = set(session.scalars(enrolled)) | set(session.scalars(no_history))
    ids.update(key[0] for key in marks)
    ids.update(key[0] for key in absences)
    students: list[JournalStudent] = []
    if ids:
        rows = session.execute(
            select(
                Student.id, Student.external_id, Student.surname, Student.name, Student.patronymic
            ).where(Student.id.in_(sorted(ids)))
        ).all()
        students = sorted(
            (JournalStudent(*row) for row in rows),
            key=lambda s: (s.surname.casefold(), s.name.casefold(), s.patronymic or "", s.id),
        )

    subjects: list[tuple[int, str]] = []
    if lessons:
        subjects = sorted(
            session.execute(
                select(Subject.id, Subject.name).where(Subject.id.in_(list(lessons)))
            ).all(),
            key=lambda s: (s[1].casefold(), s[0]),
        )
        subjects = [(sid, name) for sid, name in subjects]
    teacher_ids = {lesson.teacher_id for ls in lessons.values() for lesson in ls}
    teacher_ids |= {m[TEACHER] for ms in marks.values() for m in ms}
    teacher_ids.discard(None)
    teachers = {}
    if teacher_ids:
        teachers = {
            tid: teacher_label(surname, name, patronymic)
            for tid, surname, name, patronymic in session.execute(
                select(Teacher.id, Teacher.surname, Teacher.name, Teacher.patronymic).where(
                    Teacher.id.in_(sorted(teacher_ids))
                )
            )
        }
    period_grades = {}
    if dates.period_id is not None and students:
        period_grades = {
            (student_id, subject_id): value
            for student_id, subject_id, value in session.execute(
                select(PeriodGrade.student_id, PeriodGrade.subject_id, PeriodGrade.value).where(
                    PeriodGrade.period_id == dates.period_id,
                    PeriodGrade.student_id.in_([s.id for s in students]),
                )
            )
        }
    return ClassJournal(
        school_class=school_class,
        range=dates,
        students=students,
        subjects=subjects,
        lessons=dict(lessons),
        marks=dict(marks),
        absences=absences,
        period_grades=period_grades,
        teachers=teachers,
    )
