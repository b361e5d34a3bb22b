"""Trusted persons (доверенные лица): a guardian grants one child's diary to someone else,
who gets their own credential; the guardian (or staff) can revoke it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from diaryadmin import audit
from diaryadmin.credentials.scope import find_guardianship, relation_label
from diaryadmin.errors import InputError, NotFound, Problem, Refused
from diaryadmin.i18n import _
from diaryadmin.models import Credential, Guardian, Guardianship, utcnow
from diaryadmin.people.contacts import normalise_email, normalise_phone
from diaryadmin.people.names import clean_spaces, fix_lookalikes, name_key, split_full_name
from diaryadmin.plan import Plan


@dataclass
class Grant:
    guardianship_id: int
    person: str
    granted_by: str
    created: bool  # a new person record (else an existing one was reused)
    reactivated: bool  # the same grant existed and was revoked before


def _contact(value: str | None, parse, message: str) -> str | None:
    if not value:
        return None
    try:
        return parse(value)
    except ValueError as exc:
        raise InputError(message, [Problem(str(exc), value=value)]) from None


def grant_trusted_person(
    session: Session,
    *,
    student_id: int | str,
    guardian_name: str,
    person: str,
    email: str | None = None,
    phone: str | None = None,
    operator: str,
    now: datetime | None = None,
) -> Grant:
    """Record that the guardian `guardian_name` of the student grants access to `person`
    (full name). A person already known by the same name and e-mail (or phone) is reused.
    Returns the grant; issue its credential with `credentials.issue_credentials`.
    Raises NotFound, Refused (a trusted person cannot grant; already granted) or InputError."""
    now = now or utcnow()
    granting = find_guardianship(session, student_id, guardian_name)
    if granting.trusted or not granting.active:
        raise Refused(
            _("{guardian} cannot grant access to this child.").format(
                guardian=granting.guardian.full_name
            )
        )
    try:
        surname, name, patronymic = split_full_name(fix_lookalikes(clean_spaces(person))[0])
    except ValueError as exc:
        raise InputError(
            _("The trusted person's name is not valid."), [Problem(str(exc))]
        ) from None
    email = _contact(email, normalise_email, _("The e-mail is not valid."))
    phone = _contact(phone, normalise_phone, _("The phone is not valid."))
    key = name_key(surname, name, patronymic)
    query = select(Guardian).where(Guardian.name_key == key)
    if email:
        query = query.where(Guardian.email == email)
    elif phone:
        query = query.where(Guardian.phone == phone)
    else:
        query = query.where(Guardian.email.is_(None), Guardian.phone.is_(None))
    trusted = session.scalars(query.order_by(Guardian.id)).first()
    created = trusted is None
    if created:
        trusted = Guardian(
            surname=surname,
            name=name,
            patronymic=patronymic,
            name_key=key,
            email=email,
            phone=phone,
        )
        session.add(trusted)
        session.flush()
    link = session.scalar(
        select(Guardianship).where(
            Guardianship.guardian_id == trusted.id,
            Guardianship.student_id == granting.student_id,
        )
    )
    reactivated = False
    if link is not None:
        if link.active:
            raise Refused(
                _("{person} already has access to this child.").format(person=trusted.full_name)
            )
        link.active, link.revoked_at, link.granted_by_id = True, None, granting.guardian_id
        reactivated = True
    else:
        link = Guardianship(
            guardian_id=trusted.id,
            student_id=granting.student_id,
            relation="trusted",
            trusted=True,
            granted_by_id=granting.guardian_id,
            created_at=now,
        )
        session.add(link)
    session.flush()
    audit.record(
        session,
        operator,
        "guardians.grant",
        trusted.full_name,
        {
            "student_id": granting.student_id,
            "granted_by": granting.guardian.full_name,
            "guardianship_id": link.id,
        },
        now=now,
    )
    return Grant(link.id, trusted.full_name, granting.guardian.full_name, created, reactivated)


def revoke_guardianship(
    session: Session,
    *,
    student_id: int | str,
    person: str,
    operator: str,
    now: datetime | None = None,
    plan: Plan | None = None,
) -> Guardianship:
    """Withdraw a person's access to a child: the guardianship becomes inactive and its
    credential `revoked` at once (both added to `plan`, when given). Raises NotFound, or
    Refused when already withdrawn."""
    now = now or utcnow()
    link = find_guardianship(session, student_id, person)
    if not link.active:
        raise Refused(
            _("{person} has no access to this child already.").format(
                person=link.guardian.full_name
            )
        )
    link.active = False
    link.revoked_at = now
    login = None
    credential = session.scalar(select(Credential).where(Credential.guardianship_id == link.id))
    if credential is not None:
        credential.state = "revoked"
        login = credential.login
    if plan is not None:
        student = link.student
        plan.add(
            "withdraw",
            "access",
            link.guardian.full_name,
            _("{relation} of {student}").format(
                relation=relation_label(link.relation),
                student=f"{student.surname} {student.name}",
            ),
        )
        if login:
            plan.add("revoke", "login", login)
    session.flush()
    audit.record(
        session,
        operator,
        "guardians.revoke",
        link.guardian.full_name,
        {"student_id": link.student_id, "login": login, "trusted": link.trusted},
        now=now,
    )
    return link


def guardianship_login(session: Session, guardianship_id: int) -> str:
    login = session.scalar(
        select(Credential.login).where(Credential.guardianship_id == guardianship_id)
    )
    if login is None:
        raise NotFound(_("No credential was issued."))
    return login
