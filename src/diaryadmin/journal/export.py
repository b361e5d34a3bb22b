"""The journal as spreadsheets: one xlsx workbook per class, written with xlsxwriter.

Layout of a class workbook (the journal import reads the same layout back):

- `Сводка`: students × subjects (weighted average and period grade), absences by code, absences
  from the first and last lesson of the day, the class average per subject and by week, charts.
- One sheet per subject, like a paper journal: rows 1–3 name the class, subject and period;
  row 4 has the lesson dates (`dd.mm`; `dd.mm/3` with the lesson number on a day with two
  lessons of the subject), row 5 each column's lesson number in the lesson list; then one row
  per student: №, surname and name, student ID, marks (numbers; a lesson gets as many columns
  as its most marks, an absence code comes first), weighted average, missed lessons, period
  grade. A mark's comment, and its weight, kind of work and teacher where they differ from the
  lesson's, are in its cell note.
- `<subject> (темы)` beside each subject: №, date, lesson number, class, subject, teacher,
  topic, homework, and the kind of work and weight most of the lesson's marks have (a note
  then only shows where a mark differs): a long-form table the import also reads.

Rows are written in order with `constant_memory`, so a class costs little memory and a whole
school streams class by class (on several cores, worker processes take classes in turn).
Every text goes through `write_string`: a name or comment starting with `=` stays text.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy.orm import Session

from diaryadmin import audit
from diaryadmin.errors import Refused
from diaryadmin.io import atomic_output
from diaryadmin.io.xlsx import sheet_title
from diaryadmin.journal import grading
from diaryadmin.journal.data import COMMENT, KIND, TEACHER, WEIGHT, ClassJournal, load_class_journal
from diaryadmin.journal.layout import (
    COL_AVERAGE,
    COL_MISSED,
    COL_PERIOD_GRADE,
    FIRST_LESSON_COL,
    FIRST_STUDENT_ROW,
    HEADER_ROW,
    LABEL_CLASS,
    LABEL_COLUMN_WIDTH,
    LABEL_PERIOD,
    LABEL_SUBJECT,
    LABEL_YEAR,
    LESSON_COLUMNS,
    LESSONS_SUFFIX,
    NO_KIND,
    NOTE_COMMENT,
    NOTE_KIND,
    NOTE_TEACHER,
    NOTE_WEIGHT,
    SEQ_ROW,
    SUMMARY_SHEET,
)
from diaryadmin.journal.periods import DateRange, year_label
from diaryadmin.models import School, SchoolClass


def mark_note(
    mark, lesson_teacher_id: int | None, teachers: dict[int, str], work: tuple[str | None, float]
) -> str | None:
    """A mark's cell note: its weight and kind where they differ from the lesson's `work`
    (kind, weight), its teacher if not the lesson's, and its comment."""
    lines = []
    kind, weight, comment, teacher_id = mark[KIND], mark[WEIGHT], mark[COMMENT], mark[TEACHER]
    if weight != work[1]:
        shown = f"{weight:g}".replace(".", ",")
        lines.append(f"{NOTE_WEIGHT}: {shown}")
    if kind != work[0]:
        lines.append(f"{NOTE_KIND}: {kind or NO_KIND}")
    if teacher_id is not None and teacher_id != lesson_teacher_id:
        lines.append(f"{NOTE_TEACHER}: {teachers.get(teacher_id, '')}")
    if comment:
        lines.append(f"{NOTE_COMMENT}: {comment}")
    return "\n".join(lines) or None


class _Formats:
    def __init__(self, workbook: Any) -> None:
        add = workbook.add_format
        self.title = add({"bold": True})
        self.header = add(
            {"bold": True, "align": "center", "valign": "vcenter", "text_wrap": True, "border": 1}
        )
        self.date_header = add(
            {"bold": True, "align": "center", "valign": "bottom", "rotation": 90, "border": 1}
        )
        self.seq = add({"align": "center", "font_color": "#808080", "font_size": 8, "border": 1})
        self.mark = add({"align": "center"})
        self.two = add({"align": "center", "bg_color": "#F8CBAD", "font_color": "#9C0006"})
        self.absence = add({"align": "center", "bg_color": "#FFF2CC", "font_color": "#7F6000"})
        self.average = add({"num_format": "0.00", "align": "center", "bold": True})
        self.count = add({"align": "center"})
        self.grade = add({"align": "center", "bold": True})
        self.grade_two = add(
            {"align": "center", "bold": True, "bg_color": "#F8CBAD", "font_color": "#9C0006"}
        )
        self.date = add({"num_format": "dd.mm.yyyy", "align": "left"})
        self.wrap = add({"text_wrap": True, "valign": "top"})


