"""Reading the grid sheets `journal export` writes (one per subject: students × lessons) back
into a plan; their lesson lists are long-form tables that `journal.read` reads.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

from diaryadmin.errors import Problem
from diaryadmin.i18n import _
from diaryadmin.io import iter_rows
from diaryadmin.io.cells import cell_text, parse_date, parse_int
from diaryadmin.io.table import column_letter
from diaryadmin.journal import grading
from diaryadmin.journal.layout import (
    COL_AVERAGE,
    COL_PERIOD_GRADE,
    LABEL_CLASS,
    LABEL_PERIOD,
    LABEL_SUBJECT,
)
from diaryadmin.journal.notes import parse_note
from diaryadmin.journal.plan import Plan, clean_text, is_numeric, located, problem_at
from diaryadmin.people.names import canonical_class, fold


class GridRow(NamedTuple):
    """One student row of a grid sheet, waiting for the lesson lists to be read."""

    class_name: str
    subject: str
    lesson_of_col: dict[int, int]  # 0-based column -> lesson number in the lesson list
    ref: tuple[str, str]  # ("id", student ID) or ("name", name as written)
    cells: dict[int, list[tuple[int, Any, Problem, str | None]]]  # lesson -> (col, value, ...)
    grade: Any  # the period grade cell
    period: str | None
    where: Problem  # the student's name cell
    grade_where: Problem  # the period grade's cell


def read_grid(path: Path, sheet: str, plan: Plan, notes: dict, default_class, limits=None) -> None:
    plan.formats.add("grid")
    rows = list(iter_rows(path, sheet=sheet, limits=limits))
    problems = plan.problems
    meta = {cell_text(r.values[0]): r for r in rows[:3] if r.values}
    class_row, subject_row = meta.get(LABEL_CLASS), meta.get(LABEL_SUBJECT)
    class_name = subject = None
    try:
        class_name = canonical_class(cell_text(class_row.values[1]))
    except (ValueError, IndexError, AttributeError, TypeError):
        problems.append(Problem(_("the class in B1 is missing or wrong"), path.name, sheet, 1, "B"))
    if class_name and default_class and class_name != default_class:
        problems.append(
            Problem(
                _("the sheet is for {name}, not {expected}").format(
                    name=class_name, expected=default_class
                ),
                str(path),
                sheet,
                1,
                "B",
            )
        )
    if subject_row is not None and len(subject_row.values) > 1:
        subject = clean_text(subject_row.values[1])
    if not subject:
        problems.append(Problem(_("the subject in B2 is missing"), str(path), sheet, 2, "B"))
    # The school year: "Учебный год 2026/27" in C1 (older exports: the year alone in D1).
    for value in class_row.values[2:4] if class_row else ():
        if (text := cell_text(value)) and (match := re.search(r"\b(\d{4})/\d{2}$", text)):
            plan.file_years.add(int(match[1]))
            break
    period_row = meta.get(LABEL_PERIOD)
    period_name = None
    if period_row is not None and len(period_row.values) > 1:
        period_name = clean_text(period_row.values[1])
        if period_name:
            try:
                start, end = _period_dates(period_row.values)
                plan.periods.setdefault(
                    period_name, (start, end, located(period_row, "C", period_name))
                )
            except (ValueError, IndexError):
                problems.append(
                    Problem(
                        _("the period needs its dates in C3 (01.09.2026 – 24.10.2026)"),
                        str(path),
                        sheet,
                        3,
                        "C",
                    )
                )
    header = next((r for r in rows if cell_text(r.values[0]) == "№"), None)
    if header is None or class_name is None or not subject:
        if header is None:
            problems.append(Problem(_("the header row (№, Ученик) is missing"), str(path), sheet))
        return
    titles = [cell_text(v) for v in header.values]
    try:
        col_average = titles.index(COL_AVERAGE)
    except ValueError:
        problems.append(
            Problem(
                _("the column '{column}' is missing").format(column=COL_AVERAGE),
                str(path),
                sheet,
                header.number,
            )
        )
        return
    col_grade = titles.index(COL_PERIOD_GRADE) if COL_PERIOD_GRADE in titles else None
    seq_row = next((r for r in rows if r.number == header.number + 1), None)
    lesson_of_col: dict[int, int] = {}
    for col in range(3, col_average):
        value = seq_row.values[col] if seq_row and col < len(seq_row.values) else None
        try:
            lesson_of_col[col] = parse_int(value)
        except ValueError:
            problems.append(
                Problem(
                    _("the lesson number in the list of topics is missing"),
                    str(path),
                    sheet,
                    header.number + 1,
                    column_letter(col),
                    value,
                )
            )
    grid = plan.grids
    sheet_notes = notes.get(sheet, {})
    for row in rows:
        if row.number <= header.number + 1:
            continue
        plan.rows += 1
        values = row.values
        sid = cell_text(values[2]) if len(values) > 2 else None
        label = clean_text(values[1]) if len(values) > 1 else None
        if not sid and not label:
            continue
        ref = ("id", sid) if sid else ("name", label)
        cells: dict[int, list[tuple[int, Any, Problem, str | None]]] = defaultdict(list)
        for col in range(3, min(col_average, len(values))):
            value = values[col]
            if cell_text(value) is None:
                continue
            cells[lesson_of_col.get(col, 0)].append(
                (
                    col,
                    value,
                    located(row, column_letter(col), value),
                    sheet_notes.get((row.number, col)),
                )
            )
        grade = None
        if col_grade is not None and col_grade < len(values) and cell_text(values[col_grade]):
            grade = values[col_grade]
        grid.append(
            GridRow(
                class_name,
                subject,
                lesson_of_col,
                ref,
                cells,
                grade,
                period_name,
                located(row, "B", label),
                located(row, column_letter(col_grade or 0), grade),
            )
        )


def _period_dates(values: tuple) -> tuple[date, date]:
    """The period's first and last day: `dd.mm.yyyy – dd.mm.yyyy` in C3, or (older exports)
    dates in C3 and D3. Raises ValueError or IndexError."""
    text = cell_text(values[2])
    if text and (match := re.fullmatch(r"(\S+)\s*[–—-]\s*(\S+)", text)):
        return parse_date(match[1]), parse_date(match[2])
    return parse_date(values[2]), parse_date(values[3])


def grid_entries(plan: Plan) -> None:
    """Turn grid rows into pending entries, now that every lesson list has been read."""
    lesson_lists = plan.lesson_lists
    lesson_work = plan.lesson_work
    pending = plan.pending
    for row in plan.grids:
        class_name, subject, ref, where = row.class_name, row.subject, row.ref, row.where
        lessons = lesson_lists.get((class_name, fold(subject)))
        if lessons is None:
            plan.problems.append(
                problem_at(
                    where,
                    _("no list of topics for {name} {subject} in the file").format(
                        name=class_name, subject=subject
                    ),
                )
            )
            continue
        for seq in sorted(set(row.lesson_of_col.values())):
            if seq not in lessons:
                plan.problems.append(
                    problem_at(
                        where,
                        _("lesson {number} is not in the list of topics of {subject}").format(
                            number=seq, subject=subject
                        ),
                    )
                )
                continue
            marks, code = [], None
            kind, weight = lesson_work.get(lessons[seq], (None, 1.0))
            for _col, value, at, note in row.cells.get(seq, ()):
                if isinstance(value, str) and not is_numeric(value):
                    try:
                        new_code = grading.parse_absence_code(value)
                    except ValueError as error:
                        plan.problems.append(problem_at(at, str(error)))
                        continue
                    if code is not None:
                        plan.problems.append(
                            problem_at(at, _("two attendance codes in one lesson"))
                        )
                    code = new_code
                    continue
                try:
                    mark = grading.parse_mark(value)
                except ValueError as error:
                    plan.problems.append(problem_at(at, str(error)))
                    continue
                info: dict[str, Any] = {}
                if note:
                    try:
                        info = parse_note(note)
                    except ValueError as error:
                        plan.problems.append(
                            problem_at(at, _("the note's weight: {error}").format(error=error))
                        )
                marks.append(
                    (
                        mark,
                        info.get("weight", weight),
                        info.get("kind", kind),
                        info.get("comment"),
                        info.get("teacher"),
                    )
                )
            pending.append((ref, lessons[seq], marks, code, where, True))
        if row.period:
            value = None
            if row.grade is not None:
                try:
                    value = grading.parse_mark(row.grade)
                except ValueError as error:
                    plan.problems.append(problem_at(row.grade_where, str(error)))
                    continue
            pending.append(
                (ref, ("grade", fold(subject), row.period, subject), value, None, where, True)
            )
