"""What the sheets of a class workbook share: cell formats, print set-up, the head rows, the
journal partitioned by subject, the note a mark carries, and the journal's texts made safe to
show (`shown_journal`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from diaryadmin.io.xlsx import cell_safe
from diaryadmin.journal import grading
from diaryadmin.journal.data import COMMENT, KIND, TEACHER, WEIGHT, ClassJournal
from diaryadmin.journal.layout import (
    LABEL_CLASS,
    LABEL_PERIOD,
    LABEL_SUBJECT,
    LABEL_YEAR,
    NO_KIND,
    NOTE_COMMENT,
    NOTE_KIND,
    NOTE_TEACHER,
    NOTE_WEIGHT,
    SUMMARY_SHEET,
)
from diaryadmin.journal.periods import year_label


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
    return cell_safe("\n".join(lines)) or None


def shown_journal(journal: ClassJournal) -> ClassJournal:
    """The journal with the texts its sheets show (names, subjects, teachers, topics, homework,
    the period) through `io.xlsx.cell_safe`, as every export writes text: a control character
    or a bidirectional override stored in a name never reaches a cell. Marks keep theirs for
    comparing; their notes are made safe as they are written (`mark_note`). Text cells stay
    text (`write_string`), so a name starting with `=` is never run as a formula."""

    def student(s):
        texts = (
            cell_safe(s.surname),
            cell_safe(s.name),
            s.external_id and cell_safe(s.external_id),
        )
        if texts == (s.surname, s.name, s.external_id):
            return s
        return replace(s, surname=texts[0], name=texts[1], external_id=texts[2])

    def lesson(x):
        topic, homework = x.topic and cell_safe(x.topic), x.homework and cell_safe(x.homework)
        if (topic, homework) == (x.topic, x.homework):
            return x
        return replace(x, topic=topic, homework=homework)

    dates = journal.range
    return replace(
        journal,
        range=replace(dates, name=dates.name and cell_safe(dates.name)),
        students=[student(s) for s in journal.students],
        subjects=[(sid, cell_safe(name)) for sid, name in journal.subjects],
        lessons={k: [lesson(x) for x in v] for k, v in journal.lessons.items()},
        teachers={k: cell_safe(v) for k, v in journal.teachers.items()},
    )


class Formats:
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


def print_setup(sheet: Any, header_rows: tuple[int, int], columns: int) -> None:
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(*header_rows)
    if columns:
        sheet.repeat_columns(0, columns - 1)
    sheet.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)


# A4 landscape less the margins below is about 1040 pixels at 100 % (Excel: a column of
# width w characters is 7w + 5 pixels in Calibri). Planned for 770: where Calibri is missing,
# LibreOffice draws the columns in DejaVu Sans, a third wider, and would otherwise break a
# page inside a subject.
PAGE_WIDTH_PIXELS = 770


def column_pixels(width: float) -> int:
    return int(width * 7 + 5)


def page_breaks(widths: list[float], repeated: int, groups: list[int]) -> list[int]:
    """The columns a new printed page starts at, so that the pages are read at full size.

    `widths` are every column's width (characters); the first `repeated` columns print on
    every page; `groups` are the first columns of the units never split between pages (a
    subject's average and grade), in order, the first of them right after the repeated ones.
    """
    room = PAGE_WIDTH_PIXELS - sum(column_pixels(w) for w in widths[:repeated])
    bounds = [*groups, len(widths)]
    breaks: list[int] = []
    used = 0
    for start, end in zip(bounds, bounds[1:], strict=False):
        width = sum(column_pixels(w) for w in widths[start:end])
        if used and used + width > room:
            breaks.append(start)
            used = 0
        used += width
    return breaks


def print_across_pages(
    sheet: Any, header_rows: tuple[int, int], widths: list[float], repeated: int, groups: list[int]
) -> list[int]:
    """Print a wide sheet at full size on as many landscape pages as it needs, broken between
    `groups` of columns, with the header rows and the first `repeated` columns on every page
    and the page numbers at the foot (shrinking 15 subjects onto one page is unreadable).
    Returns the columns the pages break at."""
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.repeat_rows(*header_rows)
    if repeated:
        sheet.repeat_columns(0, repeated - 1)
    sheet.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    breaks = page_breaks(widths, repeated, groups)
    sheet.set_v_pagebreaks(breaks)
    sheet.set_footer("&C&P / &N")
    return breaks


def text_width(texts: Iterable[str | None], minimum: float, maximum: float) -> float:
    longest = max((len(t) for t in texts if t), default=0)
    return max(minimum, min(maximum, longest * 1.1 + 2))


def write_head(sheet: Any, f: Formats, journal: ClassJournal, subject: str | None) -> None:
    sheet.write_string(0, 0, LABEL_CLASS, f.title)
    sheet.write_string(0, 1, cell_safe(journal.school_class.name), f.title)
    # The year and the period's dates are text: text runs on over the empty cells to its
    # right, where a date in the narrow ID or lesson column would show as ###.
    sheet.write_string(0, 2, f"{LABEL_YEAR} {year_label(journal.school_class.school_year)}")
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


def as_datetime(day) -> datetime:
    return datetime(day.year, day.month, day.day)


@dataclass
class Partition:
    """A class's marks and absences split by subject in one pass, with the sums the summary
    needs (class average per subject and per week)."""

    cells: dict[int, dict[int, dict[int, Any]]]  # subject -> student -> lesson index -> marks
    codes: dict[int, dict[int, dict[int, str]]]  # subject -> student -> lesson index -> code
    subject_sums: dict[int, list[float]]  # subject -> [weighted total, weights]
    week_sums: dict[date, list[float]]  # Monday -> [weighted total, weights]
    work: dict[int, tuple[str | None, float]]  # lesson -> most marks' (kind, weight)


def partition(journal: ClassJournal) -> Partition:
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
    return Partition(cells, codes, subject_sums, week_sums, work)


def average_of(sums: list[float]) -> float | None:
    return grading.round_average(sums[0] / sums[1]) if sums[1] else None
