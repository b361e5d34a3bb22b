"""Writing a checked journal plan: subjects, teachers, lessons, marks, absences, period grades.

Set-based statements; re-importing a file changes nothing: the marks a file gives for a
student in a lesson replace that student's marks in that lesson, equal marks are left alone,
and a grid sheet's empty cell removes a mark or absence.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from diaryadmin.db import chunked
from diaryadmin.journal.data import JournalLesson
from diaryadmin.journal.read import Plan
from diaryadmin.models import (
    Absence,
    AcademicPeriod,
    Lesson,
    Mark,
    PeriodGrade,
    School,
    Subject,
    Teacher,
)
from diaryadmin.people.names import clean_spaces, fold, name_key

IN_CHUNK = 500  # ids per IN (...) list


class StoredMark(NamedTuple):
    id: int
    student_id: int
    lesson_id: int
    value: int
    weight: float
    kind: str | None
    comment: str | None
    teacher_id: int | None


class MarkValues(NamedTuple):
    """A mark as compared and written: the same for the file's and the stored."""

    value: int
    weight: float
    kind: str | None
    comment: str | None
    teacher_id: int | None

    def order(self) -> tuple:
        return (self.value, self.weight, self.kind or "", self.comment or "", self.teacher_id or 0)


@dataclass
class JournalChanges:
    """What writing a plan changed."""

    lessons_added: int = 0
    lessons_updated: int = 0
    lessons_unchanged: int = 0
    marks_added: int = 0
    marks_removed: int = 0
    marks_unchanged: int = 0
    absences_added: int = 0
    absences_changed: int = 0
    absences_removed: int = 0
    period_grades_set: int = 0
    period_grades_removed: int = 0
    subjects_created: list[str] = field(default_factory=list)
    teachers_created: list[str] = field(default_factory=list)


def write_plan(session: Session, school: School, plan: Plan) -> JournalChanges:
    """Write a checked plan (see `journal.importing.plan_import`) in the caller's transaction."""
    changes = JournalChanges()
    subjects = _subjects(session, school, plan, changes)
    teacher_id = _teachers(session, school, plan, changes)
    lesson_ids, lesson_teachers = _write_lessons(session, plan, subjects, teacher_id, changes)
    _write_marks(session, plan, lesson_ids, lesson_teachers, teacher_id, changes)
    _write_period_grades(session, school, plan, subjects, changes)
    return changes


def _subject_ids(session: Session, school: School) -> dict[str, int]:
    query = select(Subject.id, Subject.name).where(Subject.school_id == school.id)
    return {fold(name): sid for sid, name in session.execute(query)}


def _subjects(session: Session, school: School, plan: Plan, changes: JournalChanges):
    """Subject key -> id, creating the subjects the plan names that the school lacks."""
    subjects = _subject_ids(session, school)
    named: dict[str, str] = {}
    for lesson in plan.lessons.values():
        named.setdefault(fold(lesson.subject), lesson.subject)
    for (_, subject_key, _), (_, _, subject_name) in plan.period_grades.items():
        named.setdefault(subject_key, subject_name)
    changes.subjects_created = [name for key, name in named.items() if key not in subjects]
    if changes.subjects_created:
        session.execute(
            insert(Subject),
            [{"school_id": school.id, "name": n} for n in changes.subjects_created],
        )
        subjects = _subject_ids(session, school)
    return subjects


def teacher_parts(text: str) -> tuple[str, str | None, str | None]:
    """Surname, name, patronymic of a teacher as written: "Смирнова Е.В.", "Смирнова Е. В."
    and "Е.В. Смирнова" all give ("Смирнова", "Е.", "В.")."""
    words = clean_spaces(text.replace(".", ". ")).split(" ")
    if len(words) > 1 and _is_initial(words[0]) and not _is_initial(words[-1]):
        words = [words[-1], *words[:-1]]
    return (
        words[0],
        (words[1] if len(words) > 1 else None),
        (" ".join(words[2:]) if len(words) > 2 else None),
    )


def _is_initial(word: str | None) -> bool:
    return bool(word) and len(word) == 2 and word.endswith(".")


def _initials(name: str | None, patronymic: str | None) -> str:
    return fold((name or "")[:1] + (patronymic or "")[:1])


