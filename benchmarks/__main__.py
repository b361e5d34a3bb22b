"""The benchmark harness: `python -m benchmarks [--quick] [--only NAME] [--json FILE]`.

Generates its own deterministic data (diaryadmin.samples), runs every case on SQLite (and on
PostgreSQL when DIARYADMIN_TEST_DATABASE_URL is set), each step in a fresh process, and prints
one table: case, size, wall, CPU, peak memory of the process tree, the reference measured in
the same run, the ratio, the target and whether it was met. Targets are reported, never
enforced: the exit code is 0 unless a case could not run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import applications, credentials, journal, roster, startup
from benchmarks.harness import StepFailed
from benchmarks.suite import COLUMNS, PG_ENV, Row, Run, markdown_table, table_rows

# name -> (case, whether it runs once per database backend)
CASES = {
    "issue": (credentials.issue, True),
    "import-xlsx": (roster.import_xlsx, True),
    "import-csv": (roster.import_csv, True),
    "reimport": (roster.reimport, True),
    "verify": (applications.verify, True),
    "expire": (credentials.expire_case, True),
    "export": (journal.export, True),
    "district": (roster.district, False),
    "startup": (startup.startup, False),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="Small sizes (under two minutes).")
    parser.add_argument("--only", action="append", choices=list(CASES), metavar="NAME",
                        help=f"Run only this case (repeat): {', '.join(CASES)}.")  # fmt: skip
    parser.add_argument("--db", choices=["sqlite", "postgresql"],
                        help="Run the per-database cases on this database only.")  # fmt: skip
    parser.add_argument("--json", type=Path, metavar="FILE", help="Write the rows as JSON too.")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="Keep data and databases here.")
    parser.add_argument("--markdown", action="store_true", help="Print the table as Markdown.")
    return parser.parse_args(argv)


def print_table(rows: list[Row], stream=sys.stdout) -> None:
    cells = [COLUMNS, *table_rows(rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
    for row in cells:
        print(
            "  ".join(
                value.ljust(width) for value, width in zip(row, widths, strict=True)
            ).rstrip(),
            file=stream,
        )
    for r in rows:
        for note in r.notes:
            print(f"  {r.case} ({r.backend}): {note}", file=stream)


def write_json(path: Path, args: argparse.Namespace, rows: list[Row], seconds: float,
               load: list[float], partial: bool) -> None:  # fmt: skip
    """The rows as JSON; rewritten after every case, so a long run that is stopped keeps them."""
    report = {
        "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "partial": partial,
        "cores": os.cpu_count(),
        "seconds": round(seconds, 1),
        "load_average": load,
        "rows": [r.to_dict() for r in rows],
    }
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.db == "postgresql" and not os.environ.get(PG_ENV, "").strip():
        print(f"--db postgresql needs {PG_ENV}", file=sys.stderr)
        return 2
    run = Run(quick=args.quick, folder=args.keep, only_db=args.db)
    # A stopped run still drops its PostgreSQL databases (the `finally` below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    load_before = os.getloadavg()
    names = args.only or list(CASES)
    rows: list[Row] = []
    failed = False
    started = time.perf_counter()

    def load() -> list[float]:
        return [round(max(a, b), 1) for a, b in zip(load_before, os.getloadavg(), strict=True)]

    try:
        for name in CASES:
            if name not in names:
                continue
            case, per_backend = CASES[name]
            for backend in run.backends if per_backend else ["—"]:
                print(f"[{time.perf_counter() - started:6.0f} s] {name} ({backend}) …",
                      file=sys.stderr, flush=True)  # fmt: skip
                try:
                    rows.append(case(run, backend))
                except (StepFailed, Exception) as exc:  # one broken case must not hide the rest
                    failed = True
                    traceback.print_exc(file=sys.stderr)
                    rows.append(Row(name, backend, "", verdict="ERROR",
                                    notes=[str(exc).splitlines()[0]]))  # fmt: skip
                if args.json:
                    seconds = time.perf_counter() - started
                    write_json(args.json, args, rows, seconds, load(), partial=True)
    finally:
        run.close()
    total = time.perf_counter() - started
    print(f"diaryadmin benchmarks{' --quick' if args.quick else ''}: {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {total:.0f} s in all; load average (1, 5, 15 "
          "min) up to {}, {}, {}".format(*load()))  # fmt: skip
    if args.markdown:
        print(markdown_table(rows))
    else:
        print_table(rows)
    if args.json:
        write_json(args.json, args, rows, total, load(), partial=False)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
