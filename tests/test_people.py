"""The one vocabulary (people/): relations, gender, "none" words, names and class names, and
the places that used to disagree about them (rosters, applications, letters, status)."""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from diaryadmin.config import Settings
from diaryadmin.models import Guardian, Guardianship, Student
from diaryadmin.roster.importing import import_roster

NOW = datetime(2026, 10, 1, 9, 30)
SECRET = "test-secret-key-0123456789abcdef"
HEADER = ["ID", "Фамилия", "Имя", "Отчество", "Дата рождения", "Класс"]
PETR = ["S1", "Иванов", "Пётр", "Сергеевич", date(2015, 3, 14), "5А"]


def _xlsx(path: Path, rows: list[list]) -> Path:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def _import_guardians(tmp_path, sessions, guardians: list[tuple[str, str | None]]):
    """Import Пётр Иванов with these (full name, relation cell) guardians on a guardians
    sheet; return (surname, relation, trusted) of every guardianship."""
    book = openpyxl.Workbook()
    book.active.title = "Ученики"
    book.active.append(HEADER)
    book.active.append(PETR)
    sheet = book.create_sheet("Родители")
    sheet.append(["ID ученика", "ФИО", "Кем приходится"])
    for name, relation in guardians:
        sheet.append(["S1", name, relation])
    path = tmp_path / "roster.xlsx"
    book.save(path)
    with sessions() as session, session.begin():
        report = import_roster(
            session, [path], settings=Settings(secret_key=SECRET), operator="test", now=NOW
        )
    assert [str(w) for w in report.warnings] == []
    with sessions() as session:
        rows = session.execute(
            select(Guardian.surname, Guardianship.relation, Guardianship.trusted)
            .join(Guardianship, Guardianship.guardian_id == Guardian.id)
            .join(Student, Student.id == Guardianship.student_id)
            .order_by(Guardian.surname)
        ).all()
    return [tuple(r) for r in rows]


# --- disagreements fixed by DOMAIN.md ------------------------------------------------------------


def test_a_grandmother_in_a_roster_is_a_trusted_person_as_in_applications(tmp_path, sessions):
    # Was: «бабушка» a guardian in the roster, a trusted person in applications.
    rows = _import_guardians(
        tmp_path,
        sessions,
        [("Сидорова Анна Ивановна", "бабушка"), ("Петров Олег Ильич (дедушка)", None)],
    )
    assert rows == [("Петров", "trusted", True), ("Сидорова", "trusted", True)]


def test_a_grandmother_the_file_names_a_legal_guardian_is_a_guardian(tmp_path, sessions):
    rows = _import_guardians(
        tmp_path,
        sessions,
        [("Сидорова Анна Ивановна", "бабушка (опекун)"), ("Петрова Вера Ильинична", "Опекун")],
    )
    assert rows == [("Петрова", "guardian", False), ("Сидорова", "guardian", False)]


def test_a_parent_in_a_roster_is_told_mother_or_father_by_the_patronymic(tmp_path, sessions):
    # Was: «родитель» always a guardian in the roster, mother/father in applications.
    rows = _import_guardians(
        tmp_path,
        sessions,
        [
            ("Иванова Мария Петровна", "Родитель"),
            ("Иванов Сергей Олегович", "родитель"),
            ("Жумабеков Арман Нурлан уулу", "родитель (законный представитель)"),
        ],
    )
    assert rows == [
        ("Жумабеков", "father", False),
        ("Иванов", "father", False),
        ("Иванова", "mother", False),
    ]


def test_a_none_word_in_a_roster_is_the_same_as_in_applications(tmp_path, sessions):
    # Was: «не имеет» meant "none" in applications only.
    rows = _import_guardians(tmp_path, sessions, [("Иванова Мария Петровна", "не имеет")])
    assert rows == [("Иванова", "mother", False)]


def _read_applications(workdir, settings, rows):
    from diaryadmin.applications.read import read_applications

    header = ["Фамилия заявителя", "Имя заявителя", "Отчество заявителя", "Кем приходится",
              "Паспорт", "ФИО ребёнка", "Дата рождения", "Свидетельство о рождении",
              "Согласие"]  # fmt: skip
    path = _xlsx(workdir / "office.xlsx", [header, *rows])
    parsed, report = read_applications([path], settings, today=date(2026, 9, 10))
    assert report.errors == []
    return [p.values for p in parsed]


def _application(surname, name, patronymic, relation, number="123456"):
    return [surname, name, patronymic, relation, "4508 123456", "Смирнов Артём Олегович",
            "14.03.2015", f"XIV-МЮ {number}", "да"]  # fmt: skip


