"""Journal export speed and memory against a bare xlsxwriter write of the same cell grid.

    python benchmarks/bench_journal.py [--students 1000] [--classes 33]
        [--subjects 15] [--lessons 170] [--repeat 1] [--keep DIR] [--database-url URL]

Generates a whole school's term (students spread over classes, every subject with `--lessons`
lessons per class, marks with kinds, weights and comments, absences with every code) and
inserts it set-based into a fresh database. Then, each in a fresh subprocess:

- export: `diaryadmin journal export --all --from .. --to .. --out DIR --jobs N` (queries,
  averages, styles, notes, lesson lists, summary, charts; N worker processes, default one per
  core), timed around the whole command; CPU time counts the workers too;
- bare: the same cells (every cell of every sheet the export wrote: subject grids, lesson
  lists, summaries; read back from the export beforehand and not timed) written with
  xlsxwriter `constant_memory` and `write_row`, no formats, notes or charts, timed around the
  writes only.

Prints seconds, peak RSS (resource.getrusage ru_maxrss of each child, and of the largest
export worker: the export's peak is at most parent + jobs × worker) and the ratios.
Targets (issue 6): export ≤ 1.2 × bare; export peak memory ≤ 300 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

SECRET = "benchmark-secret-key-0123456789"
START, END = date(2026, 9, 1), date(2027, 5, 31)
LETTERS = "АБВГ"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(database: str, students: int, classes: int, subjects: int, lessons: int) -> dict:
    """A fresh database holding one school's term, inserted with executemany and known ids."""
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

    engine = db.make_engine(database)
    db.upgrade(engine)
    chosen = (SUBJECTS * (subjects // len(SUBJECTS) + 1))[:subjects]
    chosen = [(f"{n} {k // len(SUBJECTS) + 1}" if k >= len(SUBJECTS) else n, w, t)
              for k, (n, w, t) in enumerate(chosen)]  # fmt: skip
    counts = {"lessons": 0, "marks": 0, "absences": 0}
    started = time.perf_counter()
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
    counts["seconds"] = round(time.perf_counter() - started, 1)
    counts["grid_cells"] = students * subjects * lessons
    return counts


def child_export(database: str, out: str, jobs: str = "0") -> dict:
    from click.testing import CliRunner

    from diaryadmin.cli import cli

    dates = ["--from", START.strftime("%d.%m.%Y"), "--to", END.strftime("%d.%m.%Y")]
    args = ["--database-url", database, "-q", "journal", "export", "--all", *dates, "--out", out]
    args += ["--jobs", str(jobs)]
    started, cpu = time.perf_counter(), time.process_time()
    result = CliRunner().invoke(cli, args, env={"DIARYADMIN_SECRET_KEY": SECRET})
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    if result.exit_code != 0:
        raise SystemExit(result.output)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "seconds": seconds,
        "cpu": cpu + workers.ru_utime + workers.ru_stime,
        "workers_peak_mb": round(workers.ru_maxrss / 1024, 1),
    }


def child_bare(folder: str, out: str) -> dict:
    """Write every exported cell again, bare, timing only xlsxwriter."""
    import xlsxwriter
    from python_calamine import CalamineWorkbook

    seconds = cpu = 0.0
    cells = 0
    for path in sorted(Path(folder).glob("*.xlsx")):
        source = CalamineWorkbook.from_path(str(path))
        grids = [
            (name, source.get_sheet_by_name(name).to_python(skip_empty_area=False))
            for name in source.sheet_names
        ]
        source.close()
        grids = [(n, [[v if v != "" else None for v in row] for row in g]) for n, g in grids]
        cells += sum(1 for _, g in grids for row in g for v in row if v is not None)
        started, cpu_started = time.perf_counter(), time.process_time()
        workbook = xlsxwriter.Workbook(str(Path(out) / path.name), {"constant_memory": True})
        for name, grid in grids:
            sheet = workbook.add_worksheet(name)
            for r, row in enumerate(grid):
                sheet.write_row(r, 0, row)
        workbook.close()
        seconds += time.perf_counter() - started
        cpu += time.process_time() - cpu_started
        del grids
    return {"seconds": seconds, "cpu": cpu, "cells": cells}


def run_child(*args: str) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"child {args[0]} failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--classes", type=int, default=33)
    parser.add_argument("--subjects", type=int, default=15)
    parser.add_argument("--lessons", type=int, default=170)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--jobs", type=int, default=0, help="Export worker processes (0: one per core)."
    )
    parser.add_argument("--keep", type=Path, help="Keep the database and files in this folder.")
    parser.add_argument("--database-url", help="Default: a new SQLite file.")
    parser.add_argument(
        "--reuse", action="store_true", help="Reuse the database in --keep (no generation)."
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        task, *args = options.child
        result = child_export(*args) if task == "export" else child_bare(*args)
        result["peak_mb"] = round(_peak_mb(), 1)
        print(json.dumps(result))
        return

    work = options.keep or Path(tempfile.mkdtemp(prefix="bench-journal-"))
    work.mkdir(parents=True, exist_ok=True)
    database = options.database_url or f"sqlite:///{work / 'bench.sqlite3'}"
    reuse = options.reuse and options.keep and (work / "bench.sqlite3").exists()
    if not options.database_url and (work / "bench.sqlite3").exists() and not reuse:
        (work / "bench.sqlite3").unlink()
    print(f"Generating {options.students} students in {options.classes} classes, "
          f"{options.subjects} subjects × {options.lessons} lessons …", flush=True)  # fmt: skip
    if reuse:
        made = {"lessons": "?", "marks": "?", "absences": "?", "seconds": 0}
        made["grid_cells"] = options.students * options.subjects * options.lessons
    else:
        made = generate(
            database, options.students, options.classes, options.subjects, options.lessons
        )
    print(
        f"  {made['lessons']} lessons, {made['marks']} marks, {made['absences']} absences, "
        f"{made['grid_cells']:,} grid positions; inserted in {made['seconds']} s",
        flush=True,
    )
    exports, bares = [], []
    for round_ in range(options.repeat):
        out = work / f"export-{round_}"
        bare = work / f"bare-{round_}"
        for folder in (out, bare):
            shutil.rmtree(folder, ignore_errors=True)
        bare.mkdir()
        exports.append(run_child("export", database, str(out), str(options.jobs)))
        bares.append(run_child("bare", str(out), str(bare)))
        print(f"  round {round_ + 1}: export {exports[-1]['seconds']:.2f} s "
              f"(cpu {exports[-1]['cpu']:.2f} s, {exports[-1]['peak_mb']} MB "
              f"+ workers {exports[-1]['workers_peak_mb']} MB each), "
              f"bare {bares[-1]['seconds']:.2f} s (cpu {bares[-1]['cpu']:.2f} s, "
              f"{bares[-1]['cells']:,} cells)", flush=True)  # fmt: skip
    # Ratios are paired by round (export and bare ran back to back, under the same load).
    ratios = sorted(e["seconds"] / b["seconds"] for e, b in zip(exports, bares, strict=True))
    cpu_ratios = sorted(e["cpu"] / b["cpu"] for e, b in zip(exports, bares, strict=True))
    export = min(exports, key=lambda r: r["seconds"])
    bare = min(bares, key=lambda r: r["seconds"])
    size = sum(p.stat().st_size for p in (work / "export-0").glob("*.xlsx")) / 2**20
    print(json.dumps({
        "export_seconds": round(export["seconds"], 2),
        "bare_seconds": round(bare["seconds"], 2),
        "ratio_by_round": [round(r, 2) for r in ratios],
        "export_cpu_seconds": round(min(r["cpu"] for r in exports), 2),
        "bare_cpu_seconds": round(min(r["cpu"] for r in bares), 2),
        "cpu_ratio_by_round": [round(r, 2) for r in cpu_ratios],
        "export_peak_mb": max(r["peak_mb"] for r in exports),
        "export_worker_peak_mb": max(r["workers_peak_mb"] for r in exports),
        "export_jobs": options.jobs or os.cpu_count(),
        "bare_peak_mb": max(r["peak_mb"] for r in bares),
        "cells_written": bare["cells"],
        "export_mb": round(size, 1),
        "targets": {"ratio": 1.2, "peak_mb": 300},
    }, indent=2))  # fmt: skip
    if not options.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
