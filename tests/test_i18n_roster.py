"""Roster and reader messages in Russian (and English left English), and `roster list --class`
for a class that does not exist."""

from __future__ import annotations

import json
from datetime import date

import pytest

from helpers.roster import HEADER, write_csv, write_xlsx

RU = {"DIARYADMIN_LANG": "ru"}
IVANOV = ["S1", "Иванов", "Пётр", "Сергеевич", date(2015, 3, 14), "5А"]


def test_list_of_a_class_that_does_not_exist_says_so(run_cli, workdir):
    path = write_xlsx(workdir / "r.xlsx", [HEADER, IVANOV])
    assert run_cli("roster", "import", str(path)).exit_code == 0
    unknown = run_cli("roster", "list", "--class", "5Г")
    assert unknown.exit_code == 1
    assert "No class 5Г on the roster." in unknown.stderr
    assert run_cli("roster", "list", "--class", "5 а").exit_code == 0  # exists, spelt loosely
    ru = run_cli("roster", "list", "--class", "5Г", env=RU)
    assert ru.exit_code == 1 and "Класса 5Г нет в списке учеников." in ru.stderr
    export = run_cli("roster", "export", str(workdir / "5Г.xlsx"), "--class", "5Г")
    assert export.exit_code == 1 and "No class 5Г on the roster." in export.stderr
    assert not (workdir / "5Г.xlsx").exists()


BAD_ROWS = [
    HEADER + ["ФИО матери", "Телефон матери"],
    ["S1", "Ив4нов", "Пётр", "Сергеевич", "31.02.2015", "5А", "Иванова Мария", "123"],
    ["S2", "Петрова", None, "Игоревна", "01.07.2015", "15Б", None, None],
]


def test_row_problems_read_as_russian_sentences_with_their_place(run_cli, workdir):
    path = write_xlsx(workdir / "5А.xlsx", BAD_ROWS, sheet="5А")
    result = run_cli("roster", "import", str(path), env=RU)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert "5 ошибок в списке учеников; ничего не импортировано" in lines[0]
    place = f"Файл {path}, лист «5А», строка 2, столбец"
    assert f"  {place} «Фамилия» («Ив4нов»): в фамилии недопустимые знаки (можно только " \
        "буквы, дефисы и апострофы)" in lines  # fmt: skip
    assert f"  {place} «Дата рождения» («31.02.2015»): такой даты не существует" in lines
    assert f"  {place} «Телефон матери» («123»): это не российский номер " \
        "телефона (нужно вида 8 912 345-67-89)" in lines  # fmt: skip
    assert f"  Файл {path}, лист «5А», строка 3, столбец «Имя»: не указано имя" in lines
    assert f"  Файл {path}, лист «5А», строка 3, столбец «Класс» («15Б»): номер класса 15 " \
        "— не от 1 до 11" in lines  # fmt: skip


def test_the_same_problems_stay_english_in_an_english_run(run_cli, workdir):
    path = write_xlsx(workdir / "5A.xlsx", BAD_ROWS, sheet="5А")
    result = run_cli("roster", "import", str(path), env={"DIARYADMIN_LANG": "en"})
    assert "5 problems in the roster; nothing was imported" in result.stderr
    assert (
        f"  {path}, sheet '5А', row 2, column 'Фамилия' ('Ив4нов'): the surname is not a name "
        "(letters, hyphens and apostrophes only)"
    ) in result.stderr.splitlines()
    assert "row 3, column 'Имя': the name is missing" in result.stderr
    assert "ошиб" not in result.stderr and "Файл" not in result.stderr


