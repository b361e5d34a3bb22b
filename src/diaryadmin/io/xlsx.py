"""Writing exports: xlsx (every text cell stays text) and CSV (formula-defused text), both
private to their owner by default; worksheet names Excel accepts."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, BinaryIO

from diaryadmin.io.files import atomic_output

# Spreadsheets run a cell starting with `=`, `@`, tab or CR as a formula, and one starting with
# `+` or `-` too unless the rest is a plain number or a phone number: no letter, no cell
# reference, no `|` or `!` (DDE), no `+` (arithmetic), nothing to call.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER_OR_PHONE = re.compile(r"[+-][\d .()\-]*")
_SHEET_TITLE_FORBIDDEN = str.maketrans({c: "_" for c in "[]:*?/\\"})
SHEET_TITLE_LIMIT = 31  # Excel's limit
_RESERVED_TITLES = ("history",)  # Excel keeps "History" for itself
# What XML 1.0 cannot hold (C0 controls but tab, CR, LF; lone surrogates; U+FFFE, U+FFFF):
# openpyxl and xlsxwriter would write a workbook that neither Excel nor LibreOffice opens.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# What nobody should see in a sheet: bidirectional embeddings, overrides and isolates (they
# reorder what a person reads), invisible characters, and what XML cannot hold.
_HIDDEN = "\u202a-\u202e\u2066-\u2069\u200b\u2060\ufeff\ud800-\udfff\ufffe\uffff"
_TITLE_DROPPED = re.compile(f"[\x00-\x1f\x7f-\x9f{_HIDDEN}]")
_CELL_DROPPED = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f{_HIDDEN}]")
_CELL_BREAKS = re.compile("\r\n?|\x85")


def safe_text(value: Any) -> Any:
    """A string that a spreadsheet would run as a formula gets a leading `'`; others as they are.

    `=SUM(A1)`, `@x`, `-2+3+cmd|' /C calc'!A0` are defused; a phone `+79123456789` or a
    number `-5` is not (no stray apostrophe). `cells.cell_text` removes the apostrophe again
    on import, so export → import round-trips.
    """
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    if value[0] in "+-" and _NUMBER_OR_PHONE.fullmatch(value):
        return value
    return "'" + value


def xml_safe(text: str) -> str:
    """`text` without the characters an xlsx file (XML 1.0) cannot hold."""
    return _XML_ILLEGAL.sub("", text)


def cell_safe(text: str) -> str:
    """`text` as a written cell shows it: control characters (but tab and line breaks, which
    become `\\n`), bidirectional overrides and invisible characters dropped. A name with a
    U+202E in it would read backwards, a control character breaks the file's XML.
    """
    return _CELL_BREAKS.sub("\n", _CELL_DROPPED.sub("", text))


def _cut_at_word(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, at the end of a word when one ends in the second half."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    if not text[limit].isalnum():  # the limit falls between words
        return cut.rstrip(" -_.,")
    boundary = max(cut.rfind(c) for c in " -_.,")
    if boundary >= limit // 2:
        head, _space, last = cut[:boundary].rstrip(" -_.,").rpartition(" ")
        # Not ending on a one-letter word ("Изобразительное искусство и").
        return head.rstrip(" -_.,") if head and len(last) == 1 else cut[:boundary].rstrip(" -_.,")
    return cut


def sheet_title(
    title: str,
    used: set[str],
    limit: int = SHEET_TITLE_LIMIT,
    fallback: str = "Лист",
    suffix: str = "",
) -> str:
    """A unique worksheet name Excel accepts, made from `title` and `suffix`; `used`
    (casefolded names) grows.

    Control characters and bidirectional overrides are dropped, `[]:*?/\\` become `_`, the
    title is cut (at a word boundary where one is near) so that it and `suffix` fit `limit`
    characters, the name never starts or ends with an apostrophe, and a repeated name gets
    `~2`, `~3`.
    """
    text = " ".join(_TITLE_DROPPED.sub("", title).translate(_SHEET_TITLE_FORBIDDEN).split())
    text = text.strip("' ") or fallback

    def fit(room: int, tag: str = "") -> str:
        return (_cut_at_word(text, room).strip("' ") or fallback[:room]) + tag + suffix

    base = fit(limit - len(suffix))
    if base.casefold() in _RESERVED_TITLES:
        base += "_"
    candidate, n = base, 1
    while candidate.casefold() in used:
        n += 1
        tag = f"~{n}"
        candidate = fit(limit - len(suffix) - len(tag), tag)  # `Физика~2 (темы)`
    used.add(candidate.casefold())
    return candidate


def write_xlsx(
    path: str | os.PathLike[str],
    sheets: Iterable[tuple[str, Sequence[str], Iterable[Sequence[Any]]]],
    *,
    mode: int = 0o600,
    overwrite: bool = False,
) -> None:
    """Write an xlsx workbook, one (title, header, rows) per sheet.

    The header is bold and frozen; every string is a text cell (so `=SUM(A1)` stays text),
    dates get the `DD.MM.YYYY` format; characters XML cannot hold are dropped. The file
    appears atomically with permissions `mode` (owner only by default: exports hold personal
    data).
    Raises diaryadmin.errors.Refused if `path` exists and `overwrite` is false.
    """
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    bold = Font(bold=True)

    with atomic_output(path, mode, overwrite) as stream, write_only_workbook(path) as workbook:
        used: set[str] = set()

        def cell(sheet: Any, value: Any) -> Any:
            if isinstance(value, str):
                result = WriteOnlyCell(sheet, value=xml_safe(value))
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
            sheet = workbook.create_sheet(title=sheet_title(title, used, fallback="Sheet"))
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
        save_workbook(workbook, stream)


@contextlib.contextmanager
def write_only_workbook(target: str | os.PathLike[str]) -> Iterator[Any]:
    """A write-only openpyxl workbook for `target`, its sheets' parts beside it (see
    `_sheet_parts_beside`). When the block fails (a full disk), every sheet's writer is closed
    and its part removed here: left to the garbage collector, a half-written sheet prints
    "Exception ignored in: <generator object WorksheetWriter.get_stream …>" and a traceback."""
    from openpyxl import Workbook

    with _sheet_parts_beside(Path(target)):
        workbook = Workbook(write_only=True)
        try:
            yield workbook
        except BaseException:
            for sheet in workbook.worksheets:
                rows, writer = getattr(sheet, "_rows", None), getattr(sheet, "_writer", None)
                steps = [rows.close] if rows is not None else []
                steps += [writer.close, writer.cleanup] if writer is not None else []
                for step in steps:  # the rows' generator, then the sheet's file
                    with contextlib.suppress(Exception):
                        step()
            raise


def save_workbook(workbook: Any, stream: BinaryIO) -> None:
    """`workbook.save(stream)`, but the zip archive is closed when a write fails: openpyxl
    leaves that to the garbage collector, whose close then writes to a closed file and prints
    "Exception ignored in: <function ZipFile.__del__ …>" and a traceback."""
    import zipfile

    from openpyxl.writer.excel import ExcelWriter

    archive = zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    try:
        workbook.properties.modified = datetime.now(UTC).replace(tzinfo=None)
        ExcelWriter(workbook, archive).save()
    except BaseException:
        with contextlib.suppress(Exception):
            archive.close()  # it forgets its file even when the close itself fails
        raise


@contextlib.contextmanager
def _sheet_parts_beside(target: Path) -> Iterator[None]:
    """openpyxl's write-only sheets are temporary files in $TMPDIR until the workbook is
    saved: a kill then leaves a sheet (a mail merge's passwords) in /tmp. Here they go next to
    `target` as hidden `.NAME.….tmp` files (mode 0600), like atomic_output's own, which the
    next run for that target removes (staging.recover)."""
    from openpyxl.worksheet import _writer

    def beside(suffix: str = "") -> str:
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        os.close(fd)
        _writer.ALL_TEMP_FILES.append(name)
        return name

    original = _writer.create_temporary_file
    _writer.create_temporary_file = beside
    try:
        yield
    finally:
        _writer.create_temporary_file = original


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
    mode: int = 0o600,
    overwrite: bool = False,
) -> None:
    """Write a CSV file (Excel-friendly by default: UTF-8 with BOM, `;`).

    Strings are defused with `safe_text`, dates written `dd.mm.yyyy`, booleans `да`/`нет`.
    The file appears atomically with permissions `mode` (owner only by default). Raises
    diaryadmin.errors.Refused if `path` exists and `overwrite` is false; UnicodeEncodeError
    if a value cannot be written in `encoding`.
    """
    with atomic_output(path, mode, overwrite) as stream:
        text = io.TextIOWrapper(stream, encoding=encoding, newline="")
        writer = csv.writer(text, delimiter=delimiter)
        writer.writerow([_csv_value(value) for value in header])
        for row in rows:
            writer.writerow([_csv_value(value) for value in row])
        text.flush()
        text.detach()