def test_an_applying_parent_with_uulu_is_a_father(workdir, settings):
    # Was: «уулу» missing from the applications' patronymic endings.
    [values] = _read_applications(
        workdir, settings, [_application("Жумабеков", "Арман", "Нурлан уулу", "родитель")]
    )
    assert values["relation"] == "father"


def test_an_application_with_a_grandmother_named_guardian_is_a_guardians(workdir, settings):
    # Was: the words in brackets dropped, so «Бабушка (опекун)» was a trusted person.
    [values] = _read_applications(
        workdir, settings, [_application("Смирнова", "Елена", "Игоревна", "Бабушка (опекун)")]
    )
    assert values["relation"] == "guardian"


def test_an_application_patronymic_written_as_not_given_is_none(workdir, settings):
    # Was: «не указано» meant "none" in rosters only, and was taken as a patronymic.
    [values] = _read_applications(
        workdir, settings, [_application("Смирнова", "Елена", "не указано", "мать")]
    )
    assert values["applicant_patronymic"] is None


def test_every_relation_has_one_russian_word_everywhere():
    # Was: guardian «опекун» in rosters and reports but «законный представитель» on slips;
    # trusted «доверенное» in rosters but «доверенное лицо» elsewhere.
    from diaryadmin import letters
    from diaryadmin.applications import report
    from diaryadmin.people.relations import RELATIONS, relation_word
    from diaryadmin.roster.importing import relation_word as roster_word

    env = letters.template_environment(Settings())
    for code in RELATIONS:
        assert roster_word(code) == env.filters["relation_ru"](code) == relation_word(code)
    assert relation_word("guardian") == "опекун"
    assert relation_word("trusted") == "доверенное лицо"
    assert report.relation_word is relation_word


def test_credentials_status_says_mother_and_father_as_roster_list_does(run_cli, sessions):
    from helpers import factories as f

    with sessions.begin() as session:
        petr = f.student(session)
        f.guardian(session, petr)
        f.guardian(session, petr, surname="Иванов", name="Сергей", patronymic="Олегович",
                   relation="father", email="sergei@example.org", phone=None)  # fmt: skip
    status = run_cli("credentials", "status")
    listing = run_cli("roster", "list")
    assert status.exit_code == 0 and listing.exit_code == 0, status.output + listing.output
    for word in ("мать", "отец"):
        assert f" {word} " in status.stdout and f", {word}," in listing.stdout
    assert "mother" not in status.stdout and "father" not in status.stdout


def test_a_greeting_knows_the_shna_and_uulu_patronymics():
    from diaryadmin.applications.report import greeting
    from diaryadmin.models import Application

    def of(name, patronymic):
        return greeting(
            Application(
                applicant_surname="Фомина",
                applicant_name=name,
                applicant_patronymic=patronymic,
                relation="guardian",
            )  # fmt: skip
        )

    assert of("Анна", "Ильинишна") == "Уважаемая Анна Ильинишна"
    assert of("Арман", "Нурлан уулу") == "Уважаемый Арман Нурлан уулу"


def test_an_aunt_or_an_older_brother_applying_is_a_trusted_person(workdir, settings):
    rows = [_application("Смирнова", "Елена", "Игоревна", "тётя"),
            _application("Смирнов", "Олег", "Игоревич", "Старший брат", "654321")]  # fmt: skip
    assert [v["relation"] for v in _read_applications(workdir, settings, rows)] == [
        "trusted",
        "trusted",
    ]


# --- the vocabulary itself -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "patronymic", "expected"),
    [
        ("мать", None, "mother"),
        ("Мама", None, "mother"),
        ("Мать ребёнка", None, "mother"),
        ("папа", None, "father"),
        ("Отец ученика", None, "father"),
        ("опекун", None, "guardian"),
        ("Попечитель", None, "guardian"),
        ("Законный представитель (опекун)", None, "guardian"),
        ("Опекун (попечитель)", None, "guardian"),
        ("Мать (законный представитель)", None, "mother"),
        ("бабушка", None, "trusted"),
        ("Дедушка", None, "trusted"),
        ("тётя", None, "trusted"),
        ("доверенное лицо", None, "trusted"),
        ("бабушка (опекун)", None, "guardian"),
        ("бабушка, опекун", None, "guardian"),
        ("бабушка-опекун", None, "guardian"),
        ("Опекун (бабушка)", None, "guardian"),
        ("бабушка (по маме)", None, "trusted"),
        ("родитель", "Петровна", "mother"),
        ("Родитель (законный представитель)", "Рашид кызы", "mother"),
        ("родитель", "Ильич", "father"),
        ("parent", "Нурлан уулу", "father"),
        ("родитель", None, "guardian"),
        ("Grandmother", None, "trusted"),
        ("тётя Маша", None, None),
        ("соседка", None, None),
        ("", None, None),
        (None, None, None),
    ],
)
def test_relation_of(text, patronymic, expected):
    from diaryadmin.people.relations import relation_of

    assert relation_of(text, patronymic) == expected


