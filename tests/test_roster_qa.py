"""Roster files as school offices really have them: found by exploratory QA, kept as tests."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import zipfile
from datetime import date

import openpyxl
import pytest
from sqlalchemy import select

from diaryadmin.io import match_alias
from diaryadmin.models import Guardian, Guardianship, Student
from diaryadmin.people import documents
from diaryadmin.roster.columns import ROSTER_ALIASES
from helpers.roster import (
    HEADER,
    SECRET,
    do_import,
    parse,
    parsed_one,
    write_csv,
    write_xlsx,
)

IVANOV = ["S1", "Иванов", "Пётр", "Сергеевич", date(2015, 3, 14), "5А"]


def relations(sessions) -> list[tuple[str, str, str]]:
    with sessions() as session:
        rows = session.execute(
            select(Student.external_id, Guardian.surname, Guardianship.relation)
            .join(Guardianship, Guardianship.student_id == Student.id)
            .join(Guardian, Guardian.id == Guardianship.guardian_id)
        ).all()
    return sorted(tuple(row) for row in rows)


def test_relation_in_brackets_after_the_guardians_name(tmp_path, sessions):
    path = write_xlsx(
        tmp_path / "r.xlsx",
        [[*HEADER, "Родитель 2"], [*IVANOV, "Иванов Сергей Олегович, папа"]],
        sheet="Ученики",
        more={
            "Родители": [
                ["ID ученика", "ФИО", "Телефон"],
                ["S1", "Иванова Мария Петровна (мать)", 89001112233],
                ["S1", "Сидорова Анна Ивановна (бабушка)", None],
            ]
        },
    )
    report = do_import(sessions, [path])
    assert report.warnings == []
    assert relations(sessions) == [
        ("S1", "Иванов", "father"),
        ("S1", "Иванова", "mother"),
        ("S1", "Сидорова", "trusted"),  # a grandmother is a trusted person (DOMAIN.md)
    ]
    with sessions() as session:
        assert session.scalar(select(Guardian.patronymic).where(Guardian.surname == "Иванова")) == (
            "Петровна"
        )


def test_brackets_that_are_no_relation_are_still_an_error(tmp_path):
    path = write_xlsx(
        tmp_path / "r.xlsx", [[*HEADER, "Родитель"], [*IVANOV, "Иванова Мария (тётя Маша)"]]
    )
    [problem] = parse([path]).errors
    assert (problem.row, problem.column) == (2, "Родитель")


def test_running_number_column_is_no_unknown_column(tmp_path):
    for label in ("№", "#", "№ п/п"):
        path = write_xlsx(tmp_path / "r.xlsx", [[label, *HEADER], [1, *IVANOV]])
        result = parse([path])
        assert (result.errors, result.warnings) == ([], []), label
    assert match_alias("№", {"row_number": ["№"]}) == "row_number"


def test_certificate_number_cell_that_lost_its_leading_zero(tmp_path):
    header = [*HEADER, "Серия свидетельства", "Номер свидетельства"]
    path = write_xlsx(tmp_path / "r.xlsx", [header, [*IVANOV, "IV-МЮ", 12345]])
    record = parsed_one([path])
    expected = documents.fingerprint("certificate", "IV-МЮ 012345", SECRET.encode())
    assert record.certificate_fp == expected


def test_certificate_number_typed_as_text_must_still_have_six_digits(tmp_path):
    header = [*HEADER, "Серия свидетельства", "Номер свидетельства"]
    path = write_xlsx(tmp_path / "r.xlsx", [header, [*IVANOV, "IV-МЮ", "12345"]])
    [problem] = parse([path]).errors
    assert (problem.row, problem.column) == (2, "Серия свидетельства")


def _zip(path, files: dict[str, list[list[str]]]):
    with zipfile.ZipFile(path, "w") as archive:
        for name, rows in files.items():
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\r\n").writerows(rows)
            archive.writestr(f"{name}.csv", buffer.getvalue())
    return path


CLASSES = [
    ["sourcedId", "status", "dateLastModified", "title", "grades", "courseSourcedId",
     "classCode", "classType", "location", "schoolSourcedId", "termSourcedIds"],
    ["c1", "active", "", "7 «В»", "07", "", "7В", "homeroom", "", "org1", ""],
]  # fmt: skip
ENROLMENTS = [
    ["sourcedId", "status", "dateLastModified", "classSourcedId", "schoolSourcedId",
     "userSourcedId", "role", "primary", "beginDate", "endDate"],
    ["e1", "active", "", "c1", "org1", "s1", "student", "true", "", ""],
    ["e2", "Active", "", "c1", "org1", "s2", "Student", "true", "", ""],
]  # fmt: skip
DEMOGRAPHICS = [
    ["sourcedId", "status", "dateLastModified", "birthDate", "sex"],
    ["s1", "active", "", "2013-02-03", "female"],
    ["s2", "active", "", "2013-05-06", "male"],
]


def test_oneroster_11_roles_and_statuses_in_any_case(tmp_path, sessions):
    users = [
        ["sourcedId", "status", "dateLastModified", "enabledUser", "orgSourcedIds", "role",
         "username", "userIds", "givenName", "familyName", "middleName", "identifier", "email",
         "sms", "phone", "agentSourcedIds", "grades", "password"],
        ["s1", "active", "", "TRUE", "org1", "student", "", "", "Мария", "Белова", "Андреевна",
         "5001", "", "", "", "p1", "07", ""],
        ["s2", "active", "", "true", "org1", "Student", "", "", "Илья", "Белов", "Андреевич",
         "5002", "", "", "", "", "07", ""],
        ["p1", "active", "", "true", "org1", "Parent", "", "", "Ольга", "Белова", "Игоревна",
         "", "olga@example.ru", "", "", "s1,s2", "", ""],
    ]  # fmt: skip
    files = {"classes": CLASSES, "enrollments": ENROLMENTS, "demographics": DEMOGRAPHICS}
    report = do_import(sessions, [_zip(tmp_path / "or.zip", {**files, "users": users})])
    assert report.created == 2
    assert relations(sessions) == [("5001", "Белова", "mother"), ("5002", "Белова", "mother")]


def test_oneroster_12_roles_file(tmp_path, sessions):
    # OneRoster 1.2 moved a user's role out of users.csv into roles.csv.
    users = [
        ["sourcedId", "status", "dateLastModified", "enabledUser", "username", "userIds",
         "givenName", "familyName", "middleName", "identifier", "email", "sms", "phone",
         "agentSourcedIds", "grades", "password", "userMasterIdentifier", "resourceSourcedIds",
         "preferredGivenName", "preferredMiddleName", "preferredFamilyName",
         "primaryOrgSourcedId", "pronouns"],
        ["s1", "active", "", "true", "", "", "Мария", "Белова", "Андреевна", "5001", "", "", "",
         "p1", "07", "", "", "", "", "", "", "org1", ""],
        ["s2", "active", "", "true", "", "", "Илья", "Белов", "Андреевич", "5002", "", "", "",
         "p1", "07", "", "", "", "", "", "", "org1", ""],
        ["p1", "active", "", "true", "", "", "Ольга", "Белова", "Игоревна", "", "o@example.ru",
         "", "", "s1,s2", "", "", "", "", "", "", "", "org1", ""],
    ]  # fmt: skip
    roles = [
        ["sourcedId", "status", "dateLastModified", "userSourcedId", "roleType", "role",
         "beginDate", "endDate", "orgSourcedId", "userProfileSourcedId"],
        ["r1", "active", "", "s1", "primary", "student", "", "", "org1", ""],
        ["r2", "active", "", "s2", "primary", "student", "", "", "org1", ""],
        ["r3", "active", "", "p1", "primary", "parent", "", "", "org1", ""],
    ]  # fmt: skip
    files = {"classes": CLASSES, "enrollments": ENROLMENTS, "demographics": DEMOGRAPHICS}
    path = _zip(tmp_path / "or12.zip", {**files, "users": users, "roles": roles})
    report = do_import(sessions, [path])
    assert report.created == 2
    assert relations(sessions) == [("5001", "Белова", "mother"), ("5002", "Белова", "mother")]


def test_a_parents_full_name_column_never_becomes_the_students_name(tmp_path):
    # A two-row header: «Мать» spans the mother's ФИО and phone columns in the row above.
    path = write_xlsx(
        tmp_path / "r.xlsx",
        [
            [None, None, None, None, None, None, "Мать", None],
            [*HEADER, "ФИО", "Телефон"],
            [*IVANOV, "Иванова Мария Петровна", 89001112233],
        ],
    )
    result = parse([path])
    [record] = result.students
    assert (record.surname, record.name, record.patronymic) == ("Иванов", "Пётр", "Сергеевич")
    assert result.errors == []
    # The group heading is understood (it was only warned about): the columns are the mother's.
    assert result.warnings == []
    [mother] = record.guardians
    assert (mother.surname, mother.relation, mother.phone) == ("Иванова", "mother", "+79001112233")


def _with_hidden_sheet(path):
    workbook = openpyxl.Workbook()
    workbook.active.title = "5А"
    for row in (HEADER, IVANOV):
        workbook.active.append(row)
    old = workbook.create_sheet("Архив 2024")
    old.sheet_state = "hidden"
    for row in (HEADER, ["S9", "Старов", "Олег", None, date(2008, 1, 2), "11А"]):
        old.append(row)
    workbook.save(path)
    return path


def test_a_hidden_sheet_is_skipped_with_a_warning(tmp_path):
    path = _with_hidden_sheet(tmp_path / "r.xlsx")
    result = parse([path])
    assert [s.surname for s in result.students] == ["Иванов"]
    [warning] = result.warnings
    assert (warning.file, warning.sheet) == (str(path), "Архив 2024")
    assert "--sheet" in warning.message


def test_a_hidden_sheet_named_by_sheet_option_is_read(tmp_path):
    path = _with_hidden_sheet(tmp_path / "r.xlsx")
    assert parsed_one([path], sheet="Архив 2024").surname == "Старов"


def test_class_cells_with_the_word_class(tmp_path):
    rows = [HEADER] + [
        [f"S{n}", "Иванов", name, None, date(2015, 3, n + 1), cell]
        for n, (name, cell) in enumerate(
            [("Пётр", "5 «А» класс"), ("Олег", "5а кл."), ("Иван", "5 А КЛАСС")], 1
        )
    ]
    result = parse([write_xlsx(tmp_path / "r.xlsx", rows)])
    assert result.errors == []
    assert [s.class_name for s in result.students] == ["5А", "5А", "5А"]


def test_one_word_full_name_is_explained_in_plain_words(tmp_path):
    path = write_xlsx(
        tmp_path / "r.xlsx", [["ФИО", "Дата рождения", "Класс"], ["Орлов", "01.02.2015", "5А"]]
    )
    [problem] = parse([path]).errors
    assert (problem.row, problem.column, problem.value) == (2, "ФИО", "Орлов")
    assert "a surname and a name" in problem.message
    assert problem.message.endswith("found 1 word")


def test_a_file_with_only_a_header_is_named_in_the_error(tmp_path):
    path = write_csv(tmp_path / "5a.csv", [HEADER])
    [problem] = parse([path]).errors
    assert problem.file == str(path)
    assert "no students found" in problem.message


def test_two_phones_in_one_cell_are_refused_in_plain_words(tmp_path):
    header = [*HEADER, "ФИО матери", "Телефон матери"]
    phones = "8 (912) 345-67-89, 8 (495) 123-45-67"
    path = write_csv(
        tmp_path / "r.csv", [header, [*IVANOV[:4], "14.03.2015", "5А", "Орлова Анна", phones]]
    )
    [problem] = parse([path]).errors
    assert (problem.row, problem.column, problem.value) == (2, "Телефон матери", phones)
    assert "two phone numbers in one cell" in problem.message


def test_one_sheet_per_class_named_by_the_class(tmp_path):
    header = ["ФИО", "Дата рождения"]
    path = write_xlsx(
        tmp_path / "r.xlsx",
        [header, ["Орлов Иван Петрович", "01.02.2015"]],
        sheet="5 а",
        more={"6Б класс": [header, ["Орлова Ольга Петровна", "01.02.2014"]]},
    )
    result = parse([path])
    assert result.errors == []
    assert [(s.surname, s.class_name) for s in result.students] == [
        ("Орлов", "5А"),
        ("Орлова", "6Б"),
    ]


def test_a_sheet_without_class_column_or_class_name_is_still_refused(tmp_path):
    path = write_xlsx(tmp_path / "r.xlsx", [["ФИО", "Дата рождения"], ["Орлов Иван", "01.02.2015"]])
    [problem] = parse([path]).errors
    assert (problem.sheet, problem.row) == ("Лист1", 1)
    assert "Класс" in problem.message


OFFICE = shutil.which("libreoffice") or shutil.which("soffice")


@pytest.mark.skipif(OFFICE is None, reason="LibreOffice is not installed")
def test_xls_ods_and_libreoffice_xlsx_read_as_the_original(tmp_path):
    original = write_xlsx(
        tmp_path / "roster.xlsx",
        [
            ["ID", "ФИО", "Дата рождения", "Класс", "СНИЛС", "ФИО матери", "Телефон матери"],
            [1001.0, "Иванов  Пётр Сергеевич", date(2015, 3, 14), "5 «А»", 11223344595,
             "Иванова Мария Петровна", 89123456789],
            [1002, "Семёнова Алёна", "1.9.2015", "5-а", None, None, None],
            [1003, "Петров Олег", 42100, "5A", None, None, None],
        ],  # fmt: skip
        title="Список 5 «А» класса",
        more={"Родители": [["ID ученика", "ФИО", "E-mail"], [1002, "Семёнова Ольга (мама)",
                                                              "o@example.ru"]]},
    )  # fmt: skip
    converted = []
    for target, source in (("xls", original), ("ods", original), ("xlsx", None)):
        source = source or tmp_path / "ods" / "roster.ods"
        out = tmp_path / target
        done = subprocess.run(
            [OFFICE, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo-profile",
             "--convert-to", target, "--outdir", str(out), str(source)],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        converted.append(out / f"roster.{target}")

    def seen(parsed):
        return [
            (s.external_id, s.key, s.birth_date, s.class_name, s.snils_fp, s.row,
             [(g.key, g.relation, g.email, g.phone, g.row) for g in s.guardians])
            for s in parsed.students
        ]  # fmt: skip

    expected = parse([original])
    assert expected.errors == [] and len(expected.students) == 3
    for path in converted:
        result = parse([path])
        assert result.errors == [], path.name
        assert seen(result) == seen(expected), path.name


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Фамилия, имя, отчество", "full_name"),
        ("Фамилия Имя Отчество", "full_name"),
        ("Ф.И.О. обучающегося", "full_name"),
        ("ФИО ребенка", "full_name"),
        ("Дата рождения ребёнка", "birth_date"),
        ("Дата рожд.", "birth_date"),
        ("Дата рождения (дд.мм.гггг)", "birth_date"),
        ("СНИЛС обучающегося", "snils"),
        ("Номер СНИЛС", "snils"),
        ("Серия, номер свидетельства о рождении", "certificate"),
        ("ФИО родителя (законного представителя)", "g1_full_name"),
        ("Ф.И.О. родителя (законного представителя)", "g1_full_name"),
        ("Родитель (ФИО)", "g1_full_name"),
        ("Телефон родителя (законного представителя)", "g1_phone"),
        ("Эл. почта родителя", "g1_email"),
        ("ФИО мамы", "mother_full_name"),
        ("Телефон мамы", "mother_phone"),
        ("ФИО папы", "father_full_name"),
        ("Телефон папы", "father_phone"),
    ],
)
def test_header_spellings_seen_in_school_lists(header, field):
    assert match_alias(header, ROSTER_ALIASES) == field


def test_dash_or_net_in_an_optional_column_means_empty(tmp_path):
    header = [*HEADER, "СНИЛС", "Серия и номер свидетельства", "ФИО отца", "Телефон матери",
              "ФИО матери", "E-mail матери"]  # fmt: skip
    row = ["S1", "Иванов", "Пётр", "-", date(2015, 3, 14), "5А", "нет", "Не указано", "—", "-",
           "Иванова Мария", "нет"]  # fmt: skip
    result = parse([write_xlsx(tmp_path / "r.xlsx", [header, row])])
    assert result.errors == []
    [record] = result.students
    assert (record.patronymic, record.snils_fp, record.certificate_fp) == (None, None, None)
    assert [(g.surname, g.relation, g.email, g.phone) for g in record.guardians] == [
        ("Иванова", "mother", None, None)
    ]


def test_dash_in_a_required_column_is_still_an_error(tmp_path):
    row = ["S1", "Иванов", "-", None, date(2015, 3, 14), "5А"]
    [problem] = parse([write_xlsx(tmp_path / "r.xlsx", [HEADER, row])]).errors
    assert (problem.row, problem.column, problem.value) == (2, "Имя", "-")


def test_snils_text_that_lost_its_leading_zero(tmp_path):
    header = [*HEADER[:5], "Класс", "СНИЛС"]
    rows = [header, ["S1", "Иванов", "Пётр", "Сергеевич", "14.03.2015", "5А", "1234567819"],
            ["S2", "Иванова", "Анна", None, "14.03.2015", "5А", "1234567818"]]  # fmt: skip
    result = parse([write_csv(tmp_path / "r.csv", rows)])
    expected = documents.fingerprint("snils", "01234567819", SECRET.encode())
    assert [s.snils_fp for s in result.students] == [expected]
    [problem] = result.errors
    assert (problem.row, problem.column) == (3, "СНИЛС")
    assert "check number" in problem.message


def test_a_hidden_sheet_that_is_no_table_is_skipped_quietly(tmp_path):
    path = write_xlsx(tmp_path / "r.xlsx", [HEADER, IVANOV])
    workbook = openpyxl.load_workbook(path)
    notes = workbook.create_sheet("Служебный")
    notes["A1"] = "списки для печати"
    notes.sheet_state = "hidden"
    workbook.save(path)
    result = parse([path])
    assert (len(result.students), result.warnings, result.errors) == (1, [], [])
