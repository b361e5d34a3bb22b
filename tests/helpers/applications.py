"""A small roster and a corpus of applications covering every decision and reason code.

Shared by the applications tests: `build_roster` puts the children (and two guardians) in
the database with tests/helpers/factories.py; `CORPUS` lists each application with the status and
the exact set of reason codes verify must give it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from diaryadmin.samples.applications import HEADER
from helpers import factories


@dataclass(frozen=True)
class Kid:
    surname: str
    name: str
    patronymic: str | None
    birth_date: date
    certificate: str | None
    active: bool = True


SMIRNOV = Kid("Смирнов", "Артём", "Олегович", date(2015, 3, 14), "XIV-МЮ 123456")
ALINA = Kid("Соколова", "Алина", "Петровна", date(2016, 5, 7), "II-АК 111111")  # twins
ARTUR = Kid("Соколов", "Артур", "Петрович", date(2016, 5, 7), "II-АК 222222")
VOLKOV = Kid("Волков", "Денис", "Сергеевич", date(2013, 9, 1), "IV-ОР 333333", active=False)
ORLOVA = Kid("Орлова", "Ксения", "Андреевна", date(2014, 2, 10), "XII-ВЕ 444444")
LEBEDEV = Kid("Лебедев", "Иван", "Ильич", date(2015, 11, 2), "IV-МЮ 555555")
YOLKINA = Kid("Ёлкина", "Алёна", "Сергеевна", date(2016, 7, 8), "III-СТ 666666")
ZAITSEV = Kid("Зайцев", "Олег", "Ильич", date(2014, 6, 6), None)  # no certificate on file
ROSTER = [SMIRNOV, ALINA, ARTUR, VOLKOV, ORLOVA, LEBEDEV, YOLKINA, ZAITSEV]

# The roster's own guardians (already linked to their children).
ELENA = ("Смирнова", "Елена", "Игоревна", "elena@example.ru", "+79120000001")
ANDREY = ("Орлов", "Андрей", "Викторович", "andrey@example.ru", "+79120000002")


def build_roster(session, secret: bytes) -> dict[str, Any]:
    """The roster in the database; returns student objects by surname and name."""
    students = {}
    for kid in ROSTER:
        students[kid.name] = factories.student(
            session,
            kid.surname,
            kid.name,
            kid.patronymic,
            kid.birth_date,
            certificate=kid.certificate,
            secret=secret,
            active=kid.active,
        )
    for (surname, name, patronymic, email, phone), child, relation in (
        (ELENA, students["Артём"], "mother"),
        (ANDREY, students["Ксения"], "father"),
    ):
        factories.guardian(
            session,
            child,
            surname=surname,
            name=name,
            patronymic=patronymic,
            relation=relation,
            email=email,
            phone=phone,
        )
    return students


def application(
    number: int,
    kid: Kid,
    applicant: tuple[str, str, str | None] = ("Смирнов", "Олег", "Петрович"),
    *,
    relation: str = "отец",
    email: str | None = None,
    phone: str | None = None,
    passport: str = "45 08 123456",
    snils: str | None = "112-233-445 95",
    consent: Any = "да",
    certificate: str | None = "same",
    child_name: tuple[str, str, str | None] | None = None,
    birth_date: date | None = None,
    applied_on: date = date(2026, 9, 1),
) -> dict[str, Any]:
    """One row of the portal's spreadsheet (HEADER -> value)."""
    surname, name, patronymic = child_name or (kid.surname, kid.name, kid.patronymic)
    return {
        "Номер заявления": f"A-{number:04d}",
        "Дата заявления": applied_on,
        "Фамилия заявителя": applicant[0],
        "Имя заявителя": applicant[1],
        "Отчество заявителя": applicant[2],
        "Кем приходится": relation,
        "Серия и номер паспорта": passport,
        "СНИЛС": snils,
        "E-mail": email if email is not None else f"parent{number}@example.ru",
        "Телефон": phone,
        "Фамилия ребёнка": surname,
        "Имя ребёнка": name,
        "Отчество ребёнка": patronymic,
        "Дата рождения ребёнка": birth_date or kid.birth_date,
        "Свидетельство о рождении": kid.certificate if certificate == "same" else certificate,
        "Согласие на обработку персональных данных": consent,
    }


UNKNOWN = Kid("Петров", "Пётр", "Петрович", date(2012, 1, 1), "VII-ДД 777777")
FATHER = ("Смирнов", "Олег", "Петрович")
MOTHER_ELENA = ("Смирнова", "Елена", "Игоревна")

