"""Verifying applications against the roster: every pending application decided in batches.

How one application is matched and which reasons it gets is in `applications.matching`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from diaryadmin import audit
from diaryadmin.applications import reasons as texts
from diaryadmin.applications.matching import (
    IN_CHUNK,
    CandidateBatch,
    contact_conflicts,
    decide,
)
from diaryadmin.models import Application, Guardian, Guardianship, utcnow

BATCH = 1000

_APPLICATION_COLUMNS = (
    Application.id,
    Application.school_id,
    Application.applicant_name_key,
    Application.email,
    Application.phone,
    Application.passport_fp,
    Application.child_surname,
    Application.child_name,
    Application.child_patronymic,
    Application.child_name_key,
    Application.child_birth_date,
    Application.certificate_fp,
    Application.consent,
    Application.document_flags,
)


@dataclass
class VerifyResult:
    """Counts per decision of one verify run, and the ids decided."""

    approved: int = 0
    review: int = 0
    rejected: int = 0
    decided_ids: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"approved": self.approved, "review": self.review, "rejected": self.rejected}


def verify_applications(
    session: Session,
    *,
    operator: str,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> VerifyResult:
    """Decide every pending application; store status, reasons, child, who and when.

    Works in batches of BATCH applications: a handful of indexed IN-queries per batch, the
    decisions written with one executemany UPDATE per batch, one audit event for the run.
    """
    now = now or utcnow()
    result = VerifyResult()
    approved_pairs = {
        (student_id, key)
        for student_id, key in session.execute(
            select(Application.student_id, Application.applicant_name_key).where(
                Application.status == "approved", Application.student_id.is_not(None)
            )
        )
    }
    by_status: dict[str, list[int]] = defaultdict(list)
    last_id = 0
    while True:
        # Plain rows with the columns matching needs (attribute access like the model's):
        # no ORM objects to build and track for thousands of applications.
        apps = session.execute(
            select(*_APPLICATION_COLUMNS)
            .where(Application.status == "pending", Application.id > last_id)
            .order_by(Application.id)
            .limit(BATCH)
            .with_for_update()  # a second verify at once waits, then finds them decided
        ).all()
        if not apps:
            break
        last_id = apps[-1].id
        batch = CandidateBatch(session, apps)
        decided = [(a, *decide(a, batch)) for a in apps]
        guardians = _guardians_of(session, decided)
        updates = []
        for a, reasons, student in decided:
            if student is not None:
                differing = contact_conflicts(a, guardians, student.id)
                if differing:
                    conflict = texts.contact_conflict(differing)
                    reasons.add(
                        "contact_conflict",
                        conflict["message"],
                        review=True,
                        contacts=conflict["contacts"],
                    )
                pair = (student.id, a.applicant_name_key)
                if pair in approved_pairs:
                    reasons.add("duplicate_application", texts.DUPLICATE)
                elif reasons.status == "approved":
                    approved_pairs.add(pair)
            status = reasons.status
            updates.append(
                {
                    "id": a.id,
                    "status": status,
                    "reasons": reasons.items,
                    "student_id": student.id if student else None,
                    "decided_by": operator,
                    "decided_at": now,
                }
            )
            by_status[status].append(a.id)
            setattr(result, status, getattr(result, status) + 1)
            result.decided_ids.append(a.id)
        session.execute(
            update(Application), updates, execution_options={"synchronize_session": False}
        )
        if progress:
            progress(len(apps))
    session.expire_all()
    if result.decided_ids:
        audit.record(
            session,
            operator,
            "applications.verify",
            None,
            {**result.to_dict(), "ids": {k: v for k, v in by_status.items()}},
            now=now,
        )
    return result


def _guardians_of(session: Session, decided: list[tuple]) -> list[tuple[Guardian, int]]:
    """Guardians of the matched children who share an applicant's name, in one query."""
    student_ids = {student.id for _, _, student in decided if student is not None}
    keys = {a.applicant_name_key for a, _, student in decided if student is not None}
    if not student_ids:
        return []
    rows: list[tuple[Guardian, int]] = []
    ids = sorted(student_ids)
    for start in range(0, len(ids), IN_CHUNK):
        query = (
            select(Guardian, Guardianship.student_id)
            .join(Guardianship, Guardianship.guardian_id == Guardian.id)
            .where(
                Guardianship.student_id.in_(ids[start : start + IN_CHUNK]),
                Guardian.name_key.in_(sorted(keys)),
                Guardianship.active.is_(True),
            )
        )
        rows.extend((guardian, student_id) for guardian, student_id in session.execute(query))
    return rows


def count_pending(session: Session) -> int:
    return session.scalar(
        select(func.count()).select_from(Application).where(Application.status == "pending")
    )


__all__ = ["VerifyResult", "count_pending", "verify_applications"]
