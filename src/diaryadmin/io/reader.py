"""One way to read every table file: xlsx/xlsm/xlsb/xls/ods through calamine, CSV by hand.

Every file is untrusted: it is inspected first (io.inspect), then parsed in a memory- and
time-capped worker (io.sandbox), so a hostile or broken file is refused with one sentence.

for row in iter_rows("roster.xlsx"):
    print(row.sheet, row.number, row.values)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from diaryadmin.config import ReadLimits
from diaryadmin.errors import InputError, quoted
from diaryadmin.i18n import N_, _
from diaryadmin.io.csvfile import iter_csv_rows
from diaryadmin.io.htmltable import iter_html_rows
from diaryadmin.io.inspect import HTML, ODS, TEXT, XLS, XLSB, XLSX, inspect_file
from diaryadmin.io.limits import column_letters, grouped, over_limit, refuse
from diaryadmin.io.sandbox import parser_reason, sandboxed

SPREADSHEET_EXTENSIONS = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")
CSV_EXTENSIONS = (".csv", ".tsv", ".txt")
SUPPORTED_EXTENSIONS = SPREADSHEET_EXTENSIONS + CSV_EXTENSIONS


class Row(NamedTuple):
    """One non-empty row of a table file, located as the user sees it (a named tuple: one
    is made per row of 100,000, and a frozen dataclass costs ten times as much to make)."""

    file: str  # the file name as the user gave it
    sheet: str | None  # None for CSV
    number: int  # 1-based row number as in Excel/LibreOffice
    values: tuple[Any, ...]  # str, int, float, bool, date, datetime, time or None; trimmed


def _check_file(
    path: str | os.PathLike[str], limits: ReadLimits | None
) -> tuple[Path, str, str, ReadLimits]:
    """The path, its name for messages, its real format (see io.inspect) and the limits; or
    InputError naming the file and what is wrong with it."""
    file = Path(path)
    name = str(path)
    if not file.exists():
        raise refuse(name, _("file not found"))
    if file.is_dir():
        raise refuse(name, _("is a directory, not a file"))
    suffix = file.suffix.lower()
    if suffix not in SUPPORTED_EXTENSIONS:
        supported = ", ".join(SUPPORTED_EXTENSIONS)
        kind = quoted(suffix) if suffix else _("(none)")
        raise refuse(
            name,
            _("unsupported file type {kind}; use {supported}").format(
                kind=kind, supported=supported
            ),
        )
    try:
        size = file.stat().st_size
    except OSError as error:
        raise refuse(name, _("cannot be read ({reason})").format(reason=error.strerror)) from None
    if size == 0:
        raise refuse(name, _("is empty"))
    limits = limits or ReadLimits.from_env()
    try:
        kind = inspect_file(file, name, limits)
    except OSError as error:
        raise refuse(name, _("cannot be read ({reason})").format(reason=error.strerror)) from None
    # Web systems save CSV and HTML tables as .xls; a text .xlsx or .ods is a mistake.
    if kind in (TEXT, HTML) and suffix in SPREADSHEET_EXTENSIONS and suffix != ".xls":
        text = (
            _(
                "is not a readable spreadsheet: it is a text file; "
                "if it holds a table, rename it to .csv"
            )
            if kind == TEXT
            else _(
                "is not a readable spreadsheet: it is an HTML page; "
                "if it holds a table, rename it to .csv"
            )
        )
        raise refuse(name, text)
    return file, name, kind, limits


def _open_workbook(file: Path, kind: str) -> Any:
    from python_calamine import CalamineWorkbook

    if file.suffix.lower().lstrip(".") in _KIND_SUFFIXES[kind]:
        return CalamineWorkbook.from_path(str(file))
    with file.open("rb") as stream:  # named as another format: calamine looks at the bytes
        return CalamineWorkbook.from_filelike(stream)


_KIND_SUFFIXES = {XLSX: ("xlsx", "xlsm"), XLSB: ("xlsb",), XLS: ("xls",), ODS: ("ods",)}
SPREADSHEET_KINDS = tuple(_KIND_SUFFIXES)


def _sheets(workbook: Any) -> list[tuple[str, bool]]:
    """(name, hidden) of every worksheet, in order."""
    from python_calamine import SheetTypeEnum, SheetVisibleEnum

    return [
        (m.name, m.visible != SheetVisibleEnum.Visible)
        for m in workbook.sheets_metadata
        if m.typ == SheetTypeEnum.WorkSheet
    ]


def _trim(values: list[Any]) -> tuple[Any, ...]:
    """A row's cells without the empty ones at its end, empty text as None (only a text
    equals "")."""
    end = len(values)
    while end and (values[end - 1] is None or values[end - 1] == ""):
        end -= 1
    values = values[:end]
    if "" in values:
        return tuple([None if value == "" else value for value in values])
    return tuple(values)


def _check_extent(worksheet: Any, name: str, sheet: str, limits: ReadLimits) -> None:
    """Refuse a loaded sheet too big to hand on, before a single row is made of it."""
    first_column = worksheet.start[1] if worksheet.start else 0
    columns, rows = first_column + worksheet.width, worksheet.height
    if columns > limits.max_columns:
        what = _("sheet {sheet} has cells in column {letters}: the number of columns").format(
            sheet=quoted(sheet), letters=column_letters(columns)
        )
        raise over_limit(name, what, columns, "max_columns", limits)
    if rows > limits.max_rows:
        what = _("sheet {sheet}: the number of rows").format(sheet=quoted(sheet))
        raise over_limit(name, what, rows, "max_rows", limits)
    if rows * columns > limits.max_cells:
        what = _(
            "sheet {sheet} spans {rows} rows by {columns} columns: the number of cells"
        ).format(sheet=quoted(sheet), rows=grouped(rows), columns=grouped(columns))
        raise over_limit(name, what, rows * columns, "max_cells", limits)


def _workbook_task(
    file: Path, name: str, kind: str, sheet: str | None, limits: ReadLimits, rows: bool
) -> Any:
    """What the sandboxed worker does: first the (name, hidden) list of worksheets, then
    (sheet, number, values) for every non-empty row of each worksheet, or of `sheet`."""

    def task() -> Iterator[Any]:
        try:
            workbook = _open_workbook(file, kind)
        except Exception as error:  # calamine raises its own, zip, xml and plain errors
            if type(error).__name__ == "PasswordError":
                raise refuse(name, _(_PASSWORD)) from None
            raise refuse(
                name,
                _("is not a readable spreadsheet ({reason})").format(reason=parser_reason(error)),
            ) from None
        sheets = _sheets(workbook)
        yield sheets
        if not rows:
            return
        wanted = [n for n, _ in sheets] if sheet is None else [sheet]
        for current in wanted:
            if current not in dict(sheets):
                return
            try:
                worksheet = workbook.get_sheet_by_name(current)
                _check_extent(worksheet, name, current, limits)
                # calamine streams rows from row 1, but columns only from the first used one:
                # pad them so index 0 is column A, as the user sees it.
                lead = (None,) * (worksheet.start[1] if worksheet.start else 0)
                cells = worksheet.iter_rows()
            except InputError:
                raise
            except Exception as error:
                raise refuse(
                    name,
                    _("sheet {sheet} is not readable ({reason})").format(
                        sheet=quoted(current), reason=parser_reason(error)
                    ),
                ) from None
            # The sheet's name goes with its first row only: pickled with each of 100,000
            # rows it cost a third of sending them.
            named = False
            for number, row in enumerate(cells, 1):
                values = _trim(row)
                if values:
                    values = (*lead, *values) if lead else values
                    yield (number, values) if named else (current, number, values)
                    named = True
            del cells, worksheet
        workbook.close()

    return task


_PASSWORD = N_("is password-protected: open it and save it without a password")


def _open_sandboxed(
    file: Path, name: str, kind: str, sheet: str | None, limits: ReadLimits, rows: bool
) -> tuple[list[tuple[str, bool]], Iterator[Any]]:
    import python_calamine  # noqa: F401  loaded here, so the capped worker need not map it

    stream = sandboxed(
        _workbook_task(file, name, kind, sheet, limits, rows), name=name, limits=limits
    )
    try:
        sheets = next(stream)
    except StopIteration:  # pragma: no cover - the task always yields the sheet list first
        raise refuse(name, _("is not a readable spreadsheet")) from None
    return sheets, stream


def worksheets(
    path: str | os.PathLike[str], *, limits: ReadLimits | None = None
) -> list[tuple[str, bool]]:
    """(name, hidden) of each worksheet of a spreadsheet in order; [] for CSV or HTML."""
    file, name, kind, limits = _check_file(path, limits)
    if kind not in SPREADSHEET_KINDS:
        return []
    sheets, stream = _open_sandboxed(file, name, kind, None, limits, rows=False)
    stream.close()
    return sheets


def sheet_names(path: str | os.PathLike[str], *, limits: ReadLimits | None = None) -> list[str]:
    """The worksheet names of a spreadsheet in order; [] for CSV. Raises InputError."""
    return [sheet for sheet, _ in worksheets(path, limits=limits)]


def iter_rows(
    path: str | os.PathLike[str],
    *,
    sheet: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    limits: ReadLimits | None = None,
) -> Iterator[Row]:
    """Every non-empty row of a table file: each worksheet in order, or only `sheet`.

    Empty rows are skipped but row numbers stay the ones the user sees. Spreadsheet cells keep
    calamine's types (numbers are floats, empty cells None); CSV cells are strings or None,
    with `encoding` and `delimiter` detected unless given. A file is read as what its bytes
    say it is: a CSV or HTML table saved as .xls is read as such. The file is inspected
    before this returns (io.inspect) and parsed in a capped worker process (io.sandbox), both
    bounded by `limits` (default: from the environment). Raises InputError naming the file if
    it is missing, a directory, empty, of an unsupported type, hostile, damaged, encrypted,
    over a limit, undecodable, or has no sheet `sheet`.
    """
    file, name, kind, limits = _check_file(path, limits)
    if kind == TEXT:
        csv_rows = iter_csv_rows(file, encoding=encoding, delimiter=delimiter)
        return (Row(name, None, number, values) for number, values in csv_rows)
    if kind == HTML:
        # Pure Python, but a page is read whole: parsed in the capped worker all the same.
        html_rows = sandboxed(
            lambda: iter_html_rows(file, name, limits, encoding=encoding), name=name, limits=limits
        )
        return (Row(name, None, number, values) for number, values in html_rows)
    sheets, stream = _open_sandboxed(file, name, kind, sheet, limits, rows=True)
    if sheet is not None and sheet not in dict(sheets):
        stream.close()
        listed = ", ".join(quoted(n) for n, _hidden in sheets)
        text = (
            _("has no sheet {sheet}; its sheets are {sheets}")
            if listed
            else _("has no sheet {sheet}; its sheets are none")
        )
        raise refuse(name, text.format(sheet=quoted(sheet), sheets=listed))
    return _named_rows(name, stream)


def _named_rows(name: str, stream: Iterator[Any]) -> Iterator[Row]:
    """Rows from the worker's items: (sheet, number, values) for a sheet's first row,
    (number, values) for the others."""
    current = None
    for item in stream:
        if len(item) == 3:
            current, number, values = item
        else:
            number, values = item
        yield Row(name, current, number, values)
