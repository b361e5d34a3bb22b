"""A corpus of hostile and broken files, each fed to the real CLI in a memory-capped subprocess.

Every case must end with exit 1, one sentence naming the file and what is wrong, no traceback
or panic text, and the database exactly as it was. The processes run a few at a time (they
are started from this thread, so `preexec_fn` is safe) to keep the whole file fast.
"""

from __future__ import annotations

import io
import json
import os
import resource
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import SECRET, _pg_database, snapshot
from diaryadmin import db
from diaryadmin.cli import cli

DATA = Path(__file__).parent / "data" / "hostile"
MEMORY_CAP = 1 << 30  # the address space of the whole CLI process: peak RSS stays below it
CPU_CAP = 60
AT_ONCE = 4

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006"
CONTENT_TYPES = (
    f'<?xml version="1.0"?><Types xmlns="{PKG}/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/></Types>'
)
WORKBOOK = (
    f'<?xml version="1.0"?><workbook xmlns="{NS}" xmlns:r="{REL}"><sheets>'
    '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
HEADER_ROW = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>Фамилия</t></is></c>'
    '<c r="B1" t="inlineStr"><is><t>Имя</t></is></c></row>'
)

# DTD payloads: entity expansion (billion laughs), one big entity many times (quadratic
# blowup), an external entity (XXE).
LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
        for i in range(1, 10)
    )
    + "]>"
)
QUADRATIC = '<!DOCTYPE q [<!ENTITY a "' + "x" * 50_000 + '">]>'
XXE = '<!DOCTYPE x [<!ENTITY ext SYSTEM "file:///etc/passwd">]>'
REFERENCE = {LAUGHS: "&lol9;", QUADRATIC: "&a;" * 2000, XXE: "&ext;"}


def sheet(rows: str = HEADER_ROW, dimension: str = "") -> str:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    body = f"{dim}<sheetData>{rows}</sheetData>"
    return f'<?xml version="1.0"?><worksheet xmlns="{NS}">{body}</worksheet>'


def xlsx(path: Path, sheet_xml: str | None = None, *, parts=None, **options) -> Path:
    """A minimal xlsx; `parts` replaces or adds parts by name."""
    shared = '<?xml version="1.0"?><sst xmlns="' + NS + '"><si><t>Фамилия</t></si></sst>'
    files = {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": (
            f'<?xml version="1.0"?><Relationships xmlns="{PKG}/relationships">'
            f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": WORKBOOK,
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0"?><Relationships xmlns="{PKG}/relationships">'
            f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": sheet_xml or sheet(),
        "xl/sharedStrings.xml": shared,
        **(parts or {}),
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, **options) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


def with_dtd(part: str, payload: str) -> dict[str, str]:
    """A part of the minimal xlsx with a DTD before its root element and the entity used."""
    use = REFERENCE[payload]
    texts = {
        "xl/sharedStrings.xml": f'<sst xmlns="{NS}"><si><t>{use}</t></si></sst>',
        "xl/workbook.xml": WORKBOOK.replace('name="Sheet1"', f'name="{use}"').split("?>", 1)[1],
        "[Content_Types].xml": CONTENT_TYPES.split("?>", 1)[1].replace(
            "application/xml", f"application/xml{use}"
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{PKG}/relationships"><Relationship Id="rId1" '
            f'Type="{REL}/officeDocument" Target="{use}"/></Relationships>'
        ),
    }
    return {part: '<?xml version="1.0"?>' + payload + texts[part]}


def ods(path: Path, table: str, mimetype="application/vnd.oasis.opendocument.spreadsheet"):
    content = (
        '<?xml version="1.0"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0">'
        f"<office:body><office:spreadsheet>{table}</office:spreadsheet></office:body>"
        "</office:document-content>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", content)
        archive.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0"?><manifest:manifest '
            'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>',
        )
    return path


def ods_cell(text: str, repeat: int = 1) -> str:
    return (
        f'<table:table-cell table:number-columns-repeated="{repeat}" office:value-type="string">'
        f"<text:p>{text}</text:p></table:table-cell>"
    )


