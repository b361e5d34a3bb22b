"""Small builders of roster data for tests that need students and guardians in the database
(tests of the roster import itself use real files instead)."""

from __future__ import annotations

import itertools
from datetime import date

from sqlalchemy.orm import Session

from diaryadmin.models import Guardian, Guardianship, School, SchoolClass, Student
from diaryadmin.people import documents
from diaryadmin.people.names import name_key
from diaryadmin.schools import get_or_create_class

_counter = itertools.count(1)


def school(session: Session, code: str = "s1", name: str = "МБОУ СОШ № 1") -> School:
    found = session.query(School).filter_by(code=code).one_or_none()
    if found:
        return found
    created = School(code=code, name=name)
    session.add(created)
    session.flush()
    return created


def school_class(session: Session, name: str = "5А", year: int = 2026) -> SchoolClass:
    return get_or_create_class(session, school(session), name, year)


def student(
    session: Session,
    surname: str = "Иванов",
    name: str = "Пётр",
    patronymic: str | None = "Сергеевич",
    birth_date: date = date(2015, 3, 14),
    class_name: str = "5А",
    certificate: str | None = None,
    secret: bytes | None = None,
    active: bool = True,
    external_id: str | None = None,
) -> Student:
    klass = school_class(session, class_name)
    fp = None
    if certificate:
        canonical = documents.normalise_certificate(certificate)
        fp = documents.fingerprint("certificate", canonical, secret or b"test-secret")
    created = Student(
        school_id=klass.school_id,
        external_id=external_id or f"S{next(_counter):05d}",
        surname=surname,
        name=name,
        patronymic=patronymic,
        name_key=name_key(surname, name, patronymic),
        birth_date=birth_date,
        class_id=klass.id,
        active=active,
        certificate_fp=fp,
    )
    session.add(created)
    session.flush()
    return created


def guardian(
    session: Session,
    child: Student,
    surname: str = "Иванова",
    name: str = "Мария",
    patronymic: str | None = "Петровна",
    relation: str = "mother",
    email: str | None = "maria@example.org",
    phone: str | None = "+79123456789",
    existing: Guardian | None = None,
) -> Guardianship:
    person = existing
    if person is None:
        person = Guardian(
            surname=surname,
            name=name,
            patronymic=patronymic,
            name_key=name_key(surname, name, patronymic),
            email=email,
            phone=phone,
        )
        session.add(person)
        session.flush()
    link = Guardianship(
        guardian_id=person.id, student_id=child.id, relation=relation, trusted=relation == "trusted"
    )
    session.add(link)
    session.flush()
    return link
