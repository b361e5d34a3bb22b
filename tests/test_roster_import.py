"""Roster import through the core function: headers, normalising, matching, writing."""

from __future__ import annotations

from datetime import date, datetime

import openpyxl
import pytest
from sqlalchemy import select

from diaryadmin.errors import InputError
from diaryadmin.models import Enrolment, Guardian, Guardianship, SchoolClass, Student
from diaryadmin.people import documents
from diaryadmin.people.names import name_key
from diaryadmin.roster.normalise import Normaliser
from helpers.roster import (
    HEADER,
    NOW,
    SECRET,
    counts,
    do_import,
    parse,
    parsed_one,
    students,
    write_csv,
    write_xlsx,
)

IVANOV = ["S1", "Иванов", "Пётр", "Сергеевич", date(2015, 3, 14), "5А"]
PETROVA = ["S2", "Петрова", "Анна", "Игоревна", date(2015, 7, 1), "5А"]


def fingerprint(kind: str, value: str) -> str:
    return documents.fingerprint(kind, value, SECRET.encode())


HEADER_VARIANTS = {
    "russian": (
        [
            "Фамилия",
            "Имя",
            "Отчество",
            "Дата рождения",
            "Класс",
            "Серия и номер свидетельства",
            "СНИЛС",
            "Личный номер",
        ],
        [
            "Иванов",
            "Пётр",
            "Сергеевич",
            date(2015, 3, 14),
            "5А",
            "IV-МЮ 123456",
            "112-233-445 95",
            "S1",
        ],
    ),
    "english": (
        [
            "Student ID",
            "Last name",
            "First name",
            "Middle name",
            "DOB",
            "Class",
            "Birth certificate",
            "SNILS",
        ],
        [
            "S1",
            "Иванов",
            "Пётр",
            "Сергеевич",
            date(2015, 3, 14),
            "5А",
            "IV-МЮ 123456",
            "11223344595",
        ],
    ),
    "full name, odd case and spaces": (
        [
            "  ФИО ученика ",
            "ДАТА   РОЖДЕНИЯ",
            "класс:",
            "ID",
            "Серия свидетельства",
            "Номер свидетельства",
            "снилс",
        ],
        ["Иванов Пётр Сергеевич", "14.03.2015", "5 А", "S1", "IV МЮ", "123456", "112 233 445 95"],
    ),
    "columns in another order": (
        [
            "Класс",
            "СНИЛС",
            "Дата рождения",
            "Отчество",
            "Имя",
            "Фамилия",
            "Свидетельство о рождении",
            "ID",
        ],
        ["5а", 11223344595, "2015-03-14", "Сергеевич", "Пётр", "Иванов", "iv-мю №123456", "S1"],
    ),
    "full name in English": (
        [
            "Full name",
            "Date of birth",
            "Class name",
            "External ID",
            "Certificate series",
            "Certificate number",
        ],
        ["Иванов Пётр Сергеевич", date(2015, 3, 14), "5A", "S1", "IV-MЮ", 123456],
    ),
}


@pytest.mark.parametrize("variant", HEADER_VARIANTS, ids=list(HEADER_VARIANTS))
def test_every_header_variant_gives_the_same_record(variant, tmp_path):
    header, row = HEADER_VARIANTS[variant]
    record = parsed_one([write_xlsx(tmp_path / "r.xlsx", [header, row])])
    assert (record.external_id, record.surname, record.name, record.patronymic) == (
        "S1",
        "Иванов",
        "Пётр",
        "Сергеевич",
    )
    assert (record.birth_date, record.class_name) == (date(2015, 3, 14), "5А")
    assert record.key == name_key("Иванов", "Пётр", "Сергеевич")
    assert record.certificate_fp == fingerprint("certificate", "IV-МЮ 123456")
    if any(h.strip().casefold() in ("snils", "снилс") for h in header):
        assert record.snils_fp == fingerprint("snils", "11223344595")


