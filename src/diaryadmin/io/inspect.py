"""Looking at a table file's container before any parser touches it.

A file is untrusted input: `inspect_file` names what it really is (whatever its extension says)
and refuses, in bounded memory and time, what no parser should be handed: zip bombs, XML with a
DTD (entity expansion, external entities), sheets declared beyond Excel's limits, damaged zip
archives and compound files, encrypted workbooks, documents and images renamed.
"""

from __future__ import annotations

import functools
import re
import zipfile
from pathlib import Path

from diaryadmin.config import ReadLimits
from diaryadmin.errors import quoted
from diaryadmin.i18n import N_, _
from diaryadmin.io.compound import inspect_compound
from diaryadmin.io.limits import (
    EXCEL_COLUMNS,
    EXCEL_ROWS,
    column_letters,
    column_number,
    grouped,
    over_limit,
    refuse,
)
from diaryadmin.io.odsscan import check_ods_extent

# What `inspect_file` answers: the format to read the file as.
XLSX, XLSB, ODS, XLS, TEXT, HTML = "xlsx", "xlsb", "ods", "xls", "text", "html"

_HEAD = 64 * 1024
_SMALL_PART = 16 << 20  # workbook, relationships, content types: never this big
_RATIO_FLOOR = 1 << 20  # parts smaller than this unpacked cannot be a bomb worth the name

_MAGIC = (
    (b"%PDF-", N_("a PDF document")),
    (b"\x89PNG\r\n\x1a\n", N_("a PNG image")),
    (b"\xff\xd8\xff", N_("a JPEG image")),
    (b"GIF8", N_("a GIF image")),
    (b"BM", N_("a BMP image")),
    (b"II*\x00", N_("a TIFF image")),
    (b"MM\x00*", N_("a TIFF image")),
    (b"Rar!", N_("a RAR archive")),
    (b"7z\xbc\xaf\x27\x1c", N_("a 7-Zip archive")),
    (b"\x1f\x8b", N_("a gzip archive")),
    (b"{\\rtf", N_("an RTF document")),
    (b"\x7fELF", N_("a program")),
    (b"MZ", N_("a Windows program")),
)
_ZIP_DOCUMENTS = (
    ("word/", N_("a Word document (.docx)")),
    ("ppt/", N_("a PowerPoint presentation (.pptx)")),
)
_ODF_MIMETYPES = {
    b"application/vnd.oasis.opendocument.text": N_("an OpenDocument text (.odt)"),
    b"application/vnd.oasis.opendocument.presentation": N_("an OpenDocument presentation (.odp)"),
    b"application/vnd.oasis.opendocument.graphics": N_("an OpenDocument drawing (.odg)"),
}


def inspect_file(file: Path, name: str, limits: ReadLimits) -> str:
    """The format to read `file` as (XLSX, XLSB, ODS, XLS, TEXT or HTML), whatever its name.

    Reads at most the file's head, a zip's central directory and small parts, or a compound
    file's header, allocation tables and directory. Raises InputError (one sentence naming the
    file) if it is too big, damaged, encrypted, hostile, or not a table at all.
    """
    status = file.stat()
    # A reader asks several times (sheet names, hidden sheets, formulas, rows): look once.
    return _inspect_once(str(file), status.st_size, status.st_mtime_ns, name, limits)


@functools.lru_cache(maxsize=32)
def _inspect_once(path: str, size: int, _mtime_ns: int, name: str, limits: ReadLimits) -> str:
    file = Path(path)
    if size > limits.max_file_mb << 20:
        raise over_limit(name, _("the file's size"), size >> 20, "max_file_mb", limits)
    with file.open("rb") as stream:
        head = stream.read(_HEAD)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _inspect_zip(file, name, limits)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return inspect_compound(file, name, size)
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise refuse(
                name,
                _("is not a readable spreadsheet or CSV table: it is {what}").format(what=_(what)),
            )
    if head.startswith(b"PK"):
        raise refuse(
            name,
            _(
                "is not a readable spreadsheet: its zip archive is damaged (the first entry is "
                "missing)"
            ),
        )
    return _inspect_text(head, name)


