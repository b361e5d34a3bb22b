"""What a roster import changed, by name: the plan a dry run shows (see `diaryadmin.plan`).

The import runs for real inside a transaction the caller rolls back on a dry run; comparing the
school's students and guardianships before and after names who would be created, moved to
another class, changed, deactivated, and which guardians would be linked to which child.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from diaryadmin.i18n import _
from diaryadmin.models import Guardian, Guardianship, School, SchoolClass, Student
from diaryadmin.people.relations import relation_name
from diaryadmin.plan import Plan


@dataclass(frozen=True)
class _Pupil:
    name: str
    class_name: str | None
    active: bool
    fields: tuple


@dataclass
class RosterState:
    """The school's pupils and guardianships at one moment."""

    pupils: dict[int, _Pupil]
    links: set[int]


def roster_state(session: Session, school: School | None) -> RosterState:
    if school is None or school.id is None:
        return RosterState({}, set())
    session.flush()
    pupils = {}
    for row in session.execute(
        select(
            Student.id, Student.surname, Student.name, Student.patronymic, SchoolClass.name,
            Student.active, Student.birth_date, Student.external_id, Student.certificate_fp,
        )
        .outerjoin(SchoolClass, SchoolClass.id == Student.class_id)
        .where(Student.school_id == school.id)
    ):  # fmt: skip
        name = " ".join(p for p in row[1:4] if p)
        pupils[row[0]] = _Pupil(name, row[4], bool(row[5]), tuple(row[1:4]) + tuple(row[6:]))
    links = set(
        session.scalars(
            select(Guardianship.id)
            .join(Student, Student.id == Guardianship.student_id)
            .where(Student.school_id == school.id)
        )
    )
    return RosterState(pupils, links)


def describe_changes(
    session: Session, school: School | None, before: RosterState, plan: Plan
) -> None:
    """Add to `plan`, by name, what changed in the school since `before`."""
    after = roster_state(session, school)
    for pupil_id, now in sorted(
        after.pupils.items(), key=lambda p: (p[1].class_name or "", p[1].name)
    ):
        was = before.pupils.get(pupil_id)
        if was is None:
            plan.add("create", "student", now.name, now.class_name or "")
        elif was.active and not now.active:
            plan.add("deactivate", "student", now.name, was.class_name or "")
        elif was.class_name != now.class_name:
            plan.add(
                "move", "student", now.name, f"{was.class_name or '-'} → {now.class_name or '-'}"
            )
        elif was != now:
            plan.add("change", "student", now.name, now.class_name or "")
    new_links = sorted(after.links - before.links)
    if new_links:
        for person, relation, child in session.execute(
            select(Guardian, Guardianship.relation, Student)
            .join(Guardianship, Guardianship.guardian_id == Guardian.id)
            .join(Student, Student.id == Guardianship.student_id)
            .where(Guardianship.id.in_(new_links))
            .order_by(Student.surname, Student.name, Guardian.surname)
        ):
            detail = _("{relation} of {child}").format(
                relation=relation_name(relation), child=f"{child.surname} {child.name}"
            )
            plan.add("link", "guardian", person.full_name, detail)
