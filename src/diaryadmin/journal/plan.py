"""What a journal file says, before anything is resolved against the database: the plan the
readers (`journal.read` for long-form tables, `journal.grid` for grid sheets) fill in and
`journal.importing` resolves, and the small cell helpers they share.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from diaryadmin.errors import Problem
from diaryadmin.io import Row
from diaryadmin.io.cells import cell_text, parse_float
from diaryadmin.people.names import clean_spaces


@dataclass
class PlannedLesson:
    """A lesson a file names, with where it was first named (for problems about it)."""

    class_name: str
    subject: str
    date: date
    number: int
    teacher: str | None = None
    topic: str | None = None
    homework: str | None = None
    where: Problem | None = None


@dataclass
class Pair:
    """What a file says about one student in one lesson."""

    marks: list[tuple[int, float, str | None, str | None, str | None]] = field(
        default_factory=list
    )  # value, weight, kind, comment, teacher name
    absence: str | None = None
    marks_given: bool = False
    whole: bool = False  # a grid cell group: empty means none


@dataclass
class Plan:
    """Everything a file says, and every problem found in it, before anything is written."""

    # (class, subject key, date, lesson number) -> lesson
    lessons: dict[tuple, PlannedLesson] = field(default_factory=dict)
    pairs: dict[tuple[int, tuple], Pair] = field(default_factory=dict)  # (student, lesson key)
    period_grades: dict[tuple[int, str, str], tuple[int | None, Problem]] = field(
        default_factory=dict
    )  # (student, subject key, period name) -> grade
    periods: dict[str, tuple[date, date, Problem]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)  # hidden sheets, totals rows...
    rows: int = 0
    formats: set[str] = field(default_factory=set)
    skipped_sheets: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)  # 'sheet: header' matching no field
    # Read from the file: entries waiting for their student to be resolved, grid rows waiting
    # for the lesson lists, and what our lesson lists say (number -> lesson; kind and weight).
    pending: list[tuple] = field(default_factory=list)
    grids: list[Any] = field(default_factory=list)  # journal.grid.GridRow
    lesson_lists: dict[tuple[str, str], dict[int, tuple]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    lesson_work: dict[tuple, tuple[str | None, float]] = field(default_factory=dict)
    # Resolved against the database.
    class_ids: dict[str, int] = field(default_factory=dict)
    year: int = 0
    file_years: set[int] = field(default_factory=set)  # school years grid sheets name
    year_hint: int | None = None  # the school year of dates written without a year (03.09)


def located(row: Row, column: str | None, value: Any = None) -> Problem:
    """A Problem's place (no message yet) at a cell; see `problem_at`."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # spreadsheet numbers read as floats: show 6, not 6.0
    return Problem("", file=row.file, sheet=row.sheet, row=row.number, column=column, value=value)


def problem_at(where: Problem, message: str) -> Problem:
    """The problem `message` at the place `where`."""
    return Problem(message, where.file, where.sheet, where.row, where.column, where.value)


def clean_text(value: Any) -> str | None:
    """A cell as one line of text with clean spaces, or None."""
    text = cell_text(value)
    return clean_spaces(text) if text else None


def multiline(value: Any) -> str | None:
    """A cell as text keeping its lines (a topic, homework, a comment), or None."""
    text = cell_text(value)
    return text.strip() if text else None


def is_numeric(text: str) -> bool:
    """Whether a text cell is a number (a mark typed as text) rather than a code."""
    try:
        parse_float(text)
    except ValueError:
        return False
    return True