def test_an_imported_student_is_stored_with_its_class(tmp_path, sessions):
    header, row = HEADER_VARIANTS["russian"]
    report = do_import(sessions, [write_xlsx(tmp_path / "r.xlsx", [header, row])])
    assert (report.created, report.errors) == (1, [])
    student = students(sessions)["Иванов Пётр"]
    assert (student.external_id, student.patronymic, student.birth_date, student.active) == (
        "S1",
        "Сергеевич",
        date(2015, 3, 14),
        True,
    )
    assert student.name_key == name_key("Иванов", "Пётр", "Сергеевич")
    assert student.certificate_fp == fingerprint("certificate", "IV-МЮ 123456")
    assert student.snils_fp == fingerprint("snils", "11223344595")
    with sessions() as session:
        klass = session.get(SchoolClass, student.class_id)
        assert (klass.name, klass.school_year, klass.grade) == ("5А", 2026, 5)
        [enrolment] = session.scalars(select(Enrolment)).all()
        assert (enrolment.class_id, enrolment.started_on, enrolment.ended_on) == (
            klass.id,
            date(2026, 10, 1),
            None,
        )


def test_title_rows_and_real_row_numbers(tmp_path):
    path = write_xlsx(
        tmp_path / "r.xlsx",
        [HEADER, IVANOV, [], ["S2", "Петрова", "Анна", None, "31.02.2015", "5А"]],
        title="Список 5А класса на 2026/27 учебный год",
    )
    [problem] = parse([path]).errors
    assert (problem.row, problem.column, problem.value) == (6, "Дата рождения", "31.02.2015")
    assert problem.sheet == "Лист1" and problem.file.endswith("r.xlsx")
    assert "not a real date" in problem.message


DATE_FORMS = [
    date(2015, 3, 14),
    datetime(2015, 3, 14),
    42077,
    42077.0,
    "42077",
    "14.03.2015",
    "14.3.2015",
    "14.03.15",
    "2015-03-14",
    "14/03/2015",
    " 14.03.2015 г. ",
]


def test_each_date_form(tmp_path):
    rows = [HEADER] + [
        [f"S{i}", "Иванов", f"Пётр{chr(0x430 + i)}", None, cell, "5А"]
        for i, cell in enumerate(DATE_FORMS)
    ]
    result = parse([write_xlsx(tmp_path / "r.xlsx", rows)])
    assert result.errors == []
    assert [r.birth_date for r in result.students] == [date(2015, 3, 14)] * len(DATE_FORMS)


@pytest.mark.parametrize(
    "cell, message",
    [
        ("31.02.2015", "not a real date"),
        ("завтра", "not a date"),
        (date(2023, 1, 1), "younger than 5"),
        (date(2004, 1, 1), "older than 20"),
    ],
)
def test_impossible_dates_and_ages_are_refused(cell, message, tmp_path):
    path = write_xlsx(tmp_path / "r.xlsx", [HEADER, ["S1", "Иванов", "Пётр", None, cell, "5А"]])
    [problem] = parse([path]).errors
    assert message in problem.message and (problem.row, problem.column) == (2, "Дата рождения")


def test_age_limits_are_inclusive(tmp_path):
    # 5 and 20 on 1 September 2026 are allowed; the day after the limits is not.
    rows = [
        HEADER,
        ["S1", "Младший", "Пётр", None, date(2021, 9, 1), "1А"],
        ["S2", "Старший", "Пётр", None, date(2005, 9, 2), "11А"],
        ["S3", "Малыш", "Пётр", None, date(2021, 9, 2), "1А"],
        ["S4", "Взрослый", "Пётр", None, date(2005, 9, 1), "11А"],
    ]
    result = parse([write_xlsx(tmp_path / "r.xlsx", rows)])
    assert len(result.students) == 2 and [p.row for p in result.errors] == [4, 5]


CLASS_SPELLINGS = ["5 а", "5-А", '5"А"', "5«А»", "5A", " 5 - a ", "5а", "5 «а»"]


def test_class_spellings(tmp_path):
    rows = [HEADER] + [
        [f"S{i}", "Иванов", f"Пётр{chr(0x430 + i)}", None, date(2015, 3, 14), spelling]
        for i, spelling in enumerate(CLASS_SPELLINGS)
    ]
    result = parse([write_xlsx(tmp_path / "r.xlsx", rows)])
    assert result.errors == []
    assert {r.class_name for r in result.students} == {"5А"}
    bad = parse([write_xlsx(tmp_path / "b.xlsx", [HEADER, [*IVANOV[:5], "12А"]])]).errors
    assert [(p.row, p.column, p.value) for p in bad] == [(2, "Класс", "12А")]


