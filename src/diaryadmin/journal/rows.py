"""One row of a long-form journal table: the lesson it names (date, number, class, subject;
teacher, topic, homework), what a lesson list says of the lesson's kind of work and weight, and
the mark or absence it records for a student, pending until students are resolved.

`journal.read` finds the tables and hands each row here; nothing here touches the database.
"""

from __future__ import annotations

import contextlib
import re
from datetime import date
from typing import Any

from diaryadmin.errors import Problem
from diaryadmin.i18n import N_, _
from diaryadmin.io import HeaderMap, Row
from diaryadmin.io.cells import cell_text, parse_date, parse_float, parse_int
from diaryadmin.journal import grading
from diaryadmin.journal.plan import (
    Plan,
    PlannedLesson,
    clean_text,
    is_numeric,
    located,
    problem_at,
)
from diaryadmin.people.names import canonical_class, fold
from diaryadmin.people.text import clean_text as checked_text
from diaryadmin.people.text import shorten

MAX_LESSON_NUMBER = 12
MAX_WEIGHT = 10.0
# Longest texts (the models' columns; topics, homework and comments are Text, kept readable).
SUBJECT_MAX, TEACHER_MAX, KIND_MAX, NOTE_MAX = 100, 302, 64, 2000

# A lesson named twice with different details (the teacher, topic or homework).
_ALREADY = {
    "teacher": N_(
        "the lesson of {date} (lesson {number}) already has teacher '{value}' in an earlier row"
    ),
    "topic": N_(
        "the lesson of {date} (lesson {number}) already has topic '{value}' in an earlier row"
    ),
    "homework": N_(
        "the lesson of {date} (lesson {number}) already has homework '{value}' in an earlier row"
    ),
}


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
        raise ValueError(_("not a real date")) from None


def _get(header: HeaderMap, row: Row, name: str) -> Any:
    return header.get(row, name)


def _text(plan: Plan, at, name: str, value: Any, limit: int, lines: bool = False) -> str | None:
    """A text cell through people.text.clean_text (`lines`: keep line breaks), or None: empty,
    or refused with a problem (a control character, a bidirectional override, too long)."""
    text = cell_text(value)
    if text is None:
        return None
    try:
        return checked_text(text, "", limit, multiline=lines) or None
    except ValueError as error:
        plan.problems.append(problem_at(at(name, shorten(text)), str(error)))
        return None


def _locator(row: Row, labels: dict[str, str]):
    """`at(field, value)`: a Problem's place at a field's column of `row`."""

    def at(name: str, value: Any = None) -> Problem:
        return located(row, labels.get(name, name), value)

    return at


def read_long_row(row, header, labels, plan: Plan, default_class, seq_column) -> None:
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
                raise ValueError(_("a lesson number is 1–{limit}").format(limit=MAX_LESSON_NUMBER))
        except ValueError as error:
            problems.append(problem_at(at("number", raw_number), str(error)))
    raw_class = _get(header, row, "class")
    class_name = None
    if cell_text(raw_class) is None:
        class_name = default_class
        if class_name is None:
            problems.append(problem_at(at("class"), _("the class is missing")))
    else:
        try:
            class_name = canonical_class(cell_text(raw_class))
        except ValueError as error:
            problems.append(problem_at(at("class", raw_class), str(error)))
        if class_name and default_class and class_name != default_class:
            problems.append(
                problem_at(
                    at("class", raw_class),
                    _("the row is for {name}, not {expected}").format(
                        name=class_name, expected=default_class
                    ),
                )
            )
    refused = len(problems)
    subject = _text(plan, at, "subject", _get(header, row, "subject"), SUBJECT_MAX)
    if subject is None and len(problems) == refused:
        problems.append(problem_at(at("subject"), _("the subject is missing")))
    if len(problems) > before or day is None or class_name is None or subject is None:
        return None
    key = (class_name, fold(subject), day, number)
    lesson = plan.lessons.get(key)
    if lesson is None:
        lesson = plan.lessons[key] = PlannedLesson(
            class_name, subject, day, number, where=at("date", raw_date)
        )
    for name in ("teacher", "topic", "homework"):
        limit, lines = (TEACHER_MAX, False) if name == "teacher" else (NOTE_MAX, True)
        value = _text(plan, at, name, _get(header, row, name), limit, lines)
        if value is None:
            continue
        current = getattr(lesson, name)
        if current is None:
            setattr(lesson, name, value)
        elif current != value:
            problems.append(
                problem_at(
                    at(name, value),
                    _(_ALREADY[name]).format(date=f"{day:%d.%m.%Y}", number=number, value=current),
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
    kind = _text(plan, at, "kind", _get(header, row, "kind"), KIND_MAX)
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
    if has_mark and isinstance(raw_mark, str) and not is_numeric(raw_mark):
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
                        _("the mark column says {mark}, the attendance column {absence}").format(
                            mark=code_in_mark, absence=other
                        ),
                    )
                )
                return
        raw_absence, has_absence, has_mark = code_in_mark, True, False
    if not student_ref:
        if has_mark or has_absence:
            problems.append(problem_at(at("student"), _("a mark or absence needs a student")))
        return
    if not (has_mark or has_absence):
        return  # a student named with nothing to record
    mark = None
    if has_mark:
        try:
            value = grading.parse_mark(raw_mark)
        except ValueError as error:
            message = str(error)
            if isinstance(raw_mark, str) and not is_numeric(raw_mark):
                message = _("not a mark (1–5) or an attendance code (Н, Б, УП, ОП)")
            problems.append(problem_at(at("mark", raw_mark), message))
        else:
            kind = _text(plan, at, "kind", _get(header, row, "kind"), KIND_MAX)
            raw_weight = _get(header, row, "weight")
            weight = grading.weight_for_kind(kind)
            if cell_text(raw_weight) is not None:
                try:
                    weight = parse_float(raw_weight)
                    if not 0 < weight <= MAX_WEIGHT:
                        raise ValueError(
                            _("a weight is above 0 and at most {limit}").format(
                                limit=f"{MAX_WEIGHT:g}"
                            )
                        )
                except ValueError as error:
                    problems.append(problem_at(at("weight", raw_weight), str(error)))
            comment = _text(plan, at, "comment", _get(header, row, "comment"), NOTE_MAX, True)
            mark = (value, weight, kind, comment, clean_text(_get(header, row, "teacher")))
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
    name = clean_text(_get(header, row, "student"))
    if name:
        return ("name", name)
    return None
