"""Reading journal files into a plan: long-form tables and the grid workbooks `journal export`
writes (cells through the shared io layer, cell notes straight from the xlsx package).

Nothing here touches the database; `journal.plan_import` resolves the plan against it.
"""

from __future__ import annotations

import contextlib
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from diaryadmin.errors import InputError, Problem
from diaryadmin.io import HeaderMap, Row, iter_rows, sheet_names
from diaryadmin.io.cells import cell_text, parse_date, parse_float, parse_int
from diaryadmin.io.table import Problems, TableKind, column_letter, read_sheet, visible_sheets
from diaryadmin.io.workbook import formula_cells
from diaryadmin.journal import grading
from diaryadmin.journal.layout import (
    COL_AVERAGE,
    COL_PERIOD_GRADE,
    LABEL_CLASS,
    LABEL_PERIOD,
    LABEL_SUBJECT,
    NO_KIND,
    NOTE_COMMENT,
    NOTE_KIND,
    NOTE_TEACHER,
    NOTE_WEIGHT,
    SUMMARY_SHEET,
)
from diaryadmin.people.names import canonical_class, clean_spaces, fold

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
MAX_LESSON_NUMBER = 12
MAX_WEIGHT = 10.0


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
    grids: list[tuple] = field(default_factory=list)
    lesson_lists: dict[tuple[str, str], dict[int, tuple]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    lesson_work: dict[tuple, tuple[str | None, float]] = field(default_factory=dict)
    # Resolved against the database.
    class_ids: dict[str, int] = field(default_factory=dict)
    year: int = 0
    file_years: set[int] = field(default_factory=set)  # school years grid sheets name
    year_hint: int | None = None  # the school year of dates written without a year (03.09)


def _where(row: Row, column: str | None, value: Any = None) -> Problem:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # spreadsheet numbers read as floats: show 6, not 6.0
    return Problem("", file=row.file, sheet=row.sheet, row=row.number, column=column, value=value)


def problem_at(where: Problem, message: str) -> Problem:
    return Problem(message, where.file, where.sheet, where.row, where.column, where.value)


def _text(value: Any) -> str | None:
    text = cell_text(value)
    return clean_spaces(text) if text else None


def _multiline(value: Any) -> str | None:
    text = cell_text(value)
    return text.strip() if text else None


# ---------------------------------------------------------------- reading the file


def _detect(path: Path, plan: Plan, default_class: str | None) -> list[tuple[str | None, str]]:
    """(sheet, kind) for each visible sheet: 'grid', 'summary' or 'long'; CSV is one 'long'
    sheet. Hidden sheets are left out (with a warning if one holds a long-form table)."""
    names = sheet_names(path)
    if not names:
        return [(None, "long")]
    problems = Problems(plan.warnings, plan.problems)
    names = visible_sheets(path, names, [_long_form(default_class)], problems)
    kinds = []
    for name in names:
        first = list(_head_rows(path, name, 2))
        a = [cell_text(r.values[0]) if r.values else None for r in first]
        if len(a) == 2 and a[0] == LABEL_CLASS and a[1] == LABEL_SUBJECT:
            kinds.append((name, "grid"))
        elif name == SUMMARY_SHEET and a and a[0] == LABEL_CLASS:
            kinds.append((name, "summary"))
        else:
            kinds.append((name, "long"))
    return kinds


def _head_rows(path: Path, sheet: str, n: int) -> Iterator[Row]:
    for k, row in enumerate(iter_rows(path, sheet=sheet)):
        if k >= n:
            return
        yield row


_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "p": "http://schemas.openxmlformats.org/package/2006/relationships",
}


