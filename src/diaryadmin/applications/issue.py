"""Approved applications → guardians linked to their children → credentials issued.

The applicant becomes the child's guardian: an existing guardian with the same name and the
same e-mail, phone or passport is reused, otherwise a new guardian is created. Credentials are
then issued exactly as `credentials issue` does, by the credentials module itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from diaryadmin import audit
from diaryadmin.config import Settings
from diaryadmin.models import Application, Guardian, Guardianship, utcnow
from diaryadmin.people.relations import is_trusted
from diaryadmin.plan import Plan
from diaryadmin.staging import Staging

IN_CHUNK = 900


@dataclass
class LinkResult:
    """What linking approved applications did."""

    linked: int = 0  # applications given a guardianship
    guardians_created: int = 0
    guardianships_created: int = 0
    guardianship_ids: list[int] = field(default_factory=list)
    application_ids: list[int] = field(default_factory=list)


def _matches(guardian: Guardian, app: Application) -> bool:
    """Same person: the name key already matched; one contact or the passport must too."""
    if app.email and guardian.email and app.email.casefold() == guardian.email.casefold():
        return True
    if app.phone and guardian.phone and app.phone == guardian.phone:
        return True
    return bool(app.passport_fp and guardian.passport_fp == app.passport_fp)


# Approved applications whose applicant is not yet the child's guardian.
_AWAITING_LINK = (
    Application.status == "approved",
    Application.guardianship_id.is_(None),
    Application.student_id.is_not(None),
)


def awaiting_link(session: Session) -> int:
    """How many approved applications `link_approved` would still link."""
    return session.scalar(select(func.count()).select_from(Application).where(*_AWAITING_LINK))


def link_approved(session: Session, *, operator: str, now: datetime | None = None) -> LinkResult:
    """Give every approved application that has none a guardianship (guardian × child)."""
    now = now or utcnow()
    result = LinkResult()
    apps = session.scalars(
        select(Application).where(*_AWAITING_LINK).order_by(Application.id).with_for_update()
    ).all()
    if not apps:
        return result
    keys = sorted({a.applicant_name_key for a in apps})
    known: dict[str, list[Guardian]] = {}
    for start in range(0, len(keys), IN_CHUNK):
        for guardian in session.scalars(
            select(Guardian)
            .where(Guardian.name_key.in_(keys[start : start + IN_CHUNK]))
            .order_by(Guardian.id)
        ):
            known.setdefault(guardian.name_key, []).append(guardian)
    # The child's own guardian of that name: the same person even when a reviewer approved
    # the application over a contact conflict (new contacts are not copied over silently).
    of_child: dict[tuple[int, str], Guardian] = {}
    student_ids = sorted({a.student_id for a in apps})
    for start in range(0, len(student_ids), IN_CHUNK):
        query = (
            select(Guardian, Guardianship.student_id)
            .join(Guardianship, Guardianship.guardian_id == Guardian.id)
            .where(Guardianship.student_id.in_(student_ids[start : start + IN_CHUNK]))
            .order_by(Guardian.id)
        )
        for guardian, student_id in session.execute(query):
            if guardian.name_key in known:
                of_child.setdefault((student_id, guardian.name_key), guardian)

    # New guardians first, in one set-based insert; siblings' applicant becomes one guardian.
    chosen: dict[int, Guardian | dict[str, Any]] = {}
    new_guardians: list[dict[str, Any]] = []
    for app in apps:
        candidates = known.get(app.applicant_name_key, [])
        found = next((g for g in candidates if _matches(g, app)), None)
        found = found or of_child.get((app.student_id, app.applicant_name_key))
        if found is None:
            pending = next(
                (
                    g
                    for g in new_guardians
                    if g["name_key"] == app.applicant_name_key and _matches_new(g, app)
                ),
                None,
            )
            if pending is None:
                pending = {
                    "surname": app.applicant_surname,
                    "name": app.applicant_name,
                    "patronymic": app.applicant_patronymic,
                    "name_key": app.applicant_name_key,
                    "email": app.email,
                    "phone": app.phone,
                    "passport_fp": app.passport_fp,
                    "created_at": now,
                }
                new_guardians.append(pending)
            chosen[app.id] = pending
        else:
            chosen[app.id] = found
    if new_guardians:
        ids = _insert_returning_ids(session, Guardian, new_guardians)
        for values, new_id in zip(new_guardians, ids, strict=True):
            values["id"] = new_id
        result.guardians_created = len(new_guardians)

    def guardian_id(app: Application) -> int:
        person = chosen[app.id]
        return person["id"] if isinstance(person, dict) else person.id

    pairs = {(guardian_id(a), a.student_id) for a in apps}
    existing = _existing_links(session, pairs)
    to_create: dict[tuple[int, int], dict[str, Any]] = {}
    for app in apps:
        pair = (guardian_id(app), app.student_id)
        if pair in existing or pair in to_create:
            continue
        to_create[pair] = {
            "guardian_id": pair[0],
            "student_id": pair[1],
            "relation": app.relation,
            "trusted": is_trusted(app.relation),
            "active": True,
            "created_at": now,
        }
    if to_create:
        rows = list(to_create.values())
        ids = _insert_returning_ids(session, Guardianship, rows)
        for values, new_id in zip(rows, ids, strict=True):
            existing[(values["guardian_id"], values["student_id"])] = (new_id, True)
        result.guardianships_created = len(rows)
    reactivate = [link_id for link_id, active in existing.values() if not active]
    if reactivate:
        session.execute(
            update(Guardianship)
            .where(Guardianship.id.in_(reactivate))
            .values(active=True, revoked_at=None)
        )
    updates = []
    for app in apps:
        link_id, _ = existing[(guardian_id(app), app.student_id)]
        updates.append({"id": app.id, "guardianship_id": link_id})
        result.application_ids.append(app.id)
        if link_id not in result.guardianship_ids:
            result.guardianship_ids.append(link_id)
    session.execute(update(Application), updates)
    result.linked = len(updates)
    session.expire_all()
    audit.record(
        session,
        operator,
        "applications.link",
        None,
        {
            "applications": result.application_ids,
            "guardians_created": result.guardians_created,
            "guardianships_created": result.guardianships_created,
        },
        now=now,
    )
    return result


def _insert_returning_ids(session: Session, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert rows with one executemany; the new ids in the order of `rows`."""
    table = model.__table__
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(session.scalars(statement, rows))


