"""Credentials over time: expiry of temporary passwords (for cron), reminders before it, and
the per-class status of who has working access."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, select, update
from sqlalchemy.orm import Session

from diaryadmin import audit
from diaryadmin.credentials.issue import (
    STATES,
    canonical_classes,
    full_name,
    id_chunks,
    school_id_of,
)
from diaryadmin.models import (
    Credential,
    Guardian,
    Guardianship,
    School,
    SchoolClass,
    Student,
    utcnow,
)

EXPIRE_BATCH = 50_000


# --- expiry --------------------------------------------------------------------------------------


def _due(as_of: datetime):
    return and_(
        Credential.state == "temporary",
        Credential.expires_at.is_not(None),
        Credential.expires_at <= as_of,
    )


def expire_credentials(
    session: Session,
    *,
    as_of: datetime | None = None,
    dry_run: bool = False,
    operator: str,
    batch_size: int = EXPIRE_BATCH,
) -> int:
    """Mark temporary passwords past their expiry `expired`, one UPDATE per batch.

    Idempotent, and safe to run twice at once: the state is re-checked by each UPDATE, so a
    row expired by the other run is neither touched nor counted again. Returns the count.
    """
    as_of = as_of or utcnow()
    if dry_run:
        return session.scalar(select(func.count()).select_from(Credential).where(_due(as_of)))
    total = 0
    while True:
        ids = select(Credential.id).where(_due(as_of)).limit(batch_size).scalar_subquery()
        statement = (
            update(Credential)
            .where(Credential.id.in_(ids), _due(as_of))
            .values(state="expired")
            .execution_options(synchronize_session=False)
        )
        count = session.execute(statement).rowcount
        total += count
        if count < batch_size:
            break
    if total:
        audit.record(
            session,
            operator,
            "credentials.expire",
            f"{total} credential(s)",
            {"expired": total, "as_of": as_of.isoformat()},
        )
    return total


def claim_reminders(
    session: Session, *, days: int, as_of: datetime | None = None
) -> list[dict[str, Any]]:
    """Temporary credentials expiring within `days` that have had no reminder and whose
    guardian has an e-mail address; marks them reminded (a concurrent run cannot claim them
    too; `unclaim_reminders` gives back the ones whose letter failed)."""
    as_of = as_of or utcnow()
    horizon = as_of + timedelta(days=days)
    candidates = (
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
    rows = []
    for chunk in id_chunks(claimed):
        query = (
            select(Credential, Student, Guardian, SchoolClass.name, School.name)
            .join(Guardianship, Guardianship.id == Credential.guardianship_id)
            .join(Student, Student.id == Guardianship.student_id)
            .join(Guardian, Guardian.id == Guardianship.guardian_id)
            .join(School, School.id == Student.school_id)
            .outerjoin(SchoolClass, SchoolClass.id == Student.class_id)
            .where(Credential.id.in_(chunk))
            .order_by(Credential.login)
        )
        for credential, child, person, class_name, school_name in session.execute(query):
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
    """Counts per class by state (temporary, active, expired, locked, revoked, none, and
    linked when any login in scope is) for the active guardianships of active students, and
    the people without working access."""
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
            "relation": r[8],
            "login": r[9],
            "state": r[10],
        }
        for r in session.execute(lacking)
    ]
    return rows, missing
