"""Resolving a read journal plan against the school's classes: each lesson's date within the
school year and out of the summer, its class existing, the periods within the year, and each
student an entry names (by ID, or by name in the lesson's class) placed into the plan's
(student, lesson) pairs or period grades. Problems are collected in the plan.

`journal.importing` builds the class list and calls `resolve_plan`.
"""

from __future__ import annotations

from datetime import date
from typing import Any, NamedTuple

from diaryadmin.errors import Problem
from diaryadmin.i18n import _
from diaryadmin.journal.classlist import ClassList
from diaryadmin.journal.periods import year_label
from diaryadmin.journal.plan import Pair, Plan, problem_at
from diaryadmin.people.names import fold
from diaryadmin.schools import school_year_of

SUMMER_MONTHS = (7, 8)  # no lessons: a date there is a typo (often day and month swapped)


class Entry(NamedTuple):
    """One thing a file says about a student, waiting for the student to be resolved: a
    lesson's marks and attendance, or (`key[0] == "grade"`) a period grade."""

    ref: tuple[str, str]  # ("id", text) or ("name", text)
    key: tuple  # the lesson key, or ("grade", subject key, period, subject)
    marks: Any  # a mark, the list of a grid cell's marks, or a period grade's value
    code: str | None
    where: Problem
    whole: bool  # a grid cell group: empty means none

    @property
    def class_name(self) -> str | None:
        return None if self.key[0] == "grade" else self.key[0]


def resolve_plan(plan: Plan, class_list: ClassList, year: int) -> dict[str, int]:
    """Check the plan's lessons and periods against school year `year` and place its entries
    (problems collected in the plan); class name -> id of the classes the lessons name."""
    class_ids = _check_lessons(plan, class_list, year)
    _check_periods(plan, year)
    for entry in _resolve_ids(plan, class_list):
        _place_entry(plan, entry, class_list, class_ids)
    return class_ids


def _check_lessons(plan: Plan, class_list: ClassList, year: int) -> dict[str, int]:
    """Each lesson's date within the school year and out of the summer, its class existing;
    class name -> id of the classes the lessons name."""
    first, last = date(year, 9, 1), date(year + 1, 8, 31)
    class_ids: dict[str, int] = {}
    for lesson in plan.lessons.values():
        where = lesson.where
        if not first <= lesson.date <= last:
            plan.problems.append(
                problem_at(
                    where,
                    _("the date is outside the school year {year} ({first} – {last})").format(
                        year=year_label(year), first=f"{first:%d.%m.%Y}", last=f"{last:%d.%m.%Y}"
                    ),
                )
            )
            continue
        if lesson.date.month in SUMMER_MONTHS:
            plan.problems.append(
                problem_at(where, _("the date is in the summer holidays (July and August)"))
            )
            continue
        found = class_list.classes.get(lesson.class_name)
        if found is None:
            plan.problems.append(
                Problem(
                    _("there is no class {name} in {year}").format(
                        name=lesson.class_name, year=year_label(year)
                    ),
                    where.file,
                    where.sheet,
                    where.row,
                    "Класс",
                    lesson.class_name,
                )
            )
            continue
        class_ids[lesson.class_name] = found
    return class_ids


def _check_periods(plan: Plan, year: int) -> None:
    for name, (start, end, where) in plan.periods.items():
        if school_year_of(start) != year or school_year_of(end) != year or end < start:
            plan.problems.append(
                problem_at(
                    where,
                    _("the period {name} is not within {year}").format(
                        name=name, year=year_label(year)
                    ),
                )
            )


def _resolve_ids(plan: Plan, class_list: ClassList) -> list[tuple[Entry, int | None]]:
    """The file's entries with the student an ID names (problems collected); a student named
    by name is resolved later, against the lesson's class."""
    resolved = []
    for entry in map(Entry._make, plan.pending):
        student_id = None
        if entry.ref[0] == "id":
            student_id = class_list.by_external.get(fold(entry.ref[1]))
            if student_id is None:
                plan.problems.append(
                    problem_at(entry.where, _("no student with ID '{id}'").format(id=entry.ref[1]))
                )
                continue
        resolved.append((entry, student_id))
    return resolved


def _match_name(plan: Plan, entry: Entry, class_list: ClassList, class_ids: set[int]):
    student_id, why = class_list.match_name(entry.ref[1], class_ids)
    if student_id is None:
        plan.problems.append(problem_at(entry.where, why))
    return student_id


def _place_entry(
    plan: Plan,
    resolved: tuple[Entry, int | None],
    class_list: ClassList,
    class_ids: dict[str, int],
) -> None:
    """Put an entry into the plan's period grades or (student, lesson) pairs."""
    entry, student_id = resolved
    key, where = entry.key, entry.where
    if key[0] == "grade":
        if student_id is None:
            student_id = _match_name(plan, entry, class_list, set(class_ids.values()))
            if student_id is None:
                return
        plan.period_grades[(student_id, key[1], key[2])] = (entry.marks, where, key[3])
        return
    lesson = plan.lessons[key]
    class_id = class_ids.get(entry.class_name)
    if class_id is None:
        return
    if student_id is None:
        student_id = _match_name(plan, entry, class_list, {class_id})
        if student_id is None:
            return
    if not class_list.in_class(student_id, class_id, lesson.date):
        if entry.whole and not entry.marks and entry.code is None:
            return  # an empty grid cell from before or after the student was in the class
        student = class_list.students[student_id]
        plan.problems.append(
            problem_at(
                where,
                _("{student} is not in class {name} on {date}").format(
                    student=f"{student.surname} {student.name}",
                    name=entry.class_name,
                    date=f"{lesson.date:%d.%m.%Y}",
                ),
            )
        )
        return
    pair = plan.pairs.get((student_id, key))
    if pair is None:
        pair = plan.pairs[(student_id, key)] = Pair(whole=entry.whole)
    if entry.whole:
        pair.marks = list(entry.marks)
        pair.marks_given = True
        pair.absence = entry.code
        return
    if entry.marks is not None:
        pair.marks.append(entry.marks)
        pair.marks_given = True
    if entry.code is not None:
        if pair.absence is not None and pair.absence != entry.code:
            plan.problems.append(
                problem_at(
                    where,
                    _("a second attendance code ({code}, was {previous})").format(
                        code=entry.code, previous=pair.absence
                    ),
                )
            )
        pair.absence = entry.code
