"""Looking inside table files without reading them: hidden sheets, formula cells, row counts."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable
from pathlib import Path

from diaryadmin.config import ReadLimits


def hidden_sheets(path: Path, limits: ReadLimits | None = None) -> set[str]:
    """The names of a spreadsheet's hidden worksheets (none for CSV or an unreadable file)."""
    from diaryadmin.errors import InputError
    from diaryadmin.io.reader import worksheets

    try:
        return {name for name, hidden in worksheets(path, limits=limits) if hidden}
    except InputError:  # iter_rows reports an unreadable file with the same message
        return set()


def formula_cells(path: Path, limits: ReadLimits | None = None) -> dict[str, set[tuple[int, int]]]:
    """(row, 0-based column) of every formula cell by sheet name, for .xlsx/.xlsm files.

    Calamine hands back a formula's cached value (or nothing, if the file was never opened in
    a spreadsheet program), so formulas are found in the sheet XML itself. Only called on
    files whose XML mentions a formula at all, which is a cheap byte search.
    """
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return {}
    from defusedxml import ElementTree

    from diaryadmin.errors import InputError
    from diaryadmin.io.inspect import XLSX, inspect_file

    found: dict[str, set[tuple[int, int]]] = {}
    try:
        # Only what passes the inspection is unpacked (a zip bomb stays packed); the XML is
        # parsed with defusedxml and read in blocks, so memory stays bounded.
        if inspect_file(path, str(path), limits or ReadLimits.from_env()) != XLSX:
            return {}
        with zipfile.ZipFile(path) as archive:
            ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
            rel_ns = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
            book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
            rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
            targets = {r.get("Id"): r.get("Target") for r in rels}
            for sheet in book.iter(f"{ns}sheet"):
                target = targets.get(sheet.get(f"{rel_ns}id"), "")
                member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
                cells = set()
                # In blocks (a 100,000-row sheet is tens of MB of XML); the overlap keeps a
                # cell cut at a block's end whole, and the set drops what is seen twice.
                with archive.open(member) as stream:
                    tail = b""
                    while block := stream.read(1 << 22):
                        data = tail + block
                        tail = data[-_OVERLAP:]
                        if b"<f" not in data and b":f>" not in data and b":f " not in data:
                            continue
                        for match in _FORMULA_CELL.finditer(data):
                            letters, number = match.group(1).decode(), int(match.group(2))
                            column = 0
                            for letter in letters:
                                column = column * 26 + ord(letter) - 64
                            cells.add((number, column - 1))
                if cells:
                    found[sheet.get("name")] = cells
    except (InputError, zipfile.BadZipFile, KeyError, OSError, ValueError, ElementTree.ParseError):
        return {}  # iter_rows reports an unreadable file with a better message
    return found


_OVERLAP = 512
_FORMULA_CELL = re.compile(
    rb'<(?:\w+:)?c r="([A-Z]+)(\d+)"[^>]*?(?<!/)>(?:(?!</(?:\w+:)?c>).){0,200}?<(?:\w+:)?f[\s>/]',
    re.S,
)


def estimate_rows(paths: Iterable[str | Path]) -> int:
    """About how many rows the files hold, for a progress bar (0 when it cannot tell cheaply):
    lines of a CSV, the `<dimension>` of each xlsx sheet."""
    total = 0
    for path in map(Path, paths):
        suffix = path.suffix.lower()
        try:
            if suffix in (".csv", ".tsv", ".txt"):
                with path.open("rb") as stream:
                    total += sum(
                        block.count(b"\n") for block in iter(lambda: stream.read(1 << 20), b"")
                    )
            elif suffix in (".xlsx", ".xlsm"):
                with zipfile.ZipFile(path) as archive:
                    for member in archive.namelist():
                        if member.startswith("xl/worksheets/") and member.endswith(".xml"):
                            with archive.open(member) as stream:
                                head = stream.read(4096)
                            if match := _DIMENSION.search(head):
                                total += min(int(match.group(1) or 1), 1 << 20)
        except (OSError, zipfile.BadZipFile, ValueError, EOFError, RuntimeError):
            continue  # a progress bar is no place to report a broken file
    return total


_DIMENSION = re.compile(rb'<(?:\w+:)?dimension ref="[A-Z]+\d+(?::[A-Z]+(\d+))?"')