def test_lookalike_letters_are_fixed_and_reported(tmp_path):
    # Latin a inside a Cyrillic word; "Smith Anna" stays Latin (no Cyrillic letter).
    rows = [
        HEADER,
        ["S1", "Ивaнов", "Пётр", "Сергеевич", date(2015, 3, 14), "5А"],
        ["S2", "Smith", "Anna", None, date(2015, 1, 1), "5А"],
    ]
    result = parse([write_xlsx(tmp_path / "r.xlsx", rows)])
    assert [r.surname for r in result.students] == ["Иванов", "Smith"]
    [warning] = result.warnings
    assert (warning.row, warning.column, warning.value) == (2, "Фамилия", "Ивaнов")
    assert "look-alike" in warning.message and "'Иванов'" in warning.message


def test_yo_is_kept_as_written_but_matches_e(tmp_path, sessions):
    do_import(sessions, [write_xlsx(tmp_path / "a.xlsx", [HEADER[1:], IVANOV[1:]])])
    again = [HEADER[1:], ["Иванов", "Петр", "Сергеевич", date(2015, 3, 14), "5А"]]
    report = do_import(sessions, [write_xlsx(tmp_path / "b.xlsx", again)])
    assert (report.created, report.updated) == (0, 1)  # the same child, spelled with е
    assert [s.name for s in students(sessions).values()] == ["Петр"]


def test_full_name_splitting(tmp_path):
    rows = [
        ["ФИО", "Дата рождения", "Класс"],
        ["Римская-Корсакова Анна Петровна", date(2015, 1, 1), "5А"],
        ["Римская - Корсакова Мария Петровна", date(2016, 1, 1), "4А"],
        ["Мамедов Эльдар Рашид оглы", date(2015, 2, 2), "5А"],
        ["Ким Виктор", date(2015, 3, 3), "5А"],
        ["ИВАНОВ  ПЁТР   СЕРГЕЕВИЧ", date(2015, 3, 14), "5А"],
        ["Иванов", date(2015, 3, 14), "5А"],
    ]
    result = parse([write_xlsx(tmp_path / "r.xlsx", rows)])
    assert [(r.surname, r.name, r.patronymic) for r in result.students] == [
        ("Римская-Корсакова", "Анна", "Петровна"),
        ("Римская-Корсакова", "Мария", "Петровна"),
        ("Мамедов", "Эльдар", "Рашид оглы"),
        ("Ким", "Виктор", None),
        ("ИВАНОВ", "ПЁТР", "СЕРГЕЕВИЧ"),
    ]
    [problem] = result.errors
    assert (problem.row, problem.column, problem.value) == (7, "ФИО", "Иванов")


def test_twins_and_siblings_share_their_guardians(tmp_path, sessions):
    header = [*HEADER, "ФИО матери", "Телефон матери", "E-mail матери", "ФИО отца", "Телефон отца"]
    mother = ["Сидорова Ольга Ивановна", "8 (912) 345-67-89", "Olga@Mail.RU"]
    father = ["Сидоров Антон Павлович", "+7 912 000-11-22"]
    rows = [
        header,
        ["S1", "Сидоров", "Иван", "Антонович", date(2016, 5, 5), "4А", *mother, *father],
        ["S2", "Сидорова", "Мария", "Антоновна", date(2016, 5, 5), "4А", *mother, *father],
        # the elder brother: the mother typed without e-mail, the father without phone
        [
            "S3",
            "Сидоров",
            "Павел",
            "Антонович",
            date(2012, 1, 9),
            "8Б",
            "Сидорова Ольга Ивановна",
            "+79123456789",
            None,
            "Сидоров Антон Павлович",
            None,
        ],
    ]
    report = do_import(sessions, [write_xlsx(tmp_path / "r.xlsx", rows)])
    assert report.created == 3 and report.guardians_created == 2
    with sessions() as session:
        people = session.scalars(select(Guardian).order_by(Guardian.id)).all()
        assert [(g.full_name, g.email, g.phone) for g in people] == [
            ("Сидорова Ольга Ивановна", "Olga@mail.ru", "+79123456789"),
            ("Сидоров Антон Павлович", None, "+79120001122"),
        ]
        links = session.execute(select(Guardianship.guardian_id, Guardianship.relation)).all()
        assert sorted(r for _, r in links) == ["father"] * 3 + ["mother"] * 3
    # Twins: same surname and birthday, two students.
    assert {"Сидоров Иван", "Сидорова Мария"} <= set(students(sessions))