def _print_setup(sheet: Any, header_rows: tuple[int, int], columns: int) -> None:
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(*header_rows)
    if columns:
        sheet.repeat_columns(0, columns - 1)
    sheet.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)


def _text_width(texts: Iterable[str | None], minimum: float, maximum: float) -> float:
    longest = max((len(t) for t in texts if t), default=0)
    return max(minimum, min(maximum, longest * 1.1 + 2))


def _head(sheet: Any, f: _Formats, journal: ClassJournal, subject: str | None) -> None:
    sheet.write_string(0, 0, LABEL_CLASS, f.title)
    sheet.write_string(0, 1, journal.school_class.name, f.title)
    # The year and the period's dates are text: text runs on over the empty cells to its
    # right, where a date in the narrow ID or lesson column would show as ###.
    sheet.write_string(0, 2, f"{LABEL_YEAR} {year_label(journal.school_class.school_year)}")
    # Rows go out in order (constant memory): row 2 must be written before row 3.
    if subject is not None:
        sheet.write_string(1, 0, LABEL_SUBJECT, f.title)
        sheet.write_string(1, 1, subject, f.title)
    else:
        sheet.write_string(1, 0, SUMMARY_SHEET, f.title)
        sheet.write_string(1, 1, "Средние баллы, оценки за период и пропуски", f.title)
    sheet.write_string(2, 0, LABEL_PERIOD, f.title)
    if journal.range.name:
        sheet.write_string(2, 1, journal.range.name)
    sheet.write_string(
        2, 2, f"{journal.range.starts_on:%d.%m.%Y} – {journal.range.ends_on:%d.%m.%Y}"
    )


def _dt(day) -> datetime:
    return datetime(day.year, day.month, day.day)


@dataclass
class _Partition:
    """A class's marks and absences split by subject in one pass, with the sums the summary
    needs (class average per subject and per week)."""

    cells: dict[int, dict[int, dict[int, Any]]]  # subject -> student -> lesson index -> marks
    codes: dict[int, dict[int, dict[int, str]]]  # subject -> student -> lesson index -> code
    subject_sums: dict[int, list[float]]  # subject -> [weighted total, weights]
    week_sums: dict[date, list[float]]  # Monday -> [weighted total, weights]
    work: dict[int, tuple[str | None, float]]  # lesson -> most marks' (kind, weight)


