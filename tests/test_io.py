import os
import stat
import zipfile
from datetime import date, datetime

import openpyxl
import pytest

from diaryadmin.errors import InputError, Refused
from diaryadmin.io import (
    Row,
    atomic_output,
    find_header,
    iter_rows,
    match_alias,
    normalise_header,
    safe_text,
    sheet_names,
    write_csv,
    write_xlsx,
)
from diaryadmin.io.cells import cell_text, parse_date
from diaryadmin.io.csvfile import detect_delimiter, detect_encoding

ALIASES = {
    "surname": ["Фамилия", "surname", "last name", "фамилия ученика"],
    "name": ["Имя", "first name", "name"],
    "birth_date": ["Дата рождения", "date of birth", "birth date"],
    "class": ["Класс", "class"],
}


def _roster_xlsx(path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Ученики"
    sheet["A1"] = "Список учащихся МБОУ СОШ № 5"
    sheet.append([])
    sheet.append(["№", "Фамилия ученика:", "Имя*", "Дата рождения", "Класс", "Примечание"])
    sheet.append([1, "Иванов", "Иван", date(2015, 3, 1), "5 А"])
    sheet.append([])
    sheet.append([2, "Петрова", "Алёна", datetime(2014, 12, 31), "5-б", 4.5])
    second = workbook.create_sheet("Учителя")
    second["B2"] = "Учитель"
    second["C3"] = 45000
    workbook.save(path)


def test_xlsx_rows_numbers_and_types(tmp_path):
    path = tmp_path / "roster.xlsx"
    _roster_xlsx(path)
    assert sheet_names(path) == ["Ученики", "Учителя"]
    rows = list(iter_rows(path))
    assert [(r.sheet, r.number) for r in rows] == [
        ("Ученики", 1),
        ("Ученики", 3),
        ("Ученики", 4),
        ("Ученики", 6),
        ("Учителя", 2),
        ("Учителя", 3),
    ]
    assert rows[0] == Row(str(path), "Ученики", 1, ("Список учащихся МБОУ СОШ № 5",))
    assert rows[2].values[1:] == ("Иванов", "Иван", date(2015, 3, 1), "5 А")
    assert cell_text(rows[2].values[0]) == "1"
    assert parse_date(rows[3].values[3]) == date(2014, 12, 31)
    # columns stay where the user sees them even when column A is empty
    assert rows[4].values == (None, "Учитель")
    assert rows[5].values == (None, None, 45000)
    assert parse_date(rows[5].values[2]) == date(2023, 3, 15)


def test_xlsx_one_sheet_and_unknown_sheet(tmp_path):
    path = tmp_path / "roster.xlsx"
    _roster_xlsx(path)
    assert {r.sheet for r in iter_rows(path, sheet="Учителя")} == {"Учителя"}
    with pytest.raises(InputError) as caught:
        iter_rows(path, sheet="Лист1")
    message = str(caught.value)
    assert str(path) in message and "'Лист1'" in message and "'Ученики', 'Учителя'" in message


def test_find_header_below_title_rows(tmp_path):
    path = tmp_path / "roster.xlsx"
    _roster_xlsx(path)
    header, rest = find_header(iter_rows(path), ALIASES, required=["surname", "name", "birth_date"])
    assert header.row.number == 3
    assert header.columns == {"surname": 1, "name": 2, "birth_date": 3, "class": 4}
    assert header.labels["surname"] == "Фамилия ученика:"
    assert header.unknown == ["№", "Примечание"]
    rest = list(rest)
    assert [r.number for r in rest] == [4, 6, 2, 3]  # nothing lost, other sheets follow
    assert header.get(rest[0], "surname") == "Иванов"
    assert header.get(rest[0], "class") == "5 А"
    assert header.get(rest[2], "class") is None  # short row


def test_find_header_english_aliases():
    rows = iter(
        [
            Row("x.csv", None, 1, ("Last name", "First name", "Date of birth")),
            Row("x.csv", None, 2, ("Smith", "Anna", "01.02.2015")),
        ]
    )
    header, rest = find_header(rows, ALIASES, required=["surname", "birth_date"])
    assert header.columns == {"surname": 0, "name": 1, "birth_date": 2}
    assert [r.number for r in rest] == [2]


def test_find_header_missing_required_column():
    rows = iter([Row("r.xlsx", "Лист1", 2, ("Фамилия", "Имя", "Класс"))])
    with pytest.raises(InputError) as caught:
        find_header(rows, ALIASES, required=["surname", "birth_date"])
    message = str(caught.value)
    assert "r.xlsx" in message and "Лист1" in message
    assert "missing required column: Дата рождения" in message


def test_find_header_no_header_at_all():
    rows = iter([Row("r.csv", None, n, ("что-то", n)) for n in range(1, 30)])
    with pytest.raises(InputError) as caught:
        find_header(rows, ALIASES, required=["surname", "name"])
    assert "r.csv" in str(caught.value) and "Фамилия, Имя" in str(caught.value)


def test_find_header_scans_only_one_sheet():
    rows = iter(
        [
            Row("r.xlsx", "A", 1, ("title",)),
            Row("r.xlsx", "B", 1, ("Фамилия", "Имя")),
        ]
    )
    with pytest.raises(InputError):
        find_header(rows, ALIASES, required=["surname"])


def test_normalise_header_and_match_alias():
    assert normalise_header(" Фамилия  ученика:* ") == "фамилия ученика"
    assert normalise_header("«Дата рождения»") == "дата рождения"
    assert normalise_header("Телефон (моб.)") == "телефон моб"
    assert normalise_header("Ёлка") == "елка"
    assert normalise_header(None) == ""
    assert match_alias("ФАМИЛИЯ", ALIASES) == "surname"
    assert match_alias("Отчество", ALIASES) is None


# --- CSV ---------------------------------------------------------------------------------

CSV_TEXT = (
    "Фамилия;Имя;Адрес\r\n"
    'Иванов;Иван;"ул. Ленина; д. 5"\r\n'
    "\r\n"
    'Ёлкина;Алёна;"две\r\nстроки"\r\n'
    "Петров;;\r\n"
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1251", "utf-16"])
def test_csv_encodings(tmp_path, encoding):
    path = tmp_path / "roster.csv"
    path.write_bytes(CSV_TEXT.encode(encoding))
    assert detect_encoding(path) == encoding
    rows = list(iter_rows(path))
    assert rows[0] == Row(str(path), None, 1, ("Фамилия", "Имя", "Адрес"))
    assert rows[1].values == ("Иванов", "Иван", "ул. Ленина; д. 5")
    assert (rows[2].number, rows[2].values) == (4, ("Ёлкина", "Алёна", "две\r\nстроки"))
    assert (rows[3].number, rows[3].values) == (5, ("Петров",))
    assert sheet_names(path) == []


@pytest.mark.parametrize("delimiter", [",", "\t"])
def test_csv_other_delimiters(tmp_path, delimiter):
    path = tmp_path / "roster.txt"
    text = CSV_TEXT.replace(";", delimiter).replace(f"Ленина{delimiter} д", "Ленина, д")
    path.write_text(text, encoding="utf-8")
    rows = list(iter_rows(path))
    assert rows[1].values == ("Иванов", "Иван", "ул. Ленина, д. 5")


def test_csv_semicolons_with_decimal_commas(tmp_path):
    path = tmp_path / "marks.csv"
    path.write_text("Ученик;Среднее;Итог\nИванов;4,5;4,75\nПетров;3,25;3\n", encoding="utf-8")
    assert [r.values for r in iter_rows(path)][1] == ("Иванов", "4,5", "4,75")


def test_detect_delimiter():
    assert detect_delimiter("a;b;c\n1;2;3\n") == ";"
    assert detect_delimiter("a,b,c\n1,2,3\n") == ","
    assert detect_delimiter("a\tb\n1\t2\n") == "\t"
    assert detect_delimiter('Title\na,"b;c;d",e\n1,2,3\n') == ","
    assert detect_delimiter("") == ";"


def test_csv_overrides(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes("a|b\nЖ|З\n".encode("cp1251"))
    rows = list(iter_rows(path, encoding="cp1251", delimiter="|"))
    assert rows[1].values == ("Ж", "З")


def test_csv_utf8_character_across_chunk_boundary(tmp_path, monkeypatch):
    from diaryadmin.io import csvfile

    monkeypatch.setattr(csvfile, "_CHUNK", 3)
    path = tmp_path / "r.csv"
    path.write_text("aЖb;Ж\n", encoding="utf-8")  # Ж is cut between the first two chunks
    assert detect_encoding(path) == "utf-8"


def test_csv_utf8_with_a_late_cp1251_byte(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(b"a;b\n" * 50000 + "Ж;З\n".encode("cp1251"))
    assert detect_encoding(path) == "cp1251"


def test_csv_with_only_a_bom_is_empty(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(b"\xef\xbb\xbf")
    with pytest.raises(InputError, match="is empty"):
        list(iter_rows(path))


def test_csv_wrong_explicit_encoding(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes("Фамилия;Имя\n".encode("cp1251"))
    with pytest.raises(InputError) as caught:
        list(iter_rows(path, encoding="utf-8"))
    assert str(path) in str(caught.value) and "utf-8" in str(caught.value)
    with pytest.raises(InputError, match="unknown encoding"):
        list(iter_rows(path, encoding="klingon"))


# --- ODS and the broken corpus -----------------------------------------------------------

# calamine's ODS parser wants no whitespace between elements, as LibreOffice writes them
ODS_CONTENT = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
    ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
    ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
    '<office:body><office:spreadsheet><table:table table:name="Ученики">'
    '<table:table-row><table:table-cell office:value-type="string">'
    "<text:p>Фамилия</text:p></table:table-cell></table:table-row>"
    '<table:table-row><table:table-cell office:value-type="string">'
    "<text:p>Иванов</text:p></table:table-cell>"
    '<table:table-cell office:value-type="date" office:date-value="2015-03-01">'
    "<text:p>01.03.2015</text:p></table:table-cell></table:table-row>"
    "</table:table></office:spreadsheet></office:body></office:document-content>"
)


ODS_MANIFEST = """<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">
<manifest:file-entry manifest:full-path="/"
 manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>"""


def test_ods(tmp_path):
    path = tmp_path / "roster.ods"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet"
        )
        archive.writestr("content.xml", ODS_CONTENT)
        archive.writestr("META-INF/manifest.xml", ODS_MANIFEST)
    assert sheet_names(path) == ["Ученики"]
    rows = list(iter_rows(path))
    assert rows[1].values == ("Иванов", date(2015, 3, 1))


def _broken(tmp_path, name):
    path = tmp_path / name
    if name == "random.xlsx":
        path.write_bytes(os.urandom(2000))
    elif name == "truncated.xlsx":
        _roster_xlsx(tmp_path / "whole.xlsx")
        data = (tmp_path / "whole.xlsx").read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif name == "letter.xlsx":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("[Content_Types].xml", "<Types/>")
            archive.writestr("word/document.xml", "<w:document/>")
    elif name == "text.xls":
        path.write_text("Фамилия;Имя\n", encoding="utf-8")
    elif name == "empty.xlsx" or name == "empty.csv":
        path.write_bytes(b"")
    elif name == "roster.pdf":
        path.write_bytes(b"%PDF-1.4")
    elif name == "folder.xlsx":
        path.mkdir()
    return path


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("random.xlsx", "is not a readable spreadsheet"),
        ("truncated.xlsx", "is not a readable spreadsheet"),
        ("letter.xlsx", "is not a readable spreadsheet"),
        ("empty.xlsx", "is empty"),
        ("empty.csv", "is empty"),
        ("missing.xlsx", "file not found"),
        ("roster.pdf", "unsupported file type '.pdf'"),
        ("folder.xlsx", "is a directory"),
    ],
)
def test_broken_files_are_refused_with_the_file_name(tmp_path, name, words):
    path = _broken(tmp_path, name)
    for read in (lambda: list(iter_rows(path)), lambda: sheet_names(path)):
        with pytest.raises(InputError) as caught:
            read()
        assert str(path) in str(caught.value)
        assert words in str(caught.value)
        assert caught.value.problems[0].file == str(path)


def test_a_csv_saved_as_xls_is_read_as_csv(tmp_path):
    # Issue 10 reverses the old refusal: web systems export CSV with an .xls name.
    path = _broken(tmp_path, "text.xls")
    assert sheet_names(path) == []
    assert [r.values for r in iter_rows(path)] == [("Фамилия", "Имя")]


def test_unsupported_extension_lists_supported(tmp_path):
    with pytest.raises(InputError, match=r"\.xlsx.*\.ods.*\.csv"):
        iter_rows(_broken(tmp_path, "roster.pdf"))


# --- writing -----------------------------------------------------------------------------


def test_safe_text():
    assert safe_text("=SUM(A1)") == "'=SUM(A1)"
    assert safe_text("+79123456789") == "+79123456789"  # a phone, not a formula (issue 12)
    assert safe_text("-5") == "-5"  # a number, not a formula
    assert safe_text("@x") == "'@x"
    assert safe_text("\tx") == "'\tx"
    assert safe_text("Иванов") == "Иванов"
    assert safe_text(5) == 5
    assert safe_text(None) is None
    for text in ["=1+1", "+7", "-", "@a", "plain"]:
        assert cell_text(safe_text(text)) == text


def test_write_xlsx_keeps_text_as_text(tmp_path):
    path = tmp_path / "out.xlsx"
    write_xlsx(
        path,
        [
            (
                "Ученики",
                ["Фамилия", "Дата рождения", "Балл", "Формула"],
                [["Иванов", date(2015, 3, 1), 4.5, "=SUM(A1)"], ["Петров", None, 5, "+7912"]],
            ),
            ("Пусто", ["a"], []),
        ],
        mode=0o600,
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["out.xlsx"]  # no temp file left
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Ученики"]
    assert sheet["A1"].font.b and sheet.freeze_panes == "A2"
    assert sheet["D2"].value == "=SUM(A1)" and sheet["D2"].data_type == "s"
    assert sheet["B2"].number_format == "DD.MM.YYYY"
    assert sheet["B2"].value == datetime(2015, 3, 1)
    rows = list(iter_rows(path, sheet="Ученики"))
    assert rows[1].values == ("Иванов", date(2015, 3, 1), 4.5, "=SUM(A1)")
    assert rows[2].values == ("Петров", None, 5, "+7912")
    assert sheet_names(path) == ["Ученики", "Пусто"]


def test_write_xlsx_refuses_existing_file(tmp_path):
    path = tmp_path / "out.xlsx"
    path.write_bytes(b"keep me")
    with pytest.raises(Refused, match="--force") as caught:
        write_xlsx(path, [("S", ["a"], [["b"]])])
    assert str(path) in str(caught.value)
    assert path.read_bytes() == b"keep me"
    write_xlsx(path, [("S", ["a"], [["b"]])], overwrite=True)
    assert list(iter_rows(path))[1].values == ("b",)


def test_write_csv_round_trip(tmp_path):
    path = tmp_path / "out.csv"
    write_csv(
        path,
        ["Фамилия", "Дата", "Телефон", "Согласие", "Балл"],
        [
            ['=HYPERLINK("x")', date(2015, 3, 1), "+79123456789", True, 4.5],
            ["Ёлкина", None, "", False, 5],
        ],
        mode=0o640,
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[1] == '"\'=HYPERLINK(""x"")";01.03.2015;+79123456789;да;4.5'
    rows = list(iter_rows(path))
    assert [cell_text(v) for v in rows[1].values] == [
        '=HYPERLINK("x")',
        "01.03.2015",
        "+79123456789",
        "да",
        "4.5",
    ]
    with pytest.raises(Refused):
        write_csv(path, ["a"], [])


def test_atomic_output_leaves_nothing_on_error(tmp_path):
    path = tmp_path / "slips.html"
    with pytest.raises(RuntimeError), atomic_output(path, 0o600) as stream:
        stream.write(b"half")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    with atomic_output(path, 0o600) as stream:
        stream.write(b"<html></html>")
    assert path.read_bytes() == b"<html></html>"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_atomic_output_missing_folder(tmp_path):
    with pytest.raises(Refused, match="does not exist"), atomic_output(tmp_path / "no" / "x.csv"):
        pass
