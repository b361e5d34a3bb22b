"""What offices write in a cell for "none": `-`, `—`, `нет`, `не указано`, `отсутствует`...

Not to be confused with a "no" answer: `io.cells.parse_bool` reads `нет` as False, which is
a value; here `нет` in a patronymic, relation, e-mail or phone cell means the cell is empty.
"""

from __future__ import annotations

from functools import lru_cache

NONE_WORDS = frozenset(
    {"-", "--", "—", "–", "нет", "не указан", "не указано", "не указана", "отсутствует",
     "н/д", "нет данных", "без отчества", "не имеет", "x", "х"}
)  # fmt: skip
# Longer cells are never "none": lets a reader skip the check for most values.
NONE_WORD_LENGTH = max(map(len, NONE_WORDS)) + 4


@lru_cache(maxsize=4096)  # rosters repeat patronymics and relations: each is looked at once
def means_none(text: str) -> bool:
    """Whether a cell says "none" (`-`, `нет`, `Не указано.`) rather than holding a value."""
    return " ".join(text.casefold().replace("ё", "е").split()).rstrip(".") in NONE_WORDS