def test_shared_guardian_matched_against_the_database(tmp_path, sessions):
    header = [*HEADER, "Родитель 1", "Телефон родителя 1"]
    first = [
        header,
        ["S1", "Орлов", "Иван", None, date(2016, 5, 5), "4А", "Орлова Анна", "89120000001"],
    ]
    do_import(sessions, [write_xlsx(tmp_path / "a.xlsx", first)])
    second = [
        header,
        ["S2", "Орлова", "Ева", None, date(2018, 1, 1), "2А", "Орлова Анна", "+7 912 000 00 01"],
    ]
    report = do_import(sessions, [write_xlsx(tmp_path / "b.xlsx", second)])
    assert report.guardians_created == 0
    assert counts(sessions)["guardians"] == 1 and counts(sessions)["guardianships"] == 2


def test_same_name_different_email_is_another_guardian(tmp_path, sessions):
    header = [*HEADER, "Родитель 1", "E-mail родителя 1"]
    rows = [
        header,
        ["S1", "Орлов", "Иван", None, date(2016, 5, 5), "4А", "Орлова Анна", "a@x.ru"],
        ["S2", "Орлов", "Олег", None, date(2016, 6, 6), "4Б", "Орлова Анна", "b@x.ru"],
    ]
    do_import(sessions, [write_xlsx(tmp_path / "a.xlsx", rows)])
    assert counts(sessions)["guardians"] == 2


def test_relation_column_and_guess_from_patronymic(tmp_path, sessions):
    header = [*HEADER, "Родитель 1", "Кем приходится 1", "Родитель 2", "Guardian 2 relation"]
    rows = [
        header,
        [
            "S1",
            "Орлов",
            "Иван",
            None,
            date(2016, 5, 5),
            "4А",
            "Орлова Анна Петровна",
            None,
            "Орлова Вера Ивановна",
            "Бабушка",
        ],
    ]
    report = do_import(sessions, [write_xlsx(tmp_path / "a.xlsx", rows)])
    with sessions() as session:
        relations = sorted(session.scalars(select(Guardianship.relation)))
    assert relations == ["mother", "trusted"]  # a grandmother is a trusted person (DOMAIN.md)
    assert report.warnings == []


def test_guardians_sheet_keyed_by_student_id(tmp_path, sessions):
    path = write_xlsx(
        tmp_path / "r.xlsx",
        [HEADER, IVANOV, PETROVA],
        sheet="Ученики",
        more={
            "Родители": [
                ["ID ученика", "ФИО", "Кем приходится", "Телефон", "E-mail"],
                ["S1", "Иванова Мария Петровна", "мать", "89001112233", "m@ivanov.ru"],
                ["S1", "Иванов Сергей Олегович", "отец", None, None],
                ["S2", "Петрова Ирина Юрьевна", "Мама", "+79005556677", None],
            ]
        },
    )
    report = do_import(sessions, [path])
    assert (report.created, report.guardians_created) == (2, 3)
    with sessions() as session:
        rows = session.execute(
            select(Student.external_id, Guardian.surname, Guardianship.relation)
            .join(Guardianship, Guardianship.student_id == Student.id)
            .join(Guardian, Guardian.id == Guardianship.guardian_id)
        ).all()
    assert sorted(rows) == [
        ("S1", "Иванов", "father"),
        ("S1", "Иванова", "mother"),
        ("S2", "Петрова", "mother"),
    ]


def test_guardians_file_with_an_unknown_student_is_an_error(tmp_path, sessions):
    roster = write_xlsx(tmp_path / "r.xlsx", [HEADER, IVANOV])
    parents = write_csv(
        tmp_path / "parents.csv",
        [["ID ученика", "ФИО родителя", "Телефон"], ["S9", "Иванова Мария", "89001112233"]],
    )
    with pytest.raises(InputError) as caught:
        do_import(sessions, [roster, parents])
    [problem] = caught.value.problems
    assert (problem.row, problem.column, problem.value) == (2, "ID ученика", "S9")
    assert counts(sessions)["students"] == 0


