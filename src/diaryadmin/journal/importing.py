"""Journal import: long-form tables (one row per mark or absence) and our own grid workbooks.

A long-form row names a lesson (date, lesson number, class, subject; teacher, topic, homework)
and optionally a student (ID or full name) with a mark (weight or kind of work, comment) and/or
an attendance code. Rows without a student only carry the lesson's topic and homework.

The grid workbook is what `journal export` writes (see journal_export); reading it back
reproduces lessons, marks with their notes, absences and period grades.

Import is all-or-nothing: every problem is collected with file, sheet, row, column and value,
and nothing is written unless there are none. Re-importing a file changes nothing: the marks a
file gives for a student in a lesson replace that student's marks in that lesson, and equal
marks are left as they are. A grid sheet is the whole truth for the lessons and students it
shows (an empty cell removes a mark or absence); a long-form file only touches what it names.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from diaryadmin import audit
from diaryadmin.db import chunked
from diaryadmin.errors import InputError, NotFound, Problem
from diaryadmin.journal.periods import year_label
from diaryadmin.journal.read import (
    LONG_FORM_ALIASES,
    Pair,
    Plan,
    parse_note,
    problem_at,
    read_cell_notes,
    read_journal_file,
)
from diaryadmin.models import (
    Absence,
    AcademicPeriod,
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
from diaryadmin.people.names import clean_spaces, fold, name_key
from diaryadmin.plan import Plan as ChangePlan
from diaryadmin.schools import class_option, school_year_of

_CHUNK = 500
SUMMER_MONTHS = (7, 8)  # no lessons: a date there is a typo (often day and month swapped)

__all__ = [
    "LONG_FORM_ALIASES",
    "apply_import",
    "import_journal",
    "parse_note",
    "plan_import",
    "read_cell_notes",
    "read_journal_file",
]


class Roster:
    """The school's students, classes and class history for one school year, preloaded."""

    def __init__(self, session: Session, school: School, year: int) -> None:
        self.year = year
        self.classes = {
            name: (cid, name)
            for cid, name in session.execute(
                select(SchoolClass.id, SchoolClass.name).where(
                    SchoolClass.school_id == school.id, SchoolClass.school_year == year
                )
            )
        }
        class_ids = {cid for cid, _ in self.classes.values()}
        self.students: dict[int, tuple] = {}
        self.by_external: dict[str, int] = {}
        for row in session.execute(
            select(
                Student.id,
                Student.external_id,
                Student.surname,
                Student.name,
                Student.patronymic,
                Student.class_id,
            ).where(Student.school_id == school.id)
        ):
            self.students[row[0]] = row
            if row[1]:
                self.by_external[fold(row[1])] = row[0]
        self.history: dict[int, list[tuple[int, date, date | None]]] = defaultdict(list)
        for student_id, class_id, start, end in session.execute(
            select(
                Enrolment.student_id, Enrolment.class_id, Enrolment.started_on, Enrolment.ended_on
            )
            .join(Student, Student.id == Enrolment.student_id)
            .where(Student.school_id == school.id)
        ):
            self.history[student_id].append((class_id, start, end))
        # Class -> name keys (full, surname + name, surname + initials as teachers write them:
        # "Петров О.", "Петров О.А.") -> student ids, for name matching; and surnames alone,
        # only to explain why a bare surname is not enough.
        self.names: dict[int, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
        self.surnames: dict[int, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
        for student_id, row in self.students.items():
            members = {c for c, _, _ in self.history.get(student_id, ())}
            if student_id not in self.history and row[5] is not None:
                members.add(row[5])
            for class_id in members & class_ids:
                self.names[class_id][name_key(row[2], row[3], row[4])].add(student_id)
                self.names[class_id][name_key(row[2], row[3])].add(student_id)
                initials = [row[3][:1]] + ([row[4][:1]] if row[4] and row[4].strip() else [])
                self.names[class_id][fold(" ".join([row[2], initials[0]]))].add(student_id)
                self.names[class_id][fold(" ".join([row[2], *initials]))].add(student_id)
                self.surnames[class_id][fold(row[2])].add(student_id)

    def in_class(self, student_id: int, class_id: int, day: date) -> bool:
        """Whether the student was in the class on `day`.

        A student's first enrolment counts from any earlier day: the roster records when the
        office learned of a student's class, not when the child joined it. Only later
        enrolments (class moves) start on their date.
        """
        history = self.history.get(student_id)
        if not history:
            return self.students[student_id][5] == class_id
        first = min(start for _, start, _ in history)
        return any(
            c == class_id and (start <= day or start == first) and (end is None or day <= end)
            for c, start, end in history
        )


def _school_year(session: Session, school: School, year: int | None, plan: Plan) -> int:
    """The school year given, else the one our grid workbook names, else the roster's latest."""
    if year is not None:
        return year
    if len(plan.file_years) == 1:
        return next(iter(plan.file_years))
    latest = _latest_year(session, school)
    if latest is None:
        raise NotFound("The school has no classes yet: import a roster first.")
    return latest


def _latest_year(session: Session, school: School) -> int | None:
    return session.scalar(
        select(SchoolClass.school_year)
        .where(SchoolClass.school_id == school.id)
        .order_by(SchoolClass.school_year.desc())
        .limit(1)
    )


def _resolve_students(plan: Plan, roster: Roster) -> list[tuple]:
    """Pending entries with the student id and class id resolved (problems collected)."""
    resolved = []
    for ref, key, marks, code, where, whole in plan.pending:
        class_name = None if key[0] == "grade" else key[0]
        student_id = None
        if ref[0] == "id":
            student_id = roster.by_external.get(fold(ref[1]))
            if student_id is None:
                plan.problems.append(problem_at(where, f"no student with ID {ref[1]!r}"))
                continue
        resolved.append((ref, student_id, key, marks, code, where, whole, class_name))
    return resolved


def plan_import(
    session: Session,
    school: School,
    path: Path,
    *,
    default_class: str | None = None,
    year: int | None = None,
) -> tuple[Plan, dict]:
    """Read and check a journal file against the database; nothing is written.

    Returns the plan and a report. Raises InputError with every problem found.
    """
    default_class = class_option(default_class or None)
    hint = year if year is not None else _latest_year(session, school)
    plan = read_journal_file(path, default_class, year_hint=hint)
    if not plan.formats:
        raise _refused(path, plan)
    year = _school_year(session, school, year, plan)
    roster = Roster(session, school, year)
    first, last = date(year, 9, 1), date(year + 1, 8, 31)
    class_ids: dict[str, int] = {}
    for lesson in plan.lessons.values():
        where = lesson.where
        if not first <= lesson.date <= last:
            plan.problems.append(
                problem_at(
                    where,
                    f"the date is outside the school year {year_label(year)} "
                    f"({first:%d.%m.%Y} – {last:%d.%m.%Y})",
                )
            )
            continue
        if lesson.date.month in SUMMER_MONTHS:
            plan.problems.append(
                problem_at(where, "the date is in the summer holidays (July and August)")
            )
            continue
        found = roster.classes.get(lesson.class_name)
        if found is None:
            plan.problems.append(
                Problem(
                    f"there is no class {lesson.class_name} in {year_label(year)}",
                    where.file,
                    where.sheet,
                    where.row,
                    "Класс",
                    lesson.class_name,
                )
            )
            continue
        class_ids[lesson.class_name] = found[0]

    for name, (start, end, where) in plan.periods.items():
        if school_year_of(start) != year or school_year_of(end) != year or end < start:
            plan.problems.append(
                problem_at(where, f"the period {name} is not within {year_label(year)}")
            )

    for ref, student_id, key, marks, code, where, whole, class_name in _resolve_students(
        plan, roster
    ):
        if key[0] == "grade":
            if student_id is None:
                student_id = _match_name(ref[1], roster, set(class_ids.values()), where, plan)
                if student_id is None:
                    continue
            plan.period_grades[(student_id, key[1], key[2])] = (marks, where, key[3])
            continue
        lesson = plan.lessons[key]
        class_id = class_ids.get(class_name)
        if class_id is None:
            continue
        if student_id is None:
            student_id = _match_name(ref[1], roster, {class_id}, where, plan)
            if student_id is None:
                continue
        if not roster.in_class(student_id, class_id, lesson.date):
            if whole and not marks and code is None:
                continue  # an empty grid cell from before or after the student was in the class
            student = roster.students[student_id]
            plan.problems.append(
                problem_at(
                    where,
                    f"{student[2]} {student[3]} is not in class {class_name} "
                    f"on {lesson.date:%d.%m.%Y}",
                )
            )
            continue
        pair = plan.pairs.get((student_id, key))
        if pair is None:
            pair = plan.pairs[(student_id, key)] = Pair(whole=whole)
        if whole:
            pair.marks = list(marks)
            pair.marks_given = True
            pair.absence = code
            continue
        if marks is not None:
            pair.marks.append(marks)
            pair.marks_given = True
        if code is not None:
            if pair.absence is not None and pair.absence != code:
                plan.problems.append(
                    problem_at(where, f"a second attendance code ({code}, was {pair.absence})")
                )
            pair.absence = code
    if plan.problems:
        raise _refused(path, plan)
    plan.class_ids = class_ids
    plan.year = year
    return plan, _report(path, plan, dry_run=True)


_INITIAL_DOTS = re.compile(r"(?<=\w)\.\s*|\s+")


def _match_name(
    name: str, roster: Roster, class_ids: set[int], where: Problem, plan: Plan
) -> int | None:
    key = _INITIAL_DOTS.sub(" ", fold(name)).strip()  # "Петров О.А." -> "петров о а"
    found: set[int] = set()
    for class_id in class_ids:
        found |= roster.names.get(class_id, {}).get(key, set())
    if len(found) == 1:
        return next(iter(found))
    if not found:
        namesakes = set()
        for class_id in class_ids:
            namesakes |= roster.surnames.get(class_id, {}).get(key, set())
        elsewhere = sorted(
            name
            for name, (class_id, _) in roster.classes.items()
            if class_id not in class_ids and roster.names.get(class_id, {}).get(key)
        )
        if elsewhere and not namesakes:
            plan.problems.append(
                problem_at(
                    where, f"no such student in the class (one is in {', '.join(elsewhere)})"
                )
            )
        elif namesakes:
            plan.problems.append(
                problem_at(
                    where,
                    f"only a surname ({len(namesakes)} student(s) of the class have it): "
                    "give the name too, or the ID",
                )
            )
        else:
            plan.problems.append(problem_at(where, "no such student in the class"))
    else:
        plan.problems.append(
            problem_at(where, f"{len(found)} students of the class have this name; give their ID")
        )
    return None


def _refused(path: Path, plan: Plan) -> InputError:
    report = _report(path, plan, dry_run=False)
    count = len(plan.problems)
    return InputError(
        f"{path}: {count} problem(s) found; nothing was imported.", plan.problems, report
    )


def _report(path: Path, plan: Plan, dry_run: bool) -> dict[str, Any]:
    return {
        "file": str(path),
        "format": "+".join(sorted(plan.formats)) or None,
        "rows": plan.rows,
        "lessons": len(plan.lessons),
        "entries": len(plan.pairs),
        "marks": sum(len(p.marks) for p in plan.pairs.values()),
        "absences": sum(1 for p in plan.pairs.values() if p.absence),
        "period_grades": sum(1 for v in plan.period_grades.values() if v[0] is not None),
        "skipped_sheets": plan.skipped_sheets,
        "ignored_columns": plan.ignored_columns,
        "warnings": [p.to_dict() for p in plan.warnings],
        "dry_run": dry_run,
        "errors": [p.to_dict() for p in plan.problems],
    }


# ---------------------------------------------------------------- writing


def _chunks(items: Iterable) -> Iterator[list]:
    return chunked(items, _CHUNK)


def _teacher_parts(text: str) -> tuple[str, str | None, str | None]:
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


def apply_import(
    session: Session,
    school: School,
    path: Path,
    plan: Plan,
    operator: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Write a checked plan: lessons, marks, absences, period grades, in set-based statements."""
    report = _report(path, plan, dry_run=False)
    class_ids = plan.class_ids
    year = plan.year

    subjects = {
        fold(name): sid
        for sid, name in session.execute(
            select(Subject.id, Subject.name).where(Subject.school_id == school.id)
        )
    }
    new_subjects: dict[str, str] = {}
    for lesson in plan.lessons.values():
        new_subjects.setdefault(fold(lesson.subject), lesson.subject)
    for (_, subject_key, _), (_, _, subject_name) in plan.period_grades.items():
        new_subjects.setdefault(subject_key, subject_name)
    created_subjects = [name for key, name in new_subjects.items() if key not in subjects]
    if created_subjects:
        session.execute(
            insert(Subject), [{"school_id": school.id, "name": n} for n in created_subjects]
        )
        subjects = {
            fold(name): sid
            for sid, name in session.execute(
                select(Subject.id, Subject.name).where(Subject.school_id == school.id)
            )
        }

    known = session.execute(
        select(
            Teacher.id, Teacher.name_key, Teacher.surname, Teacher.name, Teacher.patronymic
        ).where(Teacher.school_id == school.id)
    ).all()
    teachers = {key: tid for tid, key, *_ in known}
    # A teacher written with initials ("Смирнова Е.В.") is the one teacher with that surname
    # and those initials written in full, in the database or earlier in this file.
    # Failing that, a teacher stored with initials, however they were spaced ("Е.В.").
    by_initials: dict[tuple[str, str], set[str]] = defaultdict(set)
    short: dict[tuple[str, str], set[str]] = defaultdict(set)
    for _, key, *stored in known:
        surname, name, patronymic = _teacher_parts(" ".join(x for x in stored if x))
        index = short if _is_initial(name) else by_initials
        index[(fold(surname), _initials(name, patronymic))].add(key)
    wanted = {x.teacher for x in plan.lessons.values() if x.teacher}
    wanted |= {m[4] for p in plan.pairs.values() for m in p.marks if m[4]}
    created_teachers = []
    teacher_keys: dict[str, str] = {}  # the text as written -> its teacher's name key
    for text in sorted(wanted, key=lambda t: (_is_initial(_teacher_parts(t)[1]), t)):
        surname, name, patronymic = _teacher_parts(text)
        key = name_key(surname, name or "", patronymic)
        if key not in teachers and _is_initial(name):
            found = (fold(surname), _initials(name, patronymic))
            for index in (by_initials, short):
                if len(index.get(found, ())) == 1:
                    key = next(iter(index[found]))
                    break
        teacher_keys[text] = key
        if key not in teachers:
            teachers[key] = None
            if not _is_initial(name):
                by_initials[(fold(surname), _initials(name, patronymic))].add(key)
            created_teachers.append(
                {
                    "school_id": school.id,
                    "surname": surname,
                    "name": name,
                    "patronymic": patronymic,
                    "name_key": key,
                }
            )
    if created_teachers:
        session.execute(insert(Teacher), created_teachers)
        teachers = {
            key: tid
            for tid, key in session.execute(
                select(Teacher.id, Teacher.name_key).where(Teacher.school_id == school.id)
            )
        }

    def teacher_id(text: str | None) -> int | None:
        if not text:
            return None
        return teachers.get(teacher_keys.get(text, ""))

    # Lessons: insert the new, update topic/homework/teacher where the file gives new ones.
    first, last = date(year, 9, 1), date(year + 1, 8, 31)

    def existing_lessons() -> dict[tuple, tuple]:
        found = {}
        ids = sorted(set(class_ids.values()))
        for part in _chunks(ids):
            for row in session.execute(
                select(
                    Lesson.id,
                    Lesson.class_id,
                    Lesson.subject_id,
                    Lesson.date,
                    Lesson.number,
                    Lesson.topic,
                    Lesson.homework,
                    Lesson.teacher_id,
                ).where(Lesson.class_id.in_(part), Lesson.date >= first, Lesson.date <= last)
            ):
                found[(row[1], row[2], row[3], row[4])] = row
        return found

    db_lessons = existing_lessons()
    lesson_db_key = {
        key: (class_ids[x.class_name], subjects[fold(x.subject)], x.date, x.number)
        for key, x in plan.lessons.items()
    }
    to_insert, updates = [], []
    unchanged_lessons = 0
    for key, lesson in plan.lessons.items():
        db_key = lesson_db_key[key]
        tid = teacher_id(lesson.teacher)
        row = db_lessons.get(db_key)
        if row is None:
            to_insert.append(
                {
                    "class_id": db_key[0],
                    "subject_id": db_key[1],
                    "date": db_key[2],
                    "number": db_key[3],
                    "topic": lesson.topic,
                    "homework": lesson.homework,
                    "teacher_id": tid,
                }
            )
            continue
        change = {}
        if lesson.topic is not None and lesson.topic != row[5]:
            change["topic"] = lesson.topic
        if lesson.homework is not None and lesson.homework != row[6]:
            change["homework"] = lesson.homework
        if tid is not None and tid != row[7]:
            change["teacher_id"] = tid
        if change:
            updates.append({"id": row[0], **change})
        else:
            unchanged_lessons += 1
    if to_insert:
        session.execute(insert(Lesson), to_insert)
        db_lessons = existing_lessons()
    for change in updates:
        session.execute(update(Lesson).where(Lesson.id == change.pop("id")).values(**change))
    lesson_ids = {key: db_lessons[db_key][0] for key, db_key in lesson_db_key.items()}
    lesson_teacher = {key: db_lessons[db_key][7] for key, db_key in lesson_db_key.items()}

    # Marks and absences of the (student, lesson) pairs the file gives.
    touched = sorted({lesson_ids[key] for _, key in plan.pairs})
    old_marks: dict[tuple[int, int], list[tuple]] = defaultdict(list)
    old_absences: dict[tuple[int, int], tuple[int, str]] = {}
    for part in _chunks(touched):
        for row in session.execute(
            select(
                Mark.id,
                Mark.student_id,
                Mark.lesson_id,
                Mark.value,
                Mark.weight,
                Mark.kind,
                Mark.comment,
                Mark.teacher_id,
            ).where(Mark.lesson_id.in_(part))
        ):
            old_marks[(row[1], row[2])].append(row)
        for aid, sid, lid, code in session.execute(
            select(Absence.id, Absence.student_id, Absence.lesson_id, Absence.code).where(
                Absence.lesson_id.in_(part)
            )
        ):
            old_absences[(sid, lid)] = (aid, code)
    marks_insert, marks_delete = [], []
    absences_insert, absences_update, absences_delete = [], [], []
    unchanged_marks = 0
    for (student_id, key), pair in plan.pairs.items():
        lid = lesson_ids[key]
        if pair.marks_given:
            new = sorted(
                (
                    (v, float(w), k, c, teacher_id(t) or lesson_teacher[key])
                    for v, w, k, c, t in pair.marks
                ),
                key=_mark_order,
            )
            old_rows = old_marks.get((student_id, lid), [])
            old = sorted(((r[3], float(r[4]), r[5], r[6], r[7]) for r in old_rows), key=_mark_order)
            if new != old:
                marks_delete.extend(r[0] for r in old_rows)
                marks_insert.extend(
                    {
                        "student_id": student_id,
                        "lesson_id": lid,
                        "value": v,
                        "weight": w,
                        "kind": k,
                        "comment": c,
                        "teacher_id": t,
                    }
                    for v, w, k, c, t in new
                )
            else:
                unchanged_marks += len(new)
        old_absence = old_absences.get((student_id, lid))
        if pair.absence is not None:
            if old_absence is None:
                absences_insert.append(
                    {"student_id": student_id, "lesson_id": lid, "code": pair.absence}
                )
            elif old_absence[1] != pair.absence:
                absences_update.append((old_absence[0], pair.absence))
        elif pair.whole and old_absence is not None:
            absences_delete.append(old_absence[0])
    for part in _chunks(marks_delete):
        session.execute(delete(Mark).where(Mark.id.in_(part)))
    if marks_insert:
        session.execute(insert(Mark), marks_insert)
    for part in _chunks(absences_delete):
        session.execute(delete(Absence).where(Absence.id.in_(part)))
    for aid, code in absences_update:
        session.execute(update(Absence).where(Absence.id == aid).values(code=code))
    if absences_insert:
        session.execute(insert(Absence), absences_insert)

    grades = _apply_period_grades(session, school, plan, subjects, year)
    report.update(
        {
            "lessons_added": len(to_insert),
            "lessons_updated": len(updates),
            "lessons_unchanged": unchanged_lessons,
            "marks_added": len(marks_insert),
            "marks_removed": len(marks_delete),
            "marks_unchanged": unchanged_marks,
            "absences_added": len(absences_insert),
            "absences_changed": len(absences_update),
            "absences_removed": len(absences_delete),
            **grades,
            "subjects_created": created_subjects,
            "teachers_created": [
                " ".join(p for p in (t["surname"], t["name"], t["patronymic"]) if p)
                for t in created_teachers
            ],
        }
    )
    audit.record(
        session,
        operator,
        "journal.import",
        f"file:{path.name}",
        {
            k: v
            for k, v in report.items()
            if k not in ("errors", "warnings", "file", "skipped_sheets", "ignored_columns")
        },
        now=now,
    )
    return report


def _mark_order(mark: tuple) -> tuple:
    value, weight, kind, comment, teacher = mark
    return (value, weight, kind or "", comment or "", teacher or 0)


def _apply_period_grades(session, school, plan, subjects, year) -> dict[str, int]:
    if not plan.period_grades:
        return {"period_grades_set": 0, "period_grades_removed": 0}
    periods = {
        name: pid
        for pid, name in session.execute(
            select(AcademicPeriod.id, AcademicPeriod.name).where(
                AcademicPeriod.school_id == school.id, AcademicPeriod.school_year == year
            )
        )
    }
    for name, (start, end, _) in plan.periods.items():
        if name not in periods:
            period = AcademicPeriod(
                school_id=school.id, school_year=year, name=name, starts_on=start, ends_on=end
            )
            session.add(period)
            session.flush()
            periods[name] = period.id
    keys = {
        (sid, subjects[subj], periods[pname]): v[0]
        for (sid, subj, pname), v in plan.period_grades.items()
    }
    students = sorted({k[0] for k in keys})
    existing = {}
    for part in _chunks(students):
        for gid, sid, subj, pid, value in session.execute(
            select(
                PeriodGrade.id,
                PeriodGrade.student_id,
                PeriodGrade.subject_id,
                PeriodGrade.period_id,
                PeriodGrade.value,
            ).where(PeriodGrade.student_id.in_(part))
        ):
            existing[(sid, subj, pid)] = (gid, value)
    added, removed = [], []
    changed = 0
    for key, value in keys.items():
        old = existing.get(key)
        if value is None:
            if old is not None:
                removed.append(old[0])
        elif old is None:
            added.append(
                {"student_id": key[0], "subject_id": key[1], "period_id": key[2], "value": value}
            )
        elif old[1] != value:
            session.execute(update(PeriodGrade).where(PeriodGrade.id == old[0]).values(value=value))
            changed += 1
    if added:
        session.execute(insert(PeriodGrade), added)
    for part in _chunks(removed):
        session.execute(delete(PeriodGrade).where(PeriodGrade.id.in_(part)))
    return {"period_grades_set": len(added) + changed, "period_grades_removed": len(removed)}


def import_journal(
    session: Session,
    school: School,
    path: str | Path,
    operator: str,
    *,
    default_class: str | None = None,
    year: int | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
    changes: ChangePlan | None = None,
) -> dict[str, Any]:
    """Import a journal file (long form or grid workbook) all-or-nothing.

    Raises InputError with every problem (file, sheet, row, column, value) and the report as
    its result; NotFound if the school has no classes. With `dry_run` nothing is written.
    With `changes`, each lesson the file holds is added to it by class, subject, date and
    number, with its marks and absences (the plan a dry run shows).
    """
    path = Path(path)
    plan, report = plan_import(session, school, path, default_class=default_class, year=year)
    if changes is not None:
        _describe_lessons(plan, changes)
    if dry_run:
        return report
    return apply_import(session, school, path, plan, operator, now=now)


def _describe_lessons(plan: Plan, changes: ChangePlan) -> None:
    marks: dict[tuple, int] = {}
    absences: dict[tuple, int] = {}
    for (_, key), pair in plan.pairs.items():
        marks[key] = marks.get(key, 0) + len(pair.marks)
        absences[key] = absences.get(key, 0) + bool(pair.absence)
    for key, lesson in sorted(
        plan.lessons.items(),
        key=lambda item: (item[1].class_name, item[1].date, item[1].number, item[1].subject),
    ):
        changes.add(
            "import",
            "lesson",
            f"{lesson.class_name} {lesson.subject} {lesson.date:%d.%m.%Y} №{lesson.number}",
            f"{marks.get(key, 0)} mark(s), {absences.get(key, 0)} absence(s)",
        )