def _partition(journal: ClassJournal) -> _Partition:
    # Marks are rows (student, lesson, value, weight, kind, comment, teacher): indexes are
    # used below because this loop runs once per mark of a whole school.
    where: dict[int, tuple[int, int]] = {}
    for subject_id, lessons in journal.lessons.items():
        for i, lesson in enumerate(lessons):
            where[lesson.id] = (subject_id, i)
    cells: dict[int, dict[int, dict[int, Any]]] = {s: {} for s in journal.lessons}
    codes: dict[int, dict[int, dict[int, str]]] = {s: {} for s in journal.lessons}
    lesson_sums: dict[int, list[float]] = {}
    kinds: dict[int, dict[tuple[str | None, float], int]] = {}
    for key, marks in journal.marks.items():
        lesson_id = key[1]
        subject_id, i = where[lesson_id]
        by_student = cells[subject_id]
        entries = by_student.get(key[0])
        if entries is None:
            entries = by_student[key[0]] = {}
        entries[i] = marks
        counts = kinds.get(lesson_id)
        if counts is None:
            counts = kinds[lesson_id] = {}
            sums = lesson_sums[lesson_id] = [0.0, 0.0]
        else:
            sums = lesson_sums[lesson_id]
        for mark in marks:
            weight = mark[3]
            work = (mark[4], weight)
            counts[work] = counts.get(work, 0) + 1
            if weight > 0:
                sums[0] += mark[2] * weight
                sums[1] += weight
    for (student_id, lesson_id), code in journal.absences.items():
        subject_id, i = where[lesson_id]
        codes[subject_id].setdefault(student_id, {})[i] = code
        cells[subject_id].setdefault(student_id, {}).setdefault(i, ())
    subject_sums = {s: [0.0, 0.0] for s in journal.lessons}
    week_sums: dict[date, list[float]] = {}
    for subject_id, lessons in journal.lessons.items():
        for lesson in lessons:
            sums = lesson_sums.get(lesson.id)
            if sums is None:
                continue
            monday = lesson.date - timedelta(days=lesson.date.weekday())
            for target in (subject_sums[subject_id], week_sums.setdefault(monday, [0.0, 0.0])):
                target[0] += sums[0]
                target[1] += sums[1]
    # Ties go to the first kind seen, which is stable: marks come in id order.
    work = {lesson: max(counts, key=counts.__getitem__) for lesson, counts in kinds.items()}
    return _Partition(cells, codes, subject_sums, week_sums, work)


def _average(sums: list[float]) -> float | None:
    return grading.round_average(sums[0] / sums[1]) if sums[1] else None