def _teachers(
    session: Session, school: School, plan: Plan, changes: JournalChanges
) -> Callable[[str | None], int | None]:
    """The teacher id of a name as the file writes it, creating the teachers it lacks.

    A teacher written with initials ("Смирнова Е.В.") is the one teacher with that surname
    and those initials written in full, in the database or earlier in this file; failing
    that, a teacher stored with initials, however they were spaced ("Е.В.")."""
    known = session.execute(
        select(
            Teacher.id, Teacher.name_key, Teacher.surname, Teacher.name, Teacher.patronymic
        ).where(Teacher.school_id == school.id)
    ).all()
    teachers: dict[str, int | None] = {key: tid for tid, key, *_ in known}
    by_initials: dict[tuple[str, str], set[str]] = defaultdict(set)
    short: dict[tuple[str, str], set[str]] = defaultdict(set)
    for _, key, *stored in known:
        surname, name, patronymic = teacher_parts(" ".join(x for x in stored if x))
        index = short if _is_initial(name) else by_initials
        index[(fold(surname), _initials(name, patronymic))].add(key)
    wanted = {x.teacher for x in plan.lessons.values() if x.teacher}
    wanted |= {m[4] for p in plan.pairs.values() for m in p.marks if m[4]}
    created: list[dict[str, Any]] = []
    keys: dict[str, str] = {}  # the text as written -> its teacher's name key
    for text in sorted(wanted, key=lambda t: (_is_initial(teacher_parts(t)[1]), t)):
        surname, name, patronymic = teacher_parts(text)
        key = name_key(surname, name or "", patronymic)
        if key not in teachers and _is_initial(name):
            found = (fold(surname), _initials(name, patronymic))
            for index in (by_initials, short):
                if len(index.get(found, ())) == 1:
                    key = next(iter(index[found]))
                    break
        keys[text] = key
        if key not in teachers:
            teachers[key] = None
            if not _is_initial(name):
                by_initials[(fold(surname), _initials(name, patronymic))].add(key)
            created.append(
                {"school_id": school.id, "surname": surname, "name": name,
                 "patronymic": patronymic, "name_key": key}
            )  # fmt: skip
    if created:
        session.execute(insert(Teacher), created)
        teachers = dict(
            session.execute(
                select(Teacher.name_key, Teacher.id).where(Teacher.school_id == school.id)
            ).all()
        )
    changes.teachers_created = [
        " ".join(p for p in (t["surname"], t["name"], t["patronymic"]) if p) for t in created
    ]

    def teacher_id(text: str | None) -> int | None:
        return teachers.get(keys.get(text, "")) if text else None

    return teacher_id


def _stored_lessons(session: Session, plan: Plan) -> dict[tuple, JournalLesson]:
    """The lessons of the plan's classes in its school year, by (class, subject, date, number)."""
    first, last = date(plan.year, 9, 1), date(plan.year + 1, 8, 31)
    found = {}
    for part in chunked(sorted(set(plan.class_ids.values())), IN_CHUNK):
        for row in session.execute(
            select(
                Lesson.id, Lesson.class_id, Lesson.subject_id, Lesson.date, Lesson.number,
                Lesson.topic, Lesson.homework, Lesson.teacher_id,
            ).where(Lesson.class_id.in_(part), Lesson.date >= first, Lesson.date <= last)
        ):  # fmt: skip
            lesson = JournalLesson(row.id, *row[2:])
            found[(row.class_id, lesson.subject_id, lesson.date, lesson.number)] = lesson
    return found


def _write_lessons(session, plan: Plan, subjects, teacher_id, changes: JournalChanges):
    """Insert the new lessons, update topic, homework and teacher where the file gives new
    ones; the lessons' ids and teachers by the plan's lesson key."""
    stored = _stored_lessons(session, plan)
    db_keys = {
        key: (plan.class_ids[x.class_name], subjects[fold(x.subject)], x.date, x.number)
        for key, x in plan.lessons.items()
    }
    new, updates = [], []
    for key, lesson in plan.lessons.items():
        db_key = db_keys[key]
        tid = teacher_id(lesson.teacher)
        row = stored.get(db_key)
        if row is None:
            class_id, subject_id, day, number = db_key
            new.append(
                {"class_id": class_id, "subject_id": subject_id, "date": day, "number": number,
                 "topic": lesson.topic, "homework": lesson.homework, "teacher_id": tid}
            )  # fmt: skip
            continue
        change: dict[str, Any] = {}
        if lesson.topic is not None and lesson.topic != row.topic:
            change["topic"] = lesson.topic
        if lesson.homework is not None and lesson.homework != row.homework:
            change["homework"] = lesson.homework
        if tid is not None and tid != row.teacher_id:
            change["teacher_id"] = tid
        if change:
            updates.append((row.id, change))
        else:
            changes.lessons_unchanged += 1
    if new:
        session.execute(insert(Lesson), new)
        stored = _stored_lessons(session, plan)
    for lesson_id, change in updates:
        session.execute(update(Lesson).where(Lesson.id == lesson_id).values(**change))
    changes.lessons_added, changes.lessons_updated = len(new), len(updates)
    lesson_ids = {key: stored[db_key].id for key, db_key in db_keys.items()}
    lesson_teachers = {key: stored[db_key].teacher_id for key, db_key in db_keys.items()}
    return lesson_ids, lesson_teachers


def _stored_marks(session: Session, lesson_ids: list[int]):
    """Marks and absences of these lessons by (student id, lesson id)."""
    marks: dict[tuple[int, int], list[StoredMark]] = defaultdict(list)
    absences: dict[tuple[int, int], tuple[int, str]] = {}
    for part in chunked(lesson_ids, IN_CHUNK):
        for row in session.execute(
            select(
                Mark.id, Mark.student_id, Mark.lesson_id, Mark.value, Mark.weight, Mark.kind,
                Mark.comment, Mark.teacher_id,
            ).where(Mark.lesson_id.in_(part))
        ):  # fmt: skip
            mark = StoredMark(*row)
            marks[(mark.student_id, mark.lesson_id)].append(mark)
        for absence_id, student_id, lesson_id, code in session.execute(
            select(Absence.id, Absence.student_id, Absence.lesson_id, Absence.code).where(
                Absence.lesson_id.in_(part)
            )
        ):
            absences[(student_id, lesson_id)] = (absence_id, code)
    return marks, absences


