"""The application table: its columns (Russian and English aliases), what it requires, the
group headings of a two-row header, and the table kind the one table policy reads."""

from __future__ import annotations

from functools import lru_cache

from diaryadmin.i18n import N_
from diaryadmin.io import HeaderMap
from diaryadmin.io.cells import cell_text
from diaryadmin.io.headers import alias_index, normalise_header
from diaryadmin.io.table import TableKind

# Header aliases, matched case-, space- and punctuation-insensitively (io.headers).
ALIASES: dict[str, list[str]] = {
    "external_id": [
        "Номер заявления",
        "№ заявления",
        "Номер заявки",
        "Номер заявления ЕПГУ",
        "Номер заявления на ЕПГУ",
        "Application number",
        "Application ID",
        "External ID",
    ],
    "applied_on": [
        "Дата заявления",
        "Дата подачи",
        "Дата подачи заявления",
        "Дата регистрации заявления",
        "Дата создания заявления",
        "Application date",
    ],
    "applicant_full_name": [
        "ФИО заявителя",
        "Ф.И.О. заявителя",
        "Ф.И.О. родителя",
        "Заявитель",
        "ФИО родителя",
        "ФИО законного представителя",
        "Applicant",
        "Applicant full name",
    ],
    "applicant_surname": [
        "Фамилия заявителя",
        "Фамилия родителя",
        "Applicant surname",
        "Applicant last name",
    ],
    "applicant_name": ["Имя заявителя", "Имя родителя", "Applicant name", "Applicant first name"],
    "applicant_patronymic": [
        "Отчество заявителя",
        "Отчество родителя",
        "Applicant patronymic",
        "Applicant middle name",
    ],
    "relation": [
        "Кем приходится",
        "Кем приходится ребёнку",
        "Кем является ребёнку",
        "Кем является",
        "Степень родства",
        "Отношение к ребёнку",
        "Relation",
        "Relationship",
    ],
    "passport": [
        "Паспорт",
        "Серия и номер паспорта",
        "Паспорт заявителя",
        "Passport",
        "Passport number",
    ],
    "passport_series": [
        "Серия паспорта",
        "Серия документа, удостоверяющего личность",
        "Passport series",
    ],
    "passport_number": [
        "Номер паспорта",
        "Номер документа, удостоверяющего личность",
        "Passport no",
    ],
    "snils": ["СНИЛС", "СНИЛС заявителя", "SNILS"],
    "email": [
        "E-mail",
        "Email",
        "Электронная почта",
        "Эл почта",
        "Адрес электронной почты",
        "Электронная почта заявителя",
        "E-mail заявителя",
        "Адрес эл. почты",
    ],
    "phone": [
        "Телефон",
        "Контактный телефон",
        "Телефон заявителя",
        "Мобильный телефон",
        "Телефон для связи",
        "Phone",
        "Mobile",
    ],
    "child_full_name": [
        "ФИО ребёнка",
        "Ф.И.О. ребёнка",
        "ФИО ученика",
        "ФИО обучающегося",
        "Ребёнок",
        "Child",
        "Child full name",
    ],
    "child_surname": [
        "Фамилия ребёнка",
        "Фамилия ученика",
        "Фамилия обучающегося",
        "Child surname",
        "Child last name",
    ],
    "child_name": ["Имя ребёнка", "Имя ученика", "Имя обучающегося", "Child name"],
    "child_patronymic": [
        "Отчество ребёнка",
        "Отчество ученика",
        "Отчество обучающегося",
        "Child patronymic",
        "Child middle name",
    ],
    "child_birth_date": [
        "Дата рождения ребёнка",
        "Дата рождения",
        "Дата рождения ученика",
        "Дата рождения обучающегося",
        "Child birth date",
        "Birth date",
        "Date of birth",
        "DOB",
    ],
    "certificate": [
        "Свидетельство о рождении",
        "Серия и номер свидетельства",
        "Серия и номер свидетельства о рождении",
        "Серия и номер свидетельства о рождении ребёнка",
        "Birth certificate",
    ],
    "certificate_series": ["Серия свидетельства", "Серия свидетельства о рождении"],
    "certificate_number": ["Номер свидетельства", "Номер свидетельства о рождении"],
    "consent": [
        "Согласие на обработку персональных данных",
        "Согласие на обработку ПДн",
        "Согласие на обработку персональных данных получено",
        "Согласие на обработку ПД",
        "Согласие",
        "Consent",
    ],
}

# Each required thing, and the column sets that can supply it (the first alias names it).
REQUIRED_GROUPS: list[tuple[str, list[tuple[str, ...]]]] = [
    ("ФИО заявителя", [("applicant_full_name",), ("applicant_surname", "applicant_name")]),
    ("Кем приходится", [("relation",)]),
    ("ФИО ребёнка", [("child_full_name",), ("child_surname", "child_name")]),
    ("Дата рождения ребёнка", [("child_birth_date",)]),
    ("Свидетельство о рождении", [("certificate",), ("certificate_series", "certificate_number")]),
    ("Согласие на обработку персональных данных", [("consent",)]),
]


@lru_cache(maxsize=1)
def _alias_index() -> dict[str, str]:
    return alias_index(ALIASES)


def _prefer_specific(header: HeaderMap) -> None:
    """When two columns name one field, the longer (more specific) header wins: the child's
    `Дата рождения ребёнка`, not the applicant's `Дата рождения` written before it."""
    index = _alias_index()
    for position, value in enumerate(header.row.values):
        label = cell_text(value)
        name = index.get(normalise_header(label)) if label else None
        if name is None or header.columns.get(name) == position:
            continue
        chosen = header.labels.get(name, "")
        if len(normalise_header(label)) > len(normalise_header(chosen)):
            header.columns[name] = position
            header.labels[name] = label


def _pick_columns(header: HeaderMap) -> list[str]:
    """The required things the header lacks (by their display names)."""
    missing = []
    for label, options in REQUIRED_GROUPS:
        if not any(all(name in header.columns for name in option) for option in options):
            missing.append(label)
    return missing


# Group headings over a two-row header (`Заявитель` over `Фамилия | Имя | Отчество`).
_GROUPS = {
    "applicant": (
        ("заявитель", "сведения о заявителе", "данные заявителя", "родитель",
         "законный представитель", "родитель законный представитель", "applicant", "parent"),
        ("{} заявителя", "applicant {}"),
    ),
    "child": (
        ("ребенок", "обучающийся", "ученик", "сведения о ребенке", "данные ребенка", "child",
         "student"),
        ("{} ребёнка", "child {}"),
    ),
}  # fmt: skip
_NAME_FIELDS = ("applicant_full_name", "applicant_surname", "child_full_name", "child_surname")

APPLICATIONS = TableKind(
    name="application",
    record=N_("an application"),
    aliases=ALIASES,
    expected="ФИО заявителя, Кем приходится, ФИО ребёнка, Дата рождения ребёнка, "
    "Свидетельство о рождении, Согласие на обработку персональных данных",
    # A sheet without names is a form's drop-down lists (`Кем приходится`, `Согласие`).
    identifies=lambda header: any(name in header.columns for name in _NAME_FIELDS),
    missing=_pick_columns,
    groups={word: forms for words, forms in _GROUPS.values() for word in words},
    adjust=_prefer_specific,
    skipped=N_("no applicant or child names"),
    none_found=N_(
        "no sheet has an application header row (expected columns such as "
        "ФИО заявителя, ФИО ребёнка, Дата рождения ребёнка)"
    ),
)