def _inspect_text(head: bytes, name: str) -> str:
    from diaryadmin.io.encoding import looks_like_utf16

    if looks_like_utf16(head):
        return TEXT
    if b"\x00" in head:
        raise refuse(
            name, _("is not a readable spreadsheet or CSV table: it holds NUL bytes (binary data)")
        )
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith(b"<?xml"):
        if b"urn:schemas-microsoft-com:office:spreadsheet" in head:
            raise refuse(
                name,
                _(
                    "is not a readable spreadsheet: it is an Excel 2003 XML spreadsheet; "
                    "open it in Excel or LibreOffice and save it as .xlsx"
                ),
            )
        raise refuse(name, _("is not a readable spreadsheet or CSV table: it is an XML file"))
    if start.startswith((b"<!doctype html", b"<html", b"<table", b"<head", b"<meta", b"<body")):
        return HTML
    return TEXT


def _inspect_zip(file: Path, name: str, limits: ReadLimits) -> str:
    try:
        archive = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise refuse(
            name,
            _("is not a readable spreadsheet: its zip archive is damaged (truncated or corrupt)"),
        ) from None
    with archive:
        entries = archive.infolist()
        _check_entries(entries, name, limits)
        names = {entry.filename for entry in entries}
        kind = _zip_kind(archive, names, name)
        _check_sizes(entries, name, limits)
        for entry in entries:
            if entry.filename.lower().endswith((".xml", ".rels")):
                _check_xml_part(archive, entry, name, read=_is_read(entry.filename, kind))
        if kind == XLSX:
            _check_xlsx_sheets(archive, entries, name, limits)
        elif kind == ODS:
            check_ods_extent(archive, name, limits)
    return kind


def check_archive(archive: zipfile.ZipFile, name: str, limits: ReadLimits) -> None:
    """Refuse a zip archive (of any kind: a OneRoster zip too) whose parts are too many,
    encrypted, too large unpacked, or packed at a zip bomb's ratio."""
    entries = archive.infolist()
    _check_entries(entries, name, limits)
    _check_sizes(entries, name, limits)


def read_member(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, name: str, limits: ReadLimits):
    """A part's bytes, never more than the unpacked-size limit whatever its header claims."""
    limit = limits.max_uncompressed_mb << 20
    data = _read_part(archive, entry, name, limit + 1)
    if len(data) > limit:
        raise over_limit(
            name, _("its unpacked size"), len(data) >> 20, "max_uncompressed_mb", limits
        )
    return data


def _check_entries(entries: list[zipfile.ZipInfo], name: str, limits: ReadLimits) -> None:
    if len(entries) > limits.max_zip_entries:
        raise over_limit(name, _("the number of parts"), len(entries), "max_zip_entries", limits)
    if any(entry.flag_bits & 1 for entry in entries):
        raise refuse(name, _("is password-protected: open it and save it without a password"))


def _check_sizes(entries: list[zipfile.ZipInfo], name: str, limits: ReadLimits) -> None:
    total = sum(entry.file_size for entry in entries)
    if total > limits.max_uncompressed_mb << 20:
        raise over_limit(name, _("its unpacked size"), total >> 20, "max_uncompressed_mb", limits)
    for entry in entries:
        if entry.file_size > _RATIO_FLOOR:
            ratio = entry.file_size // max(entry.compress_size, 1)
            if ratio > limits.max_compression_ratio:
                raise over_limit(
                    name,
                    _(
                        "part {part} unpacks {ratio} times its packed size (a zip bomb?); the ratio"
                    ).format(part=quoted(entry.filename), ratio=grouped(ratio)),
                    ratio,
                    "max_compression_ratio",
                    limits,
                )