def _write_subject(
    workbook: Any,
    f: _Formats,
    journal: ClassJournal,
    subject_id: int,
    subject: str,
    used: set[str],
    stats: dict[int, dict[int, tuple[float | None, int, list[str]]]],
    parts: _Partition,
) -> None:
    lessons = journal.lessons[subject_id]
    students = journal.students
    # Columns per lesson: its most entries (absence code first, then marks) for one student.
    width = [1] * len(lessons)
    cells = parts.cells[subject_id]
    codes = parts.codes[subject_id]
    for student_id, entries in cells.items():
        student_codes = codes.get(student_id, {})
        for i, marks in entries.items():
            n = len(marks) + (1 if i in student_codes else 0)
            if n > width[i]:
                width[i] = n
    start = []
    col = FIRST_LESSON_COL
    for w in width:
        start.append(col)
        col += w
    col_average, col_missed, col_grade = col, col + 1, col + 2

    per_day: dict[Any, int] = defaultdict(int)
    for lesson in lessons:
        per_day[lesson.date] += 1
    sheet = workbook.add_worksheet(sheet_title(subject, used))
    _head(sheet, f, journal, subject)
    sheet.set_column(0, 0, LABEL_COLUMN_WIDTH)
    sheet.set_column(1, 1, _text_width((s.label for s in students), 14, 40))
    sheet.set_column(2, 2, _text_width((s.external_id for s in students), 4, 16))
    if col > FIRST_LESSON_COL:
        sheet.set_column(FIRST_LESSON_COL, col - 1, 3.6)
    sheet.set_column(col_average, col_grade, 11)
    # Rotated dates: `dd.mm` fits 42 points, `dd.mm/n` (two lessons that day) needs more.
    sheet.set_row(HEADER_ROW, 56 if any(n > 1 for n in per_day.values()) else 42)
    sheet.write_string(HEADER_ROW, 0, "№", f.header)
    sheet.write_string(HEADER_ROW, 1, "Ученик", f.header)
    sheet.write_string(HEADER_ROW, 2, "ID", f.header)
    for i, lesson in enumerate(lessons):
        label = f"{lesson.date:%d.%m}"
        if per_day[lesson.date] > 1:  # two lessons of the subject that day: add the number
            label += f"/{lesson.number}"
        sheet.write_string(HEADER_ROW, start[i], label, f.date_header)
        for extra in range(1, width[i]):
            sheet.write_blank(HEADER_ROW, start[i] + extra, None, f.date_header)
    sheet.write_string(HEADER_ROW, col_average, COL_AVERAGE, f.header)
    sheet.write_string(HEADER_ROW, col_missed, COL_MISSED, f.header)
    sheet.write_string(HEADER_ROW, col_grade, COL_PERIOD_GRADE, f.header)
    sheet.write_string(SEQ_ROW, 1, "№ урока в списке тем", f.seq)
    for i in range(len(lessons)):
        for extra in range(width[i]):
            sheet.write_number(SEQ_ROW, start[i] + extra, i + 1, f.seq)
    sheet.freeze_panes(FIRST_STUDENT_ROW, FIRST_LESSON_COL)
    _print_setup(sheet, (HEADER_ROW, SEQ_ROW), FIRST_LESSON_COL)

    write_number = sheet.write_number
    write_string = sheet.write_string
    teachers = journal.teachers
    subject_stats = stats.setdefault(subject_id, {})
    work = parts.work
    plain = (None, 1.0)
    # Ordinary marks go without a format: a style on every cell costs time, a 2 stands out.
    mark_format, two_format, absence_format = None, f.two, f.absence
    for n, student in enumerate(students):
        row = FIRST_STUDENT_ROW + n
        write_number(row, 0, n + 1)
        write_string(row, 1, student.label)
        if student.external_id:
            write_string(row, 2, student.external_id)
        total = weights = 0.0
        student_codes = codes.get(student.id, {})
        for i, marks in cells.get(student.id, {}).items():
            col = start[i]
            code = student_codes.get(i)
            if code is not None:
                write_string(row, col, code, absence_format)
                col += 1
            if not marks:
                continue
            lesson = lessons[i]
            kind, weight_of_lesson = work.get(lesson.id, plain)
            for mark in marks:
                value, weight = mark[2], mark[3]
                write_number(row, col, value, two_format if value <= 2 else mark_format)
                if weight > 0:
                    total += value * weight
                    weights += weight
                if (
                    mark[5]
                    or mark[4] != kind
                    or weight != weight_of_lesson
                    or (mark[6] is not None and mark[6] != lesson.teacher_id)
                ):
                    note = mark_note(mark, lesson.teacher_id, teachers, (kind, weight_of_lesson))
                    if note:
                        sheet.write_comment(row, col, note)
                col += 1
        average = grading.round_average(total / weights) if weights else None
        codes_list = list(student_codes.values())
        missed = grading.missed(codes_list)
        subject_stats[student.id] = (average, missed, codes_list)
        if average is not None:
            write_number(row, col_average, average, f.average)
        write_number(row, col_missed, missed, f.count)
        grade = journal.period_grades.get((student.id, subject_id))
        if grade is not None:
            write_number(row, col_grade, grade, f.grade_two if grade <= 2 else f.grade)

    _write_lesson_list(workbook, f, journal, subject, lessons, used, parts.work)


def _write_lesson_list(workbook, f, journal, subject, lessons, used, work) -> None:
    sheet = workbook.add_worksheet(sheet_title(subject, used, suffix=LESSONS_SUFFIX))
    for col, title in enumerate(LESSON_COLUMNS):
        sheet.write_string(0, col, title, f.header)
    teachers = journal.teachers
    sheet.set_column(0, 0, 4)
    sheet.set_column(1, 1, 11)
    sheet.set_column(2, 2, 5)
    sheet.set_column(3, 3, 6)
    sheet.set_column(4, 4, _text_width([subject], 10, 30))
    sheet.set_column(5, 5, _text_width((teachers.get(x.teacher_id) for x in lessons), 10, 32))
    sheet.set_column(6, 7, 45, f.wrap)
    sheet.set_column(8, 8, _text_width((work.get(x.id, (None,))[0] for x in lessons), 10, 26))
    sheet.set_column(9, 9, 5)
    sheet.freeze_panes(1, 0)
    _print_setup(sheet, (0, 0), 0)
    name = journal.school_class.name
    # Only dates and the long texts get a format: a style on every cell costs export time.
    for n, lesson in enumerate(lessons, 1):
        sheet.write_number(n, 0, n)
        sheet.write_datetime(n, 1, _dt(lesson.date), f.date)
        sheet.write_number(n, 2, lesson.number, f.count)  # centred: not run into the class
        sheet.write_string(n, 3, name)
        sheet.write_string(n, 4, subject)
        if lesson.teacher_id is not None:
            sheet.write_string(n, 5, teachers.get(lesson.teacher_id, ""))
        if lesson.topic:
            sheet.write_string(n, 6, lesson.topic, f.wrap)
        if lesson.homework:
            sheet.write_string(n, 7, lesson.homework, f.wrap)
        lesson_work = work.get(lesson.id)
        if lesson_work is not None:
            if lesson_work[0]:
                sheet.write_string(n, 8, lesson_work[0])
            sheet.write_number(n, 9, lesson_work[1])


