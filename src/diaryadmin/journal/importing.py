"""Journal import: long-form tables (one row per mark or absence) and our own grid workbooks.

A long-form row names a lesson (date, lesson number, class, subject; teacher, topic, homework)
and optionally a student (ID or full name) with a mark (weight or kind of work, comment) and/or
an attendance code. Rows without a student only carry the lesson's topic and homework.

The grid workbook is what `journal export` writes (see journal_export); reading it back
reproduces lessons, marks with their notes, absences and period grades.

Import is all-or-nothing: every problem is collected with file, sheet, row, column and value,
and nothing is written unless there are none. Re-importing a file changes nothing: the marks a
file gives for a student in a lesson replace that student's marks in that lesson, and equal
marks are left as they are. A grid sheet is the whole truth for the lessons and students it
shows (an empty cell removes a mark or absence); a long-form file only touches what it names.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from diaryadmin import audit
from diaryadmin.config import ReadLimits
from diaryadmin.db import lock_school
from diaryadmin.errors import ImportOutcome, InputError, NotFound
from diaryadmin.i18n import _, ngettext
from diaryadmin.journal.classlist import ClassList
from diaryadmin.journal.read import (
    LONG_FORM_ALIASES,
    Plan,
    parse_note,
    read_cell_notes,
    read_journal_file,
)
from diaryadmin.journal.resolve import resolve_plan
from diaryadmin.journal.writing import JournalChanges, write_plan
from diaryadmin.models import School, SchoolClass
from diaryadmin.plan import Plan as ChangePlan
from diaryadmin.schools import class_option

__all__ = [
    "LONG_FORM_ALIASES",
    "JournalImportReport",
    "apply_import",
    "import_journal",
    "parse_note",
    "plan_import",
    "read_cell_notes",
    "read_journal_file",
]


@dataclass
class JournalImportReport(ImportOutcome):
    """What a journal file holds (and, once written, what it changed)."""

    file: str = ""
    format: str | None = None
    rows: int = 0
    lessons: int = 0
    entries: int = 0
    marks: int = 0
    absences: int = 0
    period_grades: int = 0
    skipped_sheets: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    changes: JournalChanges | None = None  # None until written

    @classmethod
    def of(cls, path: Path, plan: Plan, dry_run: bool) -> JournalImportReport:
        return cls(
            file=str(path),
            format="+".join(sorted(plan.formats)) or None,
            rows=plan.rows,
            lessons=len(plan.lessons),
            entries=len(plan.pairs),
            marks=sum(len(p.marks) for p in plan.pairs.values()),
            absences=sum(1 for p in plan.pairs.values() if p.absence),
            period_grades=sum(1 for v in plan.period_grades.values() if v[0] is not None),
            skipped_sheets=plan.skipped_sheets,
            ignored_columns=plan.ignored_columns,
            warnings=plan.warnings,
            dry_run=dry_run,
            errors=plan.problems,
        )

    def to_dict(self) -> dict[str, Any]:
        """The machine-readable shape of `journal import --format json`."""
        data = {
            "file": self.file,
            "format": self.format,
            "rows": self.rows,
            "lessons": self.lessons,
            "entries": self.entries,
            "marks": self.marks,
            "absences": self.absences,
            "period_grades": self.period_grades,
            "skipped_sheets": self.skipped_sheets,
            "ignored_columns": self.ignored_columns,
            "warnings": self.problems_dict()["warnings"],
            "dry_run": self.dry_run,
            "errors": self.problems_dict()["errors"],
        }
        if self.changes is not None:
            data.update(asdict(self.changes))
        return data


def _school_year(session: Session, school: School, year: int | None, plan: Plan) -> int:
    """The school year given, else the one our grid workbook names, else the roster's latest."""
    if year is not None:
        return year
    if len(plan.file_years) == 1:
        return next(iter(plan.file_years))
    latest = _latest_year(session, school)
    if latest is None:
        raise NotFound(_("The school has no classes yet: import a roster first."))
    return latest


