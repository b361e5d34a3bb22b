"""Reading journal files into a plan: long-form tables through the one table policy
(`io.table`, each row read by `journal.rows`), and the grid workbooks `journal export` writes
(`journal.grid`, with the cell notes of `journal.notes`).

Nothing here touches the database; `journal.resolve` resolves the plan against it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from diaryadmin.config import ReadLimits
from diaryadmin.errors import Problem
from diaryadmin.i18n import N_, _
from diaryadmin.io import HeaderMap, Row, iter_rows, sheet_names
from diaryadmin.io.cells import cell_text
from diaryadmin.io.table import Problems, TableKind, read_sheet, visible_sheets
from diaryadmin.io.workbook import formula_cells
from diaryadmin.journal.grid import grid_entries, read_grid
from diaryadmin.journal.layout import LABEL_CLASS, LABEL_SUBJECT, SUMMARY_SHEET
from diaryadmin.journal.notes import parse_note, read_cell_notes
from diaryadmin.journal.plan import Pair, Plan, PlannedLesson, problem_at
from diaryadmin.journal.rows import read_long_row

__all__ = [
    "LONG_FORM_ALIASES",
    "Pair",
    "Plan",
    "PlannedLesson",
    "parse_note",
    "problem_at",
    "read_cell_notes",
    "read_journal_file",
]

LONG_FORM_ALIASES = {
    # The running number: a lesson list's own (our export), else a hand-made list's.
    "row_number": ["№", "№ п/п"],
    "date": ["Дата", "Дата урока", "Дата проведения", "date", "lesson date"],
    "number": [
        "Урок",
        "№ урока",
        "Номер урока",
        "Урок №",
        "№ урока в дне",
        "lesson",
        "lesson number",
        "lesson no",
    ],  # fmt: skip
    "class": ["Класс", "class"],
    "subject": ["Предмет", "subject"],
    "teacher": ["Учитель", "Преподаватель", "teacher"],
    "topic": ["Тема", "Тема урока", "topic"],
    "homework": ["Домашнее задание", "ДЗ", "Д/з", "Д/З", "Задание на дом", "homework"],
    "student_id": ["ID ученика", "ID", "Код ученика", "student id"],
    "student": [
        "Ученик",
        "ФИО",
        "ФИО ученика",
        "Ученик (ФИО)",
        "Ф.И.О.",
        "Ф.И.О. ученика",
        "Обучающийся",
        "ФИО обучающегося",
        "Фамилия, имя",
        "Фамилия и имя",
        "student",
        "student name",
        "full name",
    ],  # fmt: skip
    "mark": ["Оценка", "Отметка", "mark", "grade"],
    "weight": ["Вес", "Вес оценки", "weight"],
    "kind": ["Вид работы", "Тип работы", "Форма работы", "Тип оценки", "kind", "work type"],
    "absence": ["Пропуск", "Посещаемость", "Код пропуска", "Н/б", "absence", "attendance"],
    "comment": ["Комментарий", "Примечание", "comment"],
}


# ---------------------------------------------------------------- reading the file


def _detect(
    path: Path, plan: Plan, default_class: str | None, limits: ReadLimits | None = None
) -> list[tuple[str | None, str]]:
    """(sheet, kind) for each visible sheet: 'grid', 'summary' or 'long'; CSV is one 'long'
    sheet. Hidden sheets are left out (with a warning if one holds a long-form table)."""
    names = sheet_names(path, limits=limits)
    if not names:
        return [(None, "long")]
    problems = Problems(plan.warnings, plan.problems)
    names = visible_sheets(path, names, [_long_form(default_class)], problems, limits)
    kinds = []
    for name in names:
        first = list(_head_rows(path, name, 2, limits))
        a = [cell_text(r.values[0]) if r.values else None for r in first]
        if len(a) == 2 and a[0] == LABEL_CLASS and a[1] == LABEL_SUBJECT:
            kinds.append((name, "grid"))
        elif name == SUMMARY_SHEET and a and a[0] == LABEL_CLASS:
            kinds.append((name, "summary"))
        else:
            kinds.append((name, "long"))
    return kinds


def _head_rows(path: Path, sheet: str, n: int, limits: ReadLimits | None) -> Iterator[Row]:
    for k, row in enumerate(iter_rows(path, sheet=sheet, limits=limits)):
        if k >= n:
            return
        yield row


def _long_form(default_class: str | None) -> TableKind:
    """A long-form table: one row per mark or absence (or per lesson, in a lesson list)."""
    required = ["date", "subject"] + ([] if default_class else ["class"])

    def missing(header: HeaderMap) -> list[str]:
        return [LONG_FORM_ALIASES[name][0] for name in required if name not in header.columns]

    return TableKind(
        name="journal",
        record=N_("a lesson"),
        aliases=LONG_FORM_ALIASES,
        expected=", ".join(LONG_FORM_ALIASES[name][0] for name in required),
        identifies=lambda header: any(name in header.columns for name in required),
        missing=missing,
        ignored=frozenset({"row_number"}),
        skipped=N_("no date, subject or class"),
    )


def _read_long(
    path: Path,
    sheet: str | None,
    plan: Plan,
    default_class: str | None,
    formulas: dict,
    limits: ReadLimits | None = None,
) -> None:
    rows = iter_rows(path, sheet=sheet, limits=limits)
    problems = Problems(plan.warnings, plan.problems)
    table, identified = read_sheet(
        rows, [_long_form(default_class)], problems, formulas.get(sheet), named=sheet is None
    )
    if table is None:
        if sheet is not None and not identified:
            plan.skipped_sheets.append(sheet)
        return
    plan.formats.add("long")
    header = table.header
    labels = header.labels
    seq_column = 0 if cell_text(header.row.values[0]) == "№" else None
    used = set(header.columns.values())
    plan.ignored_columns.extend(
        f"{sheet}: {label}" if sheet else label
        for position, value in enumerate(header.row.values)
        if position not in used and (label := cell_text(value)) is not None
    )
    for row in table.rows:
        plan.rows += 1
        read_long_row(row, header, labels, plan, default_class, seq_column)


def read_journal_file(
    path: Path,
    default_class: str | None = None,
    year_hint: int | None = None,
    limits: ReadLimits | None = None,
) -> Plan:
    """Read a journal file (long form or grid workbook) into an unresolved plan.

    `year_hint`: the school year that dates written without a year (`03.09`) belong to;
    `limits`: the read limits (the settings', else the environment's).
    """
    plan = Plan(year_hint=year_hint)
    kinds = _detect(path, plan, default_class, limits)
    notes = read_cell_notes(path) if any(k == "grid" for _, k in kinds) else {}
    formulas = formula_cells(path, limits) if any(k == "long" for _, k in kinds) else {}
    for sheet, kind in kinds:
        if kind == "long":
            _read_long(path, sheet, plan, default_class, formulas, limits)
        elif kind == "grid":
            read_grid(path, sheet, plan, notes, default_class, limits)
    grid_entries(plan)
    if not plan.formats and not plan.problems:
        plan.problems.append(
            Problem(_("no sheet has a journal table (date, class, subject, ...)"), str(path))
        )
    return plan
