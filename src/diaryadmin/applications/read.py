"""Reading application spreadsheets: header aliases, one row → one Application's columns,
every problem collected with file, sheet, row and column; nothing touches the database.

A malformed passport, SNILS or birth certificate is not a problem here: it becomes a flag in
`document_flags` (and a rejection reason at verify). Document numbers leave this module only
as fingerprints; the content key (re-import dedupe) is an HMAC of the normalised content.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from diaryadmin.applications.columns import APPLICATIONS
from diaryadmin.applications.rows import ParsedApplication, RowReader
from diaryadmin.config import Settings
from diaryadmin.errors import ImportOutcome, Problem
from diaryadmin.i18n import _
from diaryadmin.io import Row
from diaryadmin.io.rejects import REASONS_FIELD, Rejected, with_reasons_column
from diaryadmin.io.table import Problems, read_tables

# The table policy's applications table, whose reasons column (a rejects file's) is ignored.
_APPLICATIONS = dataclasses.replace(
    APPLICATIONS,
    aliases=with_reasons_column(APPLICATIONS.aliases),
    ignored=APPLICATIONS.ignored | {REASONS_FIELD},
)


@dataclass
class ImportReport(ImportOutcome):
    """What an import did (or, with --dry-run, would do)."""

    created: int = 0
    unchanged: int = 0
    flagged: int = 0  # created with a malformed document (a rejection reason at verify)
    rejected: list[Problem] | None = None  # a partial import's (--rejects) refused rows
    rejects_file: str | None = None  # where they were written (None on a dry run)

    def to_dict(self) -> dict[str, Any]:
        data = {
            "created": self.created,
            "unchanged": self.unchanged,
            "flagged": self.flagged,
            "dry_run": self.dry_run,
            **self.problems_dict(),
        }
        if self.rejected is not None:  # a partial import: how many rows went where
            data.update(rejected=len(self.rejected), rejects_file=self.rejects_file)
            data["rejected_rows"] = [p.to_dict() for p in self.rejected]
        return data


def read_applications(
    paths: Iterable[str | os.PathLike[str]],
    settings: Settings,
    *,
    sheet: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    today: date | None = None,
    rejected: Rejected | None = None,
) -> tuple[list[ParsedApplication], ImportReport]:
    """Read and check every row of the files; nothing touches the database.

    Tables are found and read by the one table policy (`io.table`), within the settings'
    read limits. Returns the parsed rows and a report holding every problem found (errors)
    and every fix made (warnings); each table read is noted in `rejected` when given (a
    partial import). Raises InputError only when a file cannot be read at all.
    """
    key = settings.require_secret_key()
    report = ImportReport()
    problems = Problems(report.warnings, report.errors)
    parsed: list[ParsedApplication] = []
    today = today or date.today()
    for path in paths:
        tables = read_tables(
            path,
            [_APPLICATIONS],
            problems,
            sheet=sheet,
            encoding=encoding,
            delimiter=delimiter,
            limits=settings.read_limits,
        )
        for table in tables:
            header = table.header
            if rejected is not None:
                rejected.table(header)
            reader = RowReader(header, key, report.warnings, today)
            label = header.labels.get("external_id", "Номер заявления")
            for row in table.rows:
                values, row_problems = reader.read(row)
                if row_problems:
                    report.errors.extend(row_problems)
                elif values is not None:
                    parsed.append(ParsedApplication(row, values, label))
    _check_duplicates_in_files(parsed, report)
    return parsed, report


def _check_duplicates_in_files(parsed: list[ParsedApplication], report: ImportReport) -> None:
    """The same application twice is kept once (a warning); one number twice is an error."""
    by_content: dict[str, Row] = {}
    by_number: dict[str, tuple[Row, str]] = {}
    kept: list[ParsedApplication] = []
    for item in parsed:
        row, values = item.row, item.values
        number = values["external_id"]
        if number is not None and number in by_number:
            first_row, first_key = by_number[number]
            if first_key != values["content_key"]:
                report.errors.append(
                    Problem(
                        _where(
                            first_row,
                            _(
                                "application number '{number}' appears twice with different "
                                "content (first at row {row})"
                            ),
                            _(
                                "application number '{number}' appears twice with different "
                                "content (first at sheet '{sheet}', row {row})"
                            ),
                            number=number,
                        ),
                        row.file,
                        row.sheet,
                        row.number,
                        item.number_column,
                        number,
                    )
                )
                continue
        if values["content_key"] in by_content:
            first_row = by_content[values["content_key"]]
            report.warnings.append(
                Problem(
                    _where(
                        first_row,
                        _("the same application as at row {row}; imported once"),
                        _("the same application as at sheet '{sheet}', row {row}; imported once"),
                    ),
                    row.file,
                    row.sheet,
                    row.number,
                )
            )
            continue
        by_content[values["content_key"]] = row
        if number is not None:
            by_number[number] = (row, values["content_key"])
        kept.append(item)
    parsed[:] = kept


def _where(row: Row, without_sheet: str, with_sheet: str, **fields: str) -> str:
    """A message that names an earlier row: with its sheet when the file has sheets."""
    if row.sheet:
        return with_sheet.format(sheet=row.sheet, row=row.number, **fields)
    return without_sheet.format(row=row.number, **fields)
