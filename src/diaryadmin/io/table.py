"""The one way every import reads a table from a file: which sheets, where the header is, which
rows are data.

for table in read_tables(path, [STUDENTS], problems):
    for row in table.rows:
        ...table.header.get(row, "surname")...

The policy, the same for rosters, applications and journals:
- hidden sheets are skipped with a warning when they hold a table of the kind (offices hide
  last year's lists rather than delete them), quietly when not; a sheet named with `--sheet` is
  read even when hidden;
- the header is searched below title rows, and two header rows with group headings over the
  second (`Мать` over `ФИО | Телефон | E-mail`) are read as combined labels (`Мать: ФИО`);
- a sheet without a table of the kind is passed over (with a warning if its header looks
  like a partial one), a table lacking required columns is an error; a CSV is always read;
- unknown columns are named in a warning, one per column, at the header row;
- formula cells in the columns read are refused (a formula's text is lost; its cached value
  may be stale or missing);
- rows with nothing in the columns read (pre-numbered empty rows `26 | | |`) are passed over;
  totals and signature lines under the table (`Итого: 25 учащихся`, `Всего`,
  `Классный руководитель ____`) are skipped with a warning.
Every warning and error is a `Problem` with file, sheet, row, column and value.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from diaryadmin.config import ReadLimits
from diaryadmin.errors import InputError, Problem
from diaryadmin.io.cells import cell_text
from diaryadmin.io.headers import HeaderMap, find_header
from diaryadmin.io.reader import Row, iter_rows, sheet_names
from diaryadmin.io.workbook import formula_cells, hidden_sheets

HEADER_SCAN = 15
FORMULA_MESSAGE = (
    "a formula, not a value: type the value itself "
    "(text starting with = needs an apostrophe before it)"
)


def _nothing_missing(header: HeaderMap) -> list[str]:
    return []


def _maps_a_field(header: HeaderMap) -> bool:
    return bool(header.columns)


@dataclass(frozen=True)
class TableKind:
    """What one kind of table looks like (a roster, a guardians list, applications, lessons).

    `identifies(header)`: whether a header is of this kind at all (a sheet without such a header
    is passed over); `missing(header)`: the required things it lacks, by their display names;
    `adjust(header)`: a last look at the chosen header (two columns naming one field...);
    `ignored`: fields known and not read (`№ п/п`), not data of a row.
    """

    name: str  # "roster", "application": for messages
    record: str  # "a student", "an application": what a data row is
    aliases: Mapping[str, Sequence[str]]
    expected: str  # the columns to name when no header is found
    identifies: Callable[[HeaderMap], bool] = _maps_a_field
    missing: Callable[[HeaderMap], list[str]] = _nothing_missing
    groups: Mapping[str, Sequence[str]] = field(default_factory=dict)
    ignored: frozenset[str] = frozenset()
    adjust: Callable[[HeaderMap], None] | None = None
    none_found: str = "no sheet has a table"  # the error for a file without one
    skipped: str = ""  # why a sheet with a partial header is not this kind's table
    missing_message: Callable[[HeaderMap, list[str]], str] | None = None

    def find(self, head: list[Row]) -> HeaderMap | None:
        """The best header of this kind among the first rows of one sheet, or None."""
        try:
            header, _ = find_header(
                iter(head), self.aliases, scan=len(head), groups=self.groups, missing=self.missing
            )
        except InputError:
            return None
        if self.adjust is not None:
            self.adjust(header)
        return header


@dataclass
class Problems:
    """Where a reading collects its warnings and errors."""

    warnings: list[Problem] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)

    def warn(self, message: str, row: Row | None, column: str | None = None, value=None) -> None:
        self.warnings.append(problem_at(message, row, column, value))

    def error(self, message: str, row: Row | None, column: str | None = None, value=None) -> None:
        self.errors.append(problem_at(message, row, column, value))


def problem_at(message: str, row: Row | None, column: str | None = None, value=None) -> Problem:
    """A Problem at a row (its file, sheet and number) and column."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # spreadsheet numbers read as floats: show 6, not 6.0
    if row is None:
        return Problem(message, column=column, value=value)
    return Problem(message, row.file, row.sheet, row.number, column, value)


