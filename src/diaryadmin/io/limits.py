"""Refusing a whole table file: one sentence naming the file, and the setting behind a limit."""

from __future__ import annotations

from diaryadmin.config import PREFIX, ReadLimits
from diaryadmin.errors import InputError, Problem
from diaryadmin.i18n import _, current_language

EXCEL_ROWS = 1_048_576
EXCEL_COLUMNS = 16_384  # XFD


def refuse(name: str, message: str) -> InputError:
    """The one-sentence refusal of a whole file: `message` says what is wrong with it."""
    problem = Problem(message, file=name)
    return InputError(str(problem), [problem])


def grouped(number: int) -> str:
    """A count with its thousands grouped as the language writes them: 1,048,576 or 1 048 576."""
    text = f"{number:,}"
    return text.replace(",", "\u00a0") if current_language() == "ru" else text


def over_limit(name: str, what: str, value: int, field: str, limits: ReadLimits) -> InputError:
    """A refusal for a limit: what exceeds it (a translated phrase), by how much, and the
    setting that raises it."""
    limit = getattr(limits, field)
    if field.endswith("_mb"):
        text = _(
            "{what} ({value} MB) exceeds the limit of {limit} MB; "
            "if the file is genuine, raise {setting}"
        )
    else:
        text = _(
            "{what} ({value}) exceeds the limit of {limit}; if the file is genuine, raise {setting}"
        )
    fields = {"value": grouped(value), "limit": grouped(limit), "setting": PREFIX + field.upper()}
    return refuse(name, text.format(what=what, **fields))


def column_number(letters: bytes | str) -> int:
    """1 for A, 27 for AA, 16384 for XFD."""
    number = 0
    for letter in letters.upper() if isinstance(letters, str) else letters.decode().upper():
        number = number * 26 + ord(letter) - 64
    return number


def column_letters(number: int) -> str:
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