def read_cell_notes(path: Path) -> dict[str, dict[tuple[int, int], str]]:
    """Cell notes (comments) of an xlsx file: sheet -> (1-based row, 0-based column) -> text.

    Raises InputError if the package's XML cannot be read (defusedxml refuses entities).
    """
    import zipfile

    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return {}
    with archive:
        try:
            return _notes_in(archive)
        except Exception as error:  # malformed or hostile XML
            message = f"the cell notes cannot be read ({type(error).__name__})"
            raise InputError(f"{path}: {message}", [Problem(message, str(path))]) from None


def _relations(archive, part: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type, target part) of one part of an xlsx package."""
    import posixpath

    from defusedxml import ElementTree

    folder, name = posixpath.split(part)
    rels_path = posixpath.join(folder, "_rels", name + ".rels")
    if rels_path not in archive.namelist():
        return {}
    found = {}
    for rel in ElementTree.fromstring(archive.read(rels_path)).findall("p:Relationship", _NS):
        target = rel.get("Target", "")
        # Targets are relative to the part's folder, or absolute from the package root.
        target = target[1:] if target.startswith("/") else posixpath.join(folder, target)
        found[rel.get("Id")] = (rel.get("Type", ""), posixpath.normpath(target))
    return found


def _notes_in(archive) -> dict[str, dict[tuple[int, int], str]]:
    from defusedxml import ElementTree

    result: dict[str, dict[tuple[int, int], str]] = {}
    if "xl/workbook.xml" not in archive.namelist():
        return result
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    book_rels = _relations(archive, "xl/workbook.xml")
    for sheet in workbook.findall("m:sheets/m:sheet", _NS):
        rid = sheet.get(f"{{{_NS['r']}}}id")
        if rid not in book_rels:
            continue
        for kind, target in _relations(archive, book_rels[rid][1]).values():
            if not kind.endswith("/comments") or target not in archive.namelist():
                continue
            notes = result.setdefault(sheet.get("name"), {})
            for comment in ElementTree.fromstring(archive.read(target)).iter(
                f"{{{_NS['m']}}}comment"
            ):
                text = "".join(t.text or "" for t in comment.iter(f"{{{_NS['m']}}}t"))
                notes[_cell_ref(comment.get("ref", "A1"))] = text
    return result


def _cell_ref(ref: str) -> tuple[int, int]:
    match = re.fullmatch(r"([A-Z]+)(\d+)", ref.upper())
    if not match:
        return (0, 0)
    col = 0
    for ch in match[1]:
        col = col * 26 + ord(ch) - 64
    return int(match[2]), col - 1


def parse_note(text: str) -> dict[str, Any]:
    """A mark's cell note (as the export writes it) as weight, kind, teacher and comment.

    Everything after `Комментарий:` is the comment; without it, lines typed by hand are the
    comment (an author line a spreadsheet program starts the note with is dropped).
    Raises ValueError for a weight that is not a number.
    """
    found: dict[str, Any] = {}
    free: list[str] = []  # lines a teacher typed by hand: the comment, if none is labelled
    lines = text.replace("\r\n", "\n").split("\n")
    for k, line in enumerate(lines):
        key, sep, value = line.partition(":")
        key = key.strip()
        if not sep or key not in (NOTE_COMMENT, NOTE_WEIGHT, NOTE_KIND, NOTE_TEACHER):
            if k == 0 and sep and not value.strip():
                continue  # the author line a spreadsheet program starts a note with
            if line.strip() or free:
                free.append(line)
            continue
        if key == NOTE_COMMENT:
            comment = "\n".join([value.lstrip(), *lines[k + 1 :]]).strip()
            found["comment"] = comment or None
            break
        if key == NOTE_WEIGHT:
            found["weight"] = parse_float(value.strip())
        elif key == NOTE_KIND:
            kind = value.strip()
            found["kind"] = None if kind in ("", NO_KIND) else kind
        elif key == NOTE_TEACHER:
            found["teacher"] = clean_spaces(value) or None
    if "comment" not in found and "\n".join(free).strip():
        found["comment"] = "\n".join(free).strip()
    return found


def _long_form(default_class: str | None) -> TableKind:
    """A long-form table: one row per mark or absence (or per lesson, in a lesson list)."""
    required = ["date", "subject"] + ([] if default_class else ["class"])

    def missing(header: HeaderMap) -> list[str]:
        return [LONG_FORM_ALIASES[name][0] for name in required if name not in header.columns]

    return TableKind(
        name="journal",
        record="a lesson",
        aliases=LONG_FORM_ALIASES,
        expected=", ".join(LONG_FORM_ALIASES[name][0] for name in required),
        identifies=lambda header: any(name in header.columns for name in required),
        missing=missing,
        ignored=frozenset({"row_number"}),
        skipped="no date, subject or class",
    )


def _read_long(
    path: Path, sheet: str | None, plan: Plan, default_class: str | None, formulas: dict
) -> None:
    rows = iter_rows(path, sheet=sheet) if sheet else iter_rows(path)
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
        _read_long_row(row, header, labels, plan, default_class, seq_column)


def _day_without_year(value: Any, year: int | None) -> date | None:
    """`dd.mm` as the paper journal writes dates: September–December of the school year's
    first year, January–August of the next. None if the text is not such a date; ValueError
    if it is one that does not exist (30.02)."""
    text = cell_text(value)
    match = re.fullmatch(r"(\d{1,2})[./](\d{1,2})\.?", text.strip()) if text else None
    if match is None or year is None:
        return None
    day, month = int(match[1]), int(match[2])
    try:
        return date(year if month >= 9 else year + 1, month, day)
    except ValueError:
        raise ValueError("not a real date") from None


def _get(header: HeaderMap, row: Row, name: str) -> Any:
    return header.get(row, name)


def _locator(row: Row, labels: dict[str, str]):
    """`at(field, value)`: a Problem's place at a field's column of `row`."""

    def at(name: str, value: Any = None) -> Problem:
        return _where(row, labels.get(name, name), value)

    return at


def _read_long_row(row, header, labels, plan: Plan, default_class, seq_column) -> None:
    """One row of a long-form table: its lesson, what a lesson list says of its kind of work
    and weight, and the mark or absence it records (pending until students are resolved)."""
    before = len(plan.problems)
    key = _lesson_of_row(row, header, labels, plan, default_class)
    if key is None:
        return
    if seq_column is not None and len(row.values) > seq_column:
        _lesson_list_row(row, header, labels, plan, key, seq_column)
    _entry_of_row(row, header, labels, plan, key, before)


def _lesson_of_row(row, header, labels, plan: Plan, default_class) -> tuple | None:
    """The key of the row's lesson (class, subject key, date, number), the lesson planned
    with its teacher, topic and homework; None with problems if the row names no lesson."""
    problems = plan.problems
    before = len(problems)
    at = _locator(row, labels)

    raw_date = _get(header, row, "date")
    day = None
    try:
        day = parse_date(raw_date)
    except ValueError as error:
        message = str(error)
        try:
            day = _day_without_year(raw_date, plan.year_hint)
        except ValueError as second:
            message = str(second)
        if day is None:
            problems.append(problem_at(at("date", raw_date), message))
    raw_number = _get(header, row, "number")
    number = 1
    if cell_text(raw_number) is not None:
        try:
            number = parse_int(raw_number)
            if not 1 <= number <= MAX_LESSON_NUMBER:
                raise ValueError(f"a lesson number is 1–{MAX_LESSON_NUMBER}")
        except ValueError as error:
            problems.append(problem_at(at("number", raw_number), str(error)))
    raw_class = _get(header, row, "class")
    class_name = None
    if cell_text(raw_class) is None:
        class_name = default_class
        if class_name is None:
            problems.append(problem_at(at("class"), "the class is missing"))
    else:
        try:
            class_name = canonical_class(cell_text(raw_class))
        except ValueError as error:
            problems.append(problem_at(at("class", raw_class), str(error)))
        if class_name and default_class and class_name != default_class:
            problems.append(
                problem_at(
                    at("class", raw_class), f"the row is for {class_name}, not {default_class}"
                )
            )
    subject = _text(_get(header, row, "subject"))
    if subject is None:
        problems.append(problem_at(at("subject"), "the subject is missing"))
    if len(problems) > before or day is None or class_name is None or subject is None:
        return None
    key = (class_name, fold(subject), day, number)
    lesson = plan.lessons.get(key)
    if lesson is None:
        lesson = plan.lessons[key] = PlannedLesson(
            class_name, subject, day, number, where=at("date", raw_date)
        )
    for name in ("teacher", "topic", "homework"):
        value = (_text if name == "teacher" else _multiline)(_get(header, row, name))
        if value is None:
            continue
        current = getattr(lesson, name)
        if current is None:
            setattr(lesson, name, value)
        elif current != value:
            problems.append(
                problem_at(
                    at(name, value),
                    f"the lesson of {day:%d.%m.%Y} (lesson {number}) already has "
                    f"{name} {current!r} in an earlier row",
                )
            )
    return key


def _lesson_list_row(row, header, labels, plan: Plan, key: tuple, seq_column: int) -> None:
    """A row of our lesson lists: the lesson's number in the list, and the kind of work and
    weight most of the lesson's marks have."""
    problems = plan.problems
    at = _locator(row, labels)
    lesson_lists = plan.lesson_lists
    try:
        seq = parse_int(row.values[seq_column])
        lesson_lists[key[:2]][seq] = key
    except ValueError:
        pass
    # Our lesson lists give the kind of work and weight most of the lesson's marks have.
    kind = _text(_get(header, row, "kind"))
    raw_weight = _get(header, row, "weight")
    if kind is not None or cell_text(raw_weight) is not None:
        weight = 1.0
        if cell_text(raw_weight) is not None:
            try:
                weight = parse_float(raw_weight)
            except ValueError as error:
                if cell_text(_get(header, row, "mark")) is None:  # else said with the mark
                    problems.append(problem_at(at("weight", raw_weight), str(error)))
        plan.lesson_work[key] = (kind, weight)


