"""The real extent of an OpenDocument spreadsheet: repeated rows and columns counted out.

`table:number-rows-repeated` and `table:number-columns-repeated` let a few bytes of
content.xml stand for millions of cells. Empty repetitions are harmless (LibreOffice ends every
sheet with one), but a repeated cell that holds something makes a parser allocate them all.
"""

from __future__ import annotations

import zipfile
from xml.parsers import expat

from diaryadmin.config import ReadLimits
from diaryadmin.errors import quoted
from diaryadmin.i18n import _
from diaryadmin.io.limits import column_letters, grouped, over_limit, refuse

_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_ROWS_REPEATED = f"{_TABLE} number-rows-repeated"
_COLUMNS_REPEATED = f"{_TABLE} number-columns-repeated"
_VALUE_TYPE = f"{_OFFICE} value-type"
_CELLS = (f"{_TABLE} table-cell", f"{_TABLE} covered-table-cell")


class _Hostile(Exception):
    pass


def _count(value: str | None) -> int:
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


def check_ods_extent(archive: zipfile.ZipFile, name: str, limits: ReadLimits) -> None:
    """Refuse an ods whose cells with content reach past the row, column or cell limits.

    Streams content.xml through expat (a DTD or entity declaration is refused), so memory stays
    flat whatever the repetition counts say.
    """
    state = {"row": 0, "col": 0, "rows": 1, "cell": None, "row_end": 0, "last_row": 0, "wide": 0}
    sheet = [""]

    def check() -> None:
        if state["wide"] > limits.max_columns:
            raise over_limit(
                name,
                _("sheet {sheet} has cells in column {letters}: the number of columns").format(
                    sheet=quoted(sheet[0]), letters=column_letters(state["wide"])
                ),
                state["wide"],
                "max_columns",
                limits,
            )
        if state["last_row"] > limits.max_rows:
            raise over_limit(
                name,
                _("sheet {sheet} has cells in row {row}: the number of rows").format(
                    sheet=quoted(sheet[0]), row=grouped(state["last_row"])
                ),
                state["last_row"],
                "max_rows",
                limits,
            )
        cells = state["last_row"] * state["wide"]
        if cells > limits.max_cells:
            raise over_limit(
                name,
                _("sheet {sheet} spans {cells} cells: the number of cells").format(
                    sheet=quoted(sheet[0]), cells=grouped(cells)
                ),
                cells,
                "max_cells",
                limits,
            )

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == f"{_TABLE} table":
            sheet[0] = attrs.get(f"{_TABLE} name", "")
            state.update(row=0, last_row=0, wide=0)
        elif tag == f"{_TABLE} table-row":
            state.update(rows=_count(attrs.get(_ROWS_REPEATED)), col=0, row_end=0)
        elif tag in _CELLS:
            repeat = _count(attrs.get(_COLUMNS_REPEATED))
            state["cell"] = [state["col"] + repeat, _VALUE_TYPE in attrs]
            state["col"] += repeat
        elif tag.startswith(_TEXT) and state["cell"] is not None:
            state["cell"][1] = True

    def end(tag: str) -> None:
        if tag in _CELLS:
            cell_end, filled = state["cell"]
            if filled:
                state["row_end"] = max(state["row_end"], cell_end)
            state["cell"] = None
        elif tag == f"{_TABLE} table-row":
            state["row"] += state["rows"]
            if state["row_end"]:
                state["last_row"] = state["row"]
                state["wide"] = max(state["wide"], state["row_end"])
                check()

    def no_dtd(*_: object) -> None:
        raise _Hostile

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = no_dtd
    parser.EntityDeclHandler = no_dtd
    parser.ExternalEntityRefHandler = no_dtd
    try:
        with archive.open("content.xml") as stream:
            while block := stream.read(1 << 20):
                parser.Parse(block, False)
            parser.Parse(b"", True)
    except KeyError:
        raise refuse(
            name,
            _(
                "is not a readable spreadsheet: damaged, "
                "an OpenDocument spreadsheet without content.xml"
            ),
        ) from None
    except _Hostile:
        raise refuse(
            name, _("part 'content.xml' declares a DTD or entities: a hostile or damaged file")
        ) from None
    except expat.ExpatError as error:
        raise refuse(
            name,
            _(
                "is not a readable spreadsheet: damaged, part 'content.xml' is not valid XML "
                "({error})"
            ).format(error=error),
        ) from None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        raise refuse(
            name,
            _(
                "is not a readable spreadsheet: damaged, part 'content.xml' cannot be unpacked "
                "({error})"
            ).format(error=error),
        ) from None
