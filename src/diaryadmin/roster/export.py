"""Roster export: xlsx or CSV with exactly the columns the importer reads, or OneRoster CSV."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from diaryadmin.config import Settings
from diaryadmin.errors import NotFound, Refused, quoted
from diaryadmin.i18n import _
from diaryadmin.models import Guardian, Guardianship, School, SchoolClass, Student
from diaryadmin.people.names import full_name
from diaryadmin.people.relations import relation_word
from diaryadmin.schools import class_option, resolve_school

# The importer's own aliases, so export → import is a no-op.
EXPORT_HEADER = [
    "ID", "Фамилия", "Имя", "Отчество", "Дата рождения", "Класс",
    "Родитель 1", "Кем приходится 1", "E-mail родителя 1", "Телефон родителя 1",
    "Родитель 2", "Кем приходится 2", "E-mail родителя 2", "Телефон родителя 2",
]  # fmt: skip
GUARDIANS_PER_ROW = 2


def known_class(session: Session, school: School, class_name: str | None) -> str | None:
    """`class_name` (canonical) if the school has such a class (in any year); NotFound if not."""
    if class_name is None:
        return None
    found = session.scalar(
        select(SchoolClass.id)
        .where(SchoolClass.school_id == school.id, SchoolClass.name == class_name)
        .limit(1)
    )
    if found is None:
        raise NotFound(_("No class {name} on the roster.").format(name=class_name))
    return class_name


def roster_rows(
    session: Session, school: School, class_name: str | None = None
) -> list[dict[str, Any]]:
    """Active students of `school` (optionally one class) with their guardians, as dicts:
    student columns plus `guardians`, a list of (guardian id, surname, name, patronymic,
    relation, email, phone). Ordered by grade, class, surname, name."""
    query = (
        select(
            Student.id, Student.external_id, Student.surname, Student.name, Student.patronymic,
            Student.birth_date, SchoolClass.name, SchoolClass.grade,
        )
        .outerjoin(SchoolClass, Student.class_id == SchoolClass.id)
        .where(Student.school_id == school.id, Student.active.is_(True))
    )  # fmt: skip
    if class_name is not None:
        query = query.where(SchoolClass.name == class_name)
    students = [
        {
            "id": row[0], "external_id": row[1], "surname": row[2], "name": row[3],
            "patronymic": row[4], "birth_date": row[5], "class": row[6], "grade": row[7] or 99,
            "guardians": [],
        }
        for row in session.execute(query)
    ]  # fmt: skip
    by_id = {s["id"]: s for s in students}
    links = (
        select(
            Guardianship.student_id, Guardian.id, Guardian.surname, Guardian.name,
            Guardian.patronymic, Guardianship.relation, Guardian.email, Guardian.phone,
        )
        .join(Guardian, Guardian.id == Guardianship.guardian_id)
        .join(Student, Student.id == Guardianship.student_id)
        .where(
            Student.school_id == school.id,
            Student.active.is_(True),
            Guardianship.active.is_(True),
            # Trusted persons the roster named (a grandmother) are roster data; those a
            # guardian granted access (`guardians grant`) are not.
            Guardianship.trusted.is_(False) | Guardianship.granted_by_id.is_(None),
        )
        .order_by(Guardianship.id)
    )  # fmt: skip
    for student_id, *guardian in session.execute(links):
        student = by_id.get(student_id)
        if student is not None:
            student["guardians"].append(tuple(guardian))
    students.sort(key=lambda s: (s["grade"], s["class"] or "", s["surname"], s["name"], s["id"]))
    return students


def _flat_rows(students: list[dict[str, Any]]) -> Iterator[list[Any]]:
    for s in students:
        row = [s["external_id"], s["surname"], s["name"], s["patronymic"], s["birth_date"],
               s["class"]]  # fmt: skip
        for index in range(GUARDIANS_PER_ROW):
            if index < len(s["guardians"]):
                _, surname, name, patronymic, relation, email, phone = s["guardians"][index]
                row += [full_name(surname, name, patronymic), relation_word(relation), email, phone]
            else:
                row += [None, None, None, None]
        yield row


def export_roster(
    session: Session,
    settings: Settings,
    target: str | Path,
    *,
    school_code: str | None = None,
    class_name: str | None = None,
    oneroster: bool = False,
    overwrite: bool = False,
) -> int:
    """Write the school's active roster to `target`; returns the number of students.

    `.xlsx` and `.csv` (UTF-8 with BOM, `;`) get the importer's columns; a `.zip`, a folder
    or `oneroster` gives OneRoster 1.1 CSV files. Raises Refused for an existing target
    without `overwrite` or an unknown file type; NotFound for an unknown school or class.
    """
    from diaryadmin.io import write_csv, write_xlsx

    target = Path(target)
    school = resolve_school(session, school_code, settings)
    class_name = known_class(session, school, class_option(class_name))
    students = roster_rows(session, school, class_name)
    suffix = target.suffix.lower()
    if oneroster or suffix == ".zip" or target.is_dir() or not suffix:
        from diaryadmin.roster.oneroster import write_oneroster

        write_oneroster(target, school, students, overwrite=overwrite)
    elif suffix == ".xlsx":
        write_xlsx(target, [("Ученики", EXPORT_HEADER, _flat_rows(students))], overwrite=overwrite)
    elif suffix == ".csv":
        write_csv(target, EXPORT_HEADER, _flat_rows(students), overwrite=overwrite)
    else:
        raise Refused(
            _("{path}: export writes .xlsx, .csv, .zip or a folder, not {suffix}").format(
                path=target, suffix=quoted(suffix)
            )
        )
    return len(students)