# A compound file (.xls) written by hand: header, one FAT sector, one directory sector and a
# workbook stream of BIFF records, so each test can break exactly one thing.
FREE, END, FAT_SECTOR = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD


def _dir_entry(name: str, kind: int, start: int, size: int, child: int = FREE) -> bytes:
    encoded = (name + "\0").encode("utf-16-le")
    return struct.pack(
        "<64sHBBIII16sIQQIII",
        encoded,
        len(encoded),
        kind,
        1,
        FREE,
        FREE,
        child,
        b"",
        0,
        0,
        0,
        start,
        size,
        0,
    )


def compound(
    path: Path,
    *,
    stream: str = "Workbook",
    records: bytes = b"",
    sector_shift: int = 9,
    declared_size: int | None = None,
    loop: bool = False,
    extra: str | None = None,
) -> Path:
    bof = struct.pack("<HHHHHHII", 0x0809, 16, 0x0600, 0x0005, 0, 0, 0, 0)
    body = (bof + records + struct.pack("<HH", 0x000A, 0)).ljust(4096, b"\0")
    n = len(body) // 512
    fat = [FAT_SECTOR, END] + [2 + i + 1 for i in range(n - 1)] + [END]
    if loop:
        fat[2 + n - 1] = 2  # the last sector of the stream points back to its first
    fat_sector = struct.pack(f"<{len(fat)}I", *fat).ljust(512, b"\xff")
    entries = _dir_entry("Root Entry", 5, END, 0, child=1) + _dir_entry(
        stream, 2, 2, declared_size if declared_size is not None else len(body)
    )
    if extra:
        entries += _dir_entry(extra, 2, END, 0)
    directory = entries.ljust(512, b"\0")
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, sector_shift, 6)
        + b"\0" * 6
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, END, 0, END, 0)
        + struct.pack("<109I", 0, *([FREE] * 108))
    )
    path.write_bytes(header + fat_sector + directory + body)
    return path


FILEPASS = struct.pack("<HH", 0x002F, 6) + b"\x01\x00\x01\x00\x02\x00"


