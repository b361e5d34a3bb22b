"""Partial imports: the rows an import refused, written back as they were typed, with reasons.

With `--rejects FILE` an import takes every valid row and writes each refused one to FILE:
the cells exactly as read (the table's header, the same columns in the same order) and one
more column, `Причины отказа`, with the row's problems in the importer's words. An `.xlsx`
gets one sheet per source sheet or file (named after it, so a sheet named `5А` still gives
the class); a `.csv` holds one table, so the rows refused must all come from one sheet or
file. Fixed, the file is imported like any other: the reasons column is known by its header
and ignored. The file holds personal data: it is written mode 0600 and staged (see
`staging`), so it appears only once the import is committed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from diaryadmin.config import ReadLimits
from diaryadmin.errors import Problem, Refused
from diaryadmin.i18n import _
from diaryadmin.io.headers import HeaderMap

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from diaryadmin.staging import Staging

REASONS_FIELD = "rejected_reasons"
REASONS_HEADER = "Причины отказа"
REASONS_ALIASES = [REASONS_HEADER, "Причина отказа", "Rejection reasons", "Rejected because"]
SUFFIXES = (".xlsx", ".csv")
SHOWN = 20  # rejected rows listed on stderr; the file has them all

Place = tuple[str, str | None, int]  # file, sheet, row number


def with_reasons_column(aliases: dict[str, Any]) -> dict[str, Any]:
    """`aliases` plus the reasons column a rejects file carries (to be ignored on import)."""
    return {**aliases, REASONS_FIELD: REASONS_ALIASES}


def reason_of(problem: Problem) -> str:
    """A problem as the reasons cell says it: column, value and what is wrong (the row is
    the cell's own)."""
    return str(Problem(problem.message, column=problem.column, value=problem.value))


def where(place: Place) -> str:
    file, sheet, row = place
    if sheet:
        return _("{file}, sheet {sheet!r}, row {row}").format(file=file, sheet=sheet, row=row)
    return _("{file}, row {row}").format(file=file, row=row)


@dataclass
class SourceTable:
    """A table rows were read from: where its header is and what it says."""

    file: str
    sheet: str | None
    header_row: int
    header: tuple[Any, ...]
    reasons_column: int | None  # a rejects file imported again has one already


@dataclass
class Rejected:
    """The rows an import refuses (place → reasons) and the tables it read, in order."""

    reasons: dict[Place, list[str]] = field(default_factory=dict)
    tables: dict[tuple[str, str | None], SourceTable] = field(default_factory=dict)

    def table(self, header: HeaderMap) -> None:
        """Note a table being read (its header is written above its rejected rows)."""
        row = header.row
        if (row.file, row.sheet) not in self.tables:
            self.tables[row.file, row.sheet] = SourceTable(
                row.file, row.sheet, row.number, row.values, header.columns.get(REASONS_FIELD)
            )

    def is_row_problem(self, problem: Problem) -> bool:
        """Whether a problem belongs to one data row (a file-level one refuses the import)."""
        table = self.tables.get((problem.file, problem.sheet))  # type: ignore[arg-type]
        return table is not None and problem.row is not None and problem.row > table.header_row

    def add(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            place = (problem.file, problem.sheet, problem.row)
            self.reasons.setdefault(place, []).append(reason_of(problem))  # type: ignore[arg-type]

    def add_reason(self, place: Place, reason: str) -> None:
        self.reasons.setdefault(place, []).append(reason)

    def __contains__(self, place: object) -> bool:
        return place in self.reasons

    def __len__(self) -> int:
        return len(self.reasons)

    def problems(self) -> list[Problem]:
        """One Problem a rejected row, its reasons joined, in reading order."""
        order = {key: i for i, key in enumerate(self.tables)}
        places = sorted(self.reasons, key=lambda p: (order.get((p[0], p[1]), len(order)), p[2]))
        return [Problem("; ".join(self.reasons[p]), *p) for p in places]

    def source_count(self) -> int:
        """How many sheets or files the rejected rows come from."""
        return len({(file, sheet) for file, sheet, _ in self.reasons})


class KnownRejects(list):
    """An import's error list that leaves out the rows already rejected: a pass importing
    the rest must not stop at them (a formula cell's row is refused by the table reader
    itself, before the importer could pass over it)."""

    def __init__(self, rejected: Rejected) -> None:
        super().__init__()
        self.rejected = rejected

    def append(self, problem: Problem) -> None:
        if (problem.file, problem.sheet, problem.row) not in self.rejected:
            super().append(problem)

    def extend(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            self.append(problem)


def check_target(
    target: Path, inputs: Sequence[str | os.PathLike[str]], *, overwrite: bool = False
) -> None:
    """Refuse, before anything is read, a rejects file that could not or must not be written:
    not .xlsx or .csv, in a missing folder, existing (without `overwrite`), or one of the
    files being imported."""
    target = Path(target)
    if target.suffix.lower() not in SUFFIXES:
        raise Refused(
            _("{target}: a rejects file is an .xlsx or a .csv file.").format(target=target)
        )
    if not target.parent.is_dir():
        raise Refused(
            _("{target}: the folder {folder!r} does not exist.").format(
                target=target, folder=str(target.parent)
            )
        )
    for source in map(Path, inputs):
        same = (
            os.path.samefile(source, target)
            if source.exists() and target.exists()
            else source.resolve() == target.resolve()
        )
        if same:
            raise Refused(
                _(
                    "{target}: is one of the files being imported; give the rejects file "
                    "another name."
                ).format(target=target)
            )
    if target.is_dir():
        raise Refused(_("{target}: is a directory.").format(target=target))
    if target.exists() and not overwrite:
        raise Refused(
            _("{target}: already exists; use --force to overwrite it.").format(target=target)
        )


def check_sources(rejected: Rejected, target: Path) -> None:
    """A CSV rejects file holds one table: refuse rows rejected from several."""
    count = rejected.source_count()
    if Path(target).suffix.lower() == ".csv" and count > 1:
        raise Refused(
            _(
                "{target}: rows were rejected from {count} sheets or files, and a .csv rejects "
                "file holds one table; nothing was imported. Give an .xlsx rejects file (one "
                "sheet for each)."
            ).format(target=target, count=count)
        )


def write_rejects(
    path: Path,
    rejected: Rejected,
    *,
    csv: bool,
    encoding: str | None = None,
    delimiter: str | None = None,
    limits: ReadLimits | None = None,
) -> None:
    """Write the rejected rows to `path` (mode 0600): each source table's header and rows,
    read again from the files as they were typed, with the reasons in the last column."""
    from diaryadmin.io.xlsx import write_csv, write_xlsx

    sheets = list(_sheets(rejected, encoding, delimiter, limits))
    if csv:
        _, header, rows = sheets[0] if sheets else ("", (REASONS_HEADER,), [])
        write_csv(path, header, [[_csv_cell(v) for v in row] for row in rows])
    else:
        write_xlsx(path, sheets)


def _sheets(
    rejected: Rejected, encoding: str | None, delimiter: str | None, limits: ReadLimits | None
) -> Iterable[tuple[str, list[Any], list[list[Any]]]]:
    from diaryadmin.io.reader import iter_rows

    by_table: dict[tuple[str, str | None], dict[int, list[str]]] = {}
    for (file, sheet, row), reasons in rejected.reasons.items():
        by_table.setdefault((file, sheet), {})[row] = reasons
    for key, table in rejected.tables.items():
        wanted = by_table.get(key)
        if not wanted:
            continue
        found: dict[int, tuple[Any, ...]] = {}
        rows = iter_rows(
            table.file, sheet=table.sheet, encoding=encoding, delimiter=delimiter, limits=limits
        )
        for row in rows:  # read to the end: the reader's worker process ends with the sheet
            if row.number in wanted:
                found[row.number] = row.values
        column = table.reasons_column
        if column is None:
            width = max([len(table.header), *(len(v) for v in found.values())])
            column = width
        header = _placed(table.header, column, REASONS_HEADER)
        lines = [
            _placed(found.get(number, ()), column, "; ".join(wanted[number]))
            for number in sorted(wanted)
        ]
        yield _title(table), header, lines


def _placed(values: Sequence[Any], column: int, text: str) -> list[Any]:
    """`values` padded to `column`, with `text` at `column` (replacing what was there)."""
    out = list(values) + [None] * max(0, column + 1 - len(values))
    out[column] = text
    return out


def _title(table: SourceTable) -> str:
    return table.sheet if table.sheet is not None else Path(table.file).stem


def _csv_cell(value: Any) -> Any:
    """A cell for the CSV: a whole number read from a spreadsheet as a float (`123456.0`) is
    written as it was typed (`123456`)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def stage(
    staging: Staging,
    session: Session,
    target: Path,
    rejected: Rejected,
    *,
    overwrite: bool = False,
    encoding: str | None = None,
    delimiter: str | None = None,
    limits: ReadLimits | None = None,
) -> str:
    """Write the rejects file in the caller's transaction, staged: it appears at `target`
    once the transaction is committed (see `staging`). Returns the target's name."""
    target = Path(target)
    staging.stage(
        session,
        target,
        lambda temp: write_rejects(
            temp,
            rejected,
            csv=target.suffix.lower() == ".csv",
            encoding=encoding,
            delimiter=delimiter,
            limits=limits,
        ),
        overwrite=overwrite,
    )
    return str(target)