def test_class_option_for_a_file_without_class_column(tmp_path):
    path = write_csv(tmp_path / "5a.csv", [HEADER[:5], IVANOV[:4] + ["14.03.2015"]])
    assert parsed_one([path], class_name="5 а").class_name == "5А"


def test_missing_class_without_option_is_an_error(tmp_path):
    path = write_csv(tmp_path / "5a.csv", [HEADER[:5], IVANOV[:4] + ["14.03.2015"]])
    [problem] = parse([path]).errors
    assert "Класс (or --class)" in problem.message and problem.row == 1


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1251"])
def test_csv_encodings_and_delimiters(encoding, tmp_path):
    rows = [
        HEADER,
        ["S1", "Иванов", "Пётр", "Сергеевич", "14.03.2015", "5А"],
        ["S2", "Щукина", "Алёна", None, "01.07.2015", "5 Б"],
    ]
    for delimiter in (";", ",", "\t"):
        path = write_csv(tmp_path / "r.csv", rows, encoding=encoding, delimiter=delimiter)
        result = parse([path])
        assert result.errors == []
        assert [(r.surname, r.name, r.class_name) for r in result.students] == [
            ("Иванов", "Пётр", "5А"),
            ("Щукина", "Алёна", "5Б"),
        ]


def test_csv_encoding_and_delimiter_override(tmp_path):
    # A koi8-r file would be mis-detected as cp1251; the options say what it is.
    rows = [HEADER, ["S1", "Иванов", "Пётр", "Сергеевич", "14.03.2015", "5А"]]
    path = write_csv(tmp_path / "r.txt", rows, encoding="koi8-r", delimiter="|")
    assert parsed_one([path], encoding="koi8-r", delimiter="|").surname == "Иванов"


def test_sheet_option_reads_only_that_sheet(tmp_path):
    path = write_xlsx(
        tmp_path / "r.xlsx",
        [HEADER, IVANOV],
        sheet="5А",
        more={"5Б": [HEADER, ["S2", *PETROVA[1:5], "5Б"]]},
    )
    assert parsed_one([path], sheet="5Б").surname == "Петрова"
    [problem] = parse([path], sheet="6В").errors
    assert "has no sheet '6В'" in problem.message


def test_every_sheet_is_read_and_notes_sheets_skipped(tmp_path):
    path = write_xlsx(
        tmp_path / "r.xlsx",
        [HEADER, IVANOV],
        sheet="5А",
        more={
            "5Б": [HEADER, ["S2", *PETROVA[1:5], "5Б"]],
            "Инструкция": [["Заполните список по образцу"]],
            "Пустой": [],
        },
    )
    result = parse([path])
    assert result.errors == [] and [r.sheet for r in result.students] == ["5А", "5Б"]


def test_unknown_columns_are_noted(tmp_path):
    path = write_xlsx(tmp_path / "r.xlsx", [[*HEADER, "Любимый предмет"], [*IVANOV, "физика"]])
    [warning] = parse([path]).warnings
    assert (warning.row, warning.column, warning.message) == (
        1,
        "Любимый предмет",
        "unknown column, ignored",
    )


def test_reimport_changes_nothing_not_even_updated_at(tmp_path, sessions, db_snapshot):
    header = [*HEADER, "ФИО матери", "E-mail матери"]
    rows = [header, [*IVANOV, "Иванова Мария", "m@x.ru"], [*PETROVA, None, None]]
    path = write_xlsx(tmp_path / "r.xlsx", rows)
    first = do_import(sessions, [path])
    assert (first.created, first.unchanged) == (2, 0)
    before = db_snapshot()
    again = do_import(sessions, [path], now=datetime(2026, 10, 2))
    assert (again.created, again.updated, again.moved, again.unchanged) == (0, 0, 0, 2)
    assert db_snapshot() == before


