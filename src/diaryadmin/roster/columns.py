"""The columns a roster file may have: header aliases in Russian and English.

`roster_export` writes the first aliases back, so an export is read as it was written.
"""

from __future__ import annotations

STUDENT_ALIASES: dict[str, list[str]] = {
    # The running number of a hand-made list: known, and ignored without a note.
    "row_number": ["№ п/п", "№", "N", "No", "Номер п/п", "П/п", "#"],
    "external_id": [
        "ID", "Личный номер", "Идентификатор", "ID ученика", "Личный номер ученика",
        "Номер личного дела", "Student ID", "External ID", "Student number", "Код ученика",
    ],
    "surname": ["Фамилия", "Фамилия ученика", "Surname", "Last name", "Family name", "Lastname"],
    "name": ["Имя", "Имя ученика", "Name", "First name", "Given name", "Firstname"],
    "patronymic": ["Отчество", "Отчество ученика", "Patronymic", "Middle name", "Middlename"],
    "full_name": [
        "ФИО", "ФИО ученика", "Ф.И.О.", "Ф.И.О. ученика", "ФИО обучающегося", "Обучающийся",
        "Ученик", "Full name", "Student", "Student name", "Student full name",
        "Фамилия, имя, отчество", "Ф.И.О. обучающегося", "ФИО ребенка", "Ф.И.О. ребенка",
        "Фамилия, имя, отчество ребенка", "Фамилия, имя, отчество обучающегося",
    ],
    "birth_date": [
        "Дата рождения", "Дата рождения ученика", "Д.р.", "ДР", "Birth date", "Date of birth",
        "DOB", "Birthdate", "Birthday", "Дата рождения ребенка", "Дата рождения обучающегося",
        "Дата рожд.", "Дата рождения (дд.мм.гггг)",
    ],
    "class": ["Класс", "Класс ученика", "Class", "Class name", "Form"],
    "certificate": [
        "Серия и номер свидетельства", "Серия и номер свидетельства о рождении",
        "Свидетельство о рождении", "Свидетельство", "Св-во о рождении", "Birth certificate",
        "Серия, номер свидетельства о рождении", "Серия, номер свидетельства",
        "Свидетельство о рождении (серия, номер)",
        "Certificate",
    ],
    "certificate_series": [
        "Серия свидетельства", "Серия свидетельства о рождении", "Серия св-ва", "Серия",
        "Certificate series",
    ],
    "certificate_number": [
        "Номер свидетельства", "Номер свидетельства о рождении", "Номер св-ва", "Номер",
        "Certificate number",
    ],
    "snils": ["СНИЛС", "СНИЛС ученика", "СНИЛС обучающегося", "СНИЛС ребенка", "Номер СНИЛС",
              "SNILS"],
}  # fmt: skip


def _guardian_aliases() -> dict[str, list[str]]:
    aliases: dict[str, list[str]] = {}
    for n in (1, 2):
        bare = n == 1
        aliases[f"g{n}_full_name"] = [
            f"Родитель {n}", f"ФИО родителя {n}", f"Родитель {n} ФИО", f"ФИО родителя {n} ",
            f"Законный представитель {n}", f"ФИО законного представителя {n}", f"Parent {n}",
            f"Родитель {n} (ФИО)", f"ФИО родителя (законного представителя) {n}",
            f"Parent {n} name", f"Guardian {n}", f"Guardian {n} name", f"Guardian {n} full name",
        ] + (["Родитель", "ФИО родителя", "Законный представитель",
              "ФИО законного представителя", "Parent", "Parent name", "Guardian",
              "Guardian name", "Родитель (ФИО)", "ФИО родителя (законного представителя)",
              "Ф.И.О. родителя (законного представителя)", "Ф.И.О. родителя"]
             if bare else [])  # fmt: skip
        aliases[f"g{n}_relation"] = [
            f"Кем приходится {n}", f"Родитель {n} кем приходится", f"Степень родства {n}",
            f"Родство {n}", f"Guardian {n} relation", f"Guardian {n} relationship",
            f"Parent {n} relation", f"Relation {n}",
        ] + (["Кем приходится", "Степень родства", "Родство", "Relation", "Relationship",
              "Guardian relation"] if bare else [])  # fmt: skip
        aliases[f"g{n}_email"] = [
            f"E-mail родителя {n}", f"Email родителя {n}", f"Электронная почта родителя {n}",
            f"Почта родителя {n}", f"Родитель {n} e-mail", f"Родитель {n} email",
            f"Guardian {n} email", f"Guardian {n} e-mail", f"Parent {n} email",
            f"Parent {n} e-mail",
        ] + (["E-mail родителя", "Email родителя", "Электронная почта родителя",
              "Почта родителя", "Parent email", "Guardian email", "Эл. почта родителя",
              "E-mail родителя (законного представителя)"] if bare else [])  # fmt: skip
        aliases[f"g{n}_phone"] = [
            f"Телефон родителя {n}", f"Родитель {n} телефон", f"Guardian {n} phone",
            f"Parent {n} phone", f"Мобильный телефон родителя {n}",
        ] + (["Телефон родителя", "Parent phone", "Guardian phone",
              "Телефон родителя (законного представителя)"] if bare else [])  # fmt: skip
    for slot, whose, english in (("mother", "матери", "Mother"), ("father", "отца", "Father")):
        word = "Мать" if slot == "mother" else "Отец"
        informal = "мамы" if slot == "mother" else "папы"
        aliases[f"{slot}_full_name"] = [
            f"ФИО {whose}",
            f"ФИО {informal}",
            f"Ф.И.О. {whose}",
            word,
            f"{word} (ФИО)",
            english,
            f"{english} name",
            f"{english} full name",
            f"{english}'s name",
        ]
        aliases[f"{slot}_email"] = [
            f"E-mail {whose}",
            f"E-mail {informal}",
            f"Email {whose}",
            f"Почта {whose}",
            f"Электронная почта {whose}",
            f"{english} email",
            f"{english} e-mail",
            f"{english}'s email",
        ]
        aliases[f"{slot}_phone"] = [
            f"Телефон {whose}",
            f"Телефон {informal}",
            f"Мобильный телефон {whose}",
            f"{english} phone",
            f"{english}'s phone",
        ]
    return aliases


