"""The one table-reading policy (io.table) as every import meets it: rosters, applications and
journals read hidden sheets, group headings, formulas, footers and unknown columns alike."""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from diaryadmin.applications.read import read_applications
from diaryadmin.config import Settings
from diaryadmin.errors import Problem
from diaryadmin.io import Row
from diaryadmin.io.headers import find_header
from diaryadmin.io.table import FORMULA_MESSAGE, Problems, TableKind, read_tables
from diaryadmin.journal.read import read_journal_file
from diaryadmin.roster.importing import read_roster

SECRET = "test-secret-key-0123456789abcdef"
NOW = datetime(2026, 10, 1, 9, 30)
STUDENT = ["Иванов", "Пётр", "Сергеевич", date(2015, 3, 14), "5А"]
NAMES = ["Фамилия", "Имя", "Отчество", "Дата рождения", "Класс"]
APPLICATION_HEADER = [
    "ФИО заявителя", "Кем приходится", "Серия паспорта", "Номер паспорта", "ФИО ребёнка",
    "Дата рождения ребёнка", "Серия свидетельства", "Номер свидетельства", "Согласие",
]  # fmt: skip
APPLICATION = [
    "Смирнова Елена Игоревна", "мать", "4508", "123456", "Смирнов Артём Олегович",
    "14.03.2015", "XIV-МЮ", "123456", "да",
]  # fmt: skip
LESSON_HEADER = ["Дата", "Урок", "Класс", "Предмет", "ФИО", "Оценка"]