def _write_summary(
    sheet: Any, workbook: Any, f: _Formats, journal: ClassJournal, stats, parts: _Partition
) -> None:
    _head(sheet, f, journal, None)
    subjects = journal.subjects
    students = journal.students
    if not subjects:
        sheet.write_string(4, 0, "Нет уроков за период.", f.title)
        sheet.set_column(0, 0, 12)
        return
    codes_col = 2 + 2 * len(subjects)
    sheet.set_column(0, 0, LABEL_COLUMN_WIDTH)
    sheet.set_column(1, 1, _text_width((s.label for s in students), 18, 40))
    # Wide enough that no word of a header breaks ("Средний", "последнего", a subject's).
    words = [w for _, name in subjects for w in name.split()]
    sheet.set_column(2, codes_col - 1, _text_width(words, 8.5, 16))
    sheet.set_column(codes_col, codes_col + 6, 12)
    sheet.set_row(HEADER_ROW, 60)
    sheet.write_string(HEADER_ROW, 0, "№", f.header)
    sheet.write_string(HEADER_ROW, 1, "Ученик", f.header)
    for k, (_, name) in enumerate(subjects):
        sheet.write_string(HEADER_ROW, 2 + 2 * k, name, f.header)
        sheet.write_blank(HEADER_ROW, 3 + 2 * k, None, f.header)
    titles = [*grading.ABSENCE_CODES, "Всего пропущено", "С первого урока", "С последнего урока"]
    for k, title in enumerate(titles):
        sheet.write_string(HEADER_ROW, codes_col + k, title, f.header)
    for k in range(len(subjects)):
        sheet.write_string(SEQ_ROW, 2 + 2 * k, "ср.", f.header)
        sheet.write_string(SEQ_ROW, 3 + 2 * k, "итог", f.header)
    for k in range(len(titles)):
        sheet.write_blank(SEQ_ROW, codes_col + k, None, f.header)
    sheet.freeze_panes(FIRST_STUDENT_ROW, 2)
    _print_setup(sheet, (HEADER_ROW, SEQ_ROW), 2)

    edges = journal.edge_absences()
    all_codes: dict[int, list[str]] = defaultdict(list)
    for (student_id, _), code in journal.absences.items():
        all_codes[student_id].append(code)
    row = FIRST_STUDENT_ROW
    for n, student in enumerate(students):
        row = FIRST_STUDENT_ROW + n
        sheet.write_number(row, 0, n + 1)
        sheet.write_string(row, 1, student.label)
        for k, (subject_id, _) in enumerate(subjects):
            average = stats[subject_id][student.id][0]
            if average is not None:
                sheet.write_number(row, 2 + 2 * k, average, f.average)
            grade = journal.period_grades.get((student.id, subject_id))
            if grade is not None:
                sheet.write_number(row, 3 + 2 * k, grade, f.grade_two if grade <= 2 else f.grade)
        counts = grading.count_codes(all_codes.get(student.id, ()))
        for k, code in enumerate(grading.ABSENCE_CODES):
            sheet.write_number(row, codes_col + k, counts[code], f.count)
        first, last = edges.get(student.id, (0, 0))
        missed = sum(counts[c] for c in grading.MISSED_CODES)
        sheet.write_number(row, codes_col + 4, missed, f.count)
        sheet.write_number(row, codes_col + 5, first, f.count)
        sheet.write_number(row, codes_col + 6, last, f.count)
    row = FIRST_STUDENT_ROW + len(students)
    averages = [_average(parts.subject_sums[subject_id]) for subject_id, _ in subjects]
    sheet.write_string(row, 1, "Средний по классу", f.title)
    for k, average in enumerate(averages):
        if average is not None:
            sheet.write_number(row, 2 + 2 * k, average, f.average)

    # Tables the charts read: class average per subject, then per week.
    row += 2
    top = row
    sheet.set_row(row, 30)  # room for the wrapped headers of the chart tables
    sheet.write_string(row, 1, "Предмет", f.header)
    sheet.write_string(row, 2, "Средний балл", f.header)
    for k, (_, name) in enumerate(subjects):
        sheet.write_string(row + 1 + k, 1, name)
        if averages[k] is not None:
            sheet.write_number(row + 1 + k, 2, averages[k], f.average)
    row += len(subjects) + 2
    weeks = [(monday, _average(sums)) for monday, sums in sorted(parts.week_sums.items())]
    weeks = [(monday, average) for monday, average in weeks if average is not None]
    week_top = row
    sheet.set_row(row, 30)
    sheet.write_string(row, 1, "Неделя (с понедельника)", f.header)
    sheet.write_string(row, 2, "Средний балл", f.header)
    for k, (monday, average) in enumerate(weeks):
        sheet.write_datetime(row + 1 + k, 1, _dt(monday), f.date)
        sheet.write_number(row + 1 + k, 2, average, f.average)

    name = sheet.name
    bar = workbook.add_chart({"type": "column"})
    bar.add_series(
        {
            "name": "Средний балл",
            "categories": [name, top + 1, 1, top + len(subjects), 1],
            "values": [name, top + 1, 2, top + len(subjects), 2],
            "data_labels": {"value": True, "num_format": "0.00"},
        }
    )
    bar.set_title({"name": f"{journal.school_class.name}: средний балл по предметам"})
    bar.set_y_axis({"min": 1, "max": 5, "major_unit": 1})
    bar.set_legend({"none": True})
    bar.set_size({"width": 720, "height": 320})
    sheet.insert_chart(top, 4, bar)
    if weeks:
        line = workbook.add_chart({"type": "line"})
        line.add_series(
            {
                "name": "Средний балл",
                "categories": [name, week_top + 1, 1, week_top + len(weeks), 1],
                "values": [name, week_top + 1, 2, week_top + len(weeks), 2],
                "marker": {"type": "circle"},
            }
        )
        line.set_title({"name": f"{journal.school_class.name}: средний балл по неделям"})
        line.set_x_axis(
            {"date_axis": True, "num_format": "dd.mm", "major_unit": 7, "major_unit_type": "days"}
        )  # one label a week, on its Monday
        line.set_y_axis({"min": 1, "max": 5, "major_unit": 1})
        line.set_legend({"none": True})
        line.set_size({"width": 720, "height": 320})
        sheet.insert_chart(max(week_top, top + 17), 4, line)


