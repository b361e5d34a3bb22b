"""Every encoding a Russian office or an old system writes, detected on short files.

The detection table below is the measurement behind io.encoding: short rosters (one to three
rows, English or Russian headers, names in capitals, lower case, with ё and hyphens) in each
single-byte Cyrillic encoding must come out right or be refused as doubtful, never wrong.
"""

from __future__ import annotations

import codecs
import json

import pytest

from diaryadmin.errors import InputError
from diaryadmin.io import iter_rows
from diaryadmin.io.csvfile import detect_encoding
from diaryadmin.io.encoding import (
    EncodingDoubt,
    choose_single_byte,
    looks_like_utf16,
    plausible_name,
)

ROSTER = [
    ["Surname", "Name", "Birth date", "Class"],
    ["Щербаков", "Иван", "14.03.2015", "5А"],
    ["Ёлкина", "Мария", "01.07.2015", "5А"],
    ["Римская-Корсакова", "Юлия", "02.02.2014", "6Б"],
]
SHORT_TEXTS = {
    "english headers": "Surname;Name;Class\nЩербаков;Иван;5А\nЁлкина;Мария;6Б\nЮдин;Пётр;7В\n",
    "russian headers": "Фамилия;Имя;Отчество;Класс\nЩербаков;Иван;Петрович;5А\n",
    "capitals": "SURNAME;NAME\nЩЕРБАКОВ;ИВАН\nЮДИН;ПЁТР\n",
    "lower case": "surname;name\nщербаков;иван\nюдин;пётр\n",
    "one row": "Surname,Name\nЩербаков,Иван\n",
    "hyphens": "Surname;Name\nРимская-Корсакова;Яна\nЭйхе;Эльвира\n",
}
SINGLE_BYTE = ["cp1251", "koi8_r", "cp866", "mac_cyrillic"]


def _csv(path, rows, encoding, bom=b""):
    text = "\r\n".join(";".join(row) for row in rows) + "\r\n"
    path.write_bytes(bom + text.encode(encoding))
    return path


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [
        ("utf-8", b""),
        ("utf-8", codecs.BOM_UTF8),
        ("utf-16-le", codecs.BOM_UTF16_LE),
        ("utf-16-be", codecs.BOM_UTF16_BE),
        ("utf-16-le", b""),
        ("utf-16-be", b""),
        ("cp1251", b""),
        ("koi8_r", b""),
        ("cp866", b""),
        ("mac_cyrillic", b""),
    ],
)
def test_a_short_roster_reads_right_in_every_encoding(tmp_path, encoding, bom):
    path = _csv(tmp_path / "r.csv", ROSTER, encoding, bom)
    rows = [row.values for row in iter_rows(path)]
    assert rows == [tuple(row) for row in ROSTER]


def test_excel_unicode_text_is_utf16_with_tabs(tmp_path):
    path = tmp_path / "r.txt"
    text = "\r\n".join("\t".join(row) for row in ROSTER) + "\r\n"
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    assert [row.values for row in iter_rows(path)] == [tuple(row) for row in ROSTER]


def test_utf16_without_bom_is_recognised_by_its_zero_bytes():
    assert looks_like_utf16("Фамилия\tИмя\r\n".encode("utf-16-le"))
    assert looks_like_utf16("Surname\tName\r\n".encode("utf-16-be"))
    assert not looks_like_utf16("Фамилия;Имя\r\n".encode("cp1251"))
    assert not looks_like_utf16(b"Surname;Name\r\n")


@pytest.mark.parametrize("bom", [codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE])
def test_a_utf16_bom_is_trusted_over_a_short_file_s_other_scripts(tmp_path, bom):
    """csvkit's test_utf16_*.csv (three columns, one 'ʤ'): the BOM's own bytes and one letter
    outside Latin and Cyrillic outvoted the zero-byte pattern in 18 characters, and the
    file was refused as holding NUL bytes."""
    order = "utf-16-le" if bom == codecs.BOM_UTF16_LE else "utf-16-be"
    rows = [["Фамилия", "Имя", "Примечание"], ["Иванов", "Иван", "🎉👍ʤ ✓"]]
    path = _csv(tmp_path / "r.csv", rows, order, bom)
    assert [row.values for row in iter_rows(path)] == [tuple(row) for row in rows]
    assert looks_like_utf16(bom + "a,b,c\n1,2,ʤ".encode(order))
    assert not looks_like_utf16(codecs.BOM_UTF16_LE + b"\0\0\0\0a\0\0\0")  # UTF-32


