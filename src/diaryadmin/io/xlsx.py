"""Writing exports: xlsx (every text cell stays text) and CSV (formula-defused text)."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from diaryadmin.io.files import atomic_output

# Spreadsheets run cells starting with these as formulas; our CSV puts an apostrophe first.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_SHEET_TITLE_FORBIDDEN = str.maketrans({c: "_" for c in "[]:*?/\\"})


def safe_text(value: Any) -> Any:
    """A string starting with `= + - @`, tab or CR gets a leading `'`; other values as they are.

    `cells.cell_text` removes that apostrophe again on import, so export → import round-trips.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _sheet_title(title: str, used: set[str]) -> str:
    base = (title.translate(_SHEET_TITLE_FORBIDDEN).strip("'") or "Sheet")[:31]
    candidate, n = base, 1
    while candidate.casefold() in used:
        n += 1
        candidate = f"{base[: 31 - len(str(n)) - 1]}~{n}"
    used.add(candidate.casefold())
    return candidate


def write_xlsx(
    path: str | os.PathLike[str],
    sheets: Iterable[tuple[str, Sequence[str], Iterable[Sequence[Any]]]],
    *,
    mode: int = 0o644,
    overwrite: bool = False,
) -> None:
    """Write an xlsx workbook, one (title, header, rows) per sheet.

    The header is bold and frozen; every string is a text cell (so `=SUM(A1)` stays text),
    dates get the `DD.MM.YYYY` format. The file appears atomically with permissions `mode`.
    Raises diaryadmin.errors.Refused if `path` exists and `overwrite` is false.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    bold = Font(bold=True)

    with atomic_output(path, mode, overwrite) as stream:
        workbook = Workbook(write_only=True)
        used: set[str] = set()

        def cell(sheet: Any, value: Any) -> Any:
            if isinstance(value, str):
                result = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
                result.data_type = "s"
                return result
            if isinstance(value, datetime):
                result = WriteOnlyCell(sheet, value=value)
                result.number_format = "DD.MM.YYYY HH:MM"
                return result
            if isinstance(value, date):
                result = WriteOnlyCell(sheet, value=value)
                result.number_format = "DD.MM.YYYY"
                return result
            if value is None or isinstance(value, bool | int | float):
                return WriteOnlyCell(sheet, value=value)
            return cell(sheet, str(value))

        for title, header, rows in sheets:
            sheet = workbook.create_sheet(title=_sheet_title(title, used))
            sheet.freeze_panes = "A2"
            header_cells = []
            for text in header:
                header_cell = cell(sheet, text)
                header_cell.font = bold
                header_cells.append(header_cell)
            sheet.append(header_cells)
            for row in rows:
                sheet.append([cell(sheet, value) for value in row])
        if not used:
            workbook.create_sheet(title="Sheet")
        workbook.save(stream)


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "да" if value else "нет"
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, int | float):
        return value
    return safe_text(str(value))


def write_csv(
    path: str | os.PathLike[str],
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    encoding: str = "utf-8-sig",
    delimiter: str = ";",
    mode: int = 0o644,
    overwrite: bool = False,
) -> None:
    """Write a CSV file (Excel-friendly by default: UTF-8 with BOM, `;`).

    Strings are defused with `safe_text`, dates written `dd.mm.yyyy`, booleans `да`/`нет`.
    The file appears atomically with permissions `mode`. Raises diaryadmin.errors.Refused
    if `path` exists and `overwrite` is false; UnicodeEncodeError if a value cannot be
    written in `encoding`.
    """
    with atomic_output(path, mode, overwrite) as stream:
        text = io.TextIOWrapper(stream, encoding=encoding, newline="")
        writer = csv.writer(text, delimiter=delimiter)
        writer.writerow([_csv_value(value) for value in header])
        for row in rows:
            writer.writerow([_csv_value(value) for value in row])
        text.flush()
        text.detach()
