"""Who was in which class when: the school's students and class history for a journal import.

A journal file names students by ID or as teachers write them ("Петров О.А."); the class list
of the lesson's class on the lesson's day tells which student that is.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from diaryadmin.i18n import _, ngettext
from diaryadmin.models import Enrolment, School, SchoolClass, Student
from diaryadmin.people.names import fold, name_key


class ListedStudent(NamedTuple):
    id: int
    external_id: str | None
    surname: str
    name: str
    patronymic: str | None
    class_id: int | None  # the current class


class Stint(NamedTuple):
    """One enrolment: a class from a day to a day (None: still)."""

    class_id: int
    started_on: date
    ended_on: date | None


class ClassList:
    """The school's students, classes and class history for one school year, preloaded."""

    def __init__(self, session: Session, school: School, year: int) -> None:
        self.year = year
        self.classes: dict[str, int] = dict(
            session.execute(
                select(SchoolClass.name, SchoolClass.id).where(
                    SchoolClass.school_id == school.id, SchoolClass.school_year == year
                )
            ).all()
        )
        class_ids = set(self.classes.values())
        self.students: dict[int, ListedStudent] = {}
        self.by_external: dict[str, int] = {}
        for row in session.execute(
            select(
                Student.id, Student.external_id, Student.surname, Student.name,
                Student.patronymic, Student.class_id,
            ).where(Student.school_id == school.id)
        ):  # fmt: skip
            student = self.students[row.id] = ListedStudent(*row)
            if student.external_id:
                self.by_external[fold(student.external_id)] = student.id
        self.history: dict[int, list[Stint]] = defaultdict(list)
        for student_id, *stint in session.execute(
            select(
                Enrolment.student_id, Enrolment.class_id, Enrolment.started_on, Enrolment.ended_on
            )
            .join(Student, Student.id == Enrolment.student_id)
            .where(Student.school_id == school.id)
        ):
            self.history[student_id].append(Stint(*stint))
        # Class -> name keys (full, surname + name, surname + initials as teachers write them:
        # "Петров О.", "Петров О.А.") -> student ids, for name matching; and surnames alone,
        # only to explain why a bare surname is not enough.
        self.names: dict[int, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
        self.surnames: dict[int, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
        for student in self.students.values():
            members = {stint.class_id for stint in self.history.get(student.id, ())}
            if student.id not in self.history and student.class_id is not None:
                members.add(student.class_id)
            for class_id in members & class_ids:
                self._index(class_id, student)

    def _index(self, class_id: int, s: ListedStudent) -> None:
        names = self.names[class_id]
        names[name_key(s.surname, s.name, s.patronymic)].add(s.id)
        names[name_key(s.surname, s.name)].add(s.id)
        initials = [s.name[:1]] + (
            [s.patronymic[:1]] if s.patronymic and s.patronymic.strip() else []
        )
        names[fold(" ".join([s.surname, initials[0]]))].add(s.id)
        names[fold(" ".join([s.surname, *initials]))].add(s.id)
        self.surnames[class_id][fold(s.surname)].add(s.id)

    def in_class(self, student_id: int, class_id: int, day: date) -> bool:
        """Whether the student was in the class on `day`.

        A student's first enrolment counts from any earlier day: the roster records when the
        office learned of a student's class, not when the child joined it. Only later
        enrolments (class moves) start on their date.
        """
        history = self.history.get(student_id)
        if not history:
            return self.students[student_id].class_id == class_id
        first = min(stint.started_on for stint in history)
        return any(
            stint.class_id == class_id
            and (stint.started_on <= day or stint.started_on == first)
            and (stint.ended_on is None or day <= stint.ended_on)
            for stint in history
        )

    def match_name(self, name: str, class_ids: set[int]) -> tuple[int | None, str | None]:
        """The one student of these classes a name as a teacher writes it means, or None and
        why not."""
        key = _INITIAL_DOTS.sub(" ", fold(name)).strip()  # "Петров О.А." -> "петров о а"
        found: set[int] = set()
        for class_id in class_ids:
            found |= self.names.get(class_id, {}).get(key, set())
        if len(found) == 1:
            return next(iter(found)), None
        if found:
            return None, ngettext(
                "{count} student of the class has this name; give their ID",
                "{count} students of the class have this name; give their ID",
                len(found),
            ).format(count=len(found))
        namesakes: set[int] = set()
        for class_id in class_ids:
            namesakes |= self.surnames.get(class_id, {}).get(key, set())
        if namesakes:
            return None, ngettext(
                "only a surname ({count} student of the class has it): give the name too, or "
                "the ID",
                "only a surname ({count} students of the class have it): give the name too, or "
                "the ID",
                len(namesakes),
            ).format(count=len(namesakes))
        elsewhere = sorted(
            name
            for name, class_id in self.classes.items()
            if class_id not in class_ids and self.names.get(class_id, {}).get(key)
        )
        if elsewhere:
            return None, _("no such student in the class (one is in {classes})").format(
                classes=", ".join(elsewhere)
            )
        return None, _("no such student in the class")


_INITIAL_DOTS = re.compile(r"(?<=\w)\.\s*|\s+")
