"""The applications report as a workbook that prints: the decisions sheet (landscape, as wide
as the page, headers on every page, columns wide enough for their dates, long text wrapped)
and the refusal letters, each on its own A4 page."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from diaryadmin.i18n import N_, _
from diaryadmin.io.files import atomic_output
from diaryadmin.io.xlsx import save_workbook, sheet_title, write_only_workbook, xml_safe

# (header, width in characters, wrapped): widths that fit what the cells hold, so no date
# shows as `###` and long text wraps inside its column instead of running off the page.
COLUMN_LAYOUT = (
    (N_("ID"), 6, False),
    (N_("Application number"), 13, True),
    (N_("Application date"), 11, False),
    (N_("Applicant"), 22, True),
    (N_("Relation"), 13, True),
    (N_("Child"), 22, True),
    (N_("Child's date of birth"), 11, False),
    (N_("Decision"), 12, True),
    (N_("Status"), 9, False),
    (N_("Reason codes"), 22, True),
    (N_("Reasons"), 42, True),
    (N_("Decided by"), 11, True),
    (N_("Decided at"), 16, False),
    # The letters print on a sheet of their own; here the text stays on one line.
    (N_("Refusal letter text"), 60, False),
)
SHEET = N_("Applications")
LETTERS_SHEET = N_("Refusal letters")
# Characters: a letter's line on an A4 page in portrait at full size, in Calibri or in the
# wider DejaVu Sans LibreOffice uses without it. Not "fit to page": that would drop the page
# breaks between the letters.
LETTER_WIDTH = 70


LETTER_COLUMN = len(COLUMN_LAYOUT) - 1  # the letter's text: printed on the letters sheet
_DATE_FORMAT = "DD.MM.YYYY"
_DATETIME_FORMAT = "DD.MM.YYYY HH:MM"
_LINE_HEIGHT = 15  # points, a line of the default font
# Characters of a wrapped line per character of column width, with room to spare: a
# spreadsheet without Calibri draws the text in a wider font.
_FILL = 0.8


def lines_of(text: str, width: float) -> int:
    """How many lines `text` takes wrapped in a column `width` characters wide."""
    per_line = max(1, int(width * _FILL))
    return sum(max(1, -(-len(part) // per_line)) for part in text.split("\n"))


def row_height(values: Sequence[Any]) -> float | None:
    """The height (points) a row of the decisions sheet needs for its wrapped cells; None
    for one line. Spreadsheets do not all fit row heights to wrapped text on opening."""
    lines = max(
        (
            lines_of(value, width)
            for value, (_text, width, wrap) in zip(values, COLUMN_LAYOUT, strict=False)
            if wrap and isinstance(value, str)
        ),
        default=1,
    )
    return lines * _LINE_HEIGHT if lines > 1 else None


def _landscape(sheet: Any, columns: int) -> None:
    from openpyxl.utils import get_column_letter

    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = "9"  # A4
    # Two pages wide at about full size (one would shrink the text to 60 %): each page has
    # the application's ID and number and the header; the right half follows the left.
    sheet.page_setup.fitToWidth = 2
    sheet.page_setup.fitToHeight = 0  # as many pages down as the rows need
    sheet.page_setup.pageOrder = "overThenDown"
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "1:1"
    sheet.print_title_cols = "A:B"
    sheet.print_area = f"A1:{get_column_letter(columns)}1048576"  # the letters print apart
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.page_margins.top = sheet.page_margins.bottom = 0.5


def _portrait(sheet: Any) -> None:
    sheet.page_setup.orientation = "portrait"
    sheet.page_setup.paperSize = "9"  # A4
    sheet.page_margins.left = 0.8
    sheet.page_margins.right = 0.5


def write_book(
    path: str | os.PathLike[str],
    rows: Iterable[Sequence[Any]],
    *,
    overwrite: bool = False,
    mode: int = 0o600,
) -> int:
    """Write the report's rows (`report.report_rows`) and their refusal letters to `path`;
    returns the row count. Headers and sheet names come in the current language."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.pagebreak import Break

    bold = Font(bold=True)
    top = Alignment(vertical="top")
    wrapped = Alignment(vertical="top", wrap_text=True)
    count = 0
    with atomic_output(path, mode, overwrite) as stream, write_only_workbook(path) as book:
        used: set[str] = set()
        sheet = book.create_sheet(sheet_title(_(SHEET), used))
        letters = book.create_sheet(sheet_title(_(LETTERS_SHEET), used))
        for index, (_header, width, _wrap) in enumerate(COLUMN_LAYOUT, 1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        letters.column_dimensions["A"].width = LETTER_WIDTH
        sheet.freeze_panes = "A2"
        _landscape(sheet, LETTER_COLUMN)
        _portrait(letters)

        def cell(target: Any, value: Any, wrap: bool) -> Any:
            if isinstance(value, str):
                result = WriteOnlyCell(target, value=xml_safe(value))
                result.data_type = "s"  # text, never a formula
            else:
                result = WriteOnlyCell(target, value=value)
                if isinstance(value, datetime):
                    result.number_format = _DATETIME_FORMAT
                elif isinstance(value, date):
                    result.number_format = _DATE_FORMAT
            result.alignment = wrapped if wrap else top
            return result

        header = []
        for text, _width, _wrap in COLUMN_LAYOUT:
            header_cell = cell(sheet, _(text), True)
            header_cell.font = bold
            header.append(header_cell)
        titles = [_(text) for text, _width, _wrap in COLUMN_LAYOUT]
        sheet.row_dimensions[1].height = row_height(titles)
        sheet.append(header)
        letter_rows = 0
        for row in rows:
            count += 1
            sheet.row_dimensions[count + 1].height = row_height(row)
            sheet.append(
                [
                    cell(sheet, value, wrap)
                    for value, (_text, _width, wrap) in zip(row, COLUMN_LAYOUT, strict=True)
                ]
            )
            letter = row[LETTER_COLUMN]
            if not letter:
                continue
            if letter_rows:
                letters.row_breaks.append(Break(id=letter_rows))  # the next letter: a new page
            for line in letter.split("\n"):
                letter_rows += 1
                if lines_of(line, LETTER_WIDTH) > 1:
                    letters.row_dimensions[letter_rows].height = (
                        lines_of(line, LETTER_WIDTH) * _LINE_HEIGHT
                    )
                letters.append([cell(letters, line or None, True)])
        if not letter_rows:
            letters.append(
                [
                    cell(
                        letters,
                        _("No application was rejected: there are no refusal letters."),
                        True,
                    )
                ]
            )
        save_workbook(book, stream)
    return count