def _entry_of_row(row, header, labels, plan: Plan, key: tuple, before: int) -> None:
    """The mark or absence the row records for its student, pending until students are
    resolved; nothing if the row (`before`: the problems before it) had a problem."""
    problems = plan.problems
    at = _locator(row, labels)
    student_ref = _student_ref(header, row)
    raw_mark = _get(header, row, "mark")
    raw_absence = _get(header, row, "absence")
    has_mark = cell_text(raw_mark) is not None
    has_absence = cell_text(raw_absence) is not None
    code_in_mark = None
    if has_mark and isinstance(raw_mark, str) and not _numeric(raw_mark):
        # Teachers type Н, Б, УП or ОП in the mark column, as in the paper journal's cell.
        with contextlib.suppress(ValueError):
            code_in_mark = grading.parse_absence_code(raw_mark)
    if code_in_mark is not None:
        if has_absence:
            try:
                other = grading.parse_absence_code(cell_text(raw_absence))
            except ValueError:
                other = None
            if other is not None and other != code_in_mark:
                problems.append(
                    problem_at(
                        at("mark", raw_mark),
                        f"the mark column says {code_in_mark}, the attendance column {other}",
                    )
                )
                return
        raw_absence, has_absence, has_mark = code_in_mark, True, False
    if not student_ref:
        if has_mark or has_absence:
            problems.append(problem_at(at("student"), "a mark or absence needs a student"))
        return
    if not (has_mark or has_absence):
        return  # a student named with nothing to record
    mark = None
    if has_mark:
        try:
            value = grading.parse_mark(raw_mark)
        except ValueError as error:
            message = str(error)
            if isinstance(raw_mark, str) and not _numeric(raw_mark):
                message = "not a mark (1–5) or an attendance code (Н, Б, УП, ОП)"
            problems.append(problem_at(at("mark", raw_mark), message))
        else:
            kind = _text(_get(header, row, "kind"))
            raw_weight = _get(header, row, "weight")
            weight = grading.weight_for_kind(kind)
            if cell_text(raw_weight) is not None:
                try:
                    weight = parse_float(raw_weight)
                    if not 0 < weight <= MAX_WEIGHT:
                        raise ValueError(f"a weight is above 0 and at most {MAX_WEIGHT:g}")
                except ValueError as error:
                    problems.append(problem_at(at("weight", raw_weight), str(error)))
            comment = _multiline(_get(header, row, "comment"))
            mark = (value, weight, kind, comment, _text(_get(header, row, "teacher")))
    code = None
    if has_absence:
        try:
            code = grading.parse_absence_code(cell_text(raw_absence))
        except ValueError as error:
            problems.append(problem_at(at("absence", raw_absence), str(error)))
    if len(problems) > before:
        return
    pending = plan.pending
    column = "student_id" if student_ref[0] == "id" else "student"
    pending.append((student_ref, key, mark, code, at(column, student_ref[1]), False))


