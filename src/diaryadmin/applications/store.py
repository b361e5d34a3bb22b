"""Applications for diary access: import (all or nothing), listing, and the reviewer's
decision. Reading the files lives in `applications_read`, matching in `applications_verify`,
guardians and credentials for approvals in `applications_issue`, the report in
`applications_report`.

Document numbers are never stored: a well-formed passport, SNILS or birth certificate becomes
its fingerprint; a malformed one becomes a flag in `document_flags`, which `verify` turns into
a rejection reason. Names are stored as written (spaces cleaned, look-alike letters fixed).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, or_, select
from sqlalchemy.orm import Session

from diaryadmin import audit
from diaryadmin.applications.columns import ALIASES
from diaryadmin.applications.read import ImportReport, read_applications
from diaryadmin.applications.reasons import REVIEWER, shown
from diaryadmin.applications.rows import ParsedApplication
from diaryadmin.config import Settings
from diaryadmin.errors import InputError, NotFound, Problem, Refused
from diaryadmin.i18n import _, ngettext
from diaryadmin.io import rejects as rejecting
from diaryadmin.models import Application, utcnow
from diaryadmin.people.names import full_name
from diaryadmin.plan import Plan
from diaryadmin.schools import find_school

if TYPE_CHECKING:
    from diaryadmin.staging import Staging

__all__ = [
    "ALIASES",
    "ImportReport",
    "application_label",
    "decide_application",
    "describe",
    "details",
    "find_application",
    "import_applications",
    "list_applications",
    "read_applications",
    "show_application",
]

STATUSES = ("pending", "approved", "review", "rejected")
BATCH = 500


def import_applications(
    session: Session,
    settings: Settings,
    paths: Iterable[str | os.PathLike[str]],
    *,
    operator: str,
    school_code: str | None = None,
    sheet: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
    plan: Plan | None = None,
    rejects: Path | None = None,
    staging: Staging | None = None,
    force: bool = False,
) -> ImportReport:
    """Import applications from table files, all or nothing (each new one added to `plan`,
    when given, by application number and applicant).

    Every row is checked first; if any row of any file has an error, nothing is written and
    InputError is raised carrying every problem (and the report as its result). An application
    already imported (same content, or same application number) is counted as unchanged.
    A malformed passport, SNILS or certificate is not an error: it is flagged on the
    application and becomes a rejection reason at verify.

    With `rejects` (an .xlsx or .csv path) the import is partial: every valid row is imported
    and each refused one is written there as typed, with its reasons (see io.rejects),
    staged in `staging` so that the file appears once the transaction is committed (without
    `staging`, or on a dry run, no file is written); the report's `rejected` lists them. A
    problem with a file rather than a row still refuses everything. Raises Refused for a
    rejects file that could not be written (existing without `force`, one of `paths`, not
    .xlsx or .csv).
    """
    now = now or utcnow()
    paths = [os.fspath(p) for p in paths]
    rejected = None
    if rejects is not None:
        rejecting.check_target(rejects, paths, overwrite=force)
        rejected = rejecting.Rejected()
    parsed, report = read_applications(
        paths,
        settings,
        sheet=sheet,
        encoding=encoding,
        delimiter=delimiter,
        today=now.date(),
        rejected=rejected,
    )
    report.dry_run = dry_run
    if rejected is not None:
        report.rejected = []
    school_id = _school_id(session, school_code)
    new_rows = _new_applications(session, parsed, report)
    if rejected is not None and report.errors:
        _set_aside(report, rejected, rejects)
    if report.errors:
        count = len(report.errors)
        raise InputError(
            ngettext(
                "{count} problem found; nothing was imported.",
                "{count} problems found; nothing was imported.",
                count,
            ).format(count=count),
            report.errors,
            result=report.to_dict(),
        )
    source = ", ".join(os.path.basename(p) for p in paths)[:255]
    dicts = []
    for item in new_rows:
        values = dict(item.values)
        values.update(school_id=school_id, status="pending", reasons=[], source=source)
        values["created_at"] = now
        dicts.append(values)
    if plan is not None:
        for values in dicts:
            plan.add(
                "create",
                "application",
                str(values.get("external_id") or _("(no number)")),
                full_name(
                    values.get("applicant_surname") or "",
                    values.get("applicant_name") or "",
                    values.get("applicant_patronymic"),
                ),
            )
    report.created = len(dicts)
    report.flagged = sum(1 for d in dicts if d["document_flags"])
    if rejected and not dry_run and staging is not None:
        report.rejects_file = rejecting.stage(
            staging, session, rejects, rejected, overwrite=force, encoding=encoding,
            delimiter=delimiter, limits=settings.read_limits,
        )  # fmt: skip
    if dry_run or not dicts:
        return report
    for start in range(0, len(dicts), BATCH):
        chunk = dicts[start : start + BATCH]
        # Core executemany: the ORM would split rows by which columns happen to be None.
        session.execute(insert(Application.__table__), chunk)
    audit.record(
        session,
        operator,
        "applications.import",
        source,
        {
            "created": report.created,
            "unchanged": report.unchanged,
            "flagged": report.flagged,
            **({} if report.rejected is None else {"rejected": len(report.rejected)}),
        },
        now=now,
    )
    return report


def _set_aside(report: ImportReport, rejected: rejecting.Rejected, target: Path) -> None:
    """A partial import: the rows with errors move to `rejected` (and the report's list),
    unless a problem is the file's rather than a row's, which still refuses everything."""
    if not all(rejected.is_row_problem(p) for p in report.errors):
        return
    rejected.add(report.errors)
    report.errors.clear()
    rejecting.check_sources(rejected, target)
    report.rejected = rejected.problems()


def _school_id(session: Session, code: str | None) -> int | None:
    school = find_school(session, code)
    return school.id if school is not None else None


def _new_applications(
    session: Session, parsed: list[ParsedApplication], report: ImportReport
) -> list[ParsedApplication]:
    """The parsed applications not yet in the database (looked up in batches)."""
    fresh: list[ParsedApplication] = []
    for start in range(0, len(parsed), BATCH):
        chunk = parsed[start : start + BATCH]
        keys = [p.values["content_key"] for p in chunk]
        numbers = [p.values["external_id"] for p in chunk if p.values["external_id"]]
        condition = Application.content_key.in_(keys)
        if numbers:
            condition = or_(condition, Application.external_id.in_(numbers))
        known = session.execute(
            select(Application.content_key, Application.external_id).where(condition)
        ).all()
        known_keys = {k for k, _ in known}
        known_numbers = {n: k for k, n in known if n}
        for item in chunk:
            values, row = item.values, item.row
            if values["content_key"] in known_keys:
                report.unchanged += 1
                continue
            number = values["external_id"]
            if number and number in known_numbers:
                report.errors.append(
                    Problem(
                        _(
                            "application number '{number}' was already imported with different "
                            "content; a corrected application needs a new number"
                        ).format(number=number),
                        row.file,
                        row.sheet,
                        row.number,
                        item.number_column,
                        number,
                    )
                )
                continue
            fresh.append(item)
    return fresh


# -- listing and the reviewer's decision ---------------------------------------------------


def describe(application: Application) -> dict[str, Any]:
    """The machine-readable form of an application (`applications list --format json`)."""
    return {
        "id": application.id,
        "external_id": application.external_id,
        "status": application.status,
        "reasons": shown(application.reasons),
        "child": full_name(
            application.child_surname, application.child_name, application.child_patronymic
        ),
        "applicant": full_name(
            application.applicant_surname,
            application.applicant_name,
            application.applicant_patronymic,
        ),
    }


def details(application: Application) -> dict[str, Any]:
    """Everything `applications show` prints about one application (no document numbers)."""
    return {
        **describe(application),
        "applied_on": application.applied_on,
        "relation": application.relation,
        "child_birth_date": application.child_birth_date,
        "decided_by": application.decided_by,
        "decided_at": application.decided_at,
    }


def list_applications(session: Session, status: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Applications (oldest first), optionally only those in the given statuses."""
    query = select(Application).order_by(Application.id)
    statuses = list(status)
    if statuses:
        query = query.where(Application.status.in_(statuses))
    return [describe(a) for a in session.scalars(query)]


def application_label(application: Application) -> str:
    """How staff name an application: its number, or `#id` for one that has none."""
    return application.external_id or f"#{application.id}"


def find_application(session: Session, ident: str | int, *, by_id: bool = False) -> Application:
    """An application by its number (the one on the application and in the report), or by
    its internal id when `by_id` (the report's ID column); NotFound otherwise.

    A number is never taken for an id: `17` is application number 17, not the 17th row.
    """
    text = str(ident).strip().lstrip("#") if by_id else str(ident).strip()
    if by_id:
        found = session.get(Application, int(text)) if text.isdigit() else None
        if found is None:
            raise NotFound(_("There is no application with the id {id}.").format(id=text))
        return found
    found = session.scalar(select(Application).where(Application.external_id == text))
    if found is not None:
        return found
    same_id = session.get(Application, int(text)) if text.isdigit() else None
    if same_id is not None:
        raise NotFound(
            _(
                "There is no application '{number}'; the application with the id {number} is "
                "{label}: give its number, or add --id to mean the id."
            ).format(number=text, label=application_label(same_id))
        )
    raise NotFound(
        _(
            "There is no application '{number}' (give its application number, or its id with --id)."
        ).format(number=text)
    )


def show_application(session: Session, ident: str | int, *, by_id: bool = False) -> dict[str, Any]:
    """`applications show`: one application (by number, or id with `by_id`) with its reasons
    in the current language."""
    return details(find_application(session, ident, by_id=by_id))


def decide_application(
    session: Session,
    ident: str | int,
    *,
    approve: bool,
    reason: str,
    operator: str,
    by_id: bool = False,
    now: datetime | None = None,
    plan: Plan | None = None,
) -> dict[str, Any]:
    """The reviewer's decision on one application (by its number, or by id with `by_id`):
    approve or reject, with a reason (added to `plan`, when given, by application number and
    applicant).

    The automatic reasons are kept and the reviewer's note is added as code `reviewer`.
    Refuses to reject an application whose access was already issued (revoke it instead).
    """
    reason = (reason or "").strip()
    if not reason:
        raise Refused(_("Give the reason for the decision with --reason."))
    now = now or utcnow()
    application = find_application(session, ident, by_id=by_id)
    label = application_label(application)
    if not approve and application.guardianship_id is not None:
        raise Refused(
            _(
                "Application {number} was approved and access issued; revoke the credential "
                "instead ('diaryadmin credentials revoke LOGIN')."
            ).format(number=label)
        )
    if approve and application.student_id is None:
        if application.status == "pending":
            message = _(
                "Application {number} has not been verified yet: run 'diaryadmin applications "
                "verify' first."
            )
        else:
            message = _(
                "Application {number} names no pupil on the roster, so there is no child to give "
                "access to."
            )
        raise Refused(message.format(number=label))
    before = application.status
    reasons = [r for r in (application.reasons or []) if r.get("code") != REVIEWER]
    reasons.append({"code": REVIEWER, "message": reason})
    application.status = "approved" if approve else "rejected"
    application.reasons = reasons
    application.decided_by = operator
    application.decided_at = now
    if plan is not None:
        plan.add(
            "decide",
            "application",
            label,
            f"{before} → {application.status}: "
            + full_name(
                application.applicant_surname,
                application.applicant_name,
                application.applicant_patronymic,
            ),
        )
    audit.record(
        session,
        operator,
        "applications.decide",
        f"application:{application.id}",
        {"from": before, "to": application.status, "reason": reason},
        now=now,
    )
    session.flush()
    return describe(application)