GUARDIAN_SLOTS = ("g1", "g2", "mother", "father")

# Group headings over a two-row header: `Мать` merged over `ФИО | Телефон | E-mail` reads as
# `Мать: ФИО`, `Мать: Телефон`, `Мать: E-mail` (a header written so in one row reads alike).
GROUP_WORDS = {
    "mother": ["Мать", "Мама", "Mother"],
    "father": ["Отец", "Папа", "Father"],
    "g1": ["Родитель", "Родитель 1", "Законный представитель", "Законный представитель 1",
           "Родитель (законный представитель)", "Parent", "Parent 1", "Guardian", "Guardian 1"],
    "g2": ["Родитель 2", "Законный представитель 2", "Parent 2", "Guardian 2"],
}  # fmt: skip
# Headings over both parents' columns: the first `ФИО` is guardian 1's, the second guardian 2's.
BOTH_PARENTS_WORDS = [
    "Родители", "Законные представители", "Сведения о родителях",
    "Родители (законные представители)", "Parents", "Guardians",
]  # fmt: skip
STUDENT_GROUP_WORDS = [
    "Ученик", "Обучающийся", "Учащийся", "Ребёнок", "Сведения об ученике", "Сведения о ребёнке",
    "Данные ученика", "Student", "Child",
]  # fmt: skip
_PART_WORDS = {
    "full_name": ["ФИО", "Ф.И.О.", "Фамилия, имя, отчество", "Фамилия Имя Отчество", "Name",
                  "Full name"],
    "relation": ["Кем приходится", "Степень родства", "Родство", "Relation"],
    "email": ["E-mail", "Email", "Электронная почта", "Эл. почта", "Почта",
              "Адрес электронной почты"],
    "phone": ["Телефон", "Мобильный телефон", "Контактный телефон", "Тел.", "Phone", "Mobile"],
}  # fmt: skip


def _grouped_aliases() -> dict[str, list[str]]:
    aliases: dict[str, list[str]] = {}
    for slot, words in GROUP_WORDS.items():
        for part, parts in _PART_WORDS.items():
            if part == "relation" and slot in ("mother", "father"):
                continue
            aliases[f"{slot}_{part}"] = [f"{word}: {p}" for word in words for p in parts]
    return aliases


def _groups() -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for words in GROUP_WORDS.values():
        for word in words:
            groups[word] = ["{heading}: {}"]
    for word in BOTH_PARENTS_WORDS:
        groups[word] = ["Родитель 1: {}", "Родитель 2: {}"]
    for word in STUDENT_GROUP_WORDS:
        groups[word] = ["{} ученика", "{}"]
    return groups


ROSTER_GROUPS = _groups()


def _merged(*tables: dict[str, list[str]]) -> dict[str, list[str]]:
    merged: dict[str, list[str]] = {}
    for table in tables:
        for name, names in table.items():
            merged.setdefault(name, []).extend(names)
    return merged


ROSTER_ALIASES = _merged(STUDENT_ALIASES, _guardian_aliases(), _grouped_aliases())
ROSTER_FIELDS = [
    *STUDENT_ALIASES,
    *(f"{slot}_{part}" for slot in GUARDIAN_SLOTS for part in ("full_name", "relation", "email",
                                                              "phone")),
]  # fmt: skip

# A separate guardians sheet or file: one guardian per row, keyed by the student's ID.
GUARDIAN_TABLE_ALIASES: dict[str, list[str]] = {
    "student_id": [
        "ID ученика", "Личный номер ученика", "Student ID", "Student", "ID", "Личный номер",
        "Ученик (ID)", "Student sourcedId",
    ],
    "full_name": [
        "ФИО", "ФИО родителя", "Родитель", "ФИО законного представителя",
        "Законный представитель", "Guardian", "Guardian name", "Parent", "Parent name",
        "Full name", "Name",
    ],
    "relation": ["Кем приходится", "Степень родства", "Родство", "Relation", "Relationship"],
    "email": ["E-mail", "Email", "Электронная почта", "Почта", "Адрес электронной почты"],
    "phone": ["Телефон", "Мобильный телефон", "Phone", "Mobile", "Phone number"],
}  # fmt: skip
