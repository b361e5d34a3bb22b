"""Refusing a whole table file: one sentence naming the file, and the setting behind a limit."""

from __future__ import annotations

from diaryadmin.config import PREFIX, ReadLimits
from diaryadmin.errors import InputError, Problem

EXCEL_ROWS = 1_048_576
EXCEL_COLUMNS = 16_384  # XFD
UNREADABLE = "is not a readable spreadsheet"  # how every damaged or renamed file is refused


def refuse(name: str, message: str) -> InputError:
    """The one-sentence refusal of a whole file."""
    return InputError(f"{name}: {message}", [Problem(message, file=name)])


def over_limit(name: str, what: str, value: int, field: str, limits: ReadLimits) -> InputError:
    """A refusal for a limit: what exceeds it, by how much, and the setting that raises it."""
    limit = getattr(limits, field)
    unit = " MB" if field.endswith("_mb") else ""
    return refuse(
        name,
        f"{what} ({value:,}{unit}) exceeds the limit of {limit:,}{unit}; if the file is genuine, "
        f"raise {PREFIX}{field.upper()}",
    )


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
