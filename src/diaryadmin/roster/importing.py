"""Roster import, listing and export: the core behind `diaryadmin roster`.

Reading (files → records, every problem collected) is in `roster_read`, planning and the
set-based writes in `roster_write`, exports in `roster_export`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from diaryadmin import audit
from diaryadmin.config import Settings
from diaryadmin.db import lock_school
from diaryadmin.errors import InputError, NotFound, Refused
from diaryadmin.io import rejects as rejecting
from diaryadmin.io.workbook import estimate_rows
from diaryadmin.models import Guardian, Guardianship, School, SchoolClass, Student, utcnow
from diaryadmin.people.names import full_name
from diaryadmin.people.relations import relation_word
from diaryadmin.plan import Plan
from diaryadmin.roster.changes import describe_changes, roster_state
from diaryadmin.roster.export import export_roster
from diaryadmin.roster.normalise import Normaliser, ParsedRoster
from diaryadmin.roster.partial import check_partial, import_in_attempts, without_dependents
from diaryadmin.roster.read import RosterReader
from diaryadmin.roster.write import ImportReport, RosterWriter
from diaryadmin.schools import class_option, resolve_school, school_year_of

if TYPE_CHECKING:
    from diaryadmin.staging import Staging

SQLITE_CACHE_KIB = 32 * 1024  # page cache during an import (memory stays well under 250 MB)

__all__ = [
    "ImportReport",
    "export_roster",
    "import_roster",
    "list_students",
    "read_roster",
    "relation_word",
]


def read_roster(
    paths: Iterable[str | Path],
    *,
    settings: Settings,
    now: datetime | None = None,
    sheet: str | None = None,
    class_name: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> ParsedRoster:
    """Read roster files (spreadsheets, CSV, OneRoster folders or zips) into records.

    Never raises for bad rows: every problem is in the result's `errors` and `warnings`.
    Raises ConfigError without a secret key (certificates are fingerprinted while reading).
    """
    now = now or utcnow()
    normaliser = Normaliser(settings.require_secret_key(), now.date(), school_year_of(now.date()))
    reader = RosterReader(
        normaliser, sheet=sheet, class_name=class_name, encoding=encoding, delimiter=delimiter,
        limits=settings.read_limits,
    )  # fmt: skip
    return reader.read(paths)


def import_roster(
    session: Session,
    paths: Sequence[str | Path],
    *,
    settings: Settings,
    operator: str,
    school_code: str | None = None,
    sheet: str | None = None,
    class_name: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    sync: bool = False,
    dry_run: bool = False,
    confirm: Callable[[list[dict[str, Any]]], bool] | None = None,
    now: datetime | None = None,
    progress: Callable[[int, str], Any] | None = None,
    plan: Plan | None = None,
    rejects: Path | None = None,
    staging: Staging | None = None,
    force: bool = False,
) -> ImportReport:
    """Import roster files into the school: create, update, move and (with `sync`) deactivate.
    With `plan`, what changed is added to it by name (run inside a transaction rolled back on a
    dry run, it is the dry run's plan; see roster.changes).

    All or nothing: any error in any row raises InputError carrying every problem and the
    report (`result`); rows are written in chunks as they are read, so the caller must roll
    back its transaction on any exception (as `AppContext.transaction` does). With `dry_run`
    the report is the plan and nothing is written. `confirm` is asked, with the students to
    deactivate, before a sync deactivates anyone; declining raises Refused.
    `progress(length, label)`, when given, is a context manager yielding an `update(n)`
    callback (like `AppContext.progress`).

    With `rejects` (an .xlsx or .csv path) the import is partial:
    the rows with errors are passed over (with the guardians' rows of a student refused) and
    every other row is imported; the refused ones are written to `rejects` as typed, with
    their reasons (see io.rejects), staged in `staging` so that the file appears once the
    transaction is committed (without `staging`, or on a dry run, no file is written: the
    caller's preview), and listed in the report's `rejected`. A problem with a
    file rather than a row still refuses everything. Each attempt runs in a savepoint: rows
    refused only once others are known (the same student twice) take one attempt more.
    Raises Refused for a rejects file that could not be written, a OneRoster input or `sync`.
    """
    now = now or utcnow()
    year = school_year_of(now.date())
    class_name = class_option(class_name)
    normaliser = Normaliser(settings.require_secret_key(), now.date(), year)
    rejected = None
    if rejects is not None:
        check_partial(paths, rejects, staging, sync=sync, force=force)
        rejected = rejecting.Rejected()

    def new_reader() -> RosterReader:
        return RosterReader(
            normaliser, sheet=sheet, class_name=class_name, encoding=encoding,
            delimiter=delimiter, limits=settings.read_limits,
        )  # fmt: skip

    def one_pass(reader: RosterReader, label: str) -> ImportReport:
        bar = progress(estimate_rows(paths), label) if progress else nullcontext(None)
        with bar as update:
            writer = RosterWriter(
                session,
                school,
                school_year=year,
                now=now,
                errors=reader.result.errors,
                warnings=reader.result.warnings,
                dry_run=dry_run,
                tick=update,
            )
            reader.sink = writer.add
            reader.read(paths)
            guardian_rows = reader.guardian_rows
            if rejected is not None:
                guardian_rows = without_dependents(reader, writer.has_id, rejected)
            return writer.finish(guardian_rows, sync=sync, sync_class=class_name, confirm=confirm)

    try:
        school = _school_for_import(session, school_code, settings, dry_run)
        before = roster_state(session, school) if plan is not None else None
        with larger_sqlite_cache(session):
            if rejected is None:
                report = one_pass(new_reader(), "Importing")
            else:
                report = import_in_attempts(session, new_reader, one_pass, rejected)
    except IntegrityError as exc:
        # Only a writer that bypassed the school's lock (an older diaryadmin, a portal
        # script) can get here; its rows must not be named on stderr.
        if not _unique_violation(exc):
            raise
        raise Refused(
            "Another import of this school is running or has just finished; nothing was "
            "imported. Run the import again."
        ) from None
    if report.errors:
        # Whatever was written before the first error is rolled back by the caller.
        report.created = report.updated = report.unchanged = report.moved = 0
        report.deactivated = 0
        raise InputError(
            f"{len(report.errors)} problem(s) in the roster; nothing was imported",
            report.errors,
            result=report.to_dict(),
        )
    if rejected is not None:
        report.rejected = rejected.problems()
    if rejected:
        rejecting.check_sources(rejected, rejects)
        if not dry_run and staging is not None:
            report.rejects_file = rejecting.stage(
                staging, session, rejects, rejected, overwrite=force, encoding=encoding,
                delimiter=delimiter, limits=settings.read_limits,
            )  # fmt: skip
    if before is not None:
        describe_changes(session, school, before, plan)
    if not dry_run and report.changed:
        audit.record(
            session,
            operator,
            "roster.import",
            target=school.code if school else None,
            details={
                "files": [Path(p).name for p in paths],
                "created": report.created,
                "updated": report.updated,
                "moved": report.moved,
                "unchanged": report.unchanged,
                "deactivated": report.deactivated,
                "guardians_created": report.guardians_created,
                "warnings": len(report.warnings),
                **({} if report.rejected is None else {"rejected": len(report.rejected)}),
            },
            now=now,
        )
    return report


def _unique_violation(exc: IntegrityError) -> bool:
    """A duplicate natural key (not a missing value or a broken reference)."""
    if getattr(exc.orig, "sqlstate", None) == "23505":  # PostgreSQL's unique_violation
        return True
    return "UNIQUE constraint failed" in str(exc.orig)  # SQLite


def _school_for_import(
    session: Session, school_code: str | None, settings: Settings, dry_run: bool
) -> School | None:
    """The school to import into, created if missing, with its imports locked until the
    transaction ends (two imports of one school at once would duplicate pupils and parents).
    A dry run into an empty database has no school: everything would be new."""
    if dry_run:
        try:
            return resolve_school(session, school_code, settings)
        except NotFound:
            return None
    # The code as given first (two first imports may race to create the school), then the
    # school's own code when it was found without one: a lock taken only by code order.
    given = school_code or ""
    lock_school(session, given)
    school = resolve_school(session, school_code, settings, create=True)
    if school.code != given:
        lock_school(session, school.code)
    return school


@contextmanager
def larger_sqlite_cache(session: Session, kib: int = SQLITE_CACHE_KIB) -> Iterator[None]:
    """A bigger SQLite page cache while importing: the indexes of 100,000 new rows thrash the
    default 2 MB (17% slower); set back afterwards. PostgreSQL is left alone."""
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    connection = session.connection()
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size = -{int(kib)}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")


def list_students(
    session: Session,
    settings: Settings,
    *,
    school_code: str | None = None,
    class_name: str | None = None,
    inactive: bool = False,
) -> list[dict[str, Any]]:
    """The school's students with their guardians, by class and name.

    Active students only unless `inactive` (then everyone). Raises NotFound for an unknown
    school, InputError for a malformed class name.
    """
    school = resolve_school(session, school_code, settings)
    conditions = [Student.school_id == school.id]
    class_name = class_option(class_name)
    if class_name is not None:
        conditions.append(SchoolClass.name == class_name)
    if not inactive:
        conditions.append(Student.active.is_(True))
    query = (
        select(
            Student.id, Student.external_id, Student.surname, Student.name, Student.patronymic,
            Student.birth_date, SchoolClass.name, Student.active,
        )
        .outerjoin(SchoolClass, Student.class_id == SchoolClass.id)
        .where(*conditions)
    )  # fmt: skip
    guardians = _guardians_of(session, conditions)
    result = [
        {
            "id": student_id,
            "external_id": external_id,
            "surname": surname,
            "name": name,
            "patronymic": patronymic,
            "birth_date": birth_date.isoformat(),
            "class": klass,
            "active": active,
            "guardians": guardians.get(student_id, []),
        }
        for student_id, external_id, surname, name, patronymic, birth_date, klass, active in (
            session.execute(query)
        )
    ]
    result.sort(key=_class_order)
    return result


def _class_order(row: dict[str, Any]) -> tuple:
    klass = row["class"] or ""
    grade = int(klass[:-1]) if klass[:-1].isdigit() else 99
    return (grade, klass, row["surname"], row["name"], row["patronymic"] or "", row["id"])


def _guardians_of(session: Session, conditions: list) -> dict[int, list[dict[str, Any]]]:
    """Active guardianships of the students `conditions` select: student id → guardians,
    in the order they were linked."""
    found: dict[int, list[dict[str, Any]]] = {}
    query = (
        select(
            Guardianship.student_id, Guardianship.relation, Guardian.surname, Guardian.name,
            Guardian.patronymic, Guardian.email, Guardian.phone,
        )
        .join(Guardian, Guardian.id == Guardianship.guardian_id)
        .join(Student, Student.id == Guardianship.student_id)
        .outerjoin(SchoolClass, Student.class_id == SchoolClass.id)
        .where(Guardianship.active.is_(True), *conditions)
        .order_by(Guardianship.id)
    )  # fmt: skip
    for student_id, relation, surname, name, patronymic, email, phone in session.execute(query):
        found.setdefault(student_id, []).append(
            {
                "name": full_name(surname, name, patronymic),
                "relation": relation,
                "email": email,
                "phone": phone,
            }
        )
    return found