def test_every_relation_word_reads_back_as_its_code():
    from diaryadmin.people.relations import RELATIONS, is_trusted, relation_of, relation_word

    assert [relation_of(relation_word(code)) for code in RELATIONS] == list(RELATIONS)
    assert [code for code in RELATIONS if is_trusted(code)] == ["trusted"]


@pytest.mark.parametrize(
    ("patronymic", "gender"),
    [
        ("Петровна", "female"),
        ("ИЛЬИНИЧНА", "female"),
        ("Фоминишна", "female"),
        ("Рашид кызы", "female"),
        ("Алиш гызы", "female"),
        ("Петрович", "male"),
        ("Ильич", "male"),
        ("Рашид оглы", "male"),
        ("Нурлан улы", "male"),
        ("Нурлан уулу", "male"),
        ("Пeтровна", "female"),  # a Latin e inside
        ("Джон", None),
        ("", None),
        (None, None),
    ],
)
def test_gender_of_patronymic(patronymic, gender):
    from diaryadmin.people.names import gender_of_patronymic

    assert gender_of_patronymic(patronymic) == gender


@pytest.mark.parametrize(
    ("text", "none"),
    [("-", True), ("—", True), ("нет", True), ("Не указано.", True), ("не  имеет", True),
     ("Отсутствует", True), ("н/д", True), ("Петровна", False), ("нет данных", True),
     ("Нетта", False)],
)  # fmt: skip
def test_means_none(text, none):
    from diaryadmin.people.blanks import NONE_WORD_LENGTH, means_none

    assert means_none(text) is none
    assert not none or len(text) <= NONE_WORD_LENGTH


def test_no_is_a_value_for_consent_but_none_in_a_name_cell():
    from diaryadmin.io.cells import parse_bool
    from diaryadmin.people.blanks import means_none

    assert parse_bool("нет") is False and means_none("нет")


def test_full_name_leaves_out_what_is_missing():
    from diaryadmin.models import Guardian
    from diaryadmin.people.names import full_name

    assert full_name("Иванова", "Мария", "Петровна") == "Иванова Мария Петровна"
    assert full_name("Ли", "Вера", None) == full_name("Ли", "Вера", "") == "Ли Вера"
    assert full_name("Смирнова", None) == "Смирнова"
    person = Guardian(surname="Мамедов", name="Рашид", patronymic="Али оглы")
    assert person.full_name == "Мамедов Рашид Али оглы"


@pytest.mark.parametrize("code", ["mother", "father", "guardian", "trusted"])
def test_a_name_with_its_relation_splits_back(code):
    from diaryadmin.people.relations import name_with_relation, relation_of, split_relation

    written = name_with_relation("Иванова Мария Петровна", code)
    name, relation = split_relation(written)
    assert name == "Иванова Мария Петровна" and relation_of(relation) == code


@pytest.mark.parametrize(
    ("cell", "name", "relation"),
    [
        ("Иванова Мария Петровна (мать)", "Иванова Мария Петровна", "мать"),
        ("Иванов Пётр, папа", "Иванов Пётр", "папа"),
        ("Сидорова Анна - бабушка", "Сидорова Анна", "бабушка"),
        ("Иванова Мария (тётя Маша)", "Иванова Мария (тётя Маша)", None),
        ("Римская-Корсакова Анна", "Римская-Корсакова Анна", None),
    ],
)
def test_split_relation(cell, name, relation):
    from diaryadmin.people.relations import split_relation

    assert split_relation(cell) == (name, relation)


# --- which school, which class -------------------------------------------------------------------


def _two_schools(sessions):
    from helpers import factories as f

    with sessions.begin() as session:
        f.guardian(session, f.student(session))
        f.school(session, "s2", "МБОУ СОШ № 2")