@dataclass
class Table:
    """One table found in a file: its kind, header and data rows (lazily read)."""

    kind: TableKind
    header: HeaderMap
    rows: Iterator[Row]
    above: Row | None = None  # the row just above the header (group headings, a title)

    @property
    def sheet(self) -> str | None:
        return self.header.row.sheet


def column_letter(column: int) -> str:
    """`A` for 0, `AB` for 27: a column as a spreadsheet names it."""
    letters = ""
    n = column + 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def label_of(header: HeaderMap, column: int) -> str:
    """The header label of a 0-based column, or its letter where it has none."""
    if column < len(header.row.values) and (label := cell_text(header.row.values[column])):
        return label
    return column_letter(column)


def visible_sheets(
    path: Path,
    names: list[str],
    kinds: Sequence[TableKind],
    problems: Problems,
    limits: ReadLimits | None = None,
) -> list[str]:
    """The sheets to read of `names` (every worksheet): hidden ones left out, with a warning
    for each that holds a table of one of `kinds`."""
    if len(names) < 2:
        return names
    hidden = hidden_sheets(path, limits) & set(names)
    for sheet in (n for n in names if n in hidden):
        head = list(itertools.islice(iter_rows(path, sheet=sheet, limits=limits), HEADER_SCAN))
        if any(_identified(kind, head) for kind in kinds):
            problems.warnings.append(
                Problem("hidden sheet skipped; use --sheet to import it", str(path), sheet)
            )
    return [n for n in names if n not in hidden]


def _identified(kind: TableKind, head: list[Row]) -> HeaderMap | None:
    header = kind.find(head) if head else None
    return header if header is not None and kind.identifies(header) else None


def read_tables(
    path: str | os.PathLike[str],
    kinds: Sequence[TableKind],
    problems: Problems,
    *,
    sheet: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    limits: ReadLimits | None = None,
) -> Iterator[Table]:
    """Every complete table of one of `kinds` in a file, by the policy in this module's
    docstring: each visible sheet in order (only `sheet` if given), or the CSV.

    Problems found on the way go to `problems`; a file with no table of the kinds at all gets
    an error (`kinds[0]` names what was expected). Raises InputError if the file cannot be
    read (missing, unsupported, not a spreadsheet, no sheet `sheet`, over one of `limits`:
    the caller's settings, else the environment's).
    """
    path = Path(path)
    names = sheet_names(path, limits=limits)
    errors_before = len(problems.errors)
    if not names:
        rows = iter_rows(path, encoding=encoding, delimiter=delimiter, limits=limits)
        table, identified = read_sheet(rows, kinds, problems, named=True)
        if table is not None:
            yield table
        if not identified and len(problems.errors) == errors_before:
            problems.errors.append(Problem(kinds[0].none_found, str(path)))
        return
    if sheet is not None:
        if sheet not in names:
            iter_rows(path, sheet=sheet, limits=limits)  # raises, naming the sheets there are
        names = [sheet]
    else:
        names = visible_sheets(path, names, kinds, problems, limits)
    formulas = formula_cells(path, limits)
    found = False
    for one in names:
        rows = iter_rows(path, sheet=one, limits=limits)
        table, identified = read_sheet(
            rows, kinds, problems, formulas.get(one), named=sheet is not None
        )
        found |= identified
        if table is not None:
            yield table
    if not found and len(problems.errors) == errors_before:
        problems.errors.append(Problem(kinds[0].none_found, str(path)))


