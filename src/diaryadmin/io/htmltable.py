"""Reading the HTML table that web systems save with an `.xls` name.

Only a simple table is read: one `<table>` (no tables inside tables), no cells merged across
rows; a cell merged across columns keeps its text in the first. The stdlib HTMLParser resolves
no external entities and builds no tree, so a hostile page costs no more than its size.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

from diaryadmin.config import ReadLimits
from diaryadmin.i18n import N_, _, ngettext
from diaryadmin.io.encoding import EncodingDoubt, choose_single_byte
from diaryadmin.io.limits import over_limit, refuse

_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w-]+)""", re.I)


class _NotSimple(Exception):
    pass


class _TableParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables = 0
        self.depth = 0
        self.rows: list[list[str | None]] = []
        self.row: list[str | None] | None = None
        self.cell: list[str] | None = None
        self.span = 1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.depth += 1
            self.tables += 1
            if self.depth > 1:
                raise _NotSimple(N_("it holds tables inside a table"))
        elif tag == "tr" and self.depth:
            self._end_row()
            self.row = []
        elif tag in ("td", "th") and self.depth:
            if self.row is None:
                self.row = []
            self._end_cell()
            values = dict(attrs)
            if _span(values.get("rowspan")) > 1:
                raise _NotSimple(N_("it has cells merged across rows"))
            self.span = _span(values.get("colspan"))
            self.cell = []
        elif tag == "br" and self.cell is not None:
            self.cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self._end_cell()
        elif tag == "tr":
            self._end_row()
        elif tag == "table" and self.depth:
            self._end_row()
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)

    def _end_cell(self) -> None:
        if self.cell is not None and self.row is not None:
            text = " ".join("".join(self.cell).split())
            self.row.extend([text or None] + [None] * (self.span - 1))
        self.cell = None
        self.span = 1

    def _end_row(self) -> None:
        self._end_cell()
        if self.row is not None:
            self.rows.append(self.row)
        self.row = None


def _span(value: str | None) -> int:
    try:
        return max(1, min(int(value or 1), 1024))
    except ValueError:
        return 1


def _decode(data: bytes, name: str, encoding: str | None) -> str:
    if encoding is None and (match := _CHARSET.search(data[:4096])):
        encoding = match.group(1).decode("ascii").lower()
    try:
        if encoding:
            return data.decode(encoding)
    except (LookupError, UnicodeDecodeError):
        raise refuse(
            name, _("is an HTML page that cannot be read as {encoding}").format(encoding=encoding)
        ) from None
    for candidate in ("utf-8-sig",):
        try:
            return data.decode(candidate)
        except UnicodeDecodeError:
            pass
    try:
        return data.decode(choose_single_byte(data))
    except EncodingDoubt as doubt:
        options = " or ".join(f"--encoding {e}" for e, _ in doubt.candidates)
        raise refuse(
            name,
            _("is an HTML page whose encoding is unclear; use {options}").format(options=options),
        ) from None


def iter_html_rows(
    path: Path, name: str, limits: ReadLimits, encoding: str | None = None
) -> Iterator[tuple[int, tuple[str | None, ...]]]:
    """(row number, values) of each non-empty row of the one table in an HTML page.

    Raises InputError naming the file if the page holds no table, several, or one that is
    not simple (tables inside it, cells merged across rows), or more rows than `limits` allow.
    """
    text = _decode(path.read_bytes(), name, encoding)
    parser = _TableParser()
    try:
        parser.feed(text)
        parser.close()
    except _NotSimple as reason:
        raise refuse(
            name,
            _(
                "is an HTML page, not a simple table ({reason}); "
                "open it in Excel or LibreOffice and save it as .xlsx"
            ).format(reason=_(str(reason))),
        ) from None
    parser._end_row()
    if parser.tables == 0 or not parser.rows:
        raise refuse(name, _("is an HTML page without a table, not a spreadsheet"))
    if parser.tables > 1:
        raise refuse(
            name,
            ngettext(
                "is an HTML page with {count} table; "
                "open it in Excel or LibreOffice and save it as .xlsx",
                "is an HTML page with {count} tables; "
                "open it in Excel or LibreOffice and save it as .xlsx",
                parser.tables,
            ).format(count=parser.tables),
        )
    if len(parser.rows) > limits.max_rows:
        raise over_limit(name, _("the number of rows"), len(parser.rows), "max_rows", limits)
    rows = []
    for number, values in enumerate(parser.rows, 1):
        end = len(values)
        while end and values[end - 1] is None:
            end -= 1
        if end:
            rows.append((number, tuple(values[:end])))
    return iter(rows)
