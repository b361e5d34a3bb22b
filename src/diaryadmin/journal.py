"""Journal import: long-form tables (one row per mark or absence) and our own grid workbooks.

A long-form row names a lesson (date, lesson number, class, subject; teacher, topic, homework)
and optionally a student (ID or full name) with a mark (weight or kind of work, comment) and/or
an attendance code. Rows without a student only carry the lesson's topic and homework.

The grid workbook is what `journal export` writes (see journal_export); reading it back
reproduces lessons, marks with their notes, absences and period grades.

Import is all-or-nothing: every problem is collected with file, sheet, row, column and value,
and nothing is written unless there are none. Re-importing a file changes nothing: the marks a
file gives for a student in a lesson replace that student's marks in that lesson, and equal
marks are left as they are. A grid sheet is the whole truth for the lessons and students it
shows (an empty cell removes a mark or absence); a long-form file only touches what it names.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from . import audit, grading
from .cells import cell_text, parse_date, parse_float, parse_int
from .errors import InputError, NotFound, Problem
from .io import HeaderMap, Row, find_header, iter_rows, sheet_names
from .journal_export import (
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
from .models import (
    Absence,
    AcademicPeriod,
    Enrolment,
    Lesson,
    Mark,
    PeriodGrade,
    School,
    SchoolClass,
    Student,
    Subject,
    Teacher,
)
from .names import canonical_class, clean_spaces, fold, name_key
from .periods import year_label
from .schools import school_year_of

LONG_FORM_ALIASES = {
    "date": ["Дата", "Дата урока", "date"],
    "number": ["Урок", "№ урока", "Номер урока", "Урок №", "lesson", "lesson number"],
    "class": ["Класс", "class"],
    "subject": ["Предмет", "subject"],
    "teacher": ["Учитель", "Преподаватель", "teacher"],
    "topic": ["Тема", "Тема урока", "topic"],
    "homework": ["Домашнее задание", "ДЗ", "Д/з", "homework"],
    "student_id": ["ID ученика", "ID", "Код ученика", "student id"],
    "student": ["Ученик", "ФИО", "ФИО ученика", "student"],
    "mark": ["Оценка", "Отметка", "mark"],
    "weight": ["Вес", "Вес оценки", "weight"],
    "kind": ["Вид работы", "Тип работы", "Форма работы", "kind"],
    "absence": ["Пропуск", "Посещаемость", "Код пропуска", "absence"],
    "comment": ["Комментарий", "Примечание", "comment"],
}
MAX_LESSON_NUMBER = 12
MAX_WEIGHT = 10.0
_CHUNK = 500


@dataclass
class _Lesson:
    class_name: str
    subject: str
    date: date
    number: int
    teacher: str | None = None
    topic: str | None = None
    homework: str | None = None
    where: Problem | None = None


@dataclass
class _Pair:
    """What a file says about one student in one lesson."""

    marks: list[tuple[int, float, str | None, str | None, str | None]] = field(
        default_factory=list
    )  # value, weight, kind, comment, teacher name
    absence: str | None = None
    marks_given: bool = False
    whole: bool = False  # a grid cell group: empty means none


@dataclass
class _Plan:
    lessons: dict[tuple, _Lesson] = field(default_factory=dict)  # (class, subject key, date, n)
    pairs: dict[tuple[int, tuple], _Pair] = field(default_factory=dict)  # (student, lesson key)
    period_grades: dict[tuple[int, str, str], tuple[int | None, Problem]] = field(
        default_factory=dict
    )  # (student, subject key, period name) -> grade
    periods: dict[str, tuple[date, date, Problem]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    rows: int = 0
    formats: set[str] = field(default_factory=set)
    skipped_sheets: list[str] = field(default_factory=list)
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


class _Roster:
    """The school's students, classes and class history for one school year, preloaded."""

    def __init__(self, session: Session, school: School, year: int) -> None:
        self.year = year
        self.classes = {
            name: (cid, name)
            for cid, name in session.execute(
                select(SchoolClass.id, SchoolClass.name).where(
                    SchoolClass.school_id == school.id, SchoolClass.school_year == year
                )
            )
        }
        class_ids = {cid for cid, _ in self.classes.values()}
        self.students: dict[int, tuple] = {}
        self.by_external: dict[str, int] = {}
        for row in session.execute(
            select(
                Student.id,
                Student.external_id,
                Student.surname,
                Student.name,
                Student.patronymic,
                Student.class_id,
            ).where(Student.school_id == school.id)
        ):
            self.students[row[0]] = row
            if row[1]:
                self.by_external[fold(row[1])] = row[0]
        self.history: dict[int, list[tuple[int, date, date | None]]] = defaultdict(list)
        for student_id, class_id, start, end in session.execute(
            select(
                Enrolment.student_id, Enrolment.class_id, Enrolment.started_on, Enrolment.ended_on
            )
            .join(Student, Student.id == Enrolment.student_id)
            .where(Student.school_id == school.id)
        ):
            self.history[student_id].append((class_id, start, end))
        # Class -> name keys (full and surname + name) -> student ids, for name matching.
        self.names: dict[int, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
        for student_id, row in self.students.items():
            members = {c for c, _, _ in self.history.get(student_id, ())}
            if student_id not in self.history and row[5] is not None:
                members.add(row[5])
            for class_id in members & class_ids:
                self.names[class_id][name_key(row[2], row[3], row[4])].add(student_id)
                self.names[class_id][name_key(row[2], row[3])].add(student_id)

    def in_class(self, student_id: int, class_id: int, day: date) -> bool:
        """Whether the student was in the class on `day`.

        A student's first enrolment counts from any earlier day: the roster records when the
        office learned of a student's class, not when the child joined it. Only later
        enrolments (class moves) start on their date.
        """
        history = self.history.get(student_id)
        if not history:
            return self.students[student_id][5] == class_id
        first = min(start for _, start, _ in history)
        return any(
            c == class_id and (start <= day or start == first) and (end is None or day <= end)
            for c, start, end in history
        )


def _where(row: Row, column: str | None, value: Any = None) -> Problem:
    return Problem("", file=row.file, sheet=row.sheet, row=row.number, column=column, value=value)


def _problem(where: Problem, message: str) -> Problem:
    return Problem(message, where.file, where.sheet, where.row, where.column, where.value)


def _text(value: Any) -> str | None:
    text = cell_text(value)
    return clean_spaces(text) if text else None


def _multiline(value: Any) -> str | None:
    text = cell_text(value)
    return text.strip() if text else None


# ---------------------------------------------------------------- reading the file


def _detect(path: Path) -> list[tuple[str | None, str]]:
    """(sheet, kind) for each sheet: 'grid', 'summary' or 'long'; CSV is one 'long' sheet."""
    names = sheet_names(path)
    if not names:
        return [(None, "long")]
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


def read_cell_notes(path: Path) -> dict[str, dict[tuple[int, int], str]]:
    """Cell notes (comments) of an xlsx file: sheet -> (1-based row, 0-based column) -> text."""
    import posixpath
    import zipfile
    from xml.etree import ElementTree

    ns = {
        "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
        "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
        "p": "http://schemas.openxmlformats.org/package/2006/relationships",
    }
    result: dict[str, dict[tuple[int, int], str]] = {}
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return result

    def rels(part: str) -> dict[str, tuple[str, str]]:
        folder, name = posixpath.split(part)
        rels_path = posixpath.join(folder, "_rels", name + ".rels")
        if rels_path not in archive.namelist():
            return {}
        tree = ElementTree.fromstring(archive.read(rels_path))
        found = {}
        for rel in tree.findall("p:Relationship", ns):
            target = rel.get("Target", "")
            # Targets are relative to the part's folder, or absolute from the package root.
            target = target[1:] if target.startswith("/") else posixpath.join(folder, target)
            found[rel.get("Id")] = (rel.get("Type", ""), posixpath.normpath(target))
        return found

    with archive:
        try:
            workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        except KeyError:
            return result
        book_rels = rels("xl/workbook.xml")
        for sheet in workbook.findall("m:sheets/m:sheet", ns):
            rid = sheet.get(f"{{{ns['r']}}}id")
            if rid not in book_rels:
                continue
            sheet_part = book_rels[rid][1]
            for kind, target in rels(sheet_part).values():
                if not kind.endswith("/comments") or target not in archive.namelist():
                    continue
                notes = result.setdefault(sheet.get("name"), {})
                tree = ElementTree.fromstring(archive.read(target))
                for comment in tree.iter(f"{{{ns['m']}}}comment"):
                    text = "".join(t.text or "" for t in comment.iter(f"{{{ns['m']}}}t"))
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

    Unknown lines (such as an author line Excel adds) are ignored; everything after
    `Комментарий:` is the comment. Raises ValueError for a weight that is not a number.
    """
    found: dict[str, Any] = {}
    lines = text.replace("\r\n", "\n").split("\n")
    for k, line in enumerate(lines):
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key = key.strip()
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
    return found


def _read_long(path: Path, sheet: str | None, plan: _Plan, default_class: str | None) -> None:
    rows = iter_rows(path, sheet=sheet) if sheet else iter_rows(path)
    required = ["date", "subject"] + ([] if default_class else ["class"])
    try:
        header, body = find_header(rows, LONG_FORM_ALIASES, required=required)
    except InputError as error:
        if sheet is not None and "no header row" in str(error):
            plan.skipped_sheets.append(sheet)
            return
        plan.problems.extend(error.problems)
        return
    plan.formats.add("long")
    labels = header.labels
    seq_column = 0 if cell_text(header.row.values[0]) == "№" else None
    for row in body:
        plan.rows += 1
        _read_long_row(row, header, labels, plan, default_class, seq_column)


def _get(header: HeaderMap, row: Row, name: str) -> Any:
    return header.get(row, name)


def _read_long_row(row, header, labels, plan: _Plan, default_class, seq_column) -> None:
    problems = plan.problems
    before = len(problems)

    def at(name: str, value: Any = None) -> Problem:
        return _where(row, labels.get(name, name), value)

    raw_date = _get(header, row, "date")
    day = None
    try:
        day = parse_date(raw_date)
    except ValueError as error:
        problems.append(_problem(at("date", raw_date), str(error)))
    raw_number = _get(header, row, "number")
    number = 1
    if cell_text(raw_number) is not None:
        try:
            number = parse_int(raw_number)
            if not 1 <= number <= MAX_LESSON_NUMBER:
                raise ValueError(f"a lesson number is 1–{MAX_LESSON_NUMBER}")
        except ValueError as error:
            problems.append(_problem(at("number", raw_number), str(error)))
    raw_class = _get(header, row, "class")
    class_name = None
    if cell_text(raw_class) is None:
        class_name = default_class
        if class_name is None:
            problems.append(_problem(at("class"), "the class is missing"))
    else:
        try:
            class_name = canonical_class(cell_text(raw_class))
        except ValueError as error:
            problems.append(_problem(at("class", raw_class), str(error)))
        if class_name and default_class and class_name != default_class:
            problems.append(
                _problem(
                    at("class", raw_class), f"the row is for {class_name}, not {default_class}"
                )
            )
    subject = _text(_get(header, row, "subject"))
    if subject is None:
        problems.append(_problem(at("subject"), "the subject is missing"))
    if len(problems) > before or day is None or class_name is None or subject is None:
        return
    key = (class_name, fold(subject), day, number)
    lesson = plan.lessons.get(key)
    if lesson is None:
        lesson = plan.lessons[key] = _Lesson(
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
                _problem(
                    at(name, value),
                    f"the lesson of {day:%d.%m.%Y} (lesson {number}) already has "
                    f"{name} {current!r} in an earlier row",
                )
            )
    if seq_column is not None and len(row.values) > seq_column:
        lesson_lists = plan.lesson_lists
        try:
            seq = parse_int(row.values[seq_column])
            lesson_lists[(class_name, fold(subject))][seq] = key
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
                    problems.append(_problem(at("weight", raw_weight), str(error)))
            plan.lesson_work[key] = (kind, weight)

    student_ref = _student_ref(header, row)
    raw_mark = _get(header, row, "mark")
    raw_absence = _get(header, row, "absence")
    has_mark = cell_text(raw_mark) is not None
    has_absence = cell_text(raw_absence) is not None
    if not student_ref:
        if has_mark or has_absence:
            problems.append(_problem(at("student"), "a mark or absence needs a student"))
        return
    if not (has_mark or has_absence):
        return  # a student named with nothing to record
    mark = None
    if has_mark:
        try:
            value = grading.parse_mark(raw_mark)
        except ValueError as error:
            problems.append(_problem(at("mark", raw_mark), str(error)))
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
                    problems.append(_problem(at("weight", raw_weight), str(error)))
            comment = _multiline(_get(header, row, "comment"))
            mark = (value, weight, kind, comment, _text(_get(header, row, "teacher")))
    code = None
    if has_absence:
        try:
            code = grading.parse_absence_code(cell_text(raw_absence))
        except ValueError as error:
            problems.append(_problem(at("absence", raw_absence), str(error)))
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


def _read_grid(path: Path, sheet: str, plan: _Plan, notes: dict, default_class) -> None:
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
    year_text = cell_text(class_row.values[3]) if class_row and len(class_row.values) > 3 else None
    if year_text and (match := re.fullmatch(r"(\d{4})/\d{2}", year_text)):
        plan.file_years.add(int(match[1]))
    period_row = meta.get(LABEL_PERIOD)
    period_name = None
    if period_row is not None and len(period_row.values) > 1:
        period_name = _text(period_row.values[1])
        if period_name:
            try:
                start, end = parse_date(period_row.values[2]), parse_date(period_row.values[3])
                plan.periods.setdefault(
                    period_name, (start, end, _where(period_row, "C", period_name))
                )
            except (ValueError, IndexError):
                problems.append(
                    Problem("the period needs its dates in C3 and D3", str(path), sheet, 3, "C")
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
                    _column_letter(col),
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
                    _where(row, _column_letter(col), value),
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
                _where(row, _column_letter(col_grade or 0), grade),
            )
        )


def _column_letter(col: int) -> str:
    letters = ""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _grid_entries(plan: _Plan) -> None:
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
                _problem(where, f"no list of topics for {class_name} {subject} in the file")
            )
            continue
        for seq in sorted(set(lesson_of_col.values())):
            if seq not in lessons:
                plan.problems.append(
                    _problem(where, f"lesson {seq} is not in the list of topics of {subject}")
                )
                continue
            marks, code = [], None
            kind, weight = lesson_work.get(lessons[seq], (None, 1.0))
            for _col, value, at, note in cells.get(seq, ()):
                if isinstance(value, str) and not _numeric(value):
                    try:
                        new_code = grading.parse_absence_code(value)
                    except ValueError as error:
                        plan.problems.append(_problem(at, str(error)))
                        continue
                    if code is not None:
                        plan.problems.append(_problem(at, "two attendance codes in one lesson"))
                    code = new_code
                    continue
                try:
                    mark = grading.parse_mark(value)
                except ValueError as error:
                    plan.problems.append(_problem(at, str(error)))
                    continue
                info: dict[str, Any] = {}
                if note:
                    try:
                        info = parse_note(note)
                    except ValueError as error:
                        plan.problems.append(_problem(at, f"the note's weight: {error}"))
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
                    plan.problems.append(_problem(grade_where, str(error)))
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


# ---------------------------------------------------------------- planning


def _school_year(session: Session, school: School, year: int | None, plan: _Plan) -> int:
    """The school year given, else the one our grid workbook names, else the roster's latest."""
    if year is not None:
        return year
    if len(plan.file_years) == 1:
        return next(iter(plan.file_years))
    latest = session.scalar(
        select(SchoolClass.school_year)
        .where(SchoolClass.school_id == school.id)
        .order_by(SchoolClass.school_year.desc())
        .limit(1)
    )
    if latest is None:
        raise NotFound("The school has no classes yet: import a roster first.")
    return latest


def read_journal_file(path: Path, default_class: str | None = None) -> _Plan:
    """Read a journal file (long form or grid workbook) into an unresolved plan."""
    plan = _Plan()
    kinds = _detect(path)
    notes = read_cell_notes(path) if any(k == "grid" for _, k in kinds) else {}
    for sheet, kind in kinds:
        if kind == "long":
            _read_long(path, sheet, plan, default_class)
        elif kind == "grid":
            _read_grid(path, sheet, plan, notes, default_class)
    _grid_entries(plan)
    if not plan.formats and not plan.problems:
        plan.problems.append(
            Problem("no sheet has a journal table (date, class, subject, ...)", str(path))
        )
    return plan


def _resolve_students(plan: _Plan, roster: _Roster) -> list[tuple]:
    """Pending entries with the student id and class id resolved (problems collected)."""
    resolved = []
    for ref, key, marks, code, where, whole in plan.pending:
        class_name = None if key[0] == "grade" else key[0]
        student_id = None
        if ref[0] == "id":
            student_id = roster.by_external.get(fold(ref[1]))
            if student_id is None:
                plan.problems.append(_problem(where, f"no student with ID {ref[1]!r}"))
                continue
        resolved.append((ref, student_id, key, marks, code, where, whole, class_name))
    return resolved


def plan_import(
    session: Session,
    school: School,
    path: Path,
    *,
    default_class: str | None = None,
    year: int | None = None,
) -> tuple[_Plan, dict]:
    """Read and check a journal file against the database; nothing is written.

    Returns the plan and a report. Raises InputError with every problem found.
    """
    if default_class:
        try:
            default_class = canonical_class(default_class)
        except ValueError as error:
            raise InputError(f"--class {default_class!r}: {error}") from None
    plan = read_journal_file(path, default_class)
    if not plan.formats:
        raise _refused(path, plan)
    year = _school_year(session, school, year, plan)
    roster = _Roster(session, school, year)
    first, last = date(year, 9, 1), date(year + 1, 8, 31)
    class_ids: dict[str, int] = {}
    for lesson in plan.lessons.values():
        where = lesson.where
        if not first <= lesson.date <= last:
            plan.problems.append(
                _problem(
                    where,
                    f"the date is outside the school year {year_label(year)} "
                    f"({first:%d.%m.%Y} – {last:%d.%m.%Y})",
                )
            )
            continue
        found = roster.classes.get(lesson.class_name)
        if found is None:
            plan.problems.append(
                Problem(
                    f"there is no class {lesson.class_name} in {year_label(year)}",
                    where.file,
                    where.sheet,
                    where.row,
                    "Класс",
                    lesson.class_name,
                )
            )
            continue
        class_ids[lesson.class_name] = found[0]

    for name, (start, end, where) in plan.periods.items():
        if school_year_of(start) != year or school_year_of(end) != year or end < start:
            plan.problems.append(
                _problem(where, f"the period {name} is not within {year_label(year)}")
            )

    for ref, student_id, key, marks, code, where, whole, class_name in _resolve_students(
        plan, roster
    ):
        if key[0] == "grade":
            if student_id is None:
                student_id = _match_name(ref[1], roster, set(class_ids.values()), where, plan)
                if student_id is None:
                    continue
            plan.period_grades[(student_id, key[1], key[2])] = (marks, where, key[3])
            continue
        lesson = plan.lessons[key]
        class_id = class_ids.get(class_name)
        if class_id is None:
            continue
        if student_id is None:
            student_id = _match_name(ref[1], roster, {class_id}, where, plan)
            if student_id is None:
                continue
        if not roster.in_class(student_id, class_id, lesson.date):
            if whole and not marks and code is None:
                continue  # an empty grid cell from before or after the student was in the class
            student = roster.students[student_id]
            plan.problems.append(
                _problem(
                    where,
                    f"{student[2]} {student[3]} is not in class {class_name} "
                    f"on {lesson.date:%d.%m.%Y}",
                )
            )
            continue
        pair = plan.pairs.get((student_id, key))
        if pair is None:
            pair = plan.pairs[(student_id, key)] = _Pair(whole=whole)
        if whole:
            pair.marks = list(marks)
            pair.marks_given = True
            pair.absence = code
            continue
        if marks is not None:
            pair.marks.append(marks)
            pair.marks_given = True
        if code is not None:
            if pair.absence is not None and pair.absence != code:
                plan.problems.append(
                    _problem(where, f"a second attendance code ({code}, was {pair.absence})")
                )
            pair.absence = code
    if plan.problems:
        raise _refused(path, plan)
    plan.class_ids = class_ids
    plan.year = year
    return plan, _report(path, plan, dry_run=True)


def _match_name(
    name: str, roster: _Roster, class_ids: set[int], where: Problem, plan: _Plan
) -> int | None:
    key = fold(name)
    found: set[int] = set()
    for class_id in class_ids:
        found |= roster.names.get(class_id, {}).get(key, set())
    if len(found) == 1:
        return next(iter(found))
    if not found:
        plan.problems.append(_problem(where, "no such student in the class"))
    else:
        plan.problems.append(
            _problem(where, f"{len(found)} students of the class have this name; give their ID")
        )
    return None


def _refused(path: Path, plan: _Plan) -> InputError:
    report = _report(path, plan, dry_run=False)
    count = len(plan.problems)
    return InputError(
        f"{path}: {count} problem(s) found; nothing was imported.", plan.problems, report
    )


def _report(path: Path, plan: _Plan, dry_run: bool) -> dict[str, Any]:
    return {
        "file": str(path),
        "format": "+".join(sorted(plan.formats)) or None,
        "rows": plan.rows,
        "lessons": len(plan.lessons),
        "entries": len(plan.pairs),
        "marks": sum(len(p.marks) for p in plan.pairs.values()),
        "absences": sum(1 for p in plan.pairs.values() if p.absence),
        "period_grades": sum(1 for v in plan.period_grades.values() if v[0] is not None),
        "skipped_sheets": plan.skipped_sheets,
        "dry_run": dry_run,
        "errors": [p.to_dict() for p in plan.problems],
    }


# ---------------------------------------------------------------- writing


def _chunks(items: list, size: int = _CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _teacher_parts(text: str) -> tuple[str, str | None, str | None]:
    words = clean_spaces(text).split(" ")
    return (
        words[0],
        (words[1] if len(words) > 1 else None),
        (" ".join(words[2:]) if len(words) > 2 else None),
    )


def apply_import(
    session: Session,
    school: School,
    path: Path,
    plan: _Plan,
    operator: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Write a checked plan: lessons, marks, absences, period grades, in set-based statements."""
    report = _report(path, plan, dry_run=False)
    class_ids = plan.class_ids
    year = plan.year

    subjects = {
        fold(name): sid
        for sid, name in session.execute(
            select(Subject.id, Subject.name).where(Subject.school_id == school.id)
        )
    }
    new_subjects: dict[str, str] = {}
    for lesson in plan.lessons.values():
        new_subjects.setdefault(fold(lesson.subject), lesson.subject)
    for (_, subject_key, _), (_, _, subject_name) in plan.period_grades.items():
        new_subjects.setdefault(subject_key, subject_name)
    created_subjects = [name for key, name in new_subjects.items() if key not in subjects]
    if created_subjects:
        session.execute(
            insert(Subject), [{"school_id": school.id, "name": n} for n in created_subjects]
        )
        subjects = {
            fold(name): sid
            for sid, name in session.execute(
                select(Subject.id, Subject.name).where(Subject.school_id == school.id)
            )
        }

    teachers = {
        key: tid
        for tid, key in session.execute(
            select(Teacher.id, Teacher.name_key).where(Teacher.school_id == school.id)
        )
    }
    wanted = {x.teacher for x in plan.lessons.values() if x.teacher}
    wanted |= {m[4] for p in plan.pairs.values() for m in p.marks if m[4]}
    created_teachers = []
    for text in sorted(wanted):
        surname, name, patronymic = _teacher_parts(text)
        key = name_key(surname, name or "", patronymic)
        if key not in teachers:
            teachers[key] = None
            created_teachers.append(
                {
                    "school_id": school.id,
                    "surname": surname,
                    "name": name,
                    "patronymic": patronymic,
                    "name_key": key,
                }
            )
    if created_teachers:
        session.execute(insert(Teacher), created_teachers)
        teachers = {
            key: tid
            for tid, key in session.execute(
                select(Teacher.id, Teacher.name_key).where(Teacher.school_id == school.id)
            )
        }

    def teacher_id(text: str | None) -> int | None:
        if not text:
            return None
        surname, name, patronymic = _teacher_parts(text)
        return teachers.get(name_key(surname, name or "", patronymic))

    # Lessons: insert the new, update topic/homework/teacher where the file gives new ones.
    first, last = date(year, 9, 1), date(year + 1, 8, 31)

    def existing_lessons() -> dict[tuple, tuple]:
        found = {}
        ids = sorted(set(class_ids.values()))
        for part in _chunks(ids):
            for row in session.execute(
                select(
                    Lesson.id,
                    Lesson.class_id,
                    Lesson.subject_id,
                    Lesson.date,
                    Lesson.number,
                    Lesson.topic,
                    Lesson.homework,
                    Lesson.teacher_id,
                ).where(Lesson.class_id.in_(part), Lesson.date >= first, Lesson.date <= last)
            ):
                found[(row[1], row[2], row[3], row[4])] = row
        return found

    db_lessons = existing_lessons()
    lesson_db_key = {
        key: (class_ids[x.class_name], subjects[fold(x.subject)], x.date, x.number)
        for key, x in plan.lessons.items()
    }
    to_insert, updates = [], []
    unchanged_lessons = 0
    for key, lesson in plan.lessons.items():
        db_key = lesson_db_key[key]
        tid = teacher_id(lesson.teacher)
        row = db_lessons.get(db_key)
        if row is None:
            to_insert.append(
                {
                    "class_id": db_key[0],
                    "subject_id": db_key[1],
                    "date": db_key[2],
                    "number": db_key[3],
                    "topic": lesson.topic,
                    "homework": lesson.homework,
                    "teacher_id": tid,
                }
            )
            continue
        change = {}
        if lesson.topic is not None and lesson.topic != row[5]:
            change["topic"] = lesson.topic
        if lesson.homework is not None and lesson.homework != row[6]:
            change["homework"] = lesson.homework
        if tid is not None and tid != row[7]:
            change["teacher_id"] = tid
        if change:
            updates.append({"id": row[0], **change})
        else:
            unchanged_lessons += 1
    if to_insert:
        session.execute(insert(Lesson), to_insert)
        db_lessons = existing_lessons()
    for change in updates:
        session.execute(update(Lesson).where(Lesson.id == change.pop("id")).values(**change))
    lesson_ids = {key: db_lessons[db_key][0] for key, db_key in lesson_db_key.items()}
    lesson_teacher = {key: db_lessons[db_key][7] for key, db_key in lesson_db_key.items()}

    # Marks and absences of the (student, lesson) pairs the file gives.
    touched = sorted({lesson_ids[key] for _, key in plan.pairs})
    old_marks: dict[tuple[int, int], list[tuple]] = defaultdict(list)
    old_absences: dict[tuple[int, int], tuple[int, str]] = {}
    for part in _chunks(touched):
        for row in session.execute(
            select(
                Mark.id,
                Mark.student_id,
                Mark.lesson_id,
                Mark.value,
                Mark.weight,
                Mark.kind,
                Mark.comment,
                Mark.teacher_id,
            ).where(Mark.lesson_id.in_(part))
        ):
            old_marks[(row[1], row[2])].append(row)
        for aid, sid, lid, code in session.execute(
            select(Absence.id, Absence.student_id, Absence.lesson_id, Absence.code).where(
                Absence.lesson_id.in_(part)
            )
        ):
            old_absences[(sid, lid)] = (aid, code)
    marks_insert, marks_delete = [], []
    absences_insert, absences_update, absences_delete = [], [], []
    unchanged_marks = 0
    for (student_id, key), pair in plan.pairs.items():
        lid = lesson_ids[key]
        if pair.marks_given:
            new = sorted(
                (
                    (v, float(w), k, c, teacher_id(t) or lesson_teacher[key])
                    for v, w, k, c, t in pair.marks
                ),
                key=_mark_order,
            )
            old_rows = old_marks.get((student_id, lid), [])
            old = sorted(((r[3], float(r[4]), r[5], r[6], r[7]) for r in old_rows), key=_mark_order)
            if new != old:
                marks_delete.extend(r[0] for r in old_rows)
                marks_insert.extend(
                    {
                        "student_id": student_id,
                        "lesson_id": lid,
                        "value": v,
                        "weight": w,
                        "kind": k,
                        "comment": c,
                        "teacher_id": t,
                    }
                    for v, w, k, c, t in new
                )
            else:
                unchanged_marks += len(new)
        old_absence = old_absences.get((student_id, lid))
        if pair.absence is not None:
            if old_absence is None:
                absences_insert.append(
                    {"student_id": student_id, "lesson_id": lid, "code": pair.absence}
                )
            elif old_absence[1] != pair.absence:
                absences_update.append((old_absence[0], pair.absence))
        elif pair.whole and old_absence is not None:
            absences_delete.append(old_absence[0])
    for part in _chunks(marks_delete):
        session.execute(delete(Mark).where(Mark.id.in_(part)))
    if marks_insert:
        session.execute(insert(Mark), marks_insert)
    for part in _chunks(absences_delete):
        session.execute(delete(Absence).where(Absence.id.in_(part)))
    for aid, code in absences_update:
        session.execute(update(Absence).where(Absence.id == aid).values(code=code))
    if absences_insert:
        session.execute(insert(Absence), absences_insert)

    grades = _apply_period_grades(session, school, plan, subjects, year)
    report.update(
        {
            "lessons_added": len(to_insert),
            "lessons_updated": len(updates),
            "lessons_unchanged": unchanged_lessons,
            "marks_added": len(marks_insert),
            "marks_removed": len(marks_delete),
            "marks_unchanged": unchanged_marks,
            "absences_added": len(absences_insert),
            "absences_changed": len(absences_update),
            "absences_removed": len(absences_delete),
            **grades,
            "subjects_created": created_subjects,
            "teachers_created": [
                " ".join(p for p in (t["surname"], t["name"], t["patronymic"]) if p)
                for t in created_teachers
            ],
        }
    )
    audit.record(
        session,
        operator,
        "journal.import",
        f"file:{path.name}",
        {k: v for k, v in report.items() if k not in ("errors", "file", "skipped_sheets")},
        now=now,
    )
    return report


def _mark_order(mark: tuple) -> tuple:
    value, weight, kind, comment, teacher = mark
    return (value, weight, kind or "", comment or "", teacher or 0)


def _apply_period_grades(session, school, plan, subjects, year) -> dict[str, int]:
    if not plan.period_grades:
        return {"period_grades_set": 0, "period_grades_removed": 0}
    periods = {
        name: pid
        for pid, name in session.execute(
            select(AcademicPeriod.id, AcademicPeriod.name).where(
                AcademicPeriod.school_id == school.id, AcademicPeriod.school_year == year
            )
        )
    }
    for name, (start, end, _) in plan.periods.items():
        if name not in periods:
            period = AcademicPeriod(
                school_id=school.id, school_year=year, name=name, starts_on=start, ends_on=end
            )
            session.add(period)
            session.flush()
            periods[name] = period.id
    keys = {
        (sid, subjects[subj], periods[pname]): v[0]
        for (sid, subj, pname), v in plan.period_grades.items()
    }
    students = sorted({k[0] for k in keys})
    existing = {}
    for part in _chunks(students):
        for gid, sid, subj, pid, value in session.execute(
            select(
                PeriodGrade.id,
                PeriodGrade.student_id,
                PeriodGrade.subject_id,
                PeriodGrade.period_id,
                PeriodGrade.value,
            ).where(PeriodGrade.student_id.in_(part))
        ):
            existing[(sid, subj, pid)] = (gid, value)
    added, removed = [], []
    changed = 0
    for key, value in keys.items():
        old = existing.get(key)
        if value is None:
            if old is not None:
                removed.append(old[0])
        elif old is None:
            added.append(
                {"student_id": key[0], "subject_id": key[1], "period_id": key[2], "value": value}
            )
        elif old[1] != value:
            session.execute(update(PeriodGrade).where(PeriodGrade.id == old[0]).values(value=value))
            changed += 1
    if added:
        session.execute(insert(PeriodGrade), added)
    for part in _chunks(removed):
        session.execute(delete(PeriodGrade).where(PeriodGrade.id.in_(part)))
    return {"period_grades_set": len(added) + changed, "period_grades_removed": len(removed)}


def import_journal(
    session: Session,
    school: School,
    path: str | Path,
    operator: str,
    *,
    default_class: str | None = None,
    year: int | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Import a journal file (long form or grid workbook) all-or-nothing.

    Raises InputError with every problem (file, sheet, row, column, value) and the report as
    its result; NotFound if the school has no classes. With `dry_run` nothing is written.
    """
    path = Path(path)
    plan, report = plan_import(session, school, path, default_class=default_class, year=year)
    if dry_run:
        return report
    return apply_import(session, school, path, plan, operator, now=now)
