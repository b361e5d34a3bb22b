"""Credentials over time: expiry of temporary passwords (for cron), reminders before it, and
the per-class status of who has working access."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, select, update
from sqlalchemy.orm import Session

from diaryadmin.credentials.issue import STATES
from diaryadmin.credentials.scope import id_chunks, school_id_of
from diaryadmin.i18n import _, pgettext
from diaryadmin.models import (
    Credential,
    Guardian,
    Guardianship,
    School,
    SchoolClass,
    Student,
    utcnow,
)
from diaryadmin.people.names import full_name
from diaryadmin.people.relations import relation_word
from diaryadmin.schools import canonical_classes

__all__ = [
    "claim_reminders",
    "credential_status",
    "due_reminders",
    "reminder_rows",
    "state_words",
    "status_headers",
    "unclaim_reminders",
]


# --- reminders -----------------------------------------------------------------------------------


def _reminder_candidates(days: int, as_of: datetime):
    horizon = as_of + timedelta(days=days)
    return (
        select(Credential.id)
        .join(Guardianship, Guardianship.id == Credential.guardianship_id)
        .join(Guardian, Guardian.id == Guardianship.guardian_id)
        .where(
            Credential.state == "temporary",
            Credential.reminded_at.is_(None),
            Credential.expires_at > as_of,
            Credential.expires_at <= horizon,
            Guardian.email.is_not(None),
            Guardianship.active.is_(True),
        )
    )


def due_reminders(
    session: Session, *, days: int, as_of: datetime | None = None
) -> list[dict[str, Any]]:
    """The reminders `claim_reminders` would claim, without claiming them (a dry run, or a
    run that cannot send e-mail)."""
    as_of = as_of or utcnow()
    return reminder_rows(session, list(session.scalars(_reminder_candidates(days, as_of))))


def claim_reminders(
    session: Session, *, days: int, as_of: datetime | None = None
) -> list[dict[str, Any]]:
    """Temporary credentials expiring within `days` that have had no reminder and whose
    guardian has an e-mail address; marks them reminded (a concurrent run cannot claim them
    too; `unclaim_reminders` gives back the ones whose letter failed)."""
    as_of = as_of or utcnow()
    candidates = _reminder_candidates(days, as_of)
    claimed = list(
        session.scalars(
            update(Credential)
            .where(
                Credential.id.in_(candidates.scalar_subquery()), Credential.reminded_at.is_(None)
            )
            .values(reminded_at=as_of)
            .returning(Credential.id)
            .execution_options(synchronize_session=False)
        )
    )
    return reminder_rows(session, claimed)


def reminder_rows(session: Session, credential_ids: list[int]) -> list[dict[str, Any]]:
    """What a reminder letter needs for each credential, by login."""
    rows = []
    for chunk in id_chunks(credential_ids):
        query = (
            select(Credential, Student, Guardian, SchoolClass.name, School.name, School.language)
            .join(Guardianship, Guardianship.id == Credential.guardianship_id)
            .join(Student, Student.id == Guardianship.student_id)
            .join(Guardian, Guardian.id == Guardianship.guardian_id)
            .join(School, School.id == Student.school_id)
            .outerjoin(SchoolClass, SchoolClass.id == Student.class_id)
            .where(Credential.id.in_(chunk))
            .order_by(Credential.login)
        )
        for credential, child, person, class_name, school_name, language in session.execute(query):
            rows.append(
                {
                    "credential_id": credential.id,
                    "login": credential.login,
                    "expires_at": credential.expires_at,
                    "student": full_name(child.surname, child.name, child.patronymic),
                    "class_name": class_name,
                    "guardian": person.full_name,
                    "email": person.email,
                    "school": school_name,
                    "language": language,  # of the school's documents; None is Russian
                }
            )
    return rows


def unclaim_reminders(session: Session, credential_ids: Iterable[int]) -> None:
    ids = list(credential_ids)
    for chunk in id_chunks(ids):
        session.execute(
            update(Credential)
            .where(Credential.id.in_(chunk))
            .values(reminded_at=None)
            .execution_options(synchronize_session=False)
        )


# --- status --------------------------------------------------------------------------------------


def effective_state(credential: Credential | None, as_of: datetime) -> str:
    """The state as of a moment: a temporary password past its expiry counts as expired."""
    if credential is None:
        return "none"
    if (
        credential.state == "temporary"
        and credential.expires_at is not None
        and credential.expires_at <= as_of
    ):
        return "expired"
    return credential.state


def credential_status(
    session: Session,
    *,
    classes: Iterable[str] = (),
    as_of: datetime | date | None = None,
    school: School | str | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Counts per class by state (temporary, active, expired, locked, revoked, none) for the
    active guardianships of active students, and the people without working access (their
    relation in Russian, `мать`, as `roster list` shows it)."""
    if isinstance(as_of, date) and not isinstance(as_of, datetime):
        as_of = datetime(as_of.year, as_of.month, as_of.day, 23, 59, 59)
    as_of = as_of or utcnow()
    classes = canonical_classes(classes)
    school_id = school_id_of(session, school)
    state = Credential.state
    expired_now = and_(state == "temporary", Credential.expires_at <= as_of)
    effective = case(
        (Credential.id.is_(None), "none"), (expired_now, "expired"), else_=state
    ).label("state")
    query = (
        select(SchoolClass.grade, SchoolClass.name, effective, func.count())
        .select_from(Guardianship)
        .join(Student, Student.id == Guardianship.student_id)
        .outerjoin(SchoolClass, SchoolClass.id == Student.class_id)
        .outerjoin(Credential, Credential.guardianship_id == Guardianship.id)
        .where(Guardianship.active.is_(True), Student.active.is_(True))
        .group_by(SchoolClass.grade, SchoolClass.name, effective)
    )
    if school_id is not None:
        query = query.where(Student.school_id == school_id)
    if classes:
        query = query.where(SchoolClass.name.in_(classes))
    per_class: dict[tuple, dict[str, Any]] = {}
    for grade, name, st, count in session.execute(query):
        row = per_class.setdefault(
            (grade or 0, name or ""), {"class": name, **{s: 0 for s in (*STATES, "none")}}
        )
        row[st] += count
    rows = [per_class[k] for k in sorted(per_class)]
    if not any(row["linked"] for row in rows):
        # Only schools whose parents link their own accounts see the column.
        for row in rows:
            del row["linked"]

    lacking = (
        select(
            SchoolClass.name, Student.surname, Student.name, Student.patronymic, Student.id,
            Guardian.surname, Guardian.name, Guardian.patronymic, Guardianship.relation,
            Credential.login, effective,
        )
        .select_from(Guardianship)
        .join(Student, Student.id == Guardianship.student_id)
        .join(Guardian, Guardian.id == Guardianship.guardian_id)
        .outerjoin(SchoolClass, SchoolClass.id == Student.class_id)
        .outerjoin(Credential, Credential.guardianship_id == Guardianship.id)
        .where(
            Guardianship.active.is_(True),
            Student.active.is_(True),
            (Credential.id.is_(None)) | expired_now | state.in_(("expired", "locked", "revoked")),
        )
        .order_by(SchoolClass.grade, SchoolClass.name, Student.surname, Student.name)
    )  # fmt: skip
    if school_id is not None:
        lacking = lacking.where(Student.school_id == school_id)
    if classes:
        lacking = lacking.where(SchoolClass.name.in_(classes))
    missing = [
        {
            "class": r[0],
            "student": full_name(r[1], r[2], r[3]),
            "student_id": r[4],
            "guardian": full_name(r[5], r[6], r[7]),
            "relation": relation_word(r[8]),
            "login": r[9],
            "state": r[10],
        }
        for r in session.execute(lacking)
    ]
    return rows, missing


def state_words() -> dict[str, str]:
    """A credential's state as a person reads it (table headers and cells; JSON and CSV keep
    the codes)."""
    return {
        "temporary": pgettext("credential state", "temporary"),
        "active": pgettext("credential state", "active"),
        "linked": pgettext("credential state", "linked"),
        "expired": pgettext("credential state", "expired"),
        "locked": pgettext("credential state", "locked"),
        "revoked": pgettext("credential state", "revoked"),
        "none": pgettext("credential state", "none"),
    }


def status_headers() -> dict[str, str]:
    return {
        "class": _("class"),
        "student": _("student"),
        "guardian": _("guardian"),
        "relation": _("relation"),
        "login": _("login"),
        "state": _("state"),
        **state_words(),
    }