def test_every_command_means_the_same_school(run_cli, sessions):
    # Was: credentials issue/status took every school when the database held several.
    _two_schools(sessions)
    several = "The database holds several schools: name one with --school CODE."
    for args in (("roster", "list"), ("credentials", "status"),
                 ("credentials", "issue", "--all", "--dry-run")):  # fmt: skip
        result = run_cli(*args)
        assert (result.exit_code, several in result.output) == (1, True), args
    for args in (("roster", "list", "--school", "s3"), ("credentials", "status", "--school", "s3")):
        result = run_cli(*args)
        assert "There is no school with code 's3'." in result.output, args
    assert run_cli("credentials", "status", "--school", "s1").exit_code == 0


def test_every_command_reads_a_class_option_the_same_way(run_cli, sessions):
    # Was: three messages for one mistake (`--class '5Ы': …`, "Some class names are not
    # valid.", "'5Ы' is not a class name: …").
    from helpers import factories as f

    with sessions.begin() as session:
        f.guardian(session, f.student(session))
    for args in (("roster", "list"), ("roster", "export", "out.xlsx"), ("credentials", "status"),
                 ("journal", "export", "--from", "01.09.2026", "--to", "27.10.2026",
                  "--out", "j.xlsx")):  # fmt: skip
        result = run_cli(*args, "--class", "12Б")
        assert result.exit_code == 1, (args, result.output)
        assert "--class '12Б' is not a class name." in result.output, (args, result.output)
        assert "grade 12 is not 1–11" in result.output, args
    listing = run_cli("roster", "list", "--class", "5 a")  # Latin a
    assert listing.exit_code == 0 and "Иванов" in listing.stdout


def test_canonical_classes_names_every_bad_one():
    from diaryadmin.errors import InputError
    from diaryadmin.schools import canonical_classes, class_option

    assert canonical_classes(["5 а", "5-А", "5«А»", "10B"]) == ["5А", "5А", "5А", "10В"]
    assert class_option(None) is None and class_option('7 "в"') == "7В"
    with pytest.raises(InputError) as caught:
        canonical_classes(["5А", "0А", "5W"])
    assert str(caught.value) == "Some class names are not valid."
    assert [(p.column, p.value) for p in caught.value.problems] == [("--class", "0А"),
                                                                    ("--class", "5W")]  # fmt: skip


@pytest.mark.parametrize("target", ["roster.xlsx", "roster.csv", "oneroster"])
def test_a_grandmother_from_the_roster_is_exported_and_read_back(
    target, tmp_path, sessions, db_snapshot
):
    from diaryadmin.roster.importing import export_roster

    guardians = [("Иванова Мария Петровна", "мать"), ("Сидорова Анна Ивановна", "бабушка")]
    rows = _import_guardians(tmp_path, sessions, guardians)
    assert rows == [("Иванова", "mother", False), ("Сидорова", "trusted", True)]
    before = db_snapshot()
    out = tmp_path / "out" / target
    out.parent.mkdir()
    with sessions() as session:
        export_roster(session, Settings(secret_key=SECRET), out)
    with sessions() as session, session.begin():
        report = import_roster(
            session, [out], settings=Settings(secret_key=SECRET), operator="test", now=NOW
        )
    assert (report.created, report.updated, report.unchanged, report.warnings) == (0, 0, 1, [])
    assert db_snapshot() == before
    if target == "oneroster":
        with open(out / "users.csv", encoding="utf-8") as stream:
            roles = {row["familyName"]: row["role"] for row in csv.DictReader(stream)}
        assert roles == {"Иванов": "student", "Иванова": "parent", "Сидорова": "relative"}
    elif target == "roster.csv":
        assert "Сидорова Анна Ивановна;доверенное лицо" in out.read_text(encoding="utf-8-sig")
    else:
        values = [c.value for c in openpyxl.load_workbook(out).active[2]]
        assert "Сидорова Анна Ивановна" in values and "доверенное лицо" in values


def test_a_trusted_person_a_guardian_granted_is_not_roster_data(tmp_path, sessions):
    from diaryadmin.credentials.trusted import grant_trusted_person
    from diaryadmin.roster.importing import export_roster

    _import_guardians(tmp_path, sessions, [("Иванова Мария Петровна", "мать")])
    with sessions() as session, session.begin():
        student_id = session.scalar(select(Student.id))
        grant_trusted_person(session, student_id=student_id, guardian_name="Иванова Мария",
                             person="Петрова Галина Ивановна", operator="test")  # fmt: skip
    out = tmp_path / "out.csv"
    with sessions() as session:
        export_roster(session, Settings(secret_key=SECRET), out)
    text = out.read_text(encoding="utf-8-sig")
    assert "Иванова Мария Петровна;мать" in text and "Петрова" not in text
