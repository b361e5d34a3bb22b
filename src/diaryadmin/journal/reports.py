"""Reports on one class for a period: grades (averages, period grades, students at risk) and
attendance (absences by student, subject and code; absences from the first and last lesson)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from diaryadmin.journal import grading
from diaryadmin.journal.data import VALUE, WEIGHT, ClassJournal, load_class_journal
from diaryadmin.journal.periods import DateRange
from diaryadmin.models import SchoolClass

GRADE_COLUMNS = [
    "student",
    "subject",
    "marks",
    "average",
    "suggested",
    "period_grade",
    "at_risk",
]
ATTENDANCE_COLUMNS = [
    "student",
    *grading.ABSENCE_CODES,
    "missed",
    "first_lesson",
    "last_lesson",
    "by_subject",
    "above_threshold",
]


def _head(journal: ClassJournal) -> dict[str, Any]:
    return {
        "class": journal.school_class.name,
        "period": journal.range.label,
        "from": journal.range.starts_on,
        "to": journal.range.ends_on,
        "students": len(journal.students),
        "lessons": journal.lesson_count,
    }


def grades_report(session: Session, school_class: SchoolClass, dates: DateRange) -> dict[str, Any]:
    """One row per student and subject: marks, weighted average, the grade the average
    suggests (x.5 up), the period grade set, and whether the student is at risk."""
    journal = load_class_journal(session, school_class, dates)
    rows = []
    at_risk: list[str] = []
    for subject_id, subject in journal.subjects:
        lesson_ids = {lesson.id for lesson in journal.lessons[subject_id]}
        for student in journal.students:
            values = [
                mark
                for lesson_id in lesson_ids
                for mark in journal.marks.get((student.id, lesson_id), ())
            ]
            average = grading.weighted_average((m[VALUE], m[WEIGHT]) for m in values)
            grade = journal.period_grades.get((student.id, subject_id))
            risk = grading.at_risk(average, grade)
            if risk and student.label not in at_risk:
                at_risk.append(student.label)
            rows.append(
                {
                    "student": student.label,
                    "student_id": student.external_id,
                    "subject": subject,
                    "marks": len(values),
                    "average": average,
                    "suggested": grading.suggested_grade(average),
                    "period_grade": grade,
                    "at_risk": risk,
                }
            )
    averages = {subject: journal.class_average(sid) for sid, subject in journal.subjects}
    return {**_head(journal), "class_averages": averages, "at_risk": at_risk, "rows": rows}


def attendance_report(
    session: Session,
    school_class: SchoolClass,
    dates: DateRange,
    threshold: int | None = None,
) -> dict[str, Any]:
    """One row per student: absences by code, lessons missed (Н, Б, УП), missed first and last
    lessons of the day, missed lessons by subject, and whether above `threshold` missed."""
    journal = load_class_journal(session, school_class, dates)
    subject_of = {
        lesson.id: name for sid, name in journal.subjects for lesson in journal.lessons[sid]
    }
    codes: dict[int, list[str]] = {}
    by_subject: dict[int, dict[str, int]] = {}
    for (student_id, lesson_id), code in journal.absences.items():
        codes.setdefault(student_id, []).append(code)
        if code in grading.MISSED_CODES:
            subjects = by_subject.setdefault(student_id, {})
            name = subject_of[lesson_id]
            subjects[name] = subjects.get(name, 0) + 1
    edges = journal.edge_absences()
    rows = []
    above: list[str] = []
    totals = dict.fromkeys(grading.ABSENCE_CODES, 0)
    for student in journal.students:
        counts = grading.count_codes(codes.get(student.id, ()))
        missed = sum(counts[c] for c in grading.MISSED_CODES)
        flagged = threshold is not None and missed > threshold
        if flagged:
            above.append(student.label)
        for code, n in counts.items():
            totals[code] += n
        first, last = edges.get(student.id, (0, 0))
        rows.append(
            {
                "student": student.label,
                "student_id": student.external_id,
                **counts,
                "missed": missed,
                "first_lesson": first,
                "last_lesson": last,
                "by_subject": dict(sorted(by_subject.get(student.id, {}).items())),
                "above_threshold": flagged,
            }
        )
    return {
        **_head(journal),
        "threshold": threshold,
        "totals": totals,
        "above_threshold": above,
        "rows": rows,
    }