def write_class_workbook(journal: ClassJournal, target: str | os.PathLike[str] | BinaryIO) -> dict:
    """Write one class's journal workbook to a path or a binary stream; returns its counts."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        target,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    workbook.set_properties({"title": f"Журнал {journal.school_class.name}", "comments": ""})
    f = _Formats(workbook)
    used = {SUMMARY_SHEET.casefold()}
    summary = workbook.add_worksheet(SUMMARY_SHEET)
    stats: dict[int, dict[int, tuple[float | None, int, list[str]]]] = {}
    parts = _partition(journal)
    for subject_id, subject in journal.subjects:
        _write_subject(workbook, f, journal, subject_id, subject, used, stats, parts)
    _write_summary(summary, workbook, f, journal, stats, parts)
    summary.activate()
    workbook.close()
    return {
        "class": journal.school_class.name,
        "students": len(journal.students),
        "subjects": len(journal.subjects),
        "lessons": journal.lesson_count,
        "marks": sum(len(m) for m in journal.marks.values()),
        "absences": len(journal.absences),
    }


def export_journals(
    session: Session,
    school: School,
    classes: list[SchoolClass],
    dates: DateRange,
    out: Path,
    *,
    folder: bool,
    operator: str,
    overwrite: bool = False,
    progress: Callable[[int], None] = lambda _n: None,
    jobs: int = 1,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Export the journals of `classes` for `dates`: into the file `out`, or with `folder`,
    one `<class>.xlsx` per class into the folder `out` (created if missing).

    Classes are loaded and written one at a time, so memory does not grow with their number;
    with `jobs` > 1, that many worker processes (each with its own database connection) take
    the classes in turn. Files appear atomically. Raises Refused if a file exists and
    `overwrite` is false.
    """
    if not classes:
        raise Refused("There are no classes to export.")
    if folder:
        if out.exists() and not out.is_dir():
            raise Refused(f"{out} is a file; --all writes a folder with one workbook per class.")
        out.mkdir(parents=True, exist_ok=True)
        targets = [out / f"{c.name}.xlsx" for c in classes]
        if not overwrite:
            existing = [str(t) for t in targets if t.exists()]
            if existing:
                raise Refused(
                    f"{len(existing)} file(s) already exist, e.g. {existing[0]}; "
                    "use --force to overwrite them."
                )
    else:
        if len(classes) != 1:
            raise Refused("Several classes go into a folder: give --out a folder name.")
        targets = [out]
    url = _worker_url(session) if jobs > 1 and len(classes) > 1 else None
    if url is not None:
        written = _export_in_workers(url, classes, targets, dates, overwrite, jobs, progress)
    else:
        written = []
        for school_class, target in zip(classes, targets, strict=True):
            journal = load_class_journal(session, school_class, dates)
            written.append(_write_file(journal, target, overwrite))
            del journal
            progress(1)
    audit.record(
        session,
        operator,
        "journal.export",
        f"school:{school.code}",
        {
            "classes": [c.name for c in classes],
            "from": dates.starts_on.isoformat(),
            "to": dates.ends_on.isoformat(),
            "period": dates.name,
            "files": len(written),
        },
        now=now,
    )
    return {
        "period": dates.label,
        "files": written,
        "classes": len(written),
        "lessons": sum(w["lessons"] for w in written),
        "marks": sum(w["marks"] for w in written),
        "absences": sum(w["absences"] for w in written),
    }


