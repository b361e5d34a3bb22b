"""The export case: a whole school's journals against the same cells written bare.

The school (students spread over classes, every subject with its lessons, marks with kinds,
weights and comments, absences with every code) comes from `samples.journal` and is inserted
set-based. The export runs as `journal export --all` does (CliRunner, worker processes, one per
core); the reference writes every cell the export wrote (read back untimed) with xlsxwriter
`constant_memory` and `write_row` in one process: no formats, notes or charts.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from benchmarks.suite import SECRET, Row, Run, judge

START, END = date(2026, 9, 1), date(2027, 5, 31)
LETTERS = "АБВГ"


def make_school(clock, url: str, students: int, classes: int, subjects: int, lessons: int) -> dict:
    """One school's term (samples.journal) inserted into the empty database with known ids."""
    from sqlalchemy import insert, text

    from diaryadmin import db
    from diaryadmin.models import (
        Absence,
        Enrolment,
        Lesson,
        Mark,
        School,
        SchoolClass,
        Student,
        Subject,
        Teacher,
    )
    from diaryadmin.people.names import name_key
    from diaryadmin.samples.journal import SUBJECTS, generate_class_term

    engine = db.make_engine(url)
    chosen = (SUBJECTS * (subjects // len(SUBJECTS) + 1))[:subjects]
    chosen = [(f"{n} {k // len(SUBJECTS) + 1}" if k >= len(SUBJECTS) else n, w, t)
              for k, (n, w, t) in enumerate(chosen)]  # fmt: skip
    counts = {"lessons": 0, "marks": 0, "absences": 0}
    with engine.begin() as conn:
        conn.execute(
            insert(School), [{"id": 1, "code": "bench", "name": "Школа", "portal_url": ""}]
        )
        names = [f"{grade}{LETTERS[k]}" for k in range(4) for grade in range(1, 12)][:classes]
        conn.execute(
            insert(SchoolClass),
            [{"id": i + 1, "school_id": 1, "school_year": 2026, "name": n, "grade": int(n[:-1])}
             for i, n in enumerate(names)],
        )  # fmt: skip
        conn.execute(
            insert(Subject),
            [{"id": i + 1, "school_id": 1, "name": s[0]} for i, s in enumerate(chosen)],
        )
        teachers = sorted({s[2] for s in chosen})
        teacher_id = {t: i + 1 for i, t in enumerate(teachers)}
        conn.execute(
            insert(Teacher),
            [{"id": teacher_id[t], "school_id": 1, "surname": t.split()[0], "name": t.split()[1],
              "patronymic": t.split()[2], "name_key": name_key(*t.split())} for t in teachers],
        )  # fmt: skip
        subject_id = {s[0]: i + 1 for i, s in enumerate(chosen)}
        roster = []
        for k in range(students):
            class_id = k % classes + 1
            surname = ["Иванов", "Петров", "Сидоров", "Смирнов", "=Кузнецов", "Попов"][k % 6]
            roster.append(
                {"id": k + 1, "school_id": 1, "external_id": f"S{k + 1:05d}",
                 "surname": f"{surname}{k}", "name": "Иван", "patronymic": None,
                 "name_key": name_key(f"{surname}{k}", "Иван"), "birth_date": date(2014, 1, 1),
                 "class_id": class_id, "active": True}
            )  # fmt: skip
        conn.execute(insert(Student), roster)
        conn.execute(
            insert(Enrolment),
            [{"student_id": s["id"], "class_id": s["class_id"], "started_on": START}
             for s in roster],
        )  # fmt: skip
        lesson_id = mark_id = 0
        for class_index in range(classes):
            members = [s["id"] for s in roster if s["class_id"] == class_index + 1]
            term, entries = generate_class_term(
                names[class_index], members, START, END, subjects=chosen,
                lessons_per_subject=lessons, seed=class_index,
            )  # fmt: skip
            ids = list(range(lesson_id + 1, lesson_id + 1 + len(term)))
            lesson_id += len(term)
            conn.execute(
                insert(Lesson),
                [{"id": i, "class_id": class_index + 1, "subject_id": subject_id[x.subject],
                  "teacher_id": teacher_id[x.teacher], "date": x.date, "number": x.number,
                  "topic": x.topic, "homework": x.homework}
                 for i, x in zip(ids, term, strict=True)],
            )  # fmt: skip
            marks, absences = [], []
            for entry in entries:
                lid = ids[entry.lesson]
                tid = teacher_id[term[entry.lesson].teacher]
                for value, weight, kind, comment in entry.marks:
                    mark_id += 1
                    marks.append(
                        {"id": mark_id, "student_id": entry.student, "lesson_id": lid,
                         "value": value, "weight": weight, "kind": kind, "comment": comment,
                         "teacher_id": tid}
                    )  # fmt: skip
                if entry.code:
                    absences.append(
                        {"student_id": entry.student, "lesson_id": lid, "code": entry.code}
                    )
            if marks:
                conn.execute(insert(Mark), marks)
            if absences:
                conn.execute(insert(Absence), absences)
            counts["lessons"] += len(term)
            counts["marks"] += len(marks)
            counts["absences"] += len(absences)
        if conn.dialect.name == "postgresql":
            for table in (
                "schools",
                "classes",
                "subjects",
                "teachers",
                "students",
                "lessons",
                "marks",
            ):
                sequence = f"pg_get_serial_sequence('{table}', 'id')"
                conn.execute(text(f"SELECT setval({sequence}, (SELECT max(id) FROM {table}))"))
    engine.dispose()
    counts["grid_cells"] = students * subjects * lessons
    return counts


def export_all(clock, url: str, out: str) -> dict:
    """`diaryadmin journal export --all --from .. --to .. --out DIR` in this process."""
    from click.testing import CliRunner

    from diaryadmin.cli import cli

    dates = ["--from", START.strftime("%d.%m.%Y"), "--to", END.strftime("%d.%m.%Y")]
    args = ["--database-url", url, "-q", "journal", "export", "--all", *dates, "--out", out]
    with clock:
        result = CliRunner().invoke(cli, args, env={"DIARYADMIN_SECRET_KEY": SECRET})
    if result.exit_code != 0:
        raise SystemExit(result.output)
    return {"files": len(list(Path(out).glob("*.xlsx")))}


def bare_write(clock, source: str, out: str) -> dict:
    """Write every cell of every exported workbook again, bare, timing only xlsxwriter."""
    import xlsxwriter
    from python_calamine import CalamineWorkbook

    workbooks = []
    for path in sorted(Path(source).glob("*.xlsx")):
        workbook = CalamineWorkbook.from_path(str(path))
        grids = [
            (name, [[v if v != "" else None for v in row]
                    for row in workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)])
            for name in workbook.sheet_names
        ]  # fmt: skip
        workbook.close()
        workbooks.append((path.name, grids))
    cells = sum(
        1 for _, g in workbooks for _, grid in g for row in grid for v in row if v is not None
    )
    Path(out).mkdir(parents=True, exist_ok=True)
    with clock:
        for name, grids in workbooks:
            workbook = xlsxwriter.Workbook(str(Path(out) / name), {"constant_memory": True})
            for sheet_name, grid in grids:
                sheet = workbook.add_worksheet(sheet_name)
                for r, row in enumerate(grid):
                    sheet.write_row(r, 0, row)
            workbook.close()
    return {"cells": cells}


def export(run: Run, backend: str) -> Row:
    students, classes = run.size(1_000, 100), run.size(33, 4)
    subjects, lessons = run.size(15, 4), run.size(170, 20)
    url = run.database(backend, f"journal-{students}")
    made = run.step("journal:make_school", url=url, students=students, classes=classes,
                    subjects=subjects, lessons=lessons).facts  # fmt: skip
    out, bare = run.folder / f"export-{backend}", run.folder / f"bare-{backend}"
    for folder in (out, bare):
        shutil.rmtree(folder, ignore_errors=True)
    measured = run.step("journal:export_all", url=url, out=str(out))
    reference = run.step("journal:bare_write", source=str(out), out=str(bare))
    ratio, cpu_ratio = measured.wall / reference.wall, measured.cpu / reference.cpu
    return Row(
        "export", backend,
        f"{students:,} students, {classes} classes, {subjects} subjects, {lessons} lessons",
        measured.wall, measured.cpu, measured.peak_mb, "xlsxwriter constant_memory",
        reference.wall, ratio, "≤ 1.2× wall, ≤ 1.5× CPU",
        judge(("wall", ratio <= 1.2), ("CPU", cpu_ratio <= 1.5),
              ("files", measured.facts["files"] == classes)),
        [f"CPU {measured.cpu:.1f} s vs {reference.cpu:.1f} s ({cpu_ratio:.2f}×); "
         f"{reference.facts['cells']:,} cells, {made['marks']:,} marks, "
         f"{made['absences']:,} absences"],
        ref_cpu=reference.cpu,
    )  # fmt: skip