def test_json_keeps_english_keys_and_gives_the_message_in_russian(run_cli, workdir):
    path = write_csv(workdir / "r.csv", [HEADER, ["S1", "Иванов", None, None, "14.03.2015", "5А"]])
    result = run_cli("--format", "json", "roster", "import", str(path), env=RU)
    [error] = json.loads(result.stdout)["errors"]
    assert error == {
        "file": str(path),
        "sheet": None,
        "row": 2,
        "column": "Имя",
        "value": None,
        "message": "не указано имя",
    }


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (1, "1 ошибка в списке учеников"),
        (2, "2 ошибки в списке учеников"),
        (5, "5 ошибок в списке учеников"),
        (11, "11 ошибок в списке учеников"),
        (21, "21 ошибка в списке учеников"),
    ],
)
def test_the_count_of_problems_has_the_russian_plural(run_cli, workdir, count, expected):
    rows = [HEADER] + [[f"S{n}", "Иванов", "Пётр", None, "31.02.2015", "5А"] for n in range(count)]
    result = run_cli("roster", "import", str(write_csv(workdir / "r.csv", rows)), env=RU)
    assert result.stderr.splitlines()[0].endswith(f"{expected}; ничего не импортировано")
    english = run_cli("roster", "import", str(workdir / "r.csv"))
    noun = "problem" if count == 1 else "problems"
    assert f"{count} {noun} in the roster; nothing was imported" in english.stderr


def test_a_refused_file_is_one_russian_sentence_even_from_the_sandboxed_reader(run_cli, workdir):
    page = "<html><body><table><tr><td>a</td></tr></table><table><tr><td>b</td></tr></table>"
    (workdir / "web.xls").write_text(page, encoding="utf-8")
    (workdir / "empty.csv").write_bytes(b"")
    result = run_cli("roster", "import", "web.xls", "empty.csv", env=RU)
    assert result.exit_code == 1
    assert (
        "  Файл web.xls: это страница HTML с 2 таблицами; откройте его в Excel или LibreOffice "
        "и сохраните как .xlsx"
    ) in result.stderr.splitlines()
    assert "  Файл empty.csv: пустой" in result.stderr.splitlines()
    english = run_cli("roster", "import", "web.xls")
    assert "web.xls: is an HTML page with 2 tables; open it in Excel" in english.stderr


def test_a_missing_header_names_the_columns_with_a_plural(run_cli, workdir):
    path = write_csv(
        workdir / "r.csv", [["ID", "Фамилия", "Имя", "Класс"], ["S1", "Ив", "П", "5А"]]
    )
    result = run_cli("roster", "import", str(path), env=RU)
    assert "нет обязательного столбца: Дата рождения; есть столбцы: ID, Фамилия, Имя, Класс" in (
        result.stderr
    )
    english = run_cli("roster", "import", str(path))
    assert (
        "missing required column: Дата рождения; found: ID, Фамилия, Имя, Класс" in english.stderr
    )


def test_the_roster_commands_help_is_russian(run_cli):
    ru = run_cli("roster", "import", "--help", env=RU)
    assert "списки классов" in ru.stdout and "Код школы" in ru.stdout
    assert "diaryadmin roster import 5A.csv --class 5А --dry-run" in ru.stdout
    assert "School code" not in ru.stdout
    assert "School code (default: the only one)." in run_cli("roster", "import", "--help").stdout


def test_quoting_and_numbers_follow_the_language():
    from diaryadmin import i18n
    from diaryadmin.errors import Problem, quoted
    from diaryadmin.io.limits import grouped

    problem = Problem("x", sheet="Лист1", row=4, value="a\u202eb")
    with i18n.using("en"):  # an earlier CLI run in this process may have chosen Russian
        assert quoted("5А") == "'5А'" and grouped(1048576) == "1,048,576"
        assert str(problem) == "sheet 'Лист1', row 4 ('a\\u202eb'): x"
    with i18n.using("ru"):
        assert quoted("5А") == "«5А»" and grouped(1048576) == "1\u00a0048\u00a0576"
        assert str(problem) == "Лист «Лист1», строка 4 («a\\u202eb»): x"  # escaped, not shown raw
        assert str(Problem("x", column="Класс")) == "Столбец «Класс»: x"


def test_a_renamed_document_is_named_in_russian(run_cli, workdir):
    (workdir / "список.xlsx").write_bytes(b"%PDF-1.7\n" + b"x" * 100)
    result = run_cli("roster", "import", "список.xlsx", env=RU)
    assert (
        "  Файл список.xlsx: не удаётся прочитать ни как таблицу, ни как CSV — это документ PDF"
        in result.stderr.splitlines()
    )
    english = run_cli("roster", "import", "список.xlsx")
    assert "список.xlsx: is not a readable spreadsheet or CSV table: it is a PDF document" in (
        english.stderr
    )