# (row, expected status, expected reason codes, what it shows)
CORPUS: list[tuple[dict[str, Any], str, set[str], str]] = [
    (application(1, SMIRNOV, FATHER), "approved", set(), "exact"),
    (
        application(
            2,
            SMIRNOV,
            MOTHER_ELENA,
            relation="мать",
            email="elena@example.ru",
            certificate="XIV-MЮ 123456",  # a Latin M in the Cyrillic pair
        ),
        "approved",
        set(),
        "latin look-alike in the series; the roster's own guardian",
    ),
    (
        application(
            3, ORLOVA, ("Орлова", "Мария", "Ивановна"), relation="мать", certificate="ХII-ВЕ 444444"
        ),  # fmt: skip
        "approved",
        set(),
        "Cyrillic Х for Roman ten",
    ),
    (
        application(
            4,
            LEBEDEV,
            ("Лебедева", "Ольга", "Ивановна"),
            relation="мать",
            certificate="1V-МЮ 555555",
        ),  # fmt: skip
        "approved",
        set(),
        "1V for IV",
    ),
    (
        application(5, LEBEDEV, ("Лебедев", "Илья", "Иванович"), certificate="IVМЮ555555"),
        "approved",
        set(),
        "missing hyphen and space",
    ),
    (
        application(6, ALINA, ("Соколова", "Вера", "Павловна"), relation="мать"),
        "approved",
        set(),
        "a twin, by her own certificate",
    ),
    (
        application(7, ARTUR, ("Соколов", "Пётр", "Ильич"), certificate=ALINA.certificate),
        "rejected",
        {"certificate_mismatch"},
        "a twin named with the other twin's certificate: the certificate decides",
    ),
    (
        application(8, VOLKOV, ("Волков", "Сергей", "Ильич")),
        "rejected",
        {"child_inactive"},
        "a child who left the school",
    ),
    (
        application(9, SMIRNOV, ("Смирнова", "Анна", "Олеговна"), relation="опекун", consent="нет"),
        "rejected",
        {"no_consent"},
        "no consent",
    ),
    (
        application(
            10,
            SMIRNOV,
            ("Смирнов", "Пётр", "Олегович"),
            child_name=("СМИРНОВ", "Артем", "Олегович"),
        ),  # fmt: skip
        "approved",
        set(),
        "ё written as е, capitals",
    ),
    (
        application(
            11, SMIRNOV, ("Смирнов", "Иван", "Олегович"), child_name=("Смирнв", "Артём", "Олегович")
        ),  # fmt: skip
        "review",
        {"name_near_miss"},
        "one letter missing in the surname",
    ),
    (
        application(
            12,
            ORLOVA,
            ("Орлова", "Нина", "Петровна"),
            relation="мать",
            birth_date=date(2014, 10, 2),
        ),  # fmt: skip
        "review",
        {"date_swapped"},
        "day and month swapped",
    ),
    (
        application(
            13,
            LEBEDEV,
            ("Лебедева", "Анна", "Ильинична"),
            relation="мать",
            child_name=("Лебедев", "Иван", None),
        ),  # fmt: skip
        "review",
        {"patronymic_missing"},
        "patronymic left out, certificate matches",
    ),
    (
        application(14, ORLOVA, ANDREY[:3], email="", phone="8 999 000-00-00"),
        "review",
        {"contact_conflict"},
        "the roster's guardian with another phone",
    ),
    (
        application(15, SMIRNOV, ("Смирнов", "Фёдор", "Олегович"), birth_date=date(2015, 4, 20)),
        "rejected",
        {"birth_date_mismatch"},
        "wrong birth date",
    ),
    (
        application(16, SMIRNOV, ("Смирнов", "Глеб", "Олегович"), certificate="V-ЖЖ 999999"),
        "rejected",
        {"certificate_mismatch"},
        "a well-formed certificate that is not the child's",
    ),
    (
        application(17, SMIRNOV, ("Смирнов", "Лев", "Олегович"), certificate="AB-12 123"),
        "rejected",
        {"certificate_malformed"},
        "malformed certificate",
    ),
    (
        application(18, SMIRNOV, ("Смирнов", "Марк", "Олегович"), passport="12 34"),
        "rejected",
        {"passport_malformed"},
        "malformed passport",
    ),
    (
        application(19, SMIRNOV, ("Смирнов", "Ян", "Олегович"), snils="112-233-445 96"),
        "rejected",
        {"snils_invalid"},
        "SNILS check number wrong",
    ),
    (
        application(20, UNKNOWN, ("Петров", "Пётр", "Ильич")),
        "rejected",
        {"child_not_found"},
        "no such child",
    ),
    (
        application(21, SMIRNOV, FATHER, applied_on=date(2026, 9, 5)),
        "rejected",
        {"duplicate_application"},
        "the same applicant and child again, while #1 is approved",
    ),
    (
        application(
            22,
            YOLKINA,
            ("Елкина", "Ольга", "Ивановна"),
            relation="мать",
            child_name=("Елкина", "Алена", "Сергеевна"),
        ),  # fmt: skip
        "approved",
        set(),
        "ё = е in the child's name",
    ),
    (
        application(23, ZAITSEV, ("Зайцев", "Илья", "Олегович"), certificate="VIII-ЗЗ 888888"),
        "review",
        {"certificate_mismatch"},
        "the school holds no certificate to compare",
    ),
    (
        application(24, UNKNOWN, ("Петров", "Олег", "Ильич"), consent=None, passport="нет"),
        "rejected",
        {"no_consent", "passport_malformed", "child_not_found"},
        "several reasons at once",
    ),
]


def write_xlsx(path: Path, rows: list[dict[str, Any]], title: str | None = "Заявления") -> Path:
    """The rows as the portal's xlsx: an optional title row, then HEADER, then the rows."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Заявления"
    if title:
        sheet.append([title])
    sheet.append(HEADER)
    for row in rows:
        sheet.append([row.get(column) for column in HEADER])
    workbook.save(path)
    return path
