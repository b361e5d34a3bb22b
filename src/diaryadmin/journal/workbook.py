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

A class's workbook is built in memory (`in_memory`: some ten megabytes for a class of 30
with 15 subjects) and written to its stream at once: no temporary file in $TMPDIR or beside
the target, so a killed export leaves none, and it costs less CPU than `constant_memory`'s
row-by-row temporary files; a whole school goes class by class (on several cores, worker
processes take classes in turn), so memory does not grow with the number of classes.
Every text goes through `write_string` (a name or comment starting with `=` stays text) and
`io.xlsx.cell_safe` (control characters and bidirectional overrides dropped; see
`sheets.shown_journal`); sheet names through `io.xlsx.sheet_title`.
"""

from __future__ import annotations

import os
from collections import defaultdict
from typing import Any, BinaryIO

from diaryadmin.io.xlsx import cell_safe, sheet_title
from diaryadmin.journal import grading
from diaryadmin.journal.data import ClassJournal
from diaryadmin.journal.layout import (
    COL_AVERAGE,
    COL_MISSED,
    COL_PERIOD_GRADE,
    FIRST_LESSON_COL,
    FIRST_STUDENT_ROW,
    HEADER_ROW,
    LABEL_COLUMN_WIDTH,
    LESSON_COLUMNS,
    LESSONS_SUFFIX,
    SEQ_ROW,
    SUMMARY_SHEET,
)
from diaryadmin.journal.sheets import (
    Formats,
    Partition,
    as_datetime,
    average_of,
    column_pixels,
    mark_note,
    partition,
    print_across_pages,
    print_setup,
    shown_journal,
    text_width,
    write_head,
)


def _write_subject(
    workbook: Any,
    f: Formats,
    journal: ClassJournal,
    subject_id: int,
    subject: str,
    used: set[str],
    stats: dict[int, dict[int, tuple[float | None, int, list[str]]]],
    parts: Partition,
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
    write_head(sheet, f, journal, subject)
    sheet.set_column(0, 0, LABEL_COLUMN_WIDTH)
    sheet.set_column(1, 1, text_width((s.label for s in students), 14, 40))
    sheet.set_column(2, 2, text_width((s.external_id for s in students), 4, 16))
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
    print_setup(sheet, (HEADER_ROW, SEQ_ROW), FIRST_LESSON_COL)

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
    sheet.set_column(4, 4, text_width([subject], 10, 30))
    sheet.set_column(5, 5, text_width((teachers.get(x.teacher_id) for x in lessons), 10, 32))
    sheet.set_column(6, 7, 45, f.wrap)
    sheet.set_column(8, 8, text_width((work.get(x.id, (None,))[0] for x in lessons), 10, 26))
    sheet.set_column(9, 9, 5)
    sheet.freeze_panes(1, 0)
    print_setup(sheet, (0, 0), 0)
    name = cell_safe(journal.school_class.name)
    # Only dates and the long texts get a format: a style on every cell costs export time.
    for n, lesson in enumerate(lessons, 1):
        sheet.write_number(n, 0, n)
        sheet.write_datetime(n, 1, as_datetime(lesson.date), f.date)
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
                sheet.write_string(n, 8, cell_safe(lesson_work[0]))
            sheet.write_number(n, 9, lesson_work[1])


def _write_summary(
    sheet: Any, workbook: Any, f: Formats, journal: ClassJournal, stats, parts: Partition
) -> None:
    write_head(sheet, f, journal, None)
    subjects = journal.subjects
    students = journal.students
    if not subjects:
        sheet.write_string(4, 0, "Нет уроков за период.", f.title)
        sheet.set_column(0, 0, 12)
        return
    codes_col = 2 + 2 * len(subjects)
    name_width = text_width((s.label for s in students), 18, 40)
    sheet.set_column(0, 0, LABEL_COLUMN_WIDTH)
    sheet.set_column(1, 1, name_width)
    # A subject's name spans its two columns (average, grade): together wide enough that no
    # word of it breaks, so that more subjects fit on a printed page; column C also heads the
    # chart table ("Средний балл").
    words = [w for _, name in subjects for w in name.split()]
    subject_width = max(8.5, text_width(words, 8.5, 16) / 2)
    sheet.set_column(2, codes_col - 1, subject_width)
    sheet.set_column(codes_col, codes_col + 6, 12)
    widths = [LABEL_COLUMN_WIDTH, name_width, *[subject_width] * (codes_col - 2), *[12] * 7]
    sheet.set_row(HEADER_ROW, 60)
    sheet.write_string(HEADER_ROW, 0, "№", f.header)
    sheet.write_string(HEADER_ROW, 1, "Ученик", f.header)
    for k, (_, name) in enumerate(subjects):
        sheet.merge_range(HEADER_ROW, 2 + 2 * k, HEADER_ROW, 3 + 2 * k, name, f.header)
    titles = [*grading.ABSENCE_CODES, "Всего пропущено", "С первого урока", "С последнего урока"]
    for k, title in enumerate(titles):
        sheet.write_string(HEADER_ROW, codes_col + k, title, f.header)
    for k in range(len(subjects)):
        sheet.write_string(SEQ_ROW, 2 + 2 * k, "ср.", f.header)
        sheet.write_string(SEQ_ROW, 3 + 2 * k, "итог", f.header)
    for k in range(len(titles)):
        sheet.write_blank(SEQ_ROW, codes_col + k, None, f.header)
    sheet.freeze_panes(FIRST_STUDENT_ROW, 2)
    # A page breaks between subjects, never inside one; the absence columns stay together.
    groups = [*range(2, codes_col, 2), codes_col]
    breaks = print_across_pages(sheet, (HEADER_ROW, SEQ_ROW), widths, 2, groups)
    # The charts go under the tables, as wide as the first printed page: never cut by a break.
    chart_width = min(720, sum(column_pixels(w) for w in widths[1 : (breaks or [len(widths)])[0]]))

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
    averages = [average_of(parts.subject_sums[subject_id]) for subject_id, _ in subjects]
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
    weeks = [(monday, average_of(sums)) for monday, sums in sorted(parts.week_sums.items())]
    weeks = [(monday, average) for monday, average in weeks if average is not None]
    week_top = row
    sheet.set_row(row, 30)
    sheet.write_string(row, 1, "Неделя (с понедельника)", f.header)
    sheet.write_string(row, 2, "Средний балл", f.header)
    for k, (monday, average) in enumerate(weeks):
        sheet.write_datetime(row + 1 + k, 1, as_datetime(monday), f.date)
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
    class_name = cell_safe(journal.school_class.name)
    bar.set_title({"name": f"{class_name}: средний балл по предметам"})
    bar.set_y_axis({"min": 1, "max": 5, "major_unit": 1})
    bar.set_legend({"none": True})
    bar.set_size({"width": chart_width, "height": 320})
    chart_row = week_top + len(weeks) + 2
    sheet.insert_chart(chart_row, 1, bar)
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
        line.set_title({"name": f"{class_name}: средний балл по неделям"})
        line.set_x_axis(
            {"date_axis": True, "num_format": "dd.mm", "major_unit": 7, "major_unit_type": "days"}
        )  # one label a week, on its Monday
        line.set_y_axis({"min": 1, "max": 5, "major_unit": 1})
        line.set_legend({"none": True})
        line.set_size({"width": chart_width, "height": 320})
        sheet.insert_chart(chart_row + 17, 1, line)


def write_class_workbook(journal: ClassJournal, target: str | os.PathLike[str] | BinaryIO) -> dict:
    """Write one class's journal workbook to a path or a binary stream; returns its counts."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        target,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    journal = shown_journal(journal)
    workbook.set_properties(
        {"title": f"Журнал {cell_safe(journal.school_class.name)}", "comments": ""}
    )
    f = Formats(workbook)
    used = {SUMMARY_SHEET.casefold()}
    summary = workbook.add_worksheet(SUMMARY_SHEET)
    stats: dict[int, dict[int, tuple[float | None, int, list[str]]]] = {}
    parts = partition(journal)
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
