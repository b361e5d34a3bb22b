"""Whom a credentials command means: schools, classes, students, guardianships in scope."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from diaryadmin.config import Settings
from diaryadmin.db import chunked
from diaryadmin.errors import NotFound, Refused
from diaryadmin.i18n import _, current_language
from diaryadmin.models import Guardian, Guardianship, School, SchoolClass, Student
from diaryadmin.people.names import fold
from diaryadmin.people.relations import relation_word
from diaryadmin.schools import canonical_classes, find_school
from diaryadmin.schools import placeholder_warnings as school_warnings

_ID_CHUNK = 5_000


def relation_label(code: str) -> str:
    """A relation in a message: the Russian word (`мать`) in Russian, the code in English."""
    return relation_word(code) if current_language() == "ru" else code


def id_chunks(values: Iterable[Any]) -> Iterator[list[Any]]:
    return chunked(values, _ID_CHUNK)


def school_id_of(session: Session, school: School | str | None) -> int | None:
    """The id of the school a command means (`schools.find_school`), None if there is none."""
    if isinstance(school, School):
        return school.id
    found = find_school(session, school)
    return found.id if found is not None else None


def resolve_students(session: Session, student_ids: Iterable[int | str]) -> list[int]:
    """Database ids (or external ids) of students; NotFound naming the missing ones."""
    ids: list[int] = []
    missing = []
    for value in student_ids:
        text = str(value).strip()
        found = None
        if text.isdigit():
            found = session.get(Student, int(text))
            found = found.id if found else None
        if found is None:
            found = session.scalar(select(Student.id).where(Student.external_id == text).limit(2))
        if found is None:
            missing.append(text)
        else:
            ids.append(found)
    if missing:
        raise NotFound(_("No student with id {ids}.").format(ids=", ".join(missing)))
    return ids


def select_guardianships(
    session: Session,
    *,
    classes: Iterable[str] = (),
    student_ids: Iterable[int | str] = (),
    all_: bool = False,
    school: School | str | None = None,
) -> list[int]:
    """Ids of the active guardianships of active students in scope, in slip order
    (class, child, guardian). Raises Refused without a scope, NotFound for an unknown class
    or student, InputError for a malformed class name."""
    classes = canonical_classes(classes)
    student_ids = list(student_ids)
    if not (classes or student_ids or all_):
        raise Refused(_("Say whom to issue for: --class, --student or --all."))
    school_id = school_id_of(session, school)
    query = (
        select(Guardianship.id)
        .join(Student, Student.id == Guardianship.student_id)
        .join(Guardian, Guardian.id == Guardianship.guardian_id)
        .outerjoin(SchoolClass, SchoolClass.id == Student.class_id)
        .where(Guardianship.active.is_(True), Student.active.is_(True))
        .order_by(
            SchoolClass.grade, SchoolClass.name, Student.surname, Student.name, Student.id,
            Guardian.surname, Guardian.name, Guardianship.id,
        )
    )  # fmt: skip
    if school_id is not None:
        query = query.where(Student.school_id == school_id)
    if not all_:
        conditions = []
        if classes:
            known = set(
                session.scalars(select(SchoolClass.name).where(SchoolClass.name.in_(classes)))
            )
            unknown = [c for c in classes if c not in known]
            if unknown:
                raise NotFound(
                    _("No class {classes} on the roster.").format(classes=", ".join(unknown))
                )
            conditions.append(SchoolClass.name.in_(classes))
        if student_ids:
            conditions.append(Student.id.in_(resolve_students(session, student_ids)))
        query = query.where(or_(*conditions))
    return list(session.scalars(query))


def withdrawn(session: Session, ids: Sequence[int]) -> set[int]:
    """The guardianships among `ids` that are withdrawn, or whose student left."""
    found: set[int] = set()
    for chunk in id_chunks(ids):
        found.update(
            session.scalars(
                select(Guardianship.id)
                .join(Student, Student.id == Guardianship.student_id)
                .where(
                    Guardianship.id.in_(chunk),
                    (Guardianship.active.is_(False)) | (Student.active.is_(False)),
                )
            )
        )
    return found


def find_guardianship(
    session: Session, student_id: int | str, guardian_name: str | None
) -> Guardianship:
    """The guardianship of a student whose guardian's name is `guardian_name` (full, or
    surname and name; `ё` = `е`, any case). Raises NotFound or Refused when ambiguous."""
    (sid,) = resolve_students(session, [student_id])
    wanted = fold(guardian_name or "")
    links = session.scalars(
        select(Guardianship)
        .join(Guardian, Guardian.id == Guardianship.guardian_id)
        .where(Guardianship.student_id == sid)
    ).all()
    if not wanted:
        if len(links) == 1:
            return links[0]
        names = ", ".join(g.guardian.full_name for g in links) or _("none")
        raise Refused(
            _("Name the guardian with --guardian (student {student} has: {names}).").format(
                student=student_id, names=names
            )
        )
    exact = [g for g in links if g.guardian.name_key == wanted]
    partial = [g for g in links if g.guardian.name_key.startswith(wanted + " ")]
    found = exact or partial
    if not found:
        names = ", ".join(g.guardian.full_name for g in links) or _("none")
        raise NotFound(
            _("Student {student} has no guardian {guardian} (has: {names}).").format(
                student=student_id, guardian=repr(guardian_name), names=names
            )
        )
    if len(found) > 1:
        raise Refused(_ambiguous(student_id, guardian_name, found))
    return found[0]


def _ambiguous(student_id: int | str, guardian_name: str, found: list[Guardianship]) -> str:
    """Namesakes (even with the same full name) told apart by relation and login."""
    who = "; ".join(
        (
            _("{guardian} ({relation}, login {login})")
            if g.credential
            else _("{guardian} ({relation}, no login yet)")
        ).format(
            guardian=g.guardian.full_name,
            relation=relation_label(g.relation),
            login=g.credential.login if g.credential else "",
        )
        for g in found
    )
    if len({g.guardian.name_key for g in found}) == 1:
        text = _(
            "Several guardians of student {student} match {guardian} ({who}): use the LOGIN "
            "instead."
        )
    else:
        text = _(
            "Several guardians of student {student} match {guardian} ({who}): give the full "
            "name or use the LOGIN instead."
        )
    return text.format(student=student_id, guardian=repr(guardian_name), who=who)


def split_by_email(session: Session, ids: Sequence[int]) -> tuple[list[int], list[int]]:
    """(the guardianships whose guardian has an e-mail address, the others), in order."""
    reachable: set[int] = set()
    for chunk in id_chunks(ids):
        reachable.update(
            session.scalars(
                select(Guardianship.id)
                .join(Guardian, Guardian.id == Guardianship.guardian_id)
                .where(Guardianship.id.in_(chunk), Guardian.email.is_not(None))
            )
        )
    return [i for i in ids if i in reachable], [i for i in ids if i not in reachable]


def placeholder_warnings(
    session: Session, guardianship_ids: Iterable[int], settings: Settings
) -> list[str]:
    """`schools.placeholder_warnings` for each school the guardianships' children are in."""
    found: dict[int, School] = {}
    for chunk in id_chunks(guardianship_ids):
        rows = session.scalars(
            select(School)
            .join(Student, Student.school_id == School.id)
            .join(Guardianship, Guardianship.student_id == Student.id)
            .where(Guardianship.id.in_(chunk))
            .distinct()
        )
        found.update((school.id, school) for school in rows)
    warnings: list[str] = []
    for school in sorted(found.values(), key=lambda s: s.code):
        for text in school_warnings(session, school, settings):
            if text not in warnings:
                warnings.append(text)
    return warnings


def guardianship_named(
    session: Session, login: str | None, student_id: int | str | None, guardian_name: str | None
) -> int | None:
    """The guardianship of a login, or of a student's guardian by name; None when there is
    none (the command's own lookup says why)."""
    from diaryadmin.credentials.logins import normalise_login
    from diaryadmin.errors import DiaryAdminError
    from diaryadmin.models import Credential

    if login:
        return session.scalar(
            select(Credential.guardianship_id).where(Credential.login == normalise_login(login))
        )
    if student_id is None or not guardian_name:
        return None
    try:
        return find_guardianship(session, student_id, guardian_name).id
    except DiaryAdminError:
        return None


@dataclass(frozen=True)
class Scope:
    """Whom `credentials issue` means."""

    classes: tuple[str, ...] = ()
    student_ids: tuple[str, ...] = ()
    all_: bool = False
    school: str | None = None

    def select(self, session: Session) -> list[int]:
        return select_guardianships(
            session,
            classes=self.classes,
            student_ids=self.student_ids,
            all_=self.all_,
            school=self.school,
        )
