"""Deterministic batches of applications for diary access, against a given roster.

Used by the demo, the tests and the benchmark. Each generated application knows which kind
of case it is (`exact`, `name_typo`, `no_consent`, ...) and the decision verify should reach.
Writing a batch as a file, reading the children back from the database and the demo's step
live in `samples.application_files`.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from diaryadmin.people.relations import relation_word

HEADER = [
    "Номер заявления",
    "Дата заявления",
    "Фамилия заявителя",
    "Имя заявителя",
    "Отчество заявителя",
    "Кем приходится",
    "Серия и номер паспорта",
    "СНИЛС",
    "E-mail",
    "Телефон",
    "Фамилия ребёнка",
    "Имя ребёнка",
    "Отчество ребёнка",
    "Дата рождения ребёнка",
    "Свидетельство о рождении",
    "Согласие на обработку персональных данных",
]

# kind -> (the decision verify should reach, the reason code it should give, if any)
KINDS: dict[str, tuple[str, str | None]] = {
    "exact": ("approved", None),
    "series_lookalike": ("approved", None),
    "series_cyrillic_x": ("approved", None),
    "series_digit_one": ("approved", None),
    "series_no_hyphen": ("approved", None),
    "existing_guardian": ("approved", None),
    "name_typo": ("review", "name_near_miss"),
    "date_swapped": ("review", "date_swapped"),
    "patronymic_missing": ("review", "patronymic_missing"),
    "contact_conflict": ("review", "contact_conflict"),
    "wrong_certificate": ("rejected", "certificate_mismatch"),
    "wrong_birth_date": ("rejected", "birth_date_mismatch"),
    "no_consent": ("rejected", "no_consent"),
    "bad_passport": ("rejected", "passport_malformed"),
    "bad_snils": ("rejected", "snils_invalid"),
    "bad_certificate": ("rejected", "certificate_malformed"),
    "unknown_child": ("rejected", "child_not_found"),
    "inactive_child": ("rejected", "child_inactive"),
    "duplicate": ("rejected", "duplicate_application"),
}

# A realistic office mix: most applications are fine, a few need a look, some are refused.
DEFAULT_MIX: dict[str, int] = {
    "exact": 40,
    "series_lookalike": 6,
    "series_cyrillic_x": 4,
    "series_digit_one": 4,
    "series_no_hyphen": 6,
    "existing_guardian": 4,
    "name_typo": 4,
    "date_swapped": 3,
    "patronymic_missing": 3,
    "contact_conflict": 2,
    "wrong_certificate": 4,
    "wrong_birth_date": 3,
    "no_consent": 4,
    "bad_passport": 2,
    "bad_snils": 2,
    "bad_certificate": 2,
    "unknown_child": 4,
    "inactive_child": 2,
    "duplicate": 1,
}

_MEN = [
    ("Андрей", "Андреевич"),
    ("Сергей", "Сергеевич"),
    ("Дмитрий", "Дмитриевич"),
    ("Алексей", "Алексеевич"),
    ("Игорь", "Игоревич"),
    ("Олег", "Олегович"),
    ("Максим", "Максимович"),
    ("Павел", "Павлович"),
]
_WOMEN = ["Елена", "Ольга", "Наталья", "Татьяна", "Ирина", "Светлана", "Юлия", "Анна", "Мария"]
_SURNAMES = ["Кузнецов", "Попов", "Соколов", "Лебедев", "Козлов", "Новиков", "Морозов", "Волков"]
_ROMAN = ["I", "II", "III", "IV", "V", "VI", "IX", "X", "XI", "XII", "XIV", "XX"]
_PAIR = "АБВГДЕЖЗИКЛМНОПРСТУФХЦЧШЭЮЯ"
_TO_LATIN = str.maketrans(
    {
        "А": "A",
        "В": "B",
        "Е": "E",
        "К": "K",
        "М": "M",
        "Н": "H",
        "О": "O",
        "Р": "P",
        "С": "C",
        "Т": "T",
        "У": "Y",
        "Х": "X",
    }
)
_TYPO_LETTERS = "абвгдклмнпрст"


@dataclass
class Parent:
    surname: str
    name: str
    patronymic: str | None
    relation: str  # mother | father | guardian
    email: str | None = None
    phone: str | None = None


@dataclass
class Child:
    """A child on the roster as the generator needs it (with the plain certificate)."""

    surname: str
    name: str
    patronymic: str | None
    birth_date: date
    certificate: str | None  # canonical, e.g. IV-МЮ 123456
    active: bool = True
    guardians: list[Parent] = field(default_factory=list)


@dataclass
class SampleApplication:
    kind: str
    expected: str  # approved | review | rejected
    code: str | None  # the reason code expected among the reasons
    values: dict[str, Any]  # HEADER -> cell value
    child: Child | None = None

    def row(self) -> list[Any]:
        return [self.values.get(column) for column in HEADER]


def certificate_variant(canonical: str, style: str) -> str:
    """One way people type the canonical `IV-МЮ 123456`."""
    series, number = canonical.split(" ")
    roman, pair = series.split("-")
    if style == "lookalike":
        return f"{roman}-{pair.translate(_TO_LATIN)} {number}"
    if style == "cyrillic_x":
        return f"{roman.replace('X', 'Х')}-{pair} {number}"
    if style == "digit_one":
        return f"{roman.replace('I', '1')}-{pair} {number}"
    if style == "no_hyphen":
        return f"{roman}{pair} {number}"
    if style == "spaced":
        return f"{roman.lower()} - {pair.lower()} № {number}"
    return canonical


def random_certificate(rng: random.Random, roman: Sequence[str] = _ROMAN) -> str:
    pair = rng.choice(_PAIR) + rng.choice(_PAIR)
    return f"{rng.choice(roman)}-{pair} {rng.randrange(1_000_000):06d}"


def snils(rng: random.Random, valid: bool = True) -> str:
    first = f"{rng.randint(2_000_000, 999_999_999):09d}"
    total = sum(int(d) * w for d, w in zip(first, range(9, 0, -1), strict=True))
    check = total if total < 100 else (0 if total in (100, 101) else total % 101 % 100)
    if not valid:
        check = (check + 1 + rng.randrange(98)) % 100
        if check == (total if total < 100 else (0 if total in (100, 101) else total % 101 % 100)):
            check = (check + 1) % 100
    return f"{first[:3]}-{first[3:6]}-{first[6:]} {check:02d}"


def _passport(rng: random.Random) -> str:
    return f"{rng.randint(10, 99)} {rng.randint(0, 99):02d} {rng.randrange(1_000_000):06d}"


def _phone(rng: random.Random) -> str:
    n = f"{rng.randrange(1_000_000_000):09d}"
    return f"8 (9{n[:2]}) {n[2:5]}-{n[5:7]}-{n[7:]}"


def _feminine(surname: str) -> str:
    return surname + "а" if surname.endswith(("ов", "ев", "ин")) else surname


def _new_parent(rng: random.Random, child: Child | None, number: int) -> Parent:
    relation = rng.choice(["mother", "mother", "father", "guardian"])
    base = child.surname.removesuffix("а") if child else rng.choice(_SURNAMES)
    if relation == "guardian":
        base = rng.choice(_SURNAMES)
    father_name, father_patronymic = rng.choice(_MEN)
    if relation == "mother" or (relation == "guardian" and rng.random() < 0.5):
        surname, name = _feminine(base), rng.choice(_WOMEN)
        patronymic = rng.choice(_MEN)[1].removesuffix("ич") + "на"
    else:
        surname, name, patronymic = base, father_name, father_patronymic
    return Parent(
        surname,
        name,
        patronymic,
        relation,
        email=f"parent{number}@example.ru",
        phone=_phone(rng),
    )


def _typo(rng: random.Random, word: str) -> str:
    position = rng.randrange(1, len(word)) if len(word) > 1 else 0
    current = word[position].lower()
    choices = [c for c in _TYPO_LETTERS if c != current and c != "ё"]
    letter = rng.choice(choices)
    return word[:position] + letter + word[position + 1 :]


def _fits(kind: str, child: Child) -> bool:
    if child.certificate is None:
        return False
    if kind == "inactive_child":
        return not child.active
    if not child.active:
        return False
    if kind == "date_swapped":
        return child.birth_date.day <= 12 and child.birth_date.day != child.birth_date.month
    if kind == "patronymic_missing":
        return bool(child.patronymic)
    if kind in ("contact_conflict", "existing_guardian"):
        return any(g.email or g.phone for g in child.guardians)
    if kind == "series_cyrillic_x":
        return "X" in child.certificate.split("-")[0]
    if kind == "series_digit_one":
        return "I" in child.certificate.split("-")[0]
    if kind == "series_lookalike":
        return (
            child.certificate.split(" ")[0].split("-")[1].translate(_TO_LATIN)
            != (child.certificate.split(" ")[0].split("-")[1])
        )
    return True


def _kinds(count: int, mix: dict[str, int], rng: random.Random) -> list[str]:
    total = sum(mix.values())
    kinds: list[str] = []
    for kind, weight in mix.items():
        kinds.extend([kind] * max(1 if weight else 0, round(count * weight / total)))
    rng.shuffle(kinds)
    while len(kinds) < count:
        kinds.append("exact")
    return kinds[:count]


def make_batch(
    children: Sequence[Child],
    count: int,
    *,
    seed: int = 7,
    mix: dict[str, int] | None = None,
    applied_on: date = date(2026, 9, 1),
    start_number: int = 1,
) -> list[SampleApplication]:
    """`count` applications against `children`, in the proportions of `mix` (DEFAULT_MIX).

    A kind that no child fits (say, no child has left the school) becomes `exact`. Children
    are used once each while they last, so no two applications collide by accident.
    """
    rng = random.Random(seed)
    kinds = _kinds(count, mix or DEFAULT_MIX, rng)
    order = list(range(len(children)))
    rng.shuffle(order)
    pool = deque(order)
    result: list[SampleApplication] = []
    number = start_number
    for kind in kinds:
        if len(result) >= count:
            break
        child = _pick(kind, children, pool)
        if child is None and kind != "unknown_child":
            kind = "exact"
            child = _pick(kind, children, pool)
            if child is None:
                kind = "unknown_child"  # every child has been used
        made = _application(kind, child, rng, number, applied_on)
        number += len(made)
        result.extend(made)
    return result[:count]


def _pick(kind: str, children: Sequence[Child], pool: deque[int]) -> Child | None:
    """The next unused child that fits `kind` (looking at up to 400), or None."""
    if kind == "unknown_child":
        return None
    for _attempt in range(min(len(pool), 400)):
        index = pool.popleft()
        if _fits(kind, children[index]):
            return children[index]
        pool.append(index)
    return None


def _application(
    kind: str, child: Child | None, rng: random.Random, number: int, applied_on: date
) -> list[SampleApplication]:
    expected, code = KINDS[kind]
    if child is None:
        fake = Child(
            rng.choice(_SURNAMES),
            rng.choice(_MEN)[0],
            rng.choice(_MEN)[1],
            date(2014, 1, 1) + timedelta(days=rng.randrange(3000)),
            random_certificate(rng),
        )
        child = fake
    parent = _new_parent(rng, child, number)
    if kind in ("existing_guardian", "contact_conflict"):
        known = next(g for g in child.guardians if g.email or g.phone)
        parent = replace(known)
        if kind == "contact_conflict":
            parent.email = f"other{number}@example.ru" if known.email else None
            parent.phone = _phone(rng) if known.phone else None
    values: dict[str, Any] = {
        "Номер заявления": f"A-{number:06d}",
        "Дата заявления": applied_on,
        "Фамилия заявителя": parent.surname,
        "Имя заявителя": parent.name,
        "Отчество заявителя": parent.patronymic,
        "Кем приходится": relation_word(parent.relation),
        "Серия и номер паспорта": _passport(rng),
        "СНИЛС": snils(rng) if rng.random() < 0.5 else None,
        "E-mail": parent.email,
        "Телефон": parent.phone,
        "Фамилия ребёнка": child.surname,
        "Имя ребёнка": child.name,
        "Отчество ребёнка": child.patronymic,
        "Дата рождения ребёнка": child.birth_date,
        "Свидетельство о рождении": child.certificate,
        "Согласие на обработку персональных данных": rng.choice(["да", "Да", "1", "согласен"]),
    }
    assert child.certificate is not None
    style = {
        "series_lookalike": "lookalike",
        "series_cyrillic_x": "cyrillic_x",
        "series_digit_one": "digit_one",
        "series_no_hyphen": "no_hyphen",
    }.get(kind)
    if style:
        values["Свидетельство о рождении"] = certificate_variant(child.certificate, style)
    elif kind == "exact" and rng.random() < 0.3:
        values["Свидетельство о рождении"] = certificate_variant(child.certificate, "spaced")
    if kind == "name_typo":
        values["Имя ребёнка"] = _typo(rng, child.name)
    elif kind == "date_swapped":
        b = child.birth_date
        values["Дата рождения ребёнка"] = date(b.year, b.day, b.month)
    elif kind == "patronymic_missing":
        values["Отчество ребёнка"] = None
    elif kind == "wrong_certificate":
        other = random_certificate(rng)
        while other == child.certificate:
            other = random_certificate(rng)
        values["Свидетельство о рождении"] = other
    elif kind == "wrong_birth_date":
        values["Дата рождения ребёнка"] = child.birth_date + timedelta(days=40)
    elif kind == "no_consent":
        values["Согласие на обработку персональных данных"] = rng.choice(["нет", "Нет", None])
    elif kind == "bad_passport":
        values["Серия и номер паспорта"] = f"{rng.randint(10, 99)} {rng.randrange(10**5):05d}"
    elif kind == "bad_snils":
        values["СНИЛС"] = snils(rng, valid=False)
    elif kind == "bad_certificate":
        values["Свидетельство о рождении"] = f"ZZ-{child.certificate.split('-')[1]}"
    made = [
        SampleApplication(kind, expected, code, values, child if kind != "unknown_child" else None)
    ]
    if kind == "duplicate":
        made[0] = SampleApplication("exact", "approved", None, values, child)
        again = dict(values)
        again["Номер заявления"] = f"A-{number + 1:06d}"
        again["Дата заявления"] = applied_on + timedelta(days=3)
        made.append(SampleApplication(kind, expected, code, again, child))
    return made