def put(path: Path, data: bytes | str) -> Path:
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def truncated(path: Path, source: Path, keep: float = 0.5) -> Path:
    data = source.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def docx(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("word/document.xml", "<w:document/>")
    return path


def png(path: Path) -> Path:
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0\0\0\rIHDR" + os.urandom(200))
    return path


def bomb(path: Path) -> Path:
    rows = HEADER_ROW + " " * (8 << 20)  # 8 MB of blanks pack into a few KB
    return xlsx(path, sheet(rows))


def oneroster_zip(path: Path, users_csv: str) -> Path:
    """A OneRoster zip whose users.csv is `users_csv` (deflated)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("users.csv", users_csv)
    return path


def encrypted_zip(path: Path) -> Path:
    """An xlsx whose entries carry the 'encrypted' flag (a password-protected archive)."""
    data = bytearray(xlsx(path).read_bytes())
    for signature, flags in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = data.find(signature)
        while start >= 0:
            data[start + flags] |= 1
            start = data.find(signature, start + 4)
    path.write_bytes(bytes(data))
    return path


def many_rows(path: Path, count: int) -> Path:
    rows = HEADER_ROW + "".join(
        f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>Иванов</t></is></c>'
        f'<c r="B{i}" t="inlineStr"><is><t>Иван</t></is></c></row>'
        for i in range(2, count + 2)
    )
    return xlsx(path, sheet(rows))


def wide_roster(path: Path) -> Path:
    """A valid roster whose rows also reach column ALL (1000): within every row, column and
    cell limit, but the parser holds 9 million cells (some 300 MB) to read it."""
    head = "".join(
        f'<c r="{c}1" t="inlineStr"><is><t>{t}</t></is></c>'
        for c, t in zip("ABCD", ("Фамилия", "Имя", "Дата рождения", "Класс"), strict=True)
    )
    rows = f'<row r="1">{head}</row>' + "".join(
        f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>Петров</t></is></c>'
        f'<c r="B{i}" t="inlineStr"><is><t>Пётр</t></is></c>'
        f'<c r="C{i}" t="inlineStr"><is><t>01.03.2015</t></is></c>'
        f'<c r="D{i}" t="inlineStr"><is><t>5А</t></is></c><c r="ALL{i}"><v>1</v></c></row>'
        for i in range(2, 9001)
    )
    return xlsx(path, sheet(rows))


def random_text_xlsx(path: Path, megabytes: int) -> Path:
    """A sheet of incompressible text: big unpacked, no bomb."""
    text = os.urandom(megabytes << 19).hex()
    return xlsx(
        path,
        sheet(HEADER_ROW + f'<row r="2"><c r="A2" t="inlineStr"><is><t>{text}</t></is></c></row>'),
    )


def ods_laughs(path: Path) -> Path:
    ods(path, "")
    buffer = io.BytesIO()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            laughs = '<?xml version="1.0"?>' + LAUGHS + "<a>&lol9;</a>"
            target.writestr(info, laughs if info.filename == "content.xml" else source.read(info))
    path.write_bytes(buffer.getvalue())
    return path


ROSTER = "roster"
CASES: dict[str, tuple] = {
    # name: (file maker, expected words, command, extra environment)
    "zip bomb by ratio": (
        lambda p: bomb(p / "bomb.xlsx"),
        ["times its packed size", "DIARYADMIN_MAX_COMPRESSION_RATIO"],
    ),
    "unpacked size over the limit": (
        lambda p: random_text_xlsx(p / "big.xlsx", 2),
        ["its unpacked size", "DIARYADMIN_MAX_UNCOMPRESSED_MB"],
        ROSTER,
        {"DIARYADMIN_MAX_UNCOMPRESSED_MB": "1"},
    ),
    "OneRoster zip bomb by ratio": (
        lambda p: oneroster_zip(p / "oneroster.zip", "sourcedId,role\n" + " " * (64 << 20)),
        ["times its packed size", "DIARYADMIN_MAX_COMPRESSION_RATIO"],
    ),
    "OneRoster zip over the unpacked size": (
        lambda p: oneroster_zip(
            p / "oneroster.zip",
            "sourcedId,role,givenName\n"
            + "".join(f"{i},student,{os.urandom(24).hex()}\n" for i in range(40000)),
        ),
        ["its unpacked size", "DIARYADMIN_MAX_UNCOMPRESSED_MB"],
        ROSTER,
        {"DIARYADMIN_MAX_UNCOMPRESSED_MB": "1"},
    ),
    "too many zip parts": (
        lambda p: xlsx(p / "parts.xlsx", parts={f"xl/media/{i}.bin": "x" for i in range(30)}),
        ["the number of parts (36)", "DIARYADMIN_MAX_ZIP_ENTRIES"],
        ROSTER,
        {"DIARYADMIN_MAX_ZIP_ENTRIES": "20"},
    ),
    "billion laughs in sharedStrings": (
        lambda p: xlsx(p / "laughs.xlsx", parts=with_dtd("xl/sharedStrings.xml", LAUGHS)),
        ["part 'xl/sharedStrings.xml' declares a DTD"],
    ),
    "billion laughs in workbook": (
        lambda p: xlsx(p / "laughs.xlsx", parts=with_dtd("xl/workbook.xml", LAUGHS)),
        ["part 'xl/workbook.xml' declares a DTD"],
    ),
    "billion laughs in content types": (
        lambda p: xlsx(p / "laughs.xlsx", parts=with_dtd("[Content_Types].xml", LAUGHS)),
        ["part '[Content_Types].xml' declares a DTD"],
    ),
    "quadratic blowup in sharedStrings": (
        lambda p: xlsx(p / "quad.xlsx", parts=with_dtd("xl/sharedStrings.xml", QUADRATIC)),
        ["part 'xl/sharedStrings.xml' declares a DTD"],
    ),
    "quadratic blowup in workbook": (
        lambda p: xlsx(p / "quad.xlsx", parts=with_dtd("xl/workbook.xml", QUADRATIC)),
        ["part 'xl/workbook.xml' declares a DTD"],
    ),
    "external entity in sharedStrings": (
        lambda p: xlsx(p / "xxe.xlsx", parts=with_dtd("xl/sharedStrings.xml", XXE)),
        ["part 'xl/sharedStrings.xml' declares a DTD"],
    ),
    "external entity in workbook": (
        lambda p: xlsx(p / "xxe.xlsx", parts=with_dtd("xl/workbook.xml", XXE)),
        ["part 'xl/workbook.xml' declares a DTD"],
    ),
    "external entity in content types": (
        lambda p: xlsx(p / "xxe.xlsx", parts=with_dtd("[Content_Types].xml", XXE)),
        ["part '[Content_Types].xml' declares a DTD"],
    ),
    "external entity in relationships": (
        lambda p: xlsx(p / "xxe.xlsx", parts=with_dtd("_rels/.rels", XXE)),
        ["part '_rels/.rels' declares a DTD"],
    ),
    "dimension beyond Excel": (
        lambda p: xlsx(p / "dim.xlsx", sheet(dimension="A1:XFE16777217")),
        ["declares a sheet reaching XFE16777217, beyond Excel's limits"],
    ),
    "dimension one row beyond Excel": (
        lambda p: xlsx(p / "dim.xlsx", sheet(dimension="A1:B1048577")),
        ["declares a sheet reaching B1048577"],
    ),
    "cells in the last column": (
        lambda p: xlsx(
            p / "xfd.xlsx",
            sheet(
                HEADER_ROW
                + "".join(f'<row r="{i}"><c r="XFD{i}"><v>1</v></c></row>' for i in range(2, 3000))
            ),
        ),
        ["has cells in column XFD", "DIARYADMIN_MAX_COLUMNS"],
    ),
    "rows over the limit": (
        lambda p: many_rows(p / "rows.xlsx", 300),
        ["has cells in row 301", "DIARYADMIN_MAX_ROWS"],
        ROSTER,
        {"DIARYADMIN_MAX_ROWS": "100"},
    ),
    "cells over the limit": (
        lambda p: many_rows(p / "cells.xlsx", 600),
        ["spans 601 rows by 2 columns: the number of cells (1,202)", "DIARYADMIN_MAX_CELLS"],
        ROSTER,
        {"DIARYADMIN_MAX_CELLS": "1000"},
    ),
    "ods with a million repeated rows": (
        lambda p: ods(
            p / "rows.ods",
            '<table:table table:name="5А"><table:table-row table:number-rows-repeated="1000000">'
            + ods_cell("Иванов")
            + "</table:table-row></table:table>",
        ),
        ["sheet '5А' has cells in row 1,000,000", "DIARYADMIN_MAX_ROWS"],
        ROSTER,
        {"DIARYADMIN_MAX_ROWS": "500000"},
    ),
    "ods with repeated rows over the cell limit": (
        lambda p: ods(
            p / "cells.ods",
            '<table:table table:name="5А"><table:table-row table:number-rows-repeated="1048000">'
            + ods_cell("Иванов", 100)
            + "</table:table-row></table:table>",
        ),
        ["spans 104,800,000 cells", "DIARYADMIN_MAX_CELLS"],
    ),
    "ods with repeated columns": (
        lambda p: ods(
            p / "cols.ods",
            '<table:table table:name="5А"><table:table-row>'
            + ods_cell("Иванов", 16384)
            + "</table:table-row></table:table>",
        ),
        ["has cells in column XFD", "DIARYADMIN_MAX_COLUMNS"],
    ),
    "ods with billion laughs": (
        lambda p: ods_laughs(p / "laughs.ods"),
        ["part 'content.xml' declares a DTD"],
    ),
    "odt renamed to ods": (
        lambda p: ods(p / "letter.ods", "", mimetype="application/vnd.oasis.opendocument.text"),
        ["is not a readable spreadsheet: it is an OpenDocument text (.odt)"],
    ),
    "xls with an absurd sector size": (
        lambda p: compound(p / "sector.xls", sector_shift=30),
        ["sector size 2^30", "is not one Excel writes"],
    ),
    "xls truncated": (
        lambda p: truncated(p / "cut.xls", DATA / "base.xls"),
        ["a damaged .xls compound file"],
    ),
    "xls truncated inside its header": (
        lambda p: truncated(p / "cut.xls", DATA / "base.xls", keep=0.05),
        ["truncated inside its header"],
    ),
    "xls with a looping sector chain": (
        lambda p: compound(p / "loop.xls", loop=True),
        ["a sector chain loops or breaks"],
    ),
    "xls whose workbook claims more than the file": (
        lambda p: compound(p / "claims.xls", declared_size=2**31),
        ["its workbook claims 2,147,483,648 bytes"],
    ),
    "encrypted xls": (
        lambda p: compound(p / "secret.xls", records=FILEPASS),
        ["is password-protected: open it and save it without a password"],
    ),
    "encrypted xlsx": (
        lambda p: compound(p / "secret.xlsx", stream="EncryptedPackage", extra="EncryptionInfo"),
        ["is password-protected: open it and save it without a password"],
    ),
    "password-protected zip": (
        lambda p: encrypted_zip(p / "secret.xlsx"),
        ["is password-protected: open it and save it without a password"],
    ),
    "word .doc renamed to xls": (
        lambda p: compound(p / "letter.xls", stream="WordDocument"),
        ["it is a Word document (.doc)"],
    ),
    "truncated xlsx": (
        lambda p: truncated(p / "cut.xlsx", many_rows(p / "whole.xlsx", 200)),
        ["is not a readable spreadsheet: its zip archive is damaged (truncated or corrupt)"],
    ),
    "NUL bytes in a csv": (
        lambda p: put(p / "nul.csv", b"\xd4\xe0\xec\xe8\xeb\xe8\xff;\x00\x00\x00\x01\n"),
        ["holds NUL bytes (binary data)"],
    ),
    "NUL byte in a late csv row": (
        lambda p: put(
            p / "nul.csv",
            "Фамилия;Имя;Дата рождения;Класс\n".encode()
            + b"A;B;01.01.2015;5A\n" * 5000
            + b"C;\x00;x;y\n",
        ),
        ["row 5002 holds a NUL byte"],
    ),
    "random bytes as xls": (
        lambda p: put(p / "noise.xls", b"\x00\x01" + os.urandom(4000)),
        ["holds NUL bytes (binary data)"],
    ),
    "docx renamed to xlsx": (lambda p: docx(p / "letter.xlsx"), ["it is a Word document (.docx)"]),
    "pdf renamed to xlsx": (
        lambda p: put(p / "scan.xlsx", b"%PDF-1.7\n" + os.urandom(500)),
        ["it is a PDF document"],
    ),
    "png renamed to xlsx": (lambda p: png(p / "photo.xlsx"), ["it is a PNG image"]),
    "jpeg renamed to xls": (
        lambda p: put(p / "photo.xls", b"\xff\xd8\xff\xe0" + os.urandom(500)),
        ["it is a JPEG image"],
    ),
    "plain zip renamed to xlsx": (
        lambda p: _plain_zip(p / "archive.xlsx"),
        ["it is a zip archive; unpack it"],
    ),
    "html with nested tables as xls": (
        lambda p: put(
            p / "page.xls",
            "<html><body><table><tr><td><table><tr><td>Фамилия</td></tr></table></td></tr></table>",
        ),
        ["is an HTML page, not a simple table (it holds tables inside a table)"],
    ),
    "html without a table as xls": (
        lambda p: put(p / "page.xls", "<html><body><p>Ошибка 500</p></body></html>"),
        ["is an HTML page without a table"],
    ),
    "excel 2003 xml as xls": (
        lambda p: put(
            p / "old.xls",
            '<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"/>',
        ),
        ["it is an Excel 2003 XML spreadsheet; open it in Excel or LibreOffice and save it as"],
    ),
    "file over the size limit": (
        lambda p: put(p / "big.csv", b"a;b\n" * (600 << 10)),
        ["the file's size (2 MB) exceeds the limit of 1 MB", "DIARYADMIN_MAX_FILE_MB"],
        ROSTER,
        {"DIARYADMIN_MAX_FILE_MB": "1"},
    ),
    "a csv line of two million characters": (
        lambda p: put(p / "line.csv", "Фамилия;".encode() + b"x" * (2 << 20)),
        ["has a line over a million characters long"],
    ),
    "parser needing more memory than the reader may use": (
        lambda p: wide_roster(p / "wide.xlsx"),
        ["needs more memory to read than the limit of 50 MB", "DIARYADMIN_READER_MEMORY_MB"],
        ROSTER,
        {"DIARYADMIN_READER_MEMORY_MB": "50"},
    ),
    "applications import of a zip bomb": (
        lambda p: bomb(p / "applications.xlsx"),
        ["times its packed size"],
        "applications",
    ),
    "journal import of a billion laughs": (
        lambda p: xlsx(p / "journal.xlsx", parts=with_dtd("xl/sharedStrings.xml", LAUGHS)),
        ["declares a DTD"],
        "journal",
    ),
}


def _plain_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("photos/1.txt", "just files")
    return path


def _spec(spec: tuple) -> tuple:
    """(maker, words, command, environment): the last two default to roster and none."""
    make, words, command, extra = (*spec, ROSTER, {})[:4] if len(spec) == 2 else (*spec, {})[:4]
    return make, words, command, extra


COMMANDS = {
    ROSTER: ["roster", "import"],
    "applications": ["applications", "import"],
    "journal": ["journal", "import"],
}


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_CAP, CPU_CAP))


def _seed(url: str, folder: Path) -> None:
    """A school with one pupil, so 'unchanged' means something."""
    roster = folder / "seed.csv"
    roster.write_text(
        "Фамилия;Имя;Дата рождения;Класс\nИванов;Иван;01.03.2015;5А\n", encoding="utf-8"
    )
    result = CliRunner().invoke(
        cli,
        ["--database-url", url, "roster", "import", str(roster)],
        env={"DIARYADMIN_SECRET_KEY": SECRET},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def corpus(_template, tmp_path_factory):
    """Run every case through the CLI; yields (results by case, files, before, after)."""
    folder = tmp_path_factory.mktemp("hostile")
    kind, source = _template
    if kind == "postgresql":
        with _pg_database("diaryadmin_h", template=source) as url:
            yield _run_corpus(url, folder)
    else:
        target = folder / "test.sqlite3"
        target.write_bytes(Path(source).read_bytes())
        yield _run_corpus(f"sqlite:///{target}", folder)


def _run_corpus(url: str, folder: Path):
    _seed(url, folder)
    engine = db.make_engine(url)
    before = snapshot(engine)
    files, results, running = {}, {}, []
    base_env = {
        k: v for k, v in os.environ.items() if not k.startswith("DIARYADMIN_") or k == "PATH"
    }
    work = folder / "work"
    work.mkdir()
    for number, (case, spec) in enumerate(CASES.items()):
        make, _, command, extra = _spec(spec)
        place = folder / f"case{number}"
        place.mkdir()
        files[case] = Path(make(place))
        env = {**base_env, "DIARYADMIN_SECRET_KEY": SECRET, "DIARYADMIN_DATABASE_URL": url, **extra}
        args = [sys.executable, "-m", "diaryadmin", *COMMANDS[command], str(files[case])]
        running.append(
            (
                case,
                subprocess.Popen(
                    args,
                    cwd=work,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    preexec_fn=_cap_memory,
                ),
            )
        )
        if len(running) >= AT_ONCE:
            _collect(running.pop(0), results)
    while running:
        _collect(running.pop(0), results)
    after = snapshot(engine)
    engine.dispose()
    return results, files, before, after


def _collect(item, results) -> None:
    case, process = item
    stdout, stderr = process.communicate(timeout=120)
    results[case] = (process.returncode, stdout.decode(), stderr.decode())


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_file_is_refused_in_one_sentence(corpus, case):
    results, files, _, _ = corpus
    code, stdout, stderr = results[case]
    expected = _spec(CASES[case])[1]
    assert code == 1, (case, code, stderr[-2000:])
    assert str(files[case]) in stderr, (case, stderr)
    for words in expected:
        assert words in stderr, (case, stderr)
    for leak in ("Traceback", "panicked", "RUST_BACKTRACE", "MemoryError", "Killed"):
        assert leak not in stderr and leak not in stdout, (case, stderr)


def test_the_database_is_unchanged_by_every_hostile_file(corpus):
    results, _, before, after = corpus
    assert len(results) == len(CASES) >= 30
    assert before == after
    assert before["students"], "the seed roster is there to be kept"


# The layer's other side: what is not hostile still reads, and the worker's own defences.


def test_real_office_files_pass_the_inspection(tmp_path):
    """A LibreOffice .xls, and an ods ending (as LibreOffice writes it) with a million empty
    repeated rows of 16,384 empty repeated cells, are read, not refused."""
    from diaryadmin.io import iter_rows, sheet_names

    assert sheet_names(DATA / "base.xls") == ["5А", "Скрытый"]
    assert [r.values for r in iter_rows(DATA / "base.xls")][1] == (
        "Иванов",
        "Иван",
        "01.03.2015",
        "5А",
    )
    empty = '<table:table-cell table:number-columns-repeated="16384"/>'
    table = (
        '<table:table table:name="5А"><table:table-row>'
        + ods_cell("Фамилия")
        + ods_cell("Имя")
        + f'{empty}</table:table-row><table:table-row table:number-rows-repeated="1048575">'
        + f"{empty}</table:table-row></table:table>"
    )
    path = ods(tmp_path / "lo.ods", table)
    assert [r.values for r in iter_rows(path)] == [("Фамилия", "Имя")]


def test_damaged_parts_no_reader_reads_do_not_refuse_the_file(run_cli, workdir):
    """LibreOffice writes an empty Configurations2/accelerator/current.xml into its ods files,
    and a Mac's zip adds AppleDouble `__MACOSX/._*` files: neither is XML, neither is read, and
    files carrying them are imported. The same damage in a part the reader reads is refused."""
    row = "".join(ods_cell(text) for text in ("Иванов", "Иван", "01.03.2015", "5А"))
    header = "".join(ods_cell(text) for text in ("Фамилия", "Имя", "Дата рождения", "Класс"))
    table = (
        f'<table:table table:name="5А"><table:table-row>{header}</table:table-row>'
        f"<table:table-row>{row}</table:table-row></table:table>"
    )
    path = ods(workdir / "libreoffice.ods", table)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("Configurations2/accelerator/current.xml", "")
        archive.writestr("__MACOSX/._content.xml", b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X")
    result = run_cli("roster", "import", str(path))
    assert result.exit_code == 0, result.output

    cells = "".join(
        f'<c r="{col}2" t="inlineStr"><is><t>{text}</t></is></c>'
        for col, text in zip("ABCD", ("Петрова", "Анна", "02.04.2015", "5А"), strict=True)
    )
    heads = "".join(
        f'<c r="{col}1" t="inlineStr"><is><t>{text}</t></is></c>'
        for col, text in zip("ABCD", ("Фамилия", "Имя", "Дата рождения", "Класс"), strict=True)
    )
    rows = f'<row r="1">{heads}</row><row r="2">{cells}</row>'
    junk = {"__MACOSX/xl/._sharedStrings.xml": "\x00\x05\x16\x07 Mac OS X"}
    mac = xlsx(workdir / "mac.xlsx", sheet(rows), parts=junk)
    result = run_cli("roster", "import", str(mac))
    assert result.exit_code == 0, result.output
    listed = json.loads(run_cli("roster", "list", "--format", "json").stdout)
    assert {row["surname"] for row in listed} == {"Иванов", "Петрова"}

    broken = xlsx(workdir / "broken.xlsx", sheet(rows), parts={"xl/styles.xml": "<styleSheet"})
    result = run_cli("roster", "import", str(broken))
    assert result.exit_code == 1
    assert "'xl/styles.xml' is not valid XML" in result.output


def test_parser_messages_lose_their_debugging_forms():
    from diaryadmin.io.sandbox import parser_reason

    calamine = ValueError(
        "Expecting 'table-cell', found 'Text(BytesText { content: Borrowed(\"\\n \") })'"
    )
    assert parser_reason(calamine) == "Expecting 'table-cell', found …"
    assert parser_reason(ValueError("Xml error:  unexpected\nend")) == "Xml error: unexpected end"
    assert parser_reason(ValueError('Zip(InvalidArchive("bad"))')) == (
        "damaged, or of a kind it does not know"
    )


def test_csv_and_html_saved_as_xls_are_imported(run_cli, workdir):
    header = ["Фамилия", "Имя", "Дата рождения", "Класс"]
    csv_path = put(
        workdir / "export.xls",
        (";".join(header) + "\nИванов;Иван;01.03.2015;5А\n").encode("cp1251"),
    )
    cells = "".join(f"<th>{h}</th>" for h in header)
    html = (
        '<html><head><meta charset="windows-1251"></head><body><table>'
        f"<tr>{cells}</tr><tr><td>Петрова</td><td>Анна</td><td>02.04.2015</td>"
        "<td>5А</td></tr></table></body></html>"
    )
    html_path = put(workdir / "portal.xls", html.encode("cp1251"))
    for path in (csv_path, html_path):
        result = run_cli("roster", "import", str(path))
        assert result.exit_code == 0, result.output
    listed = json.loads(run_cli("roster", "list", "--format", "json").stdout)
    assert {row["surname"] for row in listed} == {"Иванов", "Петрова"}


class PanicException(BaseException):
    """What pyo3 raises for a Rust panic: a BaseException, named so."""


def _sandbox(task, **limits):
    from diaryadmin.config import ReadLimits
    from diaryadmin.io.sandbox import sandboxed

    return list(sandboxed(task, name="f.xlsx", limits=ReadLimits(**limits)))


def test_sandbox_streams_rows_in_batches():
    rows = [(f"row {i}", i, float(i), None) for i in range(5001)]
    assert _sandbox(lambda: iter(rows)) == rows


@pytest.mark.parametrize(
    ("task", "words"),
    [
        (lambda: (_ for _ in ()).throw(PanicException("index out of bounds")), "the reader failed"),
        (lambda: os.abort(), "the reader failed on it"),
        (lambda: [bytearray(1 << 30)], "needs more memory to read than the limit of 64 MB"),
        (lambda: iter(int, 1), "takes longer to read than the limit of 1 CPU seconds"),
        (lambda: [(object(),)], "the reader failed on it"),
    ],
    ids=["panic", "abort", "memory", "cpu", "unpicklable"],
)
def test_sandbox_turns_every_death_into_one_sentence(task, words, capfd):
    from diaryadmin.errors import InputError

    with pytest.raises(InputError) as caught:
        _sandbox(task, reader_memory_mb=64, reader_seconds=1)
    assert str(caught.value).startswith("f.xlsx: ") and words in str(caught.value)
    assert "index out of bounds" not in str(caught.value)
    assert "Traceback" not in capfd.readouterr().err


def test_sandbox_child_is_gone_when_the_reader_stops_early():
    from diaryadmin.config import ReadLimits
    from diaryadmin.io.sandbox import sandboxed

    def children() -> set[str]:
        return {p for p in os.listdir("/proc") if p.isdigit() and _parent(p) == os.getpid()}

    before = children()
    stream = sandboxed(lambda: iter(lambda: ("row",), None), name="f.xlsx", limits=ReadLimits())
    assert next(stream) == ("row",)
    assert len(children() - before) == 1  # the worker, streaming rows for ever
    stream.close()
    assert children() - before == set()


def _parent(pid: str) -> int:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])
    except OSError:
        return -1


def test_html_tables_are_read_only_when_simple(tmp_path):
    from diaryadmin.errors import InputError
    from diaryadmin.io import iter_rows

    spanned = put(
        tmp_path / "span.xls",
        "<table><tr><th colspan=2>ФИО</th><th>Класс</th></tr>"
        "<tr><td>Иванов</td><td>Иван<br>Петрович</td><td>5А</td></tr></table>",
    )
    assert [r.values for r in iter_rows(spanned)] == [
        ("ФИО", None, "Класс"),
        ("Иванов", "Иван Петрович", "5А"),
    ]
    merged = put(tmp_path / "rows.xls", "<table><tr><td rowspan=2>5А</td><td>x</td></tr></table>")
    two = put(tmp_path / "two.xls", "<table><tr><td>a</td></tr></table>" * 2)
    for path, words in ((merged, "cells merged across rows"), (two, "with 2 tables")):
        with pytest.raises(InputError, match=words):
            list(iter_rows(path))
