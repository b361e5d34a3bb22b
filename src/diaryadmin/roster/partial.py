"""A partial roster import (`--rejects`): the files imported but the rows refused, in as many
attempts as it takes, and the guardians' rows that go with a refused student.

Most rows are refused by the first attempt (their own cells); a few only once the rest is
known (the same student twice, a guardian's row whose student is refused). Each attempt runs
in a savepoint of the import's transaction: one with row errors is rolled back, its rows join
the refused, and the next attempt imports the others. A file's problem refuses everything.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from diaryadmin.errors import Problem, Refused
from diaryadmin.i18n import _
from diaryadmin.io import rejects as rejecting
from diaryadmin.roster.normalise import GuardianRecord
from diaryadmin.roster.read import RosterReader
from diaryadmin.roster.write import ImportReport

if TYPE_CHECKING:
    from diaryadmin.staging import Staging

MAX_ATTEMPTS = 4  # a partial import's attempts: rows refused once others are passed over


def check_partial(
    paths: Sequence[str | Path],
    rejects: Path,
    staging: Staging | None,
    *,
    sync: bool = False,
    force: bool = False,
) -> None:
    """Refuse, before anything is read, a partial import that cannot be done: `sync` (the
    rejected rows' students would be deactivated), a OneRoster input, a rejects file that
    could not be written (see io.rejects.check_target)."""
    if sync:
        raise Refused(
            _(
                "--sync cannot be combined with --rejects: the students of the rows rejected "
                "would be deactivated. Import the fixed rows first, then run --sync."
            )
        )
    for path in map(Path, paths):
        if path.is_dir() or path.suffix.lower() == ".zip":
            raise Refused(
                _(
                    "{path}: --rejects takes spreadsheets and CSV files, not a OneRoster folder "
                    "or zip."
                ).format(path=path)
            )
    rejecting.check_target(rejects, paths, overwrite=force)


def import_in_attempts(
    session: Session,
    new_reader: Callable[[], RosterReader],
    one_pass: Callable[[RosterReader, str], ImportReport],
    rejected: rejecting.Rejected,
) -> ImportReport:
    """Import the files but the rows `rejected` holds, each attempt in a savepoint: an
    attempt with row errors is rolled back and its rows join `rejected` for the next one.
    The last attempt's report (with errors if a file's problem or the attempts ran out)."""
    label = _("Importing")
    for _attempt in range(MAX_ATTEMPTS):
        reader = new_reader()
        reader.keep_rejects(rejected)
        savepoint = session.begin_nested()
        report = one_pass(reader, label)
        if not report.errors:
            savepoint.commit()
            return report
        savepoint.rollback()
        if not all(rejected.is_row_problem(p) for p in report.errors):
            return report  # a file's problem refuses everything
        rejected.add(report.errors)
        label = _("Importing the other rows")
    return report


def without_dependents(
    reader: RosterReader,
    has_id: Callable[[str], bool],
    rejected: rejecting.Rejected,
) -> list[tuple[Problem, str, GuardianRecord]]:
    """The guardians' rows (of a guardians sheet) but those of a student refused, which are
    rejected with it."""
    kept = []
    for where, student_id, guardian in reader.guardian_rows:
        refused = reader.refused_ids.get(student_id)
        if refused is None or has_id(student_id):
            kept.append((where, student_id, guardian))
            continue
        place = (where.file, where.sheet, where.row)
        if place not in rejected:
            rejected.add_reason(
                place,
                _("the student with ID {student_id!r} was rejected ({where})").format(
                    student_id=student_id, where=rejecting.where(refused)
                ),
            )
    return kept