def _zip_kind(archive: zipfile.ZipFile, names: set[str], name: str) -> str:
    if "xl/workbook.xml" in names:
        return XLSX
    if "xl/workbook.bin" in names:
        return XLSB
    if "mimetype" in names:
        mimetype = _read_part(archive, archive.getinfo("mimetype"), name, 200).strip()
        if mimetype.startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
            return ODS
        if what := _ODF_MIMETYPES.get(mimetype):
            raise refuse(
                name, _("is not a readable spreadsheet: it is {what}").format(what=_(what))
            )
    if "content.xml" in names and "META-INF/manifest.xml" in names:
        return ODS
    for prefix, what in _ZIP_DOCUMENTS:
        if any(n.startswith(prefix) for n in names):
            raise refuse(
                name, _("is not a readable spreadsheet: it is {what}").format(what=_(what))
            )
    if "[Content_Types].xml" in names:
        raise refuse(
            name, _("is not a readable spreadsheet: it is an Office file without a workbook in it")
        )
    raise refuse(
        name,
        _(
            "is not a readable spreadsheet: it is a zip archive; unpack it and import what is "
            "inside"
        ),
    )


def _read_part(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, name: str, limit: int) -> bytes:
    """At most `limit` bytes of a part: a lying size in the zip cannot make it allocate more."""
    try:
        with archive.open(entry) as stream:
            return stream.read(limit)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as error:
        raise refuse(
            name,
            _(
                "is not a readable spreadsheet: damaged part {part} cannot be unpacked ({error})"
            ).format(part=quoted(entry.filename), error=error),
        ) from None
    except RuntimeError:  # zipfile's "encrypted, password required"
        raise refuse(
            name, _("is password-protected: open it and save it without a password")
        ) from None


_ROOT_START = re.compile(rb"<(?![?!])")
# The parts a reader parses: damaged XML anywhere else (LibreOffice's empty
# Configurations2/accelerator/current.xml, the AppleDouble `__MACOSX/._*` files a Mac's zip
# adds) is not the workbook's damage. A DTD is refused in every part all the same.
_READ_PARTS = {
    XLSX: ("[Content_Types].xml", "_rels/", "xl/"),
    XLSB: ("[Content_Types].xml", "_rels/", "xl/"),
    ODS: ("content.xml", "styles.xml", "META-INF/manifest.xml"),
}


def _is_read(part: str, kind: str) -> bool:
    return part.startswith(_READ_PARTS[kind])


def _check_xml_part(
    archive: zipfile.ZipFile, entry: zipfile.ZipInfo, name: str, *, read: bool = True
) -> None:
    """Refuse a DTD in any XML part: entity expansion (billion laughs, quadratic blowup) and
    external entities live there, and no spreadsheet program writes one. Small parts are also
    parsed with defusedxml, which refuses every entity trick on its own; one that is not
    well-formed is refused only if it is `read` (a part the parser will read)."""
    head = _read_part(archive, entry, name, _HEAD)
    root = _ROOT_START.search(head)
    prolog = head[: root.start()] if root else head
    if b"<!DOCTYPE" in prolog.upper() or b"<!ENTITY" in prolog.upper():
        raise refuse(
            name,
            _(
                "part {part} declares a DTD (entity expansion or external entities): "
                "a hostile or damaged file"
            ).format(part=quoted(entry.filename)),
        )
    if entry.file_size <= _SMALL_PART and not entry.filename.startswith(
        ("xl/worksheets/", "xl/sharedStrings", "content.xml")
    ):
        from defusedxml import DefusedXmlException, ElementTree

        data = _read_part(archive, entry, name, _SMALL_PART)
        try:
            ElementTree.fromstring(data)
        except DefusedXmlException:
            raise refuse(
                name,
                _("part {part} uses entities or a DTD: a hostile or damaged file").format(
                    part=quoted(entry.filename)
                ),
            ) from None
        except ElementTree.ParseError as error:
            if not read:
                return
            raise refuse(
                name,
                _(
                    "is not a readable spreadsheet: damaged part {part} is not valid XML ({error})"
                ).format(part=quoted(entry.filename), error=error),
            ) from None