def _latest_year(session: Session, school: School) -> int | None:
    return session.scalar(
        select(SchoolClass.school_year)
        .where(SchoolClass.school_id == school.id)
        .order_by(SchoolClass.school_year.desc())
        .limit(1)
    )


def plan_import(
    session: Session,
    school: School,
    path: Path,
    *,
    default_class: str | None = None,
    year: int | None = None,
    limits: ReadLimits | None = None,
) -> tuple[Plan, JournalImportReport]:
    """Read and check a journal file against the database; nothing is written.

    Returns the plan and a report. Raises InputError with every problem found.
    """
    default_class = class_option(default_class or None)
    hint = year if year is not None else _latest_year(session, school)
    plan = read_journal_file(path, default_class, year_hint=hint, limits=limits)
    if not plan.formats:
        raise _refused(path, plan)
    year = _school_year(session, school, year, plan)
    class_list = ClassList(session, school, year)
    class_ids = resolve_plan(plan, class_list, year)
    if plan.problems:
        raise _refused(path, plan)
    plan.class_ids = class_ids
    plan.year = year
    return plan, JournalImportReport.of(path, plan, dry_run=True)


def _refused(path: Path, plan: Plan) -> InputError:
    report = JournalImportReport.of(path, plan, dry_run=False)
    count = len(plan.problems)
    message = ngettext(
        "{file}: {count} problem found; nothing was imported.",
        "{file}: {count} problems found; nothing was imported.",
        count,
    ).format(file=path, count=count)
    return InputError(message, plan.problems, report.to_dict())


def apply_import(
    session: Session,
    school: School,
    path: Path,
    plan: Plan,
    operator: str,
    now: datetime | None = None,
) -> JournalImportReport:
    """Write a checked plan: lessons, marks, absences, period grades, in set-based statements,
    and the audit event."""
    report = JournalImportReport.of(path, plan, dry_run=False)
    report.changes = write_plan(session, school, plan)
    audit.record(
        session,
        operator,
        "journal.import",
        f"file:{path.name}",
        {
            k: v
            for k, v in report.to_dict().items()
            if k not in ("errors", "warnings", "file", "skipped_sheets", "ignored_columns")
        },
        now=now,
    )
    return report


def import_journal(
    session: Session,
    school: School,
    path: str | Path,
    operator: str,
    *,
    default_class: str | None = None,
    year: int | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
    changes: ChangePlan | None = None,
    limits: ReadLimits | None = None,
) -> dict[str, Any]:
    """Import a journal file (long form or grid workbook) all-or-nothing.

    Raises InputError with every problem (file, sheet, row, column, value) and the report as
    its result; NotFound if the school has no classes. With `dry_run` nothing is written.
    With `changes`, each lesson the file holds is added to it by class, subject, date and
    number, with its marks and absences (the plan a dry run shows).
    Imports of one school wait for each other (they would create the same teachers and
    subjects).
    """
    path = Path(path)
    if not dry_run:
        lock_school(session, school.code)
    plan, report = plan_import(
        session, school, path, default_class=default_class, year=year, limits=limits
    )
    if changes is not None:
        _describe_lessons(plan, changes)
    if dry_run:
        return report.to_dict()
    return apply_import(session, school, path, plan, operator, now=now).to_dict()


def _describe_lessons(plan: Plan, changes: ChangePlan) -> None:
    marks: dict[tuple, int] = {}
    absences: dict[tuple, int] = {}
    for (_student, key), pair in plan.pairs.items():
        marks[key] = marks.get(key, 0) + len(pair.marks)
        absences[key] = absences.get(key, 0) + bool(pair.absence)
    for key, lesson in sorted(
        plan.lessons.items(),
        key=lambda item: (item[1].class_name, item[1].date, item[1].number, item[1].subject),
    ):
        changes.add(
            "import",
            "lesson",
            f"{lesson.class_name} {lesson.subject} {lesson.date:%d.%m.%Y} №{lesson.number}",
            _("marks: {marks}, absences: {absences}").format(
                marks=marks.get(key, 0), absences=absences.get(key, 0)
            ),
        )
