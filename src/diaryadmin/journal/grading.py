"""Marks arithmetic: weights by kind of work, weighted averages, period grades, absence counts.

Rounding is decimal and half-up, as teachers do it on paper: the average is shown with two
decimals (3.495 → 3.50) and the suggested period grade follows the average as shown (3.50 → 4).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from diaryadmin.i18n import _
from diaryadmin.people.names import fold

MARK_VALUES = range(1, 6)
# Attendance codes in the order the journal lists them; ОП (late) is not a missed lesson.
ABSENCE_CODES = ("Н", "Б", "УП", "ОП")
MISSED_CODES = frozenset({"Н", "Б", "УП"})
CODE_TITLES = {"Н": "без причины", "Б": "болезнь", "УП": "уважительная причина", "ОП": "опоздание"}

# Default weight of a mark by kind of work, when a file gives the kind but no weight.
KIND_WEIGHTS = {
    "ответ на уроке": 1.0,
    "устный ответ": 1.0,
    "домашняя работа": 1.0,
    "работа на уроке": 1.0,
    "самостоятельная работа": 1.5,
    "проверочная работа": 1.5,
    "практическая работа": 1.5,
    "лабораторная работа": 1.5,
    "тест": 1.5,
    "диктант": 2.0,
    "изложение": 2.0,
    "сочинение": 2.0,
    "контрольная работа": 2.0,
}
# Short forms teachers type for the kinds above (compared without dots, slashes and spaces).
KIND_SHORT_FORMS = {
    "кр": "контрольная работа",
    "контрольная": "контрольная работа",
    "ср": "самостоятельная работа",
    "самостоятельная": "самостоятельная работа",
    "самост": "самостоятельная работа",
    "пр": "практическая работа",
    "практическая": "практическая работа",
    "проверочная": "проверочная работа",
    "лр": "лабораторная работа",
    "лабораторная": "лабораторная работа",
    "дз": "домашняя работа",
    "дикт": "диктант",
    "соч": "сочинение",
    "изл": "изложение",
}


def _kind_key(kind: str) -> str:
    return re.sub(r"[\s./\\-]+", "", fold(kind))


_KIND_INDEX = {_kind_key(kind): weight for kind, weight in KIND_WEIGHTS.items()}
_KIND_INDEX.update({_kind_key(k): KIND_WEIGHTS[v] for k, v in KIND_SHORT_FORMS.items()})
_CODE_ALIASES = {
    "н": "Н",
    "h": "Н",  # a Latin H typed for Н (a word without Cyrillic is not fixed by fold)
    "нб": "Н",
    "б": "Б",
    "бол": "Б",
    "уп": "УП",
    "ув": "УП",
    "оп": "ОП",
    "оп.": "ОП",
}


def weight_for_kind(kind: str | None) -> float:
    """The default weight of a kind of work (1 for an unknown or missing kind)."""
    if not kind:
        return 1.0
    return _KIND_INDEX.get(_kind_key(kind), 1.0)


def parse_absence_code(text: str) -> str:
    """An attendance code (`Н`, `Б`, `УП`, `ОП`) from a cell, Latin look-alikes and case forgiven.

    Raises ValueError for anything else.
    """
    key = fold(str(text)).replace(".", "").replace(" ", "")
    code = _CODE_ALIASES.get(key)
    if code is None:
        raise ValueError(_("unknown attendance code; use Н, Б, УП or ОП"))
    return code


def parse_mark(value: object) -> int:
    """A mark 1–5 from a cell (5, 5.0, '5'); raises ValueError otherwise."""
    from diaryadmin.io.cells import parse_float

    number = parse_float(value)
    if not number.is_integer() or int(number) not in MARK_VALUES:
        raise ValueError(_("a mark is a whole number from 1 to 5"))
    return int(number)


def _decimal(value: float) -> Decimal:
    # repr() gives the shortest decimal that round-trips: 3.495 stays 3.495, not 3.49499...
    return Decimal(repr(float(value)))


def weighted_average(marks: Iterable[tuple[float, float]]) -> float | None:
    """The weighted average of (value, weight) pairs to two decimals, half-up; None if no marks.

    Pairs with a weight of zero or less count for nothing.
    """
    total = 0.0
    weights = 0.0
    for value, weight in marks:
        if weight is None:
            weight = 1.0
        if weight > 0:
            total += value * weight
            weights += weight
    if not weights:
        return None
    return round_average(total / weights)


def round_average(value: float) -> float:
    """A number to two decimals, half-up (2.675 → 2.68, where round() gives 2.67)."""
    # Rounding to 9 places first drops float noise from sums (4.165 stays 4.165, never
    # 4.16499…), then decimal arithmetic rounds half-up as on paper.
    return float(_decimal(round(value, 9)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def suggested_grade(average: float | None) -> int | None:
    """The period grade an average suggests: the shown average rounded half-up (3.50 → 4)."""
    if average is None:
        return None
    shown = _decimal(average).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return int(shown.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def count_codes(codes: Iterable[str]) -> dict[str, int]:
    """How many of each attendance code, every code present (0 when none)."""
    counted = Counter(codes)
    return {code: counted.get(code, 0) for code in ABSENCE_CODES}


def missed(codes: Iterable[str]) -> int:
    """Lessons missed: Н, Б and УП (a late arrival, ОП, is not a missed lesson)."""
    return sum(1 for code in codes if code in MISSED_CODES)


def at_risk(average: float | None, period_grade: int | None) -> bool:
    """A student at risk in a subject: average below 3, or a 2 (or 1) as the period grade."""
    return (average is not None and average < 3) or (period_grade is not None and period_grade <= 2)
