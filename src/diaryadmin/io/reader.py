"""One way to read every table file: xlsx/xlsm/xlsb/xls/ods through calamine, CSV by hand.

for row in iter_rows("roster.xlsx"):
    print(row.sheet, row.number, row.values)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from diaryadmin.errors import InputError, Problem
from diaryadmin.io.csvfile import iter_csv_rows

SPREADSHEET_EXTENSIONS = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")
CSV_EXTENSIONS = (".csv", ".tsv", ".txt")
SUPPORTED_EXTENSIONS = SPREADSHEET_EXTENSIONS + CSV_EXTENSIONS


@dataclass(frozen=True, slots=True)
class Row:
    """One non-empty row of a table file, located as the user sees it."""

    file: str  # the file name as the user gave it
    sheet: str | None  # None for CSV
    number: int  # 1-based row number as in Excel/LibreOffice
    values: tuple[Any, ...]  # str, int, float, bool, date, datetime, time or None; trimmed


def _refuse(name: str, message: str) -> InputError:
    return InputError(f"{name}: {message}", [Problem(message, file=name)])


def _check_file(path: str | os.PathLike[str]) -> tuple[Path, str, str]:
    """The path, its name for messages and its kind ('spreadsheet' or 'csv'); or InputError."""
    file = Path(path)
    name = str(path)
    if not file.exists():
        raise _refuse(name, "file not found")
    if file.is_dir():
        raise _refuse(name, "is a directory, not a file")
    suffix = file.suffix.lower()
    if suffix not in SUPPORTED_EXTENSIONS:
        supported = ", ".join(SUPPORTED_EXTENSIONS)
        raise _refuse(name, f"unsupported file type {suffix or '(none)'!r}; use {supported}")
    try:
        size = file.stat().st_size
    except OSError as error:
        raise _refuse(name, f"cannot be read ({error.strerror})") from None
    if size == 0:
        raise _refuse(name, "is empty")
    return file, name, "spreadsheet" if suffix in SPREADSHEET_EXTENSIONS else "csv"


def _open_workbook(file: Path, name: str) -> Any:
    from python_calamine import CalamineWorkbook

    try:
        return CalamineWorkbook.from_path(str(file))
    except Exception as error:  # calamine raises its own, zip, xml and plain errors
        raise _refuse(name, f"is not a readable spreadsheet ({error})") from None


def _worksheet_names(workbook: Any) -> list[str]:
    from python_calamine import SheetTypeEnum

    try:
        return [m.name for m in workbook.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
    except AttributeError:  # older calamine without metadata
        return list(workbook.sheet_names)


def sheet_names(path: str | os.PathLike[str]) -> list[str]:
    """The worksheet names of a spreadsheet in order; [] for CSV. Raises InputError."""
    file, name, kind = _check_file(path)
    if kind == "csv":
        return []
    workbook = _open_workbook(file, name)
    try:
        return _worksheet_names(workbook)
    finally:
        workbook.close()


def _trim(values: list[Any]) -> tuple[Any, ...]:
    cleaned = [None if value == "" and isinstance(value, str) else value for value in values]
    end = len(cleaned)
    while end and cleaned[end - 1] is None:
        end -= 1
    return tuple(cleaned[:end])


def _spreadsheet_rows(workbook: Any, name: str, sheets: list[str]) -> Iterator[Row]:
    try:
        for sheet in sheets:
            try:
                worksheet = workbook.get_sheet_by_name(sheet)
                # calamine streams rows from row 1, but columns only from the first used one:
                # pad them so index 0 is column A, as the user sees it.
                lead = (None,) * (worksheet.start[1] if worksheet.start else 0)
                rows = worksheet.iter_rows()
            except Exception as error:
                raise _refuse(name, f"sheet {sheet!r} is not readable ({error})") from None
            for number, cells in enumerate(rows, 1):
                values = _trim(cells)
                if values:
                    yield Row(name, sheet, number, (*lead, *values) if lead else values)
            del rows, worksheet
    finally:
        workbook.close()


def iter_rows(
    path: str | os.PathLike[str],
    *,
    sheet: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> Iterator[Row]:
    """Every non-empty row of a table file: each worksheet in order, or only `sheet`.

    Empty rows are skipped but row numbers stay the ones the user sees. Spreadsheet cells keep
    calamine's types (numbers are floats, empty cells None); CSV cells are strings or None,
    with `encoding` and `delimiter` detected unless given. The file is checked before this
    returns. Raises InputError naming the file if it is missing, a directory, empty, of an
    unsupported type, not a readable spreadsheet, undecodable, or has no sheet `sheet`.
    """
    file, name, kind = _check_file(path)
    if kind == "csv":
        csv_rows = iter_csv_rows(file, encoding=encoding, delimiter=delimiter)
        return (Row(name, None, number, values) for number, values in csv_rows)
    workbook = _open_workbook(file, name)
    names = _worksheet_names(workbook)
    if sheet is not None:
        if sheet not in names:
            workbook.close()
            listed = ", ".join(repr(n) for n in names) or "none"
            raise _refuse(name, f"has no sheet {sheet!r}; its sheets are {listed}")
        names = [sheet]
    return _spreadsheet_rows(workbook, name, names)