def test_match_by_certificate_then_by_name_and_birth_date(tmp_path, sessions):
    header = ["Фамилия", "Имя", "Дата рождения", "Класс", "Свидетельство о рождении"]
    rows = [
        header,
        ["Иванов", "Пётр", date(2015, 3, 14), "5А", "IV-МЮ 123456"],
        ["Петрова", "Анна", date(2015, 7, 1), "5А", None],
    ]
    do_import(sessions, [write_xlsx(tmp_path / "a.xlsx", rows)])
    # Surname changed (matched by certificate), an ID added to Petrova (matched by name + date).
    later = [
        ["ID", *header],
        ["A1", "Иванов-Сидоров", "Пётр", date(2015, 3, 14), "5А", "IV МЮ № 123456"],
        ["A2", "Петрова", "Анна", date(2015, 7, 1), "5А", None],
    ]
    report = do_import(sessions, [write_xlsx(tmp_path / "b.xlsx", later)])
    assert (report.created, report.updated) == (0, 2)
    found = students(sessions)
    assert found["Иванов-Сидоров Пётр"].external_id == "A1"
    assert found["Петрова Анна"].external_id == "A2"


def test_class_move_closes_and_opens_enrolments(tmp_path, sessions):
    do_import(sessions, [write_xlsx(tmp_path / "a.xlsx", [HEADER, IVANOV, PETROVA])])
    moved = [HEADER, IVANOV, [*PETROVA[:5], "5Б"]]
    report = do_import(
        sessions, [write_xlsx(tmp_path / "b.xlsx", moved)], now=datetime(2026, 11, 2)
    )
    assert (report.moved, report.unchanged, report.updated) == (1, 1, 0)
    with sessions() as session:
        petrova = session.scalars(select(Student).where(Student.surname == "Петрова")).one()
        assert session.get(SchoolClass, petrova.class_id).name == "5Б"
        history = session.execute(
            select(SchoolClass.name, Enrolment.started_on, Enrolment.ended_on)
            .join(SchoolClass, SchoolClass.id == Enrolment.class_id)
            .where(Enrolment.student_id == petrova.id)
            .order_by(Enrolment.id)
        ).all()
    assert history == [
        ("5А", date(2026, 10, 1), date(2026, 11, 2)),
        ("5Б", date(2026, 11, 2), None),
    ]


def test_new_school_year_moves_everyone_into_the_new_classes(tmp_path, sessions):
    path = write_xlsx(tmp_path / "a.xlsx", [HEADER, IVANOV])
    do_import(sessions, [path])
    report = do_import(sessions, [path], now=datetime(2027, 9, 1))
    assert report.moved == 1
    with sessions() as session:
        years = session.scalars(select(SchoolClass.school_year).order_by(SchoolClass.id)).all()
    assert years == [2026, 2027]


def test_sync_deactivates_missing_students_and_dry_run_only_lists(tmp_path, sessions, db_snapshot):
    do_import(sessions, [write_xlsx(tmp_path / "a.xlsx", [HEADER, IVANOV, PETROVA])])
    only_ivanov = write_xlsx(tmp_path / "b.xlsx", [HEADER, IVANOV])
    before = db_snapshot()
    plan = do_import(sessions, [only_ivanov], sync=True, dry_run=True)
    assert plan.deactivated == 1 and plan.to_deactivate[0]["name"] == "Петрова Анна Игоревна"
    assert db_snapshot() == before
    asked = []
    report = do_import(
        sessions, [only_ivanov], sync=True, confirm=lambda listed: asked.append(listed) or True
    )
    assert report.deactivated == 1 and len(asked[0]) == 1
    assert not students(sessions)["Петрова Анна"].active
    # Back in the file: active again, counted as updated.
    report = do_import(sessions, [write_xlsx(tmp_path / "c.xlsx", [HEADER, IVANOV, PETROVA])])
    assert (report.updated, report.unchanged) == (1, 1)
    assert students(sessions)["Петрова Анна"].active


def test_dry_run_writes_nothing_even_into_an_empty_database(tmp_path, sessions, db_snapshot):
    before = db_snapshot()
    report = do_import(sessions, [write_xlsx(tmp_path / "a.xlsx", [HEADER, IVANOV])], dry_run=True)
    assert report.created == 1
    assert db_snapshot() == before