def read_sheet(
    rows: Iterator[Row],
    kinds: Sequence[TableKind],
    problems: Problems,
    formulas: set[tuple[int, int]] | None = None,
    *,
    named: bool = False,
) -> tuple[Table | None, bool]:
    """The table of one sheet (or CSV), and whether it has a header of one of `kinds` at all.

    The first kind whose header is complete wins, else the first that identifies the sheet
    (its missing columns are an error). A sheet with no such header is an error if `named`
    (a CSV, a sheet asked for), else passed over (a warning if the header looks partial).
    `formulas`: (row, 0-based column) of the sheet's formula cells.
    """
    head = list(itertools.islice(rows, HEADER_SCAN))
    if not head:
        return None, False
    first = head[0]
    candidates = [(kind, kind.find(head)) for kind in kinds]
    identified = [(k, h) for k, h in candidates if h is not None and k.identifies(h)]
    complete = [(k, h) for k, h in identified if not k.missing(h)]
    if complete or identified:
        kind, header = (complete or identified)[0]
    else:
        kind, header = candidates[0]
        if named:
            problems.errors.append(
                Problem(
                    f"no header row found in the first {HEADER_SCAN} rows; expected columns "
                    + kind.expected,
                    first.file,
                    first.sheet,
                )
            )
        elif header is not None and len(header.columns) >= 2 and kind.skipped:
            problems.warnings.append(
                Problem(f"no {kind.name} table on this sheet ({kind.skipped}): skipped",
                        first.file, first.sheet)
            )  # fmt: skip
        return None, False
    missing = kind.missing(header)
    if missing:
        message = (
            kind.missing_message(header, missing)
            if kind.missing_message
            else "missing required column(s): " + ", ".join(missing)
        )
        problems.error(message, header.row)
        return None, True
    used = set(header.columns.values())
    for position, value in enumerate(header.row.values):
        label = cell_text(value)
        if label is not None and position not in used:
            problems.warn("unknown column, ignored", header.row, label)
    body = itertools.chain(_after(head, header.row), rows)
    above = next((r for r in head if r.number == header.row.number - 1), None)
    return Table(kind, header, data_rows(body, kind, header, problems, formulas), above), True


def _after(head: list[Row], header_row: Row) -> list[Row]:
    """The rows of `head` below the header (a combined header row is a new object)."""
    return [row for row in head if row.number > header_row.number]


# A totals row: `Итого: 25 учащихся`, `Всего`, `ИТОГО по классу`.
_TOTALS = re.compile(r"\s*(итого|всего)(?![а-яё])", re.IGNORECASE)
# A signature line under a table: who signs, or the line to sign on.
_SIGNATURE = re.compile(
    r"\s*(кл(ассный|\.)\s*руководитель|директор|зам(еститель|\.)\s*директора|завуч|секретарь"
    r"|подпись|исполнитель|составил|ответственный|м\.\s*п\.)(?![а-яё])|.*_{3,}",
    re.IGNORECASE,
)
_SIGNATURE_CELLS = 4  # a signature line holds a few cells: title, line, name
_FOOTER = re.compile(f"{_TOTALS.pattern}|{_SIGNATURE.pattern}", re.IGNORECASE)


def data_rows(
    rows: Iterable[Row],
    kind: TableKind,
    header: HeaderMap,
    problems: Problems,
    formulas: set[tuple[int, int]] | None = None,
) -> Iterator[Row]:
    """The data rows under `header`: rows without data in the table's columns passed over,
    totals and signature lines skipped with a warning, rows with a formula cell in a column
    read refused (an error for each such cell)."""
    data_columns = sorted(
        index for name, index in header.columns.items() if name not in kind.ignored
    )
    read_columns = set(header.columns.values())
    formula_rows: dict[int, list[int]] = {}
    for number, column in sorted(formulas or ()):
        if column in read_columns:
            formula_rows.setdefault(number, []).append(column)
    for row in rows:
        values = row.values
        footer = None
        for first in values:
            if type(first) is str:
                if _FOOTER.match(first):  # one match a row; a likely footer is looked at again
                    footer = _footer(first, values)
                break
        if footer is not None:
            problems.warn(f"{footer}, not {kind.record}: skipped", row, value=first)
            continue
        width = len(values)
        for i in data_columns:
            if i < width and values[i] is not None:
                break
        else:
            continue
        if formula_rows and row.number in formula_rows:
            for column in formula_rows[row.number]:
                value = values[column] if column < width else None
                problems.error(FORMULA_MESSAGE, row, label_of(header, column), value)
            continue
        yield row


def _footer(first: str, values: tuple[Any, ...]) -> str | None:
    """What a row under a table is, by its first text: a totals row, a signature line, or
    None for a row that may be data."""
    if _TOTALS.match(first):
        return "a totals row"
    if _SIGNATURE.match(first) and sum(v is not None for v in values) <= _SIGNATURE_CELLS:
        return "a signature line"
    return None
