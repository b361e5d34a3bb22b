"""Roster import speed and memory against bare reads of the same files.

    python benchmarks/bench_roster.py [--rows 100000] [--keep DIR] [--profile]

Generates a roster (one xlsx sheet and the same rows as a cp1251 `;` CSV), then, each in a
fresh subprocess: reads the xlsx with openpyxl (read-only, values_only) and python-calamine,
reads the CSV with csv.reader, imports the xlsx into a new SQLite database, imports it again
(unchanged), and imports the CSV into another new database. Prints seconds, peak RSS and the
ratios the roster issue sets as targets.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SECRET = "benchmark-secret-key-0123456789"


def _peak_mb() -> float:
    """This process's peak RSS. Linux keeps ru_maxrss across fork+exec (a child would report
    its parent's size), so read VmHWM, which belongs to this process image alone."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(task: str, path: str, database: str | None, profile: bool) -> None:
    """Run one task in this (fresh) process and print {"seconds", "peak_mb", ...} as JSON."""
    result: dict = {}
    if task == "openpyxl":
        import openpyxl

        start = time.perf_counter()
        workbook = openpyxl.load_workbook(path, read_only=True)
        rows = sum(1 for sheet in workbook.worksheets for _ in sheet.iter_rows(values_only=True))
        workbook.close()
    elif task == "calamine":
        from python_calamine import CalamineWorkbook

        start = time.perf_counter()
        workbook = CalamineWorkbook.from_path(path)
        rows = sum(len(workbook.get_sheet_by_name(n).to_python()) for n in workbook.sheet_names)
    elif task == "csv":
        import csv

        start = time.perf_counter()
        with open(path, encoding="cp1251", newline="") as stream:
            rows = sum(1 for _ in csv.reader(stream, delimiter=";"))
    else:  # import
        from diaryadmin import db
        from diaryadmin.config import Settings
        from diaryadmin.roster.importing import import_roster

        settings = Settings(database_url=database, secret_key=SECRET)
        engine = db.make_engine(database)
        sessions = db.make_sessionmaker(engine)
        profiler = None
        if profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        start = time.perf_counter()
        with sessions() as session, session.begin():
            report = import_roster(session, [path], settings=settings, operator="bench")
        rows = report.created + report.updated + report.unchanged + report.moved
        result["report"] = {k: v for k, v in report.to_dict().items() if k != "warnings"}
        result["warnings"] = len(report.warnings)
        if profiler is not None:
            import pstats

            profiler.disable()
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(35)
        engine.dispose()
    result.update(seconds=time.perf_counter() - start, peak_mb=_peak_mb(), rows=rows)
    print(json.dumps(result))


def run(task: str, path: Path, database: str | None = None, profile: bool = False) -> dict:
    command = [sys.executable, __file__, "--child", task, str(path)]
    if database:
        command += ["--database", database]
    if profile:
        command.append("--profile")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{task} failed:\n{done.stderr[-3000:]}")
    if profile:
        print(done.stderr, file=sys.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="Keep the files and databases in this folder.")
    parser.add_argument("--profile", action="store_true", help="cProfile the first xlsx import.")
    parser.add_argument("--child", nargs=2, metavar=("TASK", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.database, args.profile)
        return

    from diaryadmin import db
    from diaryadmin.samples.roster import generate_school, write_roster_csv, write_roster_xlsx

    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-roster-"))
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    students = generate_school(args.rows, seed=100, classes_per_grade=5)
    xlsx = write_roster_xlsx(folder / "roster.xlsx", students)
    csv_path = write_roster_csv(folder / "roster.csv", students)
    del students
    print(
        f"generated {args.rows} rows in {time.perf_counter() - start:.1f} s: "
        f"{xlsx.stat().st_size / 2**20:.1f} MB xlsx, {csv_path.stat().st_size / 2**20:.1f} MB csv"
    )

    def fresh_database(name: str) -> str:
        path = folder / name
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
        engine = db.make_engine(url)
        db.upgrade(engine)
        engine.dispose()
        return url

    results = {
        "openpyxl read (xlsx)": run("openpyxl", xlsx),
        "calamine read (xlsx)": run("calamine", xlsx),
        "csv.reader (csv)": run("csv", csv_path),
    }
    first_db = fresh_database("xlsx.sqlite3")
    results["import xlsx"] = run("import", xlsx, first_db, args.profile)
    results["re-import xlsx (unchanged)"] = run("import", xlsx, first_db)
    results["import csv"] = run("import", csv_path, fresh_database("csv.sqlite3"))
    print(f"\n{'task':<30} {'seconds':>8} {'peak MB':>8} {'rows':>8}")
    for task, r in results.items():
        print(f"{task:<30} {r['seconds']:>8.2f} {r['peak_mb']:>8.0f} {r['rows']:>8}")
    first = results["import xlsx"]
    again = results["re-import xlsx (unchanged)"]
    assert first["report"]["created"] == args.rows, first["report"]
    assert again["report"]["unchanged"] == args.rows, again["report"]
    openpyxl_read = results["openpyxl read (xlsx)"]["seconds"]
    calamine_read = results["calamine read (xlsx)"]["seconds"]
    ratios = [
        ("xlsx import / openpyxl read", first["seconds"] / openpyxl_read, 1.0),
        ("csv import / xlsx import", results["import csv"]["seconds"] / first["seconds"], 1.0),
        ("re-import / first import", again["seconds"] / first["seconds"], 1.0),
        ("xlsx import / calamine read", first["seconds"] / calamine_read, None),
    ]
    print(f"\n{'ratio':<30} {'value':>8} {'target':>8}")
    for name, value, target in ratios:
        mark = "" if target is None else ("ok" if value <= target else "MISSED")
        shown = f"<= {target}" if target else ""
        print(f"{name:<30} {value:>8.2f} {shown:>8} {mark}")
    peak = max(r["peak_mb"] for k, r in results.items() if k.startswith(("import", "re-import")))
    mark = "ok" if peak <= 250 else "MISSED"
    print(f"{'peak RSS of an import, MB':<30} {peak:>8.0f} {'<= 250':>8} {mark}")
    if not args.keep:
        for file in folder.iterdir():
            file.unlink()
        os.rmdir(folder)


if __name__ == "__main__":
    main()