def workbook(path: Path, sheets: dict[str, list[list]], *, hidden=(), merged=None) -> Path:
    """An xlsx with one sheet per entry (rows as given), `hidden` sheets hidden and cell
    ranges merged by sheet."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
        if name in hidden:
            sheet.sheet_state = "hidden"
        for cells in (merged or {}).get(name, ()):
            sheet.merge_cells(cells)
    book.save(path)
    return path


def roster(paths, **options):
    return read_roster(
        [Path(p) for p in paths], settings=Settings(secret_key=SECRET), now=NOW, **options
    )


def applications(path: Path):
    return read_applications([path], Settings(secret_key=SECRET), today=date(2026, 9, 10))


def assert_located(problems: list[Problem]) -> None:
    for problem in problems:
        assert isinstance(problem, Problem) and problem.file and problem.sheet, problem


# ---------------------------------------------------------------- group headings


def test_mother_and_father_headings_over_two_header_rows(tmp_path):
    path = workbook(
        tmp_path / "r.xlsx",
        {
            "5А": [
                ["Список учащихся 5А класса"],
                [None, None, None, None, None, None, "Мать", None, None, "Отец", None],
                ["№ п/п", *NAMES, "ФИО", "Телефон", "E-mail", "ФИО", "Телефон"],
                [1, *STUDENT, "Иванова Мария Петровна", "89001112233", "maria@mail.ru",
                 "Иванов Сергей Олегович", "+7 900 111-22-44"],
            ]
        },
        merged={"5А": ["A1:K1", "G2:I2", "J2:K2"]},
    )  # fmt: skip
    result = roster([path])
    assert (result.errors, result.warnings) == ([], [])
    [record] = result.students
    assert record.surname == "Иванов" and record.row == 4
    assert [(g.surname, g.relation, g.phone, g.email) for g in record.guardians] == [
        ("Иванова", "mother", "+79001112233", "maria@mail.ru"),
        ("Иванов", "father", "+79001112244", None),
    ]


def test_a_parents_heading_over_both_parents_and_a_pupil_heading(tmp_path):
    path = workbook(
        tmp_path / "r.xlsx",
        {
            "Лист1": [
                ["Ученик", None, None, None, "Класс", "Родители", None, None, None],
                ["Фамилия", "Имя", "Отчество", "Дата рождения", None, "ФИО", "Телефон", "ФИО",
                 "Телефон"],
                [*STUDENT, "Иванова Мария Петровна", "89001112233", "Иванов Сергей Олегович",
                 "89001112244"],
            ]
        },
        merged={"Лист1": ["A1:D1", "E1:E2", "F1:I1"]},
    )  # fmt: skip
    result = roster([path])
    assert result.errors == []
    [record] = result.students
    assert (record.class_name, record.birth_date) == ("5А", date(2015, 3, 14))
    # Guardian 1 and 2, the relation told by the patronymic.
    assert [(g.surname, g.relation) for g in record.guardians] == [
        ("Иванова", "mother"),
        ("Иванов", "father"),
    ]


def test_group_labels_written_in_one_header_row(tmp_path):
    header = [*NAMES, "Мать: ФИО", "Мать: Телефон", "Отец: ФИО", "Отец: E-mail"]
    row = [*STUDENT, "Иванова Мария Петровна", 89001112233, "Иванов Сергей Олегович", "s@mail.ru"]
    result = roster([workbook(tmp_path / "r.xlsx", {"Лист1": [header, row]})])
    assert result.errors == [] and result.warnings == []
    [record] = result.students
    assert [(g.relation, g.phone, g.email) for g in record.guardians] == [
        ("mother", "+79001112233", None),
        ("father", None, "s@mail.ru"),
    ]


def test_parents_columns_not_understood_refuse_the_file(tmp_path):
    # Without this the pupils would be imported without their parents.
    header = [*NAMES, "Данные мамы", "Мамин сотовый"]
    row = [*STUDENT, "Иванова Мария Петровна", 89001112233]
    path = workbook(tmp_path / "r.xlsx", {"Лист1": [header, row]})
    result = roster([path])
    assert result.students == []
    [error] = result.errors
    assert (error.file, error.sheet, error.row, error.column) == (str(path), "Лист1", 1, header[5])
    assert "look like a parent's" in error.message and "ФИО матери" in error.message


def test_a_parent_heading_over_columns_not_understood_refuses_the_file(tmp_path):
    path = workbook(
        tmp_path / "r.xlsx",
        {"Лист1": [[None] * 5 + ["Бабушка и мама"], [*NAMES, "Ф. И. О. полностью", "Моб. тел."],
                   [*STUDENT, "Иванова Мария Петровна", 89001112233]]},
    )  # fmt: skip
    result = roster([path])
    assert result.students == []
    [error] = result.errors
    assert "no guardian column was understood" in error.message and error.row == 2


def test_a_contact_column_of_nobody_is_a_loud_warning(tmp_path):
    header = [*NAMES, "Телефон"]
    result = roster([workbook(tmp_path / "r.xlsx", {"Лист1": [header, [*STUDENT, "89001112233"]]})])
    assert result.errors == [] and len(result.students) == 1
    assert [(w.row, w.column) for w in result.warnings] == [(1, "Телефон"), (1, "Телефон")]
    assert "no guardian column found" in result.warnings[1].message


def test_columns_that_only_resemble_parent_words_are_unknown_columns(tmp_path):
    header = [*NAMES, "Математика", "Почтовый адрес", "Материнский капитал"]
    row = [*STUDENT, "5", "г. Москва", "нет"]
    result = roster([workbook(tmp_path / "r.xlsx", {"Лист1": [header, row]})])
    assert result.errors == [] and len(result.students) == 1
    assert [w.column for w in result.warnings] == header[5:]


def test_a_diminutive_parent_word_is_a_parents_column(tmp_path):
    header = [*NAMES, "Телефон мамочки"]
    result = roster([workbook(tmp_path / "r.xlsx", {"Лист1": [header, [*STUDENT, "89001112233"]]})])
    assert result.students == []
    assert [e.column for e in result.errors] == ["Телефон мамочки"]


def test_find_header_combines_group_headings_only_when_they_help():
    aliases = {"surname": ["Фамилия"], "mother": ["Мать: ФИО"], "father": ["Отец: ФИО"]}
    groups = {"Мать": ["{heading}: {}"], "Отец": ["{heading}: {}"]}
    rows = [
        Row("r.xlsx", "A", 1, ("Список",)),
        Row("r.xlsx", "A", 2, (None, "Мать", "Отец")),
        Row("r.xlsx", "A", 3, ("Фамилия", "ФИО", "ФИО")),
        Row("r.xlsx", "A", 4, ("Иванов", "Иванова", "Иванов")),
    ]
    header, rest = find_header(iter(rows), aliases, groups=groups)
    assert header.columns == {"surname": 0, "mother": 1, "father": 2}
    assert header.labels["mother"] == "Мать: ФИО" and header.row.number == 3
    assert [r.number for r in rest] == [4]
    plain, _ = find_header(iter(rows), aliases)
    assert plain.columns == {"surname": 0}


# ---------------------------------------------------------------- footers


def test_totals_signatures_and_numbered_empty_rows_are_skipped_with_warnings(tmp_path):
    rows = [
        ["№ п/п", *NAMES],
        [1, *STUDENT],
        [2, "Петрова", "Анна", None, date(2015, 5, 6), "5А"],
        [3],
        [4],
        ["Итого: 2 учащихся"],
        [None, "Всего", 2],
        [None, "Классный руководитель", "__________", "Сидорова А. А."],
    ]
    path = workbook(tmp_path / "r.xlsx", {"5А": rows})
    result = roster([path])
    assert result.errors == []
    assert [s.surname for s in result.students] == ["Иванов", "Петрова"]
    assert [(w.row, w.value, w.message) for w in result.warnings] == [
        (6, "Итого: 2 учащихся", "a totals row, not a student: skipped"),
        (7, "Всего", "a totals row, not a student: skipped"),
        (8, "Классный руководитель", "a signature line, not a student: skipped"),
    ]
    assert_located(result.warnings)


def test_a_journal_totals_row_is_a_warning_not_an_error(tmp_path):
    rows = [
        LESSON_HEADER,
        [date(2026, 9, 15), 1, "5А", "Физика", "Алексеева Анна", 5],
        ["Итого оценок: 1"],
    ]
    plan = read_journal_file(workbook(tmp_path / "j.xlsx", {"Оценки": rows}))
    assert plan.problems == []
    [warning] = plan.warnings
    assert (warning.sheet, warning.row, warning.message) == (
        "Оценки",
        3,
        "a totals row, not a lesson: skipped",
    )


# ---------------------------------------------------------------- hidden sheets


def test_hidden_sheets_are_skipped_with_a_warning_by_applications(tmp_path):
    path = workbook(
        tmp_path / "a.xlsx",
        {
            "Заявления": [APPLICATION_HEADER, APPLICATION],
            "Прошлый год": [
                APPLICATION_HEADER,
                APPLICATION[:4] + ["Смирнов Олег", *APPLICATION[5:]],
            ],
            "Заметки": [["что-то"]],
        },
        hidden={"Прошлый год", "Заметки"},
    )
    parsed, report = applications(path)
    assert report.errors == [] and len(parsed) == 1
    [warning] = report.warnings
    assert (warning.file, warning.sheet) == (str(path), "Прошлый год")
    assert "hidden sheet skipped; use --sheet" in warning.message


def test_hidden_sheets_are_skipped_with_a_warning_by_journals(tmp_path):
    lesson = [date(2026, 9, 15), 1, "5А", "Физика", "Алексеева Анна", 5]
    path = workbook(
        tmp_path / "j.xlsx",
        {"Оценки": [LESSON_HEADER, lesson], "Старые": [LESSON_HEADER, lesson]},
        hidden={"Старые"},
    )
    plan = read_journal_file(path)
    assert plan.problems == [] and plan.rows == 1
    [warning] = plan.warnings
    assert (warning.sheet, warning.message) == (
        "Старые",
        "hidden sheet skipped; use --sheet to import it",
    )


# ---------------------------------------------------------------- formulas


def test_a_formula_cell_in_an_application_is_refused(tmp_path):
    row = list(APPLICATION)
    row[4] = '=CONCATENATE("Смирнов ", "Артём")'
    parsed, report = applications(
        workbook(tmp_path / "a.xlsx", {"Заявления": [APPLICATION_HEADER, row]})
    )
    assert parsed == []
    [error] = report.errors
    assert (error.sheet, error.row, error.column, error.message) == (
        "Заявления",
        2,
        "ФИО ребёнка",
        FORMULA_MESSAGE,
    )


def test_a_formula_in_an_ignored_column_is_no_problem(tmp_path):
    path = workbook(tmp_path / "r.xlsx", {"Лист1": [[*NAMES, "Заметка"], [*STUDENT, "=1+1"]]})
    result = roster([path])
    assert result.errors == [] and len(result.students) == 1


# ---------------------------------------------------------------- unknown columns, Problems


def test_unknown_columns_are_problems_at_the_header_in_every_import(tmp_path):
    lesson = [date(2026, 9, 15), 1, "5А", "Физика", "Алексеева Анна", 5, "x"]
    plan = read_journal_file(
        workbook(tmp_path / "j.xlsx", {"Оценки": [[*LESSON_HEADER, "Настроение"], lesson]})
    )
    [warning] = plan.warnings
    assert (warning.sheet, warning.row, warning.column, warning.message) == (
        "Оценки",
        1,
        "Настроение",
        "unknown column, ignored",
    )
    assert plan.ignored_columns == ["Оценки: Настроение"]
    result = roster([workbook(tmp_path / "r.xlsx", {"Лист1": [[*NAMES, "Хобби"], STUDENT]})])
    [warning] = result.warnings
    assert (warning.sheet, warning.row, warning.column) == ("Лист1", 1, "Хобби")


def test_read_tables_picks_the_complete_kind_of_each_sheet(tmp_path):
    people = TableKind("people", "a person", {"name": ["Имя"], "age": ["Возраст"]}, "Имя",
                       missing=lambda h: [] if "age" in h.columns else ["Возраст"])  # fmt: skip
    pets = TableKind("pets", "a pet", {"name": ["Имя"], "owner": ["Хозяин"]}, "Имя",
                     identifies=lambda h: "owner" in h.columns)  # fmt: skip
    path = workbook(
        tmp_path / "t.xlsx",
        {
            "Люди": [["Имя", "Возраст"], ["Анна", 9]],
            "Звери": [["Имя", "Хозяин"], ["Рыжик", "Анна"]],
        },
    )
    problems = Problems()
    found = [
        (t.kind.name, t.sheet, [r.values for r in t.rows])
        for t in read_tables(path, [people, pets], problems)
    ]
    assert found == [("people", "Люди", [("Анна", 9)]), ("pets", "Звери", [("Рыжик", "Анна")])]
    assert (problems.errors, problems.warnings) == ([], [])


def test_a_file_without_a_table_of_the_kind_is_one_error(tmp_path):
    path = workbook(tmp_path / "t.xlsx", {"Лист1": [["Инструкция"]], "Лист2": [["Ещё"]]})
    kind = TableKind("people", "a person", {"name": ["Имя"]}, "Имя", none_found="no people here")
    problems = Problems()
    assert list(read_tables(path, [kind], problems)) == []
    assert problems.errors == [Problem("no people here", str(path))]


# ---------------------------------------------------------------- OneRoster links


USERS = ["sourcedId", "status", "enabledUser", "role", "givenName", "familyName", "middleName",
         "identifier", "email", "agentSourcedIds"]  # fmt: skip


def _oneroster(path: Path, student_agents: str, parent_agents: str) -> Path:
    tables = {
        "users": [
            USERS,
            ["s1", "active", "true", "student", "Мария", "Белова", "Андреевна", "5001", "",
             student_agents],
            ["p1", "active", "true", "parent", "Ольга", "Белова", "Игоревна", "", "o@mail.ru",
             parent_agents],
        ],
        "classes": [["sourcedId", "title", "classCode"], ["c1", "7Б", "7Б"]],
        "enrollments": [["sourcedId", "classSourcedId", "userSourcedId", "role"],
                        ["e1", "c1", "s1", "student"]],
        "demographics": [["sourcedId", "birthDate"], ["s1", "2013-02-03"]],
    }  # fmt: skip
    with zipfile.ZipFile(path, "w") as archive:
        for name, rows in tables.items():
            archive.writestr(f"{name}.csv", "\r\n".join(",".join(r) for r in rows) + "\r\n")
    return path


@pytest.mark.parametrize(
    "student_agents, parent_agents",
    [("p1", ""), ("", "s1"), ("p1", "s1")],
    ids=["student to parent", "parent to student", "both ways"],
)
def test_oneroster_agent_links_from_either_side(tmp_path, student_agents, parent_agents):
    result = roster([_oneroster(tmp_path / "or.zip", student_agents, parent_agents)])
    assert result.errors == []
    [record] = result.students
    assert [(g.surname, g.email, g.relation) for g in record.guardians] == [
        ("Белова", "o@mail.ru", "mother")
    ]