def _student_ref(header: HeaderMap, row: Row) -> tuple[str, str] | None:
    sid = cell_text(_get(header, row, "student_id"))
    if sid:
        return ("id", sid)
    name = _text(_get(header, row, "student"))
    if name:
        return ("name", name)
    return None


def _read_grid(path: Path, sheet: str, plan: Plan, notes: dict, default_class) -> None:
    plan.formats.add("grid")
    rows = list(iter_rows(path, sheet=sheet))
    problems = plan.problems
    meta = {cell_text(r.values[0]): r for r in rows[:3] if r.values}
    class_row, subject_row = meta.get(LABEL_CLASS), meta.get(LABEL_SUBJECT)
    class_name = subject = None
    try:
        class_name = canonical_class(cell_text(class_row.values[1]))
    except (ValueError, IndexError, AttributeError, TypeError):
        problems.append(Problem("the class in B1 is missing or wrong", path.name, sheet, 1, "B"))
    if class_name and default_class and class_name != default_class:
        problems.append(
            Problem(f"the sheet is for {class_name}, not {default_class}", str(path), sheet, 1, "B")
        )
    if subject_row is not None and len(subject_row.values) > 1:
        subject = _text(subject_row.values[1])
    if not subject:
        problems.append(Problem("the subject in B2 is missing", str(path), sheet, 2, "B"))
    # The school year: "Учебный год 2026/27" in C1 (older exports: the year alone in D1).
    for value in class_row.values[2:4] if class_row else ():
        if (text := cell_text(value)) and (match := re.search(r"\b(\d{4})/\d{2}$", text)):
            plan.file_years.add(int(match[1]))
            break
    period_row = meta.get(LABEL_PERIOD)
    period_name = None
    if period_row is not None and len(period_row.values) > 1:
        period_name = _text(period_row.values[1])
        if period_name:
            try:
                start, end = _period_dates(period_row.values)
                plan.periods.setdefault(
                    period_name, (start, end, _where(period_row, "C", period_name))
                )
            except (ValueError, IndexError):
                problems.append(
                    Problem(
                        "the period needs its dates in C3 (01.09.2026 – 24.10.2026)",
                        str(path),
                        sheet,
                        3,
                        "C",
                    )
                )
    header = next((r for r in rows if cell_text(r.values[0]) == "№"), None)
    if header is None or class_name is None or not subject:
        if header is None:
            problems.append(Problem("the header row (№, Ученик) is missing", str(path), sheet))
        return
    titles = [cell_text(v) for v in header.values]
    try:
        col_average = titles.index(COL_AVERAGE)
    except ValueError:
        problems.append(
            Problem(f"the column {COL_AVERAGE!r} is missing", str(path), sheet, header.number)
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
                    "the lesson number in the list of topics is missing",
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
        label = _text(values[1]) if len(values) > 1 else None
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
                    _where(row, column_letter(col), value),
                    sheet_notes.get((row.number, col)),
                )
            )
        grade = None
        if col_grade is not None and col_grade < len(values) and cell_text(values[col_grade]):
            grade = values[col_grade]
        grid.append(
            (
                class_name,
                subject,
                lesson_of_col,
                ref,
                cells,
                grade,
                period_name,
                _where(row, "B", label),
                _where(row, column_letter(col_grade or 0), grade),
            )
        )