def _write_file(journal: ClassJournal, target: Path, overwrite: bool) -> dict[str, Any]:
    with atomic_output(target, overwrite=overwrite) as stream:
        counts = write_class_workbook(journal, stream)
    counts["file"] = str(target)
    return counts


def _worker_url(session: Session) -> str | None:
    """The database URL workers can open, or None (an in-memory SQLite database)."""
    url = session.get_bind().url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return None
    return url.render_as_string(hide_password=False)


def _export_in_workers(url, classes, targets, dates, overwrite, jobs, progress) -> list[dict]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # spawn, not fork: a forked child would share the parent's database connections.
    context = multiprocessing.get_context("spawn")
    written: list[dict[str, Any]] = [{} for _ in classes]
    with ProcessPoolExecutor(min(jobs, len(classes)), mp_context=context) as pool:
        futures = {
            pool.submit(_export_class, url, c.id, dates, str(t), overwrite): k
            for k, (c, t) in enumerate(zip(classes, targets, strict=True))
        }
        for future in as_completed(futures):
            written[futures[future]] = future.result()
            progress(1)
    return written


_worker_engines: dict[str, Any] = {}


def _export_class(
    url: str, class_id: int, dates: DateRange, target: str, overwrite: bool
) -> dict[str, Any]:
    """One class, in a worker process with its own read-only connection."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from diaryadmin import db

    engine = _worker_engines.get(url)
    if engine is None:
        # SQLite: plain reads without BEGIN IMMEDIATE, which would wait for the parent's lock.
        sqlite = make_url(url).get_backend_name() == "sqlite"
        engine = _worker_engines[url] = create_engine(url) if sqlite else db.make_engine(url)
    with Session(engine) as session:
        journal = load_class_journal(session, session.get(SchoolClass, class_id), dates)
    return _write_file(journal, Path(target), overwrite)