def test_all_problems_are_reported_not_just_the_first(tmp_path, sessions):
    header = [*HEADER, "СНИЛС", "Свидетельство о рождении", "E-mail родителя 1", "Родитель 1"]
    rows = [
        header,
        [*IVANOV, "112-233-445 96", "IV-МЮ 123456", None, None],
        ["S2", None, "Анна", None, "01.07.2015", "5Я", None, "ЖЖ-МЮ 123456", "x@", "Петрова Ирина"],
        ["S3", "Сидоров", "Иван", None, "1 мая", "12А", None, "IV-МЮ 12345", None, None],
    ]
    with pytest.raises(InputError) as caught:
        do_import(sessions, [write_xlsx(tmp_path / "a.xlsx", rows)])
    where = sorted((p.row, p.column) for p in caught.value.problems)
    assert where == [
        (2, "СНИЛС"),
        (3, "E-mail родителя 1"),
        (3, "Свидетельство о рождении"),
        (3, "Фамилия"),
        (4, "Дата рождения"),
        (4, "Класс"),
        (4, "Свидетельство о рождении"),
    ]
    result = caught.value.result
    assert len(result["errors"]) == 7 and result["created"] == 0
    assert counts(sessions)["students"] == 0


def test_duplicates_in_the_file_name_both_rows(tmp_path, sessions):
    rows = [
        HEADER,
        IVANOV,
        PETROVA,
        ["S1", "Сидоров", "Иван", None, date(2015, 1, 1), "5А"],
        ["S9", *PETROVA[1:]],
        [None, *PETROVA[1:]],
    ]
    with pytest.raises(InputError) as caught:
        do_import(sessions, [write_xlsx(tmp_path / "a.xlsx", rows)])
    messages = sorted((p.row, p.message) for p in caught.value.problems)
    file = tmp_path / "a.xlsx"
    assert messages == [
        (4, f"the same ID as {file}, sheet 'Лист1', row 2"),
        (6, f"the same student (name and birth date) as {file}, sheet 'Лист1', row 3"),
    ]


def test_twins_with_ids_are_not_duplicates(tmp_path, sessions):
    # Same name and birthday but different IDs: two children (it happens in big schools).
    rows = [HEADER, IVANOV, ["S7", *IVANOV[1:5], "5Б"]]
    assert do_import(sessions, [write_xlsx(tmp_path / "a.xlsx", rows)]).created == 2


def test_normaliser_agrees_with_the_shared_functions():
    norm = Normaliser(SECRET.encode(), NOW.date(), 2026)
    for text in ["IV-МЮ 123456", "XXI-ОВ 000001", "iv мю 123456", "IVMЮ123456"]:
        assert norm.certificate_fp(text) == fingerprint("certificate", text)
    assert norm.snils_fp("112-233-445 95") == fingerprint("snils", "11223344595")
    for full in [
        "Ивaнов Пётр Сергеевич",
        "Римская - Корсакова Анна",
        "Мамедов Эльдар Рашид оглы",
        "ЁЛКИН  Ёж",
    ]:
        surname, name, patronymic, _, key = norm.full_name(full)
        assert key == name_key(surname, name, patronymic)
    with pytest.raises(Exception, match="the SNILS check number"):
        norm.snils_fp("112-233-445 96")
    with pytest.raises(Exception, match="series must be like IV-МЮ"):
        norm.certificate_fp("-МЮ 123456")


def test_audit_event_only_when_something_changed(tmp_path, sessions):
    from diaryadmin import audit

    path = write_xlsx(tmp_path / "a.xlsx", [HEADER, IVANOV])
    do_import(sessions, [path])
    do_import(sessions, [path])
    with sessions() as session:
        events = audit.list_events(session, action="roster.import")
    assert len(events) == 1
    assert events[0]["details"]["created"] == 1 and events[0]["target"] == "school"


def test_conflicting_phones_keep_the_first_and_stay_idempotent(tmp_path, sessions, db_snapshot):
    header = [*HEADER, "ФИО матери", "E-mail матери", "Телефон матери"]
    rows = [
        header,
        [*IVANOV, "Иванова Мария", "m@x.ru", "89000000001"],
        ["S5", "Иванова", "Вера", None, date(2017, 1, 1), "3А", "Иванова Мария", "m@x.ru",
         "89000000002"],
    ]  # fmt: skip
    path = write_xlsx(tmp_path / "a.xlsx", rows)
    first = do_import(sessions, [path])
    assert [(w.row, w.value) for w in first.warnings] == [(3, "+79000000002")]
    with sessions() as session:
        assert session.scalars(select(Guardian.phone)).all() == ["+79000000001"]
    before = db_snapshot()
    again = do_import(sessions, [path])
    assert again.unchanged == 2 and len(again.warnings) == 1
    assert db_snapshot() == before