def _period_dates(values: tuple) -> tuple[date, date]:
    """The period's first and last day: `dd.mm.yyyy – dd.mm.yyyy` in C3, or (older exports)
    dates in C3 and D3. Raises ValueError or IndexError."""
    text = cell_text(values[2])
    if text and (match := re.fullmatch(r"(\S+)\s*[–—-]\s*(\S+)", text)):
        return parse_date(match[1]), parse_date(match[2])
    return parse_date(values[2]), parse_date(values[3])


def _grid_entries(plan: Plan) -> None:
    """Turn grid rows into pending entries, now that every lesson list has been read."""
    lesson_lists = plan.lesson_lists
    lesson_work = plan.lesson_work
    pending = plan.pending
    for (
        class_name,
        subject,
        lesson_of_col,
        ref,
        cells,
        grade,
        period,
        where,
        grade_where,
    ) in plan.grids:
        lessons = lesson_lists.get((class_name, fold(subject)))
        if lessons is None:
            plan.problems.append(
                problem_at(where, f"no list of topics for {class_name} {subject} in the file")
            )
            continue
        for seq in sorted(set(lesson_of_col.values())):
            if seq not in lessons:
                plan.problems.append(
                    problem_at(where, f"lesson {seq} is not in the list of topics of {subject}")
                )
                continue
            marks, code = [], None
            kind, weight = lesson_work.get(lessons[seq], (None, 1.0))
            for _col, value, at, note in cells.get(seq, ()):
                if isinstance(value, str) and not _numeric(value):
                    try:
                        new_code = grading.parse_absence_code(value)
                    except ValueError as error:
                        plan.problems.append(problem_at(at, str(error)))
                        continue
                    if code is not None:
                        plan.problems.append(problem_at(at, "two attendance codes in one lesson"))
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
                        plan.problems.append(problem_at(at, f"the note's weight: {error}"))
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
        if period:
            value = None
            if grade is not None:
                try:
                    value = grading.parse_mark(grade)
                except ValueError as error:
                    plan.problems.append(problem_at(grade_where, str(error)))
                    continue
            pending.append(
                (ref, ("grade", fold(subject), period, subject), value, None, where, True)
            )


def _numeric(text: str) -> bool:
    try:
        parse_float(text)
    except ValueError:
        return False
    return True


def read_journal_file(
    path: Path, default_class: str | None = None, year_hint: int | None = None
) -> Plan:
    """Read a journal file (long form or grid workbook) into an unresolved plan.

    `year_hint`: the school year that dates written without a year (`03.09`) belong to.
    """
    plan = Plan(year_hint=year_hint)
    kinds = _detect(path, plan, default_class)
    notes = read_cell_notes(path) if any(k == "grid" for _, k in kinds) else {}
    formulas = formula_cells(path) if any(k == "long" for _, k in kinds) else {}
    for sheet, kind in kinds:
        if kind == "long":
            _read_long(path, sheet, plan, default_class, formulas)
        elif kind == "grid":
            _read_grid(path, sheet, plan, notes, default_class)
    _grid_entries(plan)
    if not plan.formats and not plan.problems:
        plan.problems.append(
            Problem("no sheet has a journal table (date, class, subject, ...)", str(path))
        )
    return plan
