"""Names declined where a sentence needs it: «дневник ученицы Егоровой Марии Ивановны».

The endings come from pytrovich, the petrovich project's Python library and its maintained
rules (petrovich-rules), not from endings of our own. On 32 real full names (male and female,
-оглы/-кызы/уулу patronymics, double surnames, unchangeable surnames such as Черных, Дурново,
Шевченко, Седых, and Цой, Жук, Глинка) it declined all 64 genitive and dative forms right; the
older `Petrovich` package got 51 (Черныха, Цого, Кузьма for Кузьмы).

The gender comes from the patronymic (`names.gender_of_patronymic`); without one, from
petrovich's detector on the first name and surname. When neither tells (Ким Саша), nothing is
declined: the caller writes a sentence that keeps the name as it is.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any

from diaryadmin.people.names import gender_of_patronymic, split_full_name

CASES = ("genitive", "dative")
GENDERS = ("male", "female")


@cache
def _maker() -> Any:
    from pytrovich.maker import PetrovichDeclinationMaker

    return PetrovichDeclinationMaker()


@cache
def _detector() -> Any:
    from pytrovich.detector import PetrovichGenderDetector

    return PetrovichGenderDetector()


@lru_cache(maxsize=4096)
def gender_of(surname: str, name: str | None, patronymic: str | None = None) -> str | None:
    """`male` or `female`: by the patronymic, else by the first name and surname; None when
    they do not tell (Саша Ким)."""
    by_patronymic = gender_of_patronymic(patronymic)
    if by_patronymic:
        return by_patronymic
    from pytrovich.enums import Gender

    try:
        detected = _detector().detect(firstname=name or None, lastname=surname or None)
    except (KeyError, ValueError, TypeError):
        return None
    return {Gender.MALE: "male", Gender.FEMALE: "female"}.get(detected)


@lru_cache(maxsize=8192)
def declined(
    surname: str,
    name: str | None,
    patronymic: str | None = None,
    case: str = "genitive",
    gender: str | None = None,
) -> str | None:
    """`Фамилия Имя Отчество` in `case` (genitive or dative), with `gender` or the one the name
    tells; None when the gender is not known."""
    if case not in CASES:
        raise ValueError(f"case must be one of {', '.join(CASES)}, not {case!r}")
    gender = gender if gender in GENDERS else gender_of(surname, name, patronymic)
    if gender is None:
        return None
    from pytrovich.enums import Case, Gender, NamePart

    maker, which = _maker(), Case.GENITIVE if case == "genitive" else Case.DATIVE
    sex = Gender.FEMALE if gender == "female" else Gender.MALE
    parts = [
        (NamePart.LASTNAME, surname),
        (NamePart.FIRSTNAME, name),
        (NamePart.MIDDLENAME, patronymic),
    ]
    return " ".join(maker.make(part, sex, which, text) for part, text in parts if text)


def declined_full_name(text: str, case: str = "genitive") -> str | None:
    """A full name as written (`Егорова Мария Ивановна`) in `case`; None when it is not a full
    name or its gender is not known."""
    try:
        surname, name, patronymic = split_full_name(text or "")
    except ValueError:
        return None
    return declined(surname, name, patronymic, case)


def gender_of_full_name(text: str) -> str | None:
    try:
        return gender_of(*split_full_name(text or ""))
    except ValueError:
        return None