def test_namesake_guardian_in_the_database_matched_only_when_contacts_allow(tmp_path, sessions):
    header = [*HEADER, "Родитель 1", "E-mail родителя 1"]

    def child(n: int, email: str | None) -> list:
        return [f"S{n}", "Орлов", f"Иван{chr(0x430 + n)}", None, date(2016, 5, n), "4А",
                "Орлова Анна", email]  # fmt: skip

    do_import(sessions, [write_xlsx(tmp_path / "a.xlsx", [header, child(1, None)])])
    do_import(sessions, [write_xlsx(tmp_path / "b.xlsx", [header, child(2, "a@x.ru")])])
    with sessions() as session:
        assert session.scalars(select(Guardian.email)).all() == ["a@x.ru"]  # the same mother
    do_import(sessions, [write_xlsx(tmp_path / "c.xlsx", [header, child(3, "b@x.ru")])])
    assert counts(sessions)["guardians"] == 2  # another Anna Orlova


def test_a_table_that_starts_below_and_right_of_a1(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for offset, row in enumerate(
        [HEADER, IVANOV, ["S2", "Петрова", "Анна", None, "31.02.2015", "5А"]]
    ):
        for column, value in enumerate(row):
            if value is not None:
                sheet.cell(row=3 + offset, column=3 + column, value=value)
    workbook.save(tmp_path / "offset.xlsx")
    result = parse([tmp_path / "offset.xlsx"])
    assert [(r.row, r.surname) for r in result.students] == [(4, "Иванов")]
    assert [(p.row, p.column, p.value) for p in result.errors] == [
        (5, "Дата рождения", "31.02.2015")
    ]


def test_progress_estimate_and_bar_ticks(tmp_path, sessions):
    from diaryadmin.io.workbook import estimate_rows

    rows = [HEADER] + [
        [f"S{i}", "Иванов", f"Пётр{chr(0x430 + i)}", None, date(2015, 3, 14), "5А"]
        for i in range(7)
    ]
    xlsx = write_xlsx(tmp_path / "a.xlsx", rows)
    csv_path = write_csv(tmp_path / "a.csv", rows)
    assert estimate_rows([xlsx]) == 8 and estimate_rows([csv_path, xlsx]) == 16
    ticks: list[tuple] = []

    class Bar:
        def __init__(self, length, label):
            ticks.append((length, label))

        def __enter__(self):
            return lambda n: ticks.append(n)

        def __exit__(self, *exc):
            return False

    do_import(sessions, [xlsx], progress=Bar)
    assert ticks == [(8, "Importing"), 7]


def test_the_import_cache_size_is_set_back(sessions):
    from diaryadmin.roster.importing import larger_sqlite_cache

    with sessions() as session, session.begin():
        if session.get_bind().dialect.name != "sqlite":
            pytest.skip("a SQLite setting")
        pragma = "PRAGMA cache_size"
        before = session.connection().exec_driver_sql(pragma).scalar()
        with larger_sqlite_cache(session, 4096):
            assert session.connection().exec_driver_sql(pragma).scalar() == -4096
        assert session.connection().exec_driver_sql(pragma).scalar() == before


def test_sync_deactivates_only_in_the_classes_the_files_cover(tmp_path, sessions):
    sidorov = ["S3", "Сидоров", "Иван", None, date(2015, 2, 2), "5В"]
    kim = ["S4", "Ким", "Виктор", None, date(2015, 4, 4), "5Б"]
    orlov = ["S5", "Орлов", "Олег", None, date(2015, 5, 5), "5Б"]
    do_import(sessions, [write_xlsx(tmp_path / "a.xlsx", [HEADER, IVANOV, sidorov, kim, orlov])])
    only_5b = write_xlsx(tmp_path / "5b.xlsx", [HEADER, kim])
    plan = do_import(sessions, [only_5b], sync=True, dry_run=True)
    assert [(s["class"], s["name"]) for s in plan.to_deactivate] == [("5Б", "Орлов Олег")]
    report = do_import(sessions, [only_5b], sync=True, confirm=lambda listed: True)
    assert report.deactivated == 1
    active = {name: s.active for name, s in students(sessions).items()}
    assert active == {
        "Иванов Пётр": True, "Сидоров Иван": True, "Ким Виктор": True, "Орлов Олег": False
    }  # fmt: skip