def _matches_new(values: dict[str, Any], app: Application) -> bool:
    email = values.get("email")
    if app.email and email and app.email.casefold() == email.casefold():
        return True
    if app.phone and values.get("phone") == app.phone:
        return True
    return bool(app.passport_fp and values.get("passport_fp") == app.passport_fp)


def _existing_links(
    session: Session, pairs: set[tuple[int, int]]
) -> dict[tuple[int, int], tuple[int, bool]]:
    """(guardian_id, student_id) → (guardianship id, active) for the pairs that exist."""
    found: dict[tuple[int, int], tuple[int, bool]] = {}
    guardian_ids = sorted({g for g, _ in pairs})
    for start in range(0, len(guardian_ids), IN_CHUNK):
        query = select(
            Guardianship.id,
            Guardianship.guardian_id,
            Guardianship.student_id,
            Guardianship.active,
        ).where(Guardianship.guardian_id.in_(guardian_ids[start : start + IN_CHUNK]))
        for link_id, g, s, active in session.execute(query):
            if (g, s) in pairs:
                found[(g, s)] = (link_id, bool(active))
    return found


def issue_for_approved(
    session: Session,
    settings: Settings,
    *,
    operator: str,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[LinkResult, Any]:
    """Link approved applications and issue credentials for their guardianships.

    Returns the link result and the credentials module's IssueResult (passwords only in its
    `issued` list, for the slips file and letters; never stored or logged).
    """
    from diaryadmin.credentials import issue as credentials

    link = link_approved(session, operator=operator, now=now)
    if not link.guardianship_ids:
        return link, credentials.IssueResult(issued=[], skipped=0)
    issued = credentials.issue_credentials(
        session,
        settings,
        link.guardianship_ids,
        reissue=False,
        operator=operator,
        now=now,
        progress=progress,
    )
    return link, issued


@dataclass
class Outcome:
    """What `process_pending` did: counts for output and, with issuing, the credentials
    module's IssueResult (passwords in memory only, for the --out file and the letters)."""

    summary: dict[str, Any]
    issued: Any = None  # credentials.IssueResult
    plan: Plan = field(default_factory=Plan)


def process_pending(
    session: Session,
    settings: Settings,
    *,
    operator: str,
    issue: bool = False,
    issue_out: Path | None = None,
    report: Path | None = None,
    force: bool = False,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
    staging: Staging | None = None,
) -> Outcome:
    """`applications verify` inside the caller's transaction: decide every pending
    application; with `issue`, link the approved applicants and issue their credentials (and
    with `issue_out`, write the passwords there); with `report`, write the xlsx report —
    staged in `staging` when given, so it appears only once the transaction is committed.
    A failure anywhere raises, so the caller's transaction leaves nothing behind. E-mail is
    the caller's job, after the commit.
    """
    from diaryadmin.applications.report import write_report
    from diaryadmin.applications.verify import verify_applications

    now = now or utcnow()
    result = verify_applications(session, operator=operator, now=now, progress=progress)
    outcome = Outcome(summary=result.to_dict())
    _plan_decisions(session, result.decided_ids, outcome.plan)
    if issue or issue_out is not None:
        link, issued = issue_for_approved(session, settings, operator=operator, now=now)
        outcome.summary.update(linked=link.linked, guardians_created=link.guardians_created)
        outcome.issued = issued
        outcome.plan.extend(issued.plan)
        if issue_out is not None:
            from diaryadmin.letters import write_credentials_file

            write_credentials_file(issued.issued, issue_out, settings, force=force)
    if report is not None:
        if staging is None:
            write_report(session, settings, report, overwrite=force)
        else:
            staging.stage(
                session,
                report,
                lambda temp: write_report(session, settings, temp),
                overwrite=force,
            )
    return outcome


def _plan_decisions(session: Session, ids: list[int], plan: Plan) -> None:
    for start in range(0, len(ids), IN_CHUNK):
        for application in session.scalars(
            select(Application)
            .where(Application.id.in_(ids[start : start + IN_CHUNK]))
            .order_by(Application.id)
        ):
            name = application.external_id or f"#{application.id}"
            who = " ".join(
                p for p in (application.applicant_surname, application.applicant_name) if p
            )
            plan.add("decide", "application", name, f"{application.status}: {who}")