@pytest.mark.parametrize("encoding", SINGLE_BYTE)
@pytest.mark.parametrize("name", list(SHORT_TEXTS))
def test_short_files_are_detected_right_or_refused_never_wrong(name, encoding):
    text = SHORT_TEXTS[name]
    data = text.encode(encoding)
    try:
        detected = choose_single_byte(data)
    except EncodingDoubt:
        return  # refusing is allowed; the doubt test below checks how it is said
    assert data.decode(detected) == text, (name, encoding, detected)


def test_the_measured_short_files_are_all_detected():
    """The measurement: all 24 short files above are detected, none refused as doubtful
    (charset-normalizer 3.5 gets 14 of the same 24 right: it guesses cp1257, cp932, big5…)."""
    wrong = []
    for name, text in SHORT_TEXTS.items():
        for encoding in SINGLE_BYTE:
            try:
                if choose_single_byte(text.encode(encoding)) != encoding:
                    wrong.append((name, encoding))
            except EncodingDoubt as doubt:
                wrong.append((name, encoding, str(doubt)))
    assert wrong == []


def test_koi8r_with_english_headers_is_not_garbled_on_import(run_cli, workdir):
    path = _csv(workdir / "koi8.csv", ROSTER, "koi8_r")
    result = run_cli("roster", "import", str(path))
    assert result.exit_code == 0, result.output
    listed = json.loads(run_cli("roster", "list", "--format", "json").stdout)
    surnames = {row["surname"] for row in listed}
    assert "Щербаков" in surnames and "Римская-Корсакова" in surnames
    assert not any("гЩЗБОЛПЧ" in s for s in surnames)


def test_a_doubtful_file_is_refused_naming_candidates_and_the_option(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes("a,b\nмама,\n".encode("koi8_r"))
    with pytest.raises(InputError) as caught:
        detect_encoding(path)
    message = str(caught.value)
    assert str(path) in message and "its encoding is unclear" in message
    assert "koi8-r" in message and "cp1251" in message and "--encoding koi8-r" in message
    assert [row.values for row in iter_rows(path, encoding="koi8-r")] == [("a", "b"), ("мама",)]


def test_a_doubtful_file_through_the_cli_says_use_encoding(run_cli, workdir, db_snapshot):
    path = workdir / "r.csv"
    path.write_bytes("a,b\nмама,\n".encode("koi8_r"))
    before = db_snapshot()
    result = run_cli("roster", "import", str(path))
    assert result.exit_code == 1
    assert "its encoding is unclear" in result.stderr and "--encoding" in result.stderr
    assert db_snapshot() == before


def test_explicit_encoding_overrides_detection(tmp_path):
    path = _csv(tmp_path / "r.csv", ROSTER, "cp1251")
    assert detect_encoding(path) == "cp1251"
    rows = [row.values for row in iter_rows(path, encoding="koi8-r")]
    assert rows[1][0] == "Щербаков".encode("cp1251").decode("koi8_r")


def test_utf8_stays_utf8_and_a_bom_is_dropped(tmp_path):
    path = _csv(tmp_path / "r.csv", ROSTER, "utf-8", codecs.BOM_UTF8)
    assert detect_encoding(path) == "utf-8-sig"
    assert next(iter_rows(path)).values[0] == "Surname"


@pytest.mark.parametrize(
    "name",
    [
        "Щербаков",
        "ЩЕРБАКОВ",
        "щербаков",
        "Римская-Корсакова",
        "Иванов И. И.",
        "Иванова Мария Петровна",
        "Ивaнов",  # a Latin a: copy-paste damage the normaliser mends, not a wrong decoding
        "O'Brien",
        "McDonald",
        "Ёлкина",
    ],
)
def test_plausible_names(name):
    assert plausible_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "гЩЗБОЛПЧ",  # KOI8-R read as cp1251
        "Ð©ÐµÑ€Ð±Ð°ÐºÐ¾Ð²",  # UTF-8 read as cp1252
        "ўҐаЎ Є®ў",  # cp1251 read as CP866
        "Щербаков\x00",
        "╔══╗",
        "Иванов5",
        "",
        "   ",
        "Ivanφ",
    ],
)
def test_implausible_names(name):
    assert not plausible_name(name)