def _write_marks(session, plan: Plan, lesson_ids, lesson_teachers, teacher_id, changes):
    """Marks and absences of the (student, lesson) pairs the file gives."""
    stored_marks, stored_absences = _stored_marks(
        session, sorted({lesson_ids[key] for _, key in plan.pairs})
    )
    marks_new: list[dict[str, Any]] = []
    marks_gone: list[int] = []
    absences_new: list[dict[str, Any]] = []
    absences_changed: list[tuple[int, str]] = []
    absences_gone: list[int] = []
    for (student_id, key), pair in plan.pairs.items():
        lesson_id = lesson_ids[key]
        if pair.marks_given:
            given = sorted(
                (
                    MarkValues(v, float(w), k, c, teacher_id(t) or lesson_teachers[key])
                    for v, w, k, c, t in pair.marks
                ),
                key=MarkValues.order,
            )
            old = stored_marks.get((student_id, lesson_id), [])
            kept = sorted(
                (
                    MarkValues(m.value, float(m.weight), m.kind, m.comment, m.teacher_id)
                    for m in old
                ),
                key=MarkValues.order,
            )
            if given != kept:
                marks_gone.extend(m.id for m in old)
                marks_new.extend(
                    {"student_id": student_id, "lesson_id": lesson_id, **m._asdict()} for m in given
                )
            else:
                changes.marks_unchanged += len(given)
        absence = stored_absences.get((student_id, lesson_id))
        if pair.absence is not None:
            if absence is None:
                absences_new.append(
                    {"student_id": student_id, "lesson_id": lesson_id, "code": pair.absence}
                )
            elif absence[1] != pair.absence:
                absences_changed.append((absence[0], pair.absence))
        elif pair.whole and absence is not None:
            absences_gone.append(absence[0])
    for part in chunked(marks_gone, IN_CHUNK):
        session.execute(delete(Mark).where(Mark.id.in_(part)))
    if marks_new:
        session.execute(insert(Mark), marks_new)
    for part in chunked(absences_gone, IN_CHUNK):
        session.execute(delete(Absence).where(Absence.id.in_(part)))
    for absence_id, code in absences_changed:
        session.execute(update(Absence).where(Absence.id == absence_id).values(code=code))
    if absences_new:
        session.execute(insert(Absence), absences_new)
    changes.marks_added, changes.marks_removed = len(marks_new), len(marks_gone)
    changes.absences_added = len(absences_new)
    changes.absences_changed = len(absences_changed)
    changes.absences_removed = len(absences_gone)


def _write_period_grades(session, school: School, plan: Plan, subjects, changes) -> None:
    if not plan.period_grades:
        return
    year = plan.year
    periods = dict(
        session.execute(
            select(AcademicPeriod.name, AcademicPeriod.id).where(
                AcademicPeriod.school_id == school.id, AcademicPeriod.school_year == year
            )
        ).all()
    )
    for name, (start, end, _) in plan.periods.items():
        if name not in periods:
            period = AcademicPeriod(
                school_id=school.id, school_year=year, name=name, starts_on=start, ends_on=end
            )
            session.add(period)
            session.flush()
            periods[name] = period.id
    grades = {
        (student_id, subjects[subject], periods[period]): given[0]
        for (student_id, subject, period), given in plan.period_grades.items()
    }
    stored = {}
    for part in chunked(sorted({k[0] for k in grades}), IN_CHUNK):
        for grade_id, student_id, subject_id, period_id, value in session.execute(
            select(
                PeriodGrade.id, PeriodGrade.student_id, PeriodGrade.subject_id,
                PeriodGrade.period_id, PeriodGrade.value,
            ).where(PeriodGrade.student_id.in_(part))
        ):  # fmt: skip
            stored[(student_id, subject_id, period_id)] = (grade_id, value)
    added, removed = [], []
    changed = 0
    for (student_id, subject_id, period_id), value in grades.items():
        old = stored.get((student_id, subject_id, period_id))
        if value is None:
            if old is not None:
                removed.append(old[0])
        elif old is None:
            added.append(
                {"student_id": student_id, "subject_id": subject_id, "period_id": period_id,
                 "value": value}
            )  # fmt: skip
        elif old[1] != value:
            session.execute(update(PeriodGrade).where(PeriodGrade.id == old[0]).values(value=value))
            changed += 1
    if added:
        session.execute(insert(PeriodGrade), added)
    for part in chunked(removed, IN_CHUNK):
        session.execute(delete(PeriodGrade).where(PeriodGrade.id.in_(part)))
    changes.period_grades_set = len(added) + changed
    changes.period_grades_removed = len(removed)
