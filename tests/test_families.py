"""Real families in a roster: a guardian is a person, matched by name; contacts only confirm.

Parents of one child share a home phone or a family e-mail; a grandparent's landline appears in
two families. None of that may merge two people or link a parent to somebody else's child.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from diaryadmin.models import Guardian, Guardianship, Student
from diaryadmin.roster import write as roster_write
from helpers.roster import HEADER, counts, do_import, write_xlsx

PARENTS = ["ФИО матери", "Телефон матери", "E-mail матери", "ФИО отца", "Телефон отца",
           "E-mail отца"]  # fmt: skip
IVANOV = ["S1", "Иванов", "Пётр", "Сергеевич", date(2015, 3, 14), "5А"]
PETROV = ["S2", "Петров", "Олег", "Игоревич", date(2015, 7, 1), "5А"]
HOME = "8 (495) 123-45-67"


def links(sessions) -> list[tuple[str, str, str]]:
    """(student, guardian, relation) of every guardianship, sorted."""
    with sessions() as session:
        rows = session.execute(
            select(Student.surname, Guardian.surname, Guardian.name, Guardianship.relation)
            .join(Guardianship, Guardianship.student_id == Student.id)
            .join(Guardian, Guardian.id == Guardianship.guardian_id)
        ).all()
    return sorted((s, f"{g} {n}", r) for s, g, n, r in rows)


def test_parents_sharing_a_home_phone_are_two_people(tmp_path, sessions, db_snapshot):
    rows = [
        [*HEADER, *PARENTS],
        [*IVANOV, "Иванова Мария Петровна", HOME, None, "Иванов Сергей Олегович", HOME, None],
    ]
    path = write_xlsx(tmp_path / "r.xlsx", rows)
    report = do_import(sessions, [path])
    assert report.guardians_created == 2
    assert links(sessions) == [
        ("Иванов", "Иванов Сергей", "father"),
        ("Иванов", "Иванова Мария", "mother"),
    ]
    before = db_snapshot()
    again = do_import(sessions, [path])
    assert (again.unchanged, again.guardians_created) == (1, 0)
    assert db_snapshot() == before


def test_parents_sharing_a_family_email_are_two_people(tmp_path, sessions):
    family = "ivanovy@mail.ru"
    rows = [
        [*HEADER, *PARENTS],
        [*IVANOV, "Иванова Мария Петровна", None, family, "Иванов Сергей Олегович", None, family],
    ]
    report = do_import(sessions, [write_xlsx(tmp_path / "r.xlsx", rows)])
    assert report.guardians_created == 2
    with sessions() as session:
        people = session.execute(select(Guardian.surname, Guardian.email)).all()
    assert sorted(people) == [("Иванов", family), ("Иванова", family)]


def test_a_landline_in_two_families_links_nobody_to_the_other_child(tmp_path, sessions):
    # A grandmother's landline is the father's number in one family, the mother's in another.
    rows = [
        [*HEADER, *PARENTS],
        [*IVANOV, None, None, None, "Иванов Сергей Олегович", HOME, None],
        [*PETROV, "Петрова Анна Викторовна", HOME, None, None, None, None],
    ]
    do_import(sessions, [write_xlsx(tmp_path / "r.xlsx", rows)])
    assert links(sessions) == [
        ("Иванов", "Иванов Сергей", "father"),
        ("Петров", "Петрова Анна", "mother"),
    ]


def test_a_shared_phone_in_a_later_import_is_not_the_same_person(tmp_path, sessions):
    first = [[*HEADER, *PARENTS], [*IVANOV, None, None, None, "Иванов Сергей Олегович", HOME, None]]
    do_import(sessions, [write_xlsx(tmp_path / "a.xlsx", first)])
    second = [[*HEADER, *PARENTS], [*PETROV, "Петрова Анна Викторовна", HOME, None, None, None,
                                    None]]  # fmt: skip
    report = do_import(sessions, [write_xlsx(tmp_path / "b.xlsx", second)])
    assert report.guardians_created == 1
    assert links(sessions) == [
        ("Иванов", "Иванов Сергей", "father"),
        ("Петров", "Петрова Анна", "mother"),
    ]
    with sessions() as session:  # the father's record was not renamed by the other family
        assert session.scalars(select(Guardian.surname).order_by(Guardian.id)).all() == [
            "Иванов",
            "Петрова",
        ]


def test_yo_and_ye_spell_the_same_guardian(tmp_path, sessions):
    rows = [
        [*HEADER, *PARENTS],
        [*IVANOV, "Семёнова Алёна Петровна", "89001112233", None, None, None, None],
        ["S3", "Семёнов", "Илья", None, date(2017, 1, 1), "3А", "СЕМЕНОВА АЛЕНА ПЕТРОВНА", None,
         None, None, None, None],
    ]  # fmt: skip
    report = do_import(sessions, [write_xlsx(tmp_path / "r.xlsx", rows)])
    assert report.guardians_created == 1 and counts(sessions)["guardianships"] == 2
    with sessions() as session:  # storage keeps what the first row wrote
        assert session.scalars(select(Guardian.name)).all() == ["Алёна"]


def test_a_namesake_with_another_email_is_another_person_with_a_warning(tmp_path, sessions):
    rows = [
        [*HEADER, *PARENTS],
        [*IVANOV, "Орлова Анна", None, "a@x.ru", None, None, None],
        [*PETROV, "Орлова Анна", None, "b@x.ru", None, None, None],
    ]
    report = do_import(sessions, [write_xlsx(tmp_path / "r.xlsx", rows)])
    assert counts(sessions)["guardians"] == 2
    [warning] = report.warnings
    assert warning.row == 3 and warning.value == "b@x.ru"
    assert "row 2" in warning.message and "another person" in warning.message


@pytest.mark.parametrize("chunk", [None, 1], ids=["one chunk", "a chunk per row"])
def test_a_conflicting_phone_names_both_rows(tmp_path, sessions, monkeypatch, chunk):
    if chunk:
        monkeypatch.setattr(roster_write, "CHUNK_RECORDS", chunk)
    rows = [
        [*HEADER, *PARENTS],
        [*IVANOV, "Иванова Мария", "89000000001", "m@x.ru", None, None, None],
        ["S5", "Иванова", "Вера", None, date(2017, 1, 1), "3А", "Иванова Мария", "89000000002",
         "m@x.ru", None, None, None],
    ]  # fmt: skip
    report = do_import(sessions, [write_xlsx(tmp_path / "r.xlsx", rows)])
    [warning] = report.warnings
    assert (warning.row, warning.value) == (3, "+79000000002")
    assert "row 2" in warning.message
    assert counts(sessions)["guardians"] == 1


def test_a_patronymic_added_later_is_the_same_person_when_a_contact_confirms(tmp_path, sessions):
    first = [[*HEADER, *PARENTS], [*IVANOV, "Иванова Мария", HOME, None, None, None, None]]
    do_import(sessions, [write_xlsx(tmp_path / "a.xlsx", first)])
    second = [[*HEADER, *PARENTS], [*IVANOV, "Иванова Мария Петровна", HOME, None, None, None,
                                    None]]  # fmt: skip
    report = do_import(sessions, [write_xlsx(tmp_path / "b.xlsx", second)])
    assert report.guardians_created == 0
    with sessions() as session:
        assert session.scalars(select(Guardian.patronymic)).all() == ["Петровна"]
