"""Text that gets in and out: the one validator, formula injection in every CSV the toolkit
writes, worksheet names, and characters an xlsx file cannot hold."""

from __future__ import annotations

import csv
import io
import stat
import zipfile
from datetime import date

import openpyxl
import pytest

from diaryadmin.io.cells import cell_text
from diaryadmin.io.oneroster import read_tables, write_tables
from diaryadmin.io.xlsx import safe_text, sheet_title, write_csv, write_xlsx, xml_safe
from diaryadmin.output import render
from diaryadmin.people.text import clean_text

# --- clean_text ----------------------------------------------------------------------------------


def test_clean_text_tidies_what_is_harmless():
    assert clean_text("  Иванов\u00a0 Пётр \t", "name", 100) == "Иванов Пётр"
    assert clean_text("Ива\u200bнов\ufeff", "surname", 100) == "Иванов"
    assert clean_text("Иванов\nПётр", "name", 100) == "Иванов Пётр"
    # a "й" typed as и + combining breve (macOS copy-paste) is one character afterwards
    assert clean_text("Андреи\u0306", "name", 100) == "Андрей"
    assert len(clean_text("Андреи\u0306", "name", 100)) == 6
    assert clean_text(" первая строка \r\nвторая\r", "comment", 100, multiline=True) == (
        "первая строка\nвторая"
    )
    assert clean_text("x" * 100, "id", 100) == "x" * 100


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("Иванов\x07", "surname contains a control character (U+0007)"),
        ("Ива\x00нов", "surname contains a control character (U+0000)"),
        ("Ива\x1bнов", "surname contains a control character (U+001B)"),
        ("Ива\x85нов", None),  # NEL is a line break: tidied, not refused
        ("Ива\x9bнов", "surname contains a control character (U+009B)"),
        ("Иванов\u202etxt.exe", "surname contains a bidirectional override (U+202E)"),
        ("\u202aИванов", "surname contains a bidirectional override (U+202A)"),
        ("Иванов\u2066", "surname contains a bidirectional override (U+2066)"),
        ("Ива\u2069нов", "surname contains a bidirectional override (U+2069)"),
        ("Ива\udc8eнов", "surname contains a broken character"),
        ("Ива\uffffнов", "surname contains a non-character (U+FFFF)"),
    ],
)
def test_clean_text_refuses_what_hides_or_breaks_text(value, message):
    if message is None:
        assert clean_text(value, "surname", 100) == "Ива нов"
        return
    with pytest.raises(ValueError) as caught:
        clean_text(value, "surname", 100)
    assert str(caught.value).startswith(message)


def test_clean_text_refuses_overlong_text_after_tidying():
    assert clean_text("  " + "я" * 100 + "  ", "name", 100) == "я" * 100
    with pytest.raises(ValueError, match=r"^name is too long \(10000 characters; at most 100\)$"):
        clean_text("я" * 10_000, "name", 100)
    with pytest.raises(ValueError, match="control character"):
        clean_text("line\x0bbreak", "topic", 1000, multiline=True)


# --- formula injection ---------------------------------------------------------------------------

FORMULAS = [
    "=SUM(A1)",
    '=HYPERLINK("http://evil.example","x")',
    "@SUM(1)",
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "+A1",
    "-1+1",
    "\t=1",
    "\r=1",
]
PLAIN = ["+79123456789", "+7 (912) 345-67-89", "-5", "-3.5", "-", "+", "Иванов", "a=b", "5-А"]


@pytest.mark.parametrize("value", FORMULAS)
def test_safe_text_defuses_what_could_run_and_round_trips(value):
    assert safe_text(value) == "'" + value
    assert cell_text(safe_text(value)) == value


@pytest.mark.parametrize("value", PLAIN)
def test_safe_text_leaves_phones_and_numbers_alone(value):
    assert safe_text(value) == value


def test_csv_on_stdout_is_defused_and_phones_have_no_apostrophe():
    rows = [{"login": "=cmd|' /C calc'!A0", "phone": "+79123456789", "n": -5, "note": "@x"}]
    text = render(rows, ["login", "phone", "n", "note"], "csv")
    header, row = list(csv.reader(io.StringIO(text)))
    assert row == ["'=cmd|' /C calc'!A0", "+79123456789", "-5", "'@x"]
    assert "'=" not in render(rows, ["login"], "json")  # JSON is data, not a spreadsheet


def test_written_csv_and_oneroster_are_defused_and_private(tmp_path):
    write_csv(tmp_path / "out.csv", ["a", "b"], [["=1+1", "+7 912 345-67-89"]])
    with open(tmp_path / "out.csv", encoding="utf-8-sig", newline="") as stream:
        assert list(csv.reader(stream, delimiter=";"))[1] == ["'=1+1", "+7 912 345-67-89"]
    assert stat.S_IMODE((tmp_path / "out.csv").stat().st_mode) == 0o600
    tables = [("users", ["sourcedId", "phone"], [["=1+1", "+79123456789"]])]
    write_tables(tmp_path / "or", tables)
    raw = (tmp_path / "or" / "users.csv").read_text(encoding="utf-8")
    assert raw.splitlines()[1] == "'=1+1,+79123456789"
    assert stat.S_IMODE((tmp_path / "or" / "users.csv").stat().st_mode) == 0o600
    # and the OneRoster reader takes the apostrophe off again
    assert read_tables(tmp_path / "or")["users"].rows[0][1]["sourcedId"] == "=1+1"
    write_tables(tmp_path / "or.zip", tables)
    with zipfile.ZipFile(tmp_path / "or.zip") as archive:
        assert archive.read("users.csv").decode().splitlines()[1] == "'=1+1,+79123456789"


# --- worksheet names and xlsx content ------------------------------------------------------------


def test_sheet_titles_are_accepted_by_excel_and_not_cut_mid_word():
    used: set[str] = set()
    assert sheet_title("Мате\x01мати\u202eка", used) == "Математика"
    assert sheet_title("5А: [итоги]/*?\\", used) == "5А_ _итоги_____"
    assert sheet_title("'цитата'", used) == "цитата"
    assert sheet_title("\x00\x01", used) == "Лист"
    assert sheet_title("History", used) == "History_"
    long = "Основы безопасности жизнедеятельности"
    title = sheet_title(long, used)
    assert title == "Основы безопасности"
    assert len(title) <= 31 and long.startswith(title)
    again = sheet_title(long, used)
    assert again == "Основы безопасности~2"
    lessons = sheet_title(long, used, suffix=" (темы)")
    assert lessons == "Основы безопасности (темы)" and len(lessons) <= 31
    one_word = sheet_title("Естественнонаучнаяграмотностьиметапредметность", used)
    assert len(one_word) == 31  # no word boundary near: cut at the limit
    assert sheet_title("математика", used) == "математика~2"  # Excel ignores case


def test_xlsx_with_control_characters_opens(tmp_path):
    path = tmp_path / "out.xlsx"
    write_xlsx(
        path, [("Пред\x01мет\u202e", ["Тема"], [["До\x02ля\x0b"], ["=1+1"], [date(2026, 9, 1)]])]
    )
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ["Предмет"]
    sheet = workbook.active
    assert sheet["A2"].value == "Доля" and sheet["A3"].value == "=1+1"
    assert sheet["A3"].data_type == "s"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert xml_safe("a\x00b\tc\nd\ufffe") == "ab\tc\nd"