_DIMENSION = re.compile(
    rb'<(?:\w+:)?dimension\s+ref="\$?([A-Z]+)\$?(\d+)(?::\$?([A-Z]+)\$?(\d+))?"'
)
_CELL_REF = re.compile(rb'<(?:\w+:)?c\s[^>]*?r="([A-Z]{1,4})(\d{1,9})"')
_SCAN_RATIO = 15  # an ordinary sheet packs 5-10 times; more is worth a look at every cell
_SCAN_SIZE = 8 << 20  # small sheets are scanned anyway: it costs next to nothing


def _check_xlsx_sheets(
    archive: zipfile.ZipFile, entries: list[zipfile.ZipInfo], name: str, limits: ReadLimits
) -> None:
    """The declared dimension of every sheet must lie within Excel's limits; sheets that pack
    suspiciously well (or are small) are scanned for the last row and column cells reach."""
    for entry in entries:
        if not (entry.filename.startswith("xl/worksheets/") and entry.filename.endswith(".xml")):
            continue
        head = _read_part(archive, entry, name, 4096)
        if match := _DIMENSION.search(head):
            last_column = column_number(match.group(3) or match.group(1))
            last_row = int(match.group(4) or match.group(2))
            if last_column > EXCEL_COLUMNS or last_row > EXCEL_ROWS:
                ref = (match.group(3) or match.group(1)).decode() + str(last_row)
                raise refuse(
                    name,
                    _(
                        "part {part} declares a sheet reaching {cell}, beyond Excel's "
                        "limits (XFD1048576): a hostile or damaged file"
                    ).format(part=quoted(entry.filename), cell=ref),
                )
        ratio = entry.file_size // max(entry.compress_size, 1)
        if entry.file_size <= _SCAN_SIZE or ratio >= _SCAN_RATIO:
            _scan_cells(archive, entry, name, limits)


def _scan_cells(
    archive: zipfile.ZipFile, entry: zipfile.ZipInfo, name: str, limits: ReadLimits
) -> None:
    """Stream a sheet's XML and refuse it if its cells reach past the row or column limits."""
    last_row = last_column = 0
    try:
        with archive.open(entry) as stream:
            tail = b""
            while block := stream.read(1 << 22):
                data = tail + block
                cut = data.rfind(b"<")
                data, tail = (data[:cut], data[cut:]) if cut > 0 else (data, b"")
                if len(tail) > 4096:
                    tail = b""
                for match in _CELL_REF.finditer(data):
                    last_column = max(last_column, column_number(match.group(1)))
                    last_row = max(last_row, int(match.group(2)))
                if last_column > limits.max_columns:
                    raise over_limit(
                        name,
                        _(
                            "sheet part {part} has cells in column {letters}: the number of columns"
                        ).format(part=quoted(entry.filename), letters=column_letters(last_column)),
                        last_column,
                        "max_columns",
                        limits,
                    )
                if last_row > limits.max_rows:
                    raise over_limit(
                        name,
                        _("sheet part {part} has cells in row {row}: the number of rows").format(
                            part=quoted(entry.filename), row=grouped(last_row)
                        ),
                        last_row,
                        "max_rows",
                        limits,
                    )
                if last_row * last_column > limits.max_cells:
                    what = _(
                        "sheet part {part} spans {rows} rows by {columns} columns: "
                        "the number of cells"
                    ).format(
                        part=quoted(entry.filename),
                        rows=grouped(last_row),
                        columns=grouped(last_column),
                    )
                    raise over_limit(name, what, last_row * last_column, "max_cells", limits)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        raise refuse(
            name,
            _(
                "is not a readable spreadsheet: damaged part {part} cannot be unpacked ({error})"
            ).format(part=quoted(entry.filename), error=error),
        ) from None
